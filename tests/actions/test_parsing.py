"""The pure functions behind the intake: parsing answers, cleaning them, languages."""

from __future__ import annotations

import re

import pytest

from actions.parsing import (
    PATHWAYS,
    clean_free_text,
    clean_place,
    hours_valid,
    is_skip,
    means_none,
    parse_hours,
    parse_pathways,
    parse_travel_minutes,
    split_items,
    travel_valid,
)
from bot.language import guess_language
from core.paths import ROOT
from tests.support.actions import LONG_TEXT

GUIDELINES = ROOT / "docs" / "nlu-guidelines.md"

# The everyday words per pathway value, exactly as the `pathway` row of the guidelines lists them.
GUIDELINE_PATHWAY_WORDS = {
    "regular_job": ["gewone baan", "vaste baan", "betaald werk", "regular job"],
    "work_experience_place": [
        "werkervaringsplek",
        "werkervaringsplaats",
        "stage-achtig",
        "work experience placement",
    ],
    "trial_placement": ["proefplaatsing", "proefplaats", "trial placement"],
    "learn_work_track": [
        "leerwerktraject",
        "leren en werken",
        "bbl",
        "learn-work track",
        "apprenticeship",
    ],
    "temp_work": ["uitzendwerk", "uitzendbureau", "tijdelijk werk", "temp work", "agency work"],
    "volunteering": ["vrijwilligerswerk", "vrijwilliger", "volunteering", "volunteer work"],
}
KNOWN_PATHWAY_BUGS: dict[str, str] = {}


def pathway_word_params() -> list[object]:
    """(word, pathway) for every guideline word, known bugs marked as strict xfail."""
    params: list[object] = []
    for pathway, words in GUIDELINE_PATHWAY_WORDS.items():
        for word in words:
            marks = (
                [pytest.mark.xfail(strict=True, reason=KNOWN_PATHWAY_BUGS[word])]
                if word in KNOWN_PATHWAY_BUGS
                else []
            )
            params.append(pytest.param(word, pathway, marks=marks, id=word))
    return params


# --- languages --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("hoi", "nl"),
        ("hallo, ik zoek werk", "nl"),
        ("hello, I am looking for work", "en"),
        ("can you help me please", "en"),
        ("ok", None),
        ("", None),
        ("👍", None),
    ],
)
def test_guess_language(text: str, expected: str | None) -> None:
    assert guess_language(text) == expected


# --- is_skip and means_none -------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "sla over",
        "Sla deze vraag over",
        "overslaan",
        "weet ik niet",
        "ik weet het nog niet",
        "skip",
        "Skip this question.",
        "geen idee",
        "geen idee!",
        "I don't know",
        "no idea",
    ],
)
def test_is_skip_recognises_a_skip(text: str) -> None:
    assert is_skip(text) is True


@pytest.mark.parametrize(
    "text",
    [
        "24",
        "Utrecht",
        "geen",
        "nee",
        "ik weet niet veel van computers, dat wil ik leren",
        "ik wil geen nachtdiensten",
        "skippen kan ik goed",
        "",
    ],
)
def test_is_skip_leaves_real_answers_alone(text: str) -> None:
    assert is_skip(text) is False


@pytest.mark.parametrize(
    "text", ["nee", "Nee.", "niets", "niks", "no", "none", "nothing", "nee hoor", "niet nodig"]
)
def test_means_none(text: str) -> None:
    assert means_none(text) is True


@pytest.mark.parametrize(
    "text", ["een jobcoach", "nee, een vaste werkplek", "geen trappen", "korte werkdagen", ""]
)
def test_means_none_leaves_real_answers_alone(text: str) -> None:
    assert means_none(text) is False


# --- hours ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("24", (24.0, 24.0)),
        ("20 à 24", (20.0, 24.0)),
        ("tussen de 20 en 24 uur", (20.0, 24.0)),
        ("24 tot 20 uur", (20.0, 24.0)),
        ("3 dagen", (24.0, 24.0)),
        ("4 days", (32.0, 32.0)),
        ("fulltime", (36.0, 40.0)),
        ("voltijd", (36.0, 40.0)),
        ("twintig uur", (20.0, 20.0)),
        ("32 hours", (32.0, 32.0)),
        ("200", (200.0, 200.0)),
        ("geen", None),
        ("parttime", None),
        ("", None),
    ],
)
def test_parse_hours(text: str, expected: tuple[float, float] | None) -> None:
    assert parse_hours(text) == expected


def test_two_hundred_hours_is_parsed_but_not_valid() -> None:
    hours = parse_hours("200")
    assert hours == (200.0, 200.0)
    assert hours_valid(hours) is False


@pytest.mark.parametrize(
    ("hours", "valid"),
    [
        ((24.0, 24.0), True),
        ((1.0, 60.0), True),
        ((0.0, 0.0), False),
        ((24.0, 20.0), False),
        ((40.0, 61.0), False),
    ],
)
def test_hours_valid(hours: tuple[float, float], valid: bool) -> None:
    assert hours_valid(hours) is valid


# --- travel -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "minutes"),
    [
        ("een half uur", 30),
        ("half an hour", 30),
        ("45 minuten", 45),
        ("max 20 km", 40),
        ("anderhalf uur", 90),
        ("kwartier", 15),
        ("drie kwartier", 45),
        ("een uur", 60),
        ("2 uur", 120),
        ("30", 30),
        ("geen", None),
        ("", None),
    ],
)
def test_parse_travel_minutes(text: str, minutes: int | None) -> None:
    assert parse_travel_minutes(text) == minutes


@pytest.mark.parametrize(("minutes", "valid"), [(5, True), (180, True), (4, False), (181, False)])
def test_travel_valid(minutes: int, valid: bool) -> None:
    assert travel_valid(minutes) is valid


# --- pathways ---------------------------------------------------------------------------


def test_the_pathway_words_are_those_of_the_guidelines() -> None:
    row = next(
        line
        for line in GUIDELINES.read_text(encoding="utf-8").splitlines()
        if line.startswith("| pathway |")
    )
    listed = {
        value: [word.strip() for word in words.split(",")]
        for value, words in re.findall(r"(\w+) \(([^)]*)\)", row.split("|")[3])
    }
    assert listed == GUIDELINE_PATHWAY_WORDS
    assert set(listed) == set(PATHWAYS)


@pytest.mark.parametrize(("word", "pathway"), pathway_word_params())
def test_parse_pathways_knows_every_guideline_word(word: str, pathway: str) -> None:
    assert parse_pathways(word) == [pathway]
    assert parse_pathways(f"Ik wil graag {word.upper()}, denk ik") == [pathway]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "een vaste baan of een proefplaatsing, anders vrijwilligerswerk",
            ["regular_job", "trial_placement", "volunteering"],
        ),
        ("vrijwilligerswerk of uitzendwerk", ["temp_work", "volunteering"]),
        ("leren en werken via de bbl", ["learn_work_track"]),
        ("a regular job or temp work", ["regular_job", "temp_work"]),
        ("maakt niet uit", list(PATHWAYS)),
        ("iets leuks", []),
    ],
)
def test_parse_pathways_finds_several_in_one_answer(text: str, expected: list[str]) -> None:
    assert parse_pathways(text) == expected


def test_parse_pathways_takes_known_entity_values() -> None:
    assert parse_pathways("dat tweede", ["trial_placement", "not_a_pathway"]) == [
        "trial_placement"
    ]
    assert parse_pathways("uitzendwerk", ["volunteering"]) == ["temp_work", "volunteering"]


# --- split_items ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "plannen, koken; luisteren\nteamwork - geduld",
            ["plannen", "koken", "luisteren", "teamwork", "geduld"],
        ),
        ("goed in plannen", ["goed in plannen"]),
        ("  goed   met  mensen ,  ", ["goed met mensen"]),
        ("werken met Excel-sheets", ["werken met Excel-sheets"]),
        (" , ;", []),
        ("", []),
    ],
)
def test_split_items(text: str, expected: list[str]) -> None:
    assert split_items(text) == expected


# --- cleaning answers -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ik kan goed luisteren", "ik kan goed luisteren"),
        ("  goed   met\nmensen ", "goed met mensen"),
        ("I can fix bikes!", "I can fix bikes!"),
        ("EHBO", "EHBO"),
        ("x" * 300, "x" * 300),
        ("", None),
        ("a", None),
        ("12345", None),
        ("!!!", None),
        ("x" * 301, None),
        (LONG_TEXT, None),
    ],
)
def test_clean_free_text(text: str, expected: str | None) -> None:
    assert clean_free_text(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1234ab", "1234 AB"),
        ("1234 AB", "1234 AB"),
        ("ik woon in utrecht", "Utrecht"),
        ("Den Haag", "Den Haag"),
        ("in amsterdam.", "Amsterdam"),
        ("I live near leiden", "Leiden"),
        ("Alphen a/d Rijn", "Alphen a/d Rijn"),
        ("'s-Hertogenbosch", "'s-Hertogenbosch"),
        ("ik woon in de buurt van Utrecht", "Utrecht"),
        ("", None),
        ("!!!", None),
        ("12345", None),
        ("1234 ABC", None),
        ("0123 ab", None),
        ("x", None),
        ("x" * 61, None),
        (LONG_TEXT, None),
    ],
)
def test_clean_place(text: str, expected: str | None) -> None:
    assert clean_place(text) == expected


@pytest.mark.parametrize(
    "text", ["industrial design", "ik werk graag industrieel", "werkervaringsplekken?"]
)
def test_pathway_words_count_only_from_the_start_of_a_word(text: str) -> None:
    expected = ["work_experience_place"] if "werkervaringsplek" in text else []
    assert parse_pathways(text) == expected
