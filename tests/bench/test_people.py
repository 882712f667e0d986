"""The simulated-people benchmark: its data is complete, its driver and figures are right."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from bench.people import AFFIRM, Script
from bench.people_data import BEHAVIOURS, FIELDS, SLOTS, Person, load_people, parse_person
from bench.people_replies import Reply, Templates
from bench.people_score import (
    Transcript,
    Turn,
    field_results,
    figures,
    misfiled_values,
    question_runs,
    score,
)
from core.paths import ROOT
from core.privacy import mentions_health

PEOPLE = load_people()
UNSURE = re.compile(r"weet ik|geen idee|geen flauw benul|not sure|don't know", re.IGNORECASE)
# Everyday words the health filter takes for a diagnosis ("nah" is NAH, acquired brain injury):
# kept, because real people say them, and the intake must not refuse them.
FALSE_ALARMS = frozenset({"nah"})
# The unsure answer BENCH.md's brief names itself; also a skip example in the training data.
NAMED_IN_THE_BRIEF = frozenset({"weet ik nog niet"})


def _flat(text: str) -> str:
    return " ".join(re.sub(r"[^\w\s']", " ", text.casefold()).split())


def _said(person: Person) -> str:
    return _flat(" ".join(person.texts()))


# --- the people ---------------------------------------------------------------------------


def test_enough_people_mostly_dutch_every_behaviour() -> None:
    assert len(PEOPLE) >= 32
    dutch = sum(person.language == "nl" for person in PEOPLE) / len(PEOPLE)
    assert 0.6 <= dutch <= 0.75
    for behaviour in BEHAVIOURS:
        assert sum(behaviour in p.behaviours for p in PEOPLE) >= 2, behaviour
    hours = {p.expect.hours for p in PEOPLE}
    assert (16, 16) in hours and (36, 40) in hours
    assert any("4 ochtenden" in p.say["hours"][0].text for p in PEOPLE)
    assert any("fulltime" in p.say["hours"][0].text for p in PEOPLE)


@pytest.mark.parametrize("person", PEOPLE, ids=lambda p: p.id)
def test_person_expectations_match_their_words(person: Person) -> None:
    said = _said(person)
    expect = person.expect
    assert _flat(expect.name) in _flat(" ".join(s.text for s in person.say["first_name"]))
    for name in ("talents", "development_points", "work", "start", "support_needs"):
        for keyword in expect.keywords(name):
            assert any(_flat(alt) in said for alt in keyword.split("|")), (name, keyword)
    for keyword in expect.contact_preference:
        assert any(_flat(alt) in said for alt in keyword.split("|")), keyword
    if expect.place and not re.match(r"\d{4} [A-Z]{2}$", expect.place[0]):
        assert any(_flat(place) in said for place in expect.place)
    for word in expect.health:
        assert _flat(word) in said, word


@pytest.mark.parametrize("person", PEOPLE, ids=lambda p: p.id)
def test_person_behaviours_are_in_their_script(person: Person) -> None:
    steps = [(slot, step) for slot, all_steps in person.say.items() for step in all_steps]
    checks = {
        "two_facts": any(len(step.gives) >= 2 for _, step in steps),
        "early": any(
            SLOTS.index(given) > SLOTS.index(slot) for slot, step in steps for given in step.gives
        ),
        "question": bool(person.questions()),
        "illness": bool(person.expect.health)
        and any(mentions_health(t) or _has_word(t, person.expect.health) for t in person.texts()),
        "unsure": any(UNSURE.search(text) for text in person.texts()),
        "correction": person.correction is not None,
        "language_mention": bool(
            re.search(r"nederlands|engels|arabisch|talen|dutch|english|somali", _said(person))
        ),
    }
    for behaviour in person.behaviours:
        assert checks.get(behaviour, True), behaviour
    if "unsure" in person.behaviours:
        expect = person.expect
        empty = [expect.hours is None, expect.max_travel_minutes is None]
        empty += [not expect.keywords(f) for f in ("development_points", "start")]
        assert any(empty)
    if "illness" not in person.behaviours:
        assert not person.expect.health
        texts = [text for text in person.texts() if _flat(text) not in FALSE_ALARMS]
        assert not any(mentions_health(text) for text in texts)


def _has_word(text: str, words: tuple[str, ...]) -> bool:
    return any(re.search(rf"(?<!\w){re.escape(w)}", text, re.IGNORECASE) for w in words)


def _training_lines() -> set[str]:
    lines = set()
    for path in (ROOT / "nlu").glob("*.yml"):
        for line in path.read_text("utf-8").splitlines():
            if line.strip().startswith("- "):
                lines.add(_flat(line.strip()[2:]))
    return lines


def test_people_are_not_training_data_nor_copied_from_tests() -> None:
    training = _training_lines()
    tests = " ".join(
        _flat(path.read_text("utf-8"))
        for path in (ROOT / "tests").rglob("*")
        if path.is_file() and path.suffix in (".py", ".yml") and path.name != Path(__file__).name
    )
    for person in PEOPLE:
        for text in person.texts():
            flat = _flat(text)
            # Short everyday answers ("per direct", "bellen") are bound to coincide.
            if len(flat.split()) >= 4 and flat not in NAMED_IN_THE_BRIEF:
                assert flat not in training, (person.id, text)
                assert f" {flat} " not in f" {tests} ", (person.id, text)


def test_bad_data_is_refused() -> None:
    raw = _raw_person()
    raw["expect"]["pathways"] = ["a_job"]
    with pytest.raises(ValueError, match="unknown pathways"):
        parse_person(raw)
    raw = _raw_person()
    del raw["say"]["hours"]
    with pytest.raises(ValueError, match="hours"):
        parse_person(raw)
    raw = _raw_person()
    raw["say"]["place"] = {"ask": "waar?"}
    with pytest.raises(ValueError, match="never answers place"):
        parse_person(raw)


# --- a hand-made person, conversation and profile -------------------------------------------


def _raw_person() -> dict[str, Any]:
    say: dict[str, Any] = {slot: f"answer {slot}" for slot in SLOTS}
    say["first_name"] = "Bas"
    say["talents"] = {
        "text": "ik kan goed tekenen en ik wil 24 uur werken",
        "gives": ["talents", "hours"],
    }
    say["hours"] = "24 uur"
    say["place"] = ["na mijn operatie wil ik in Ede werken", "Ede"]
    say["pathways"] = [{"ask": "wat is een proefplaatsing?"}, "een proefplaatsing"]
    expect = {
        "name": "Bas", "talents": ["tekenen"], "development_points": ["excel"],
        "work": ["kok"], "hours": [24, 24], "place": "Ede", "max_travel_minutes": 30,
        "pathways": ["trial_placement"], "start": [], "support_needs": [],
        "contact_preference": ["bel"], "health": ["operatie"],
    }  # fmt: skip
    return {
        "id": "test-bas", "language": "nl", "behaviours": ["two_facts", "correction"],
        "say": say, "correction": "nee, 20 uur", "expect": expect,
    }  # fmt: skip


def _ask(slot: str, language: str = "nl") -> Reply:
    return Reply(f"utter_ask_{slot}", f"vraag {slot}", language)


STORED_RIGHT: dict[str, Any] = {
    "name": "Bas", "talents": ["ik kan goed tekenen"], "development_points": ["Excel leren"],
    "roles": ["kok"], "sectors": [], "place": "Ede", "max_travel_minutes": 30,
    "hours_min": 24, "hours_max": 24, "pathways": ["trial_placement"], "start": None,
    "support_needs": [], "contact_preference": "bellen",
}  # fmt: skip


def test_script_follows_the_behaviours() -> None:
    script = Script(parse_person(_raw_person()))
    assert script.answer("talents").text.endswith("24 uur werken")
    again = script.answer("hours")
    assert again.repeated and again.text == "24 uur"
    first = script.answer("place")
    assert "operatie" in first.text and not first.repeated
    assert script.answer("place") == type(first)("Ede", False, "place", True)
    assert script.answer("pathways").text == "wat is een proefplaatsing?"
    assert script.answer("pathways").text == "een proefplaatsing"
    sketch = Reply("utter_profile_sketch", "schets", "nl", buttons=(("Ja", AFFIRM),))
    assert script.next([sketch]).text == "nee, 20 uur"  # type: ignore[union-attr]
    move = script.next([sketch])
    assert move is not None and move.button and move.text == AFFIRM
    assert script.next([Reply("utter_profile_confirmed")]) is None


def test_script_answers_name_check_and_way_out() -> None:
    script = Script(parse_person(_raw_person()))
    yes = (("ja", "/affirm"), ("nee", "/deny"))
    right = Reply(
        "utter_ask_first_name_confirm", "Is Bas je voornaam?", "nl", (("x", "Bas"),), yes
    )
    wrong = Reply("utter_ask_first_name_confirm", "", "nl", (("x", "Ik Heet Bas"),), yes)
    assert script.next([right]).text == "/affirm"  # type: ignore[union-attr]
    assert script.next([wrong]).text == "/deny"  # type: ignore[union-attr]
    consent = script.next([Reply("utter_welcome"), Reply("utter_ask_consent", buttons=yes)])
    assert consent is not None and consent.text == "/affirm"
    delete = script.next([Reply("utter_ask_delete_data", buttons=yes)])
    assert delete is not None and delete.text == "/deny"
    way_out = Reply("utter_way_out_hours", "", "nl", buttons=(("Sla over", "/skip"),))
    move = script.next([way_out])
    assert move is not None and move.button and move.text == "/skip"


def test_script_says_it_once_more_then_gives_up_on_a_silent_bot() -> None:
    script = Script(parse_person(_raw_person()))
    first = script.next([_ask("start")])
    assert first is not None and first.text == "answer start" and not first.repeated
    paused = [Reply("utter_intake_paused", "", "nl")]
    again = script.next(paused)
    assert again is not None and again.text == "answer start" and again.repeated
    assert script.next(paused) is None
    assert script.gave_up == "utter_intake_paused"


def test_templates_recognise_responses_languages_and_values() -> None:
    templates = Templates(
        {
            "utter_ask_talents": [
                {"condition": [{"type": "slot", "name": "language", "value": "en"}],
                 "text": "Nice to meet you, {first_name}! What are you good at?"},
                {"text": "Leuk je te spreken, {first_name}! Waar ben je goed in?"},
            ],
            "utter_status": [{"text": "{status}"}],
        }
    )  # fmt: skip
    reply = templates.reply({"text": "Leuk je te spreken, Bas!\nWaar ben je goed in?"})
    assert (reply.response, reply.language, reply.param("first_name")) == (
        "utter_ask_talents", "nl", "Bas",
    )  # fmt: skip
    assert (
        templates.reply({"text": "Nice to meet you, Al! What are you good at?"}).language == "en"
    )
    assert templates.reply({"text": "something else entirely"}).response == "other"


def test_fields_and_misfiled_values() -> None:
    person = parse_person(_raw_person())
    assert all(field_results(person.expect, STORED_RIGHT).values())
    assert misfiled_values(person, STORED_RIGHT) == []
    assert not any(field_results(person.expect, None).values())
    wrong = {
        **STORED_RIGHT,
        "name": "Ik Heet Bas",
        "talents": ["ik kan goed tekenen", "ik wil beter leren plannen"],
        "roles": ["ik wil 24 uur werken"],
        "support_needs": ["bel me op 0612345678"],
        "start": "niet",
    }
    results = field_results(person.expect, wrong)
    assert [f for f in FIELDS if not results[f]] == ["name", "work", "start", "support_needs"]
    kinds = sorted(m.split(":")[0] for m in misfiled_values(person, wrong))
    assert kinds == [
        "name ← a sentence",
        "support_needs ← contact",
        "support_needs ← phone or e-mail",
        "talents ← a learning wish",
        "work ← hours",
    ]


def test_figures_from_hand_made_transcripts() -> None:
    person = parse_person(_raw_person())
    good = Transcript(person, stored=STORED_RIGHT, confirmed=True, language_slots=["nl"])
    good.turns = [
        Turn("hoi", [Reply("utter_welcome", "", "nl"), _ask("consent")]),
        Turn("Bas", [_ask("talents")]),
        Turn("x", [Reply("utter_invalid_free_text", "", "nl"), _ask("talents")]),
        Turn("y", [_ask("development_points")]),
    ]
    bad = Transcript(person, stored={**STORED_RIGHT, "place": "na mijn operatie Ede"})
    bad.language_slots = ["nl", "en"]
    bad.said_stored = ["ik heb kanker gehad"]
    bad.turns = [
        Turn("a", [_ask("hours")]),
        Turn("b", [Reply("utter_default", "", "en"), _ask("hours", "en")], "hours", True),
        Turn("c", [_ask("hours")], "hours", True),
        Turn("d", [_ask("place"), _ask("hours")], "hours", True),
    ]
    assert question_runs(bad.turns) == [
        ("utter_ask_hours", 3), ("utter_ask_place", 1), ("utter_ask_hours", 1),
    ]  # fmt: skip
    lines = {line["figure"]: line for line in figures([score(good), score(bad)])}
    assert lines["people_intake_completion_rate"]["value"] == 0.5
    assert lines["people_field_accuracy"]["value"] == round(21 / 22, 3)
    assert lines["people_field_accuracy"]["n"] == 22
    assert lines["people_field_accuracy"]["among_completed"] == 1.0
    assert lines["people_misfiled_values"]["value"] == 0
    assert lines["people_not_understood_per_conversation"]["value"] == 1.0
    assert lines["people_not_understood_per_conversation"]["max"] == 1
    assert lines["people_longest_question_run"]["value"] == 3
    assert lines["people_longest_question_run"]["runs_of_3_or_more"] == 1
    assert lines["people_language_switches"]["value"] == 1
    assert lines["people_language_switches"]["replies_in_other_language"] == 2
    assert lines["people_language_switches"]["language_slot_set_to_other"] == 1
    assert lines["people_health_words_stored"]["value"] == 2
    assert lines["people_health_words_stored"]["in_profile"] == 1
    assert lines["people_facts_asked_again"]["value"] == 3
