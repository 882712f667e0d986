"""Reading an intake message: each fact kept for its own question, whatever question is open."""

from __future__ import annotations

from typing import Any

import pytest

from actions.intake_reading import clauses, read, read_name
from core.privacy import mentions_health


@pytest.mark.parametrize(
    ("text", "asked", "expected"),
    [
        # Answered ahead: the fact is kept for its own question, the open one stays open.
        ("eerst een werkervaringsplaats", "max_travel", {"pathways": ["work_experience_place"]}),
        ("per direct", "max_travel", {"start": "per direct"}),
        ("bel me maar", "max_travel", {"contact_preference": "bel me maar"}),
        ("uitzendwerk", "max_travel", {"pathways": ["temp_work"]}),
        ("volgende week", "max_travel", {"start": "volgende week"}),
        ("Amsterdam", "hours", {"place": "Amsterdam"}),
        ("36 uur", "work_wish", {"hours": "36 uur", "hours_min": 36.0, "hours_max": 36.0}),
        ("ik woon in zwolle", "talents", {"place": "Zwolle"}),
        ("asap", "place", {"start": "asap"}),
        ("call me", "hours", {"contact_preference": "call me"}),
        ("next month", "place", {"start": "next month"}),
        ("temp work please", "hours", {"pathways": ["temp_work"]}),
    ],
)
def test_a_fact_for_another_question_is_kept_there(
    text: str, asked: str, expected: dict[str, Any]
) -> None:
    reading = read(text, asked)

    assert reading.slots == expected
    assert not reading.answered
    assert reading.noted == [text]
    assert reading.problem is None


@pytest.mark.parametrize(
    ("text", "asked", "expected"),
    [
        (
            "Utrecht, maximaal een half uur reizen",
            "place",
            {"place": "Utrecht", "max_travel": "maximaal een half uur reizen",
             "max_travel_minutes": 30.0},
        ),
        (
            "ik kan goed plannen en ik wil 24 uur werken",
            "talents",
            {"talents": ["ik kan goed plannen"], "hours": "ik wil 24 uur werken",
             "hours_min": 24.0, "hours_max": 24.0},
        ),
        (
            "ik kan goed koken maar ik wil beter leren plannen",
            "talents",
            {"talents": ["ik kan goed koken"],
             "development_points": ["ik wil beter leren plannen"]},
        ),
        (
            "ik ben Anna en ik woon in Den Bosch",
            "first_name",
            {"first_name": "Anna", "place": "Den Bosch"},
        ),
        (
            "I'm good with people and I want to learn Excel",
            "talents",
            {"talents": ["I'm good with people"], "development_points": ["I want to learn Excel"]},
        ),
        (
            "20 uur, en ik kan per direct beginnen",
            "hours",
            {"hours": "20 uur", "hours_min": 20.0, "hours_max": 20.0,
             "start": "ik kan per direct beginnen"},
        ),
    ],
)  # fmt: skip
def test_two_facts_in_one_message_both_count(
    text: str, asked: str, expected: dict[str, Any]
) -> None:
    reading = read(text, asked)

    assert reading.slots == expected
    assert reading.answered


@pytest.mark.parametrize(
    ("text", "asked", "kept"),
    [
        ("ik spreek vier talen", "talents", ["ik spreek vier talen"]),
        ("I speak Spanish and English", "talents", ["I speak Spanish and English"]),
        ("nederlands schrijven", "development_points", ["nederlands schrijven"]),
        ("beter Nederlands praten", "development_points", ["beter Nederlands praten"]),
        ("computer", "development_points", ["computer"]),
    ],
)
def test_a_language_or_a_device_is_an_answer_like_any_other(
    text: str, asked: str, kept: list[str]
) -> None:
    assert read(text, asked).slots == {asked: kept}


@pytest.mark.parametrize(
    ("text", "name", "sure"),
    [
        ("Anna", "Anna", True),
        ("sanne", "Sanne", True),
        ("ik heet fatima", "Fatima", True),
        ("Jan de Vries", "Jan de Vries", True),
        ("jan de vries", "Jan de Vries", False),
        ("Ede", "Ede", False),
        ("ik zoek werk", None, False),
        ("ik zoek weer werk", None, False),
        ("hoi", None, False),
        ("dat weet ik niet", None, False),
        ("koken", None, False),
        ("my name is Jan-Willem", "Jan-Willem", True),
        ("Mijn voornaam is fatma.", "Fatma", True),
        ("I'm Zoë", "Zoë", True),
        ("zeg maar O'Brien", "O'Brien", True),
        ("  Sanne  ", "Sanne", True),
        ("anna maria", "Anna Maria", False),
        ("", None, False),
        ("12345", None, False),
        ("Anna123", None, False),
        ("!!!", None, False),
        ("a b c d", None, False),
        ("Anna_Marie", None, False),
        ("x" * 41, None, False),
        ("ik heet", None, False),
        ("my name is", None, False),
    ],
)
def test_a_sentence_is_never_a_name(text: str, name: str | None, sure: bool) -> None:
    assert read_name(text) == (name, sure)


def test_a_name_that_might_be_something_else_is_asked_about() -> None:
    reading = read("jan de vries", "first_name")

    assert reading.name_to_confirm == "Jan de Vries"
    assert reading.slots == {}


@pytest.mark.parametrize(
    ("text", "asked", "value"),
    [
        ("weet ik nog niet", "hours", ""),
        ("no idea tbh", "development_points", []),
        ("geen idee eigenlijk", "place", ""),
        ("sla maar over", "start", ""),
        ("idk", "pathways", []),
    ],
)
def test_unsure_skips_the_question(text: str, asked: str, value: Any) -> None:
    reading = read(text, asked)

    assert reading.skipped
    assert reading.slots == {asked: value}


@pytest.mark.parametrize("text", ["nee, niet nodig", "nee hoor", "nope, all good", "niks"])
def test_no_means_no_support_needed(text: str) -> None:
    assert read(text, "support_needs").slots == {"support_needs": []}


@pytest.mark.parametrize(
    ("text", "hours"),
    [("4 ochtenden", (16.0, 16.0)), ("full time", (36.0, 40.0)), ("3 dagen", (24.0, 24.0))],
)
def test_hours_in_parts_of_a_week(text: str, hours: tuple[float, float]) -> None:
    slots = read(text, "hours").slots

    assert (slots["hours_min"], slots["hours_max"]) == hours


@pytest.mark.parametrize(
    ("text", "asked", "problem"),
    [
        ("weet ik veel", "hours", "utter_no_hours"),
        ("200 uur", "hours", "utter_invalid_hours"),
        ("ja", "contact_preference", "utter_invalid_contact_preference"),
        ("wat is een proefplaatsing?", "pathways", "utter_question_unknown"),
        ("krijg ik mijn reiskosten terug?", "support_needs", "utter_question_unknown"),
    ],
)
def test_the_problem_speaks_about_the_answer_given(text: str, asked: str, problem: str) -> None:
    reading = read(text, asked)

    assert reading.problem == problem
    assert reading.slots == {}


def test_the_practical_part_of_a_health_sentence_is_kept() -> None:
    reading = read(
        "ik ben snel moe na mijn behandeling, liever niet vroeg beginnen", "support_needs"
    )

    assert reading.health
    assert reading.slots == {"support_needs": ["liever niet vroeg beginnen"]}


@pytest.mark.parametrize("text", ["I'm partly deaf", "ik ben slechthorend", "ik ben doof"])
def test_hearing_is_health(text: str) -> None:
    assert mentions_health(text)
    assert read(text, "support_needs").slots == {}


def test_a_phone_number_is_contact_and_never_a_support_need() -> None:
    reading = read("bel me maar op 0612345678", "support_needs")

    assert reading.slots == {"contact_preference": "bel me maar op 0612345678"}


def test_a_question_keeps_its_question_mark_and_the_facts_around_it_count() -> None:
    assert clauses("Utrecht. Krijg ik reiskosten terug?") == [
        "Utrecht",
        "Krijg ik reiskosten terug?",
    ]
    reading = read("Utrecht. Krijg ik reiskosten terug?", "place")

    assert reading.slots == {"place": "Utrecht"}
    assert reading.question


def test_words_kept_together_are_not_cut() -> None:
    assert clauses("leren en werken, tussen 20 en 24 uur") == [
        "leren en werken",
        "tussen 20 en 24 uur",
    ]
