"""The simulated people of bench/people.yml: their facts, their words, and checks on both.

A person's data is checked as it is loaded, so a typo in the file stops the benchmark before
any process starts instead of showing up as a mysterious wrong field.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from actions.intake_reading import FIELDS as SLOTS  # the questions, as the form asks them
from actions.parsing import PATHWAYS

DATA = Path(__file__).with_name("people.yml")

# The fields of the stored profile that are compared with what the person said.
FIELDS = (
    "name",
    "talents",
    "development_points",
    "work",
    "hours",
    "place",
    "max_travel_minutes",
    "pathways",
    "start",
    "support_needs",
    "contact_preference",
)
KEYWORD_FIELDS = (
    "talents",
    "development_points",
    "work",
    "start",
    "support_needs",
    "contact_preference",
)
BEHAVIOURS = (
    "plain",
    "two_facts",
    "early",
    "question",
    "illness",
    "unsure",
    "correction",
    "language_mention",
    "chat",
    "low_literacy",
)
LANGUAGES = ("nl", "en")
# What a browser in that language sends as the web chat's `language` (navigator.language).
LANGUAGE_HINTS = {"nl": "nl-NL", "en": "en-GB"}
OPENINGS = {"nl": "hoi", "en": "hello"}
# Said to a question the person has no words for: the intake's own way to skip it.
STOP_GAPS = {"nl": "weet ik niet", "en": "I don't know"}


@dataclass(frozen=True)
class Step:
    """One message of the person: a text or a button's payload, and the facts it gives."""

    text: str
    gives: frozenset[str]
    button: bool = False

    @property
    def question(self) -> bool:
        """Whether this is a question of the person's own, which answers nothing."""
        return not self.gives


@dataclass(frozen=True)
class Expect:
    """What the stored profile must hold at the end."""

    name: str
    talents: tuple[str, ...]
    development_points: tuple[str, ...]
    work: tuple[str, ...]
    hours: tuple[int, int] | None
    place: tuple[str, ...]  # alternatives; () = must be empty
    max_travel_minutes: int | None
    pathways: frozenset[str]
    start: tuple[str, ...]
    support_needs: tuple[str, ...]
    contact_preference: tuple[str, ...]
    health: tuple[str, ...]

    def keywords(self, field: str) -> tuple[str, ...]:
        """The keywords of a keyword field ("a|b" means either)."""
        if field not in KEYWORD_FIELDS:
            raise KeyError(field)
        value: tuple[str, ...] = getattr(self, field)
        return value


@dataclass(frozen=True)
class Person:
    """One simulated job seeker."""

    id: str
    language: str
    group: str
    behaviours: tuple[str, ...]
    say: Mapping[str, tuple[Step, ...]]
    correction: str | None
    expect: Expect

    @property
    def opening(self) -> str:
        """The first message."""
        return OPENINGS[self.language]

    @property
    def language_hint(self) -> str:
        """The `language` the web chat page would send for this person's browser."""
        return LANGUAGE_HINTS[self.language]

    @property
    def stop_gap(self) -> Step:
        """The answer to a question the person has no words for."""
        return Step(STOP_GAPS[self.language], frozenset())

    def again(self, slot: str) -> Step:
        """What the person says when asked for a fact once more: their last answer to it."""
        steps = [step for step in self.say[slot] if slot in step.gives]
        return steps[-1]

    def questions(self) -> tuple[str, ...]:
        """The person's own questions, asked mid-intake."""
        return tuple(s.text for steps in self.say.values() for s in steps if s.question)

    def texts(self) -> tuple[str, ...]:
        """Everything this person may send, besides the opening and button presses."""
        said = [step.text for steps in self.say.values() for step in steps]
        return (*said, *([self.correction] if self.correction else []))


def _fail(person: str, message: str) -> ValueError:
    return ValueError(f"{DATA.name}: {person}: {message}")


def _step(pid: str, slot: str, raw: Any) -> Step:
    """A step from the file: a text, {text, gives}, {ask} or {payload}."""
    if isinstance(raw, (str, int)) and str(raw).strip():
        return Step(str(raw), frozenset({slot}))
    if not isinstance(raw, dict) or len({"text", "ask", "payload"} & raw.keys()) != 1:
        raise _fail(pid, f"{slot}: a step is a text, {{text, gives}}, {{ask}} or {{payload}}")
    if "ask" in raw:
        return Step(str(raw["ask"]), frozenset())
    gives = frozenset(raw.get("gives") or [slot])
    if not gives <= set(SLOTS):
        raise _fail(pid, f"{slot}: gives unknown slots {sorted(gives - set(SLOTS))}")
    if "payload" in raw:
        return Step(str(raw["payload"]), gives, button=True)
    return Step(str(raw["text"]), gives)


def _keywords(pid: str, raw: Mapping[str, Any], field: str) -> tuple[str, ...]:
    value = raw.get(field)
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(k, str) and k for k in value):
        raise _fail(pid, f"expect.{field} must be a list of keywords")
    return tuple(str(k).lower() for k in value)


def _expect(pid: str, raw: Any) -> Expect:
    if not isinstance(raw, dict):
        raise _fail(pid, "expect is missing")
    missing = set(FIELDS) | {"health"}
    missing -= raw.keys()
    extra = raw.keys() - set(FIELDS) - {"health"}
    if missing or extra:
        raise _fail(pid, f"expect: missing {sorted(missing)}, unknown {sorted(extra)}")
    hours = raw["hours"]
    if hours is not None:
        if not (isinstance(hours, list) and len(hours) == 2):
            raise _fail(pid, "expect.hours is [min, max] or null")
        if not 1 <= int(hours[0]) <= int(hours[1]) <= 60:
            raise _fail(pid, f"expect.hours {hours} is not a range of 1 to 60")
    travel = raw["max_travel_minutes"]
    if travel is not None and not 5 <= int(travel) <= 180:
        raise _fail(pid, f"expect.max_travel_minutes {travel} is not 5 to 180")
    pathways = raw["pathways"] or []
    if not set(pathways) <= set(PATHWAYS):
        raise _fail(pid, f"unknown pathways {sorted(set(pathways) - set(PATHWAYS))}")
    if not isinstance(raw["name"], str) or not raw["name"].strip():
        raise _fail(pid, "expect.name is missing")
    place = str(raw["place"]) if raw["place"] is not None else ""
    return Expect(
        name=raw["name"].strip(),
        talents=_keywords(pid, raw, "talents"),
        development_points=_keywords(pid, raw, "development_points"),
        work=_keywords(pid, raw, "work"),
        hours=(int(hours[0]), int(hours[1])) if hours is not None else None,
        place=tuple(p.strip() for p in place.split("|") if p.strip()),
        max_travel_minutes=int(travel) if travel is not None else None,
        pathways=frozenset(pathways),
        start=_keywords(pid, raw, "start"),
        support_needs=_keywords(pid, raw, "support_needs"),
        contact_preference=_keywords(pid, raw, "contact_preference"),
        health=_keywords(pid, raw, "health"),
    )


def parse_person(raw: Any) -> Person:
    """One person from its data, checked; ValueError on a problem."""
    if not isinstance(raw, dict) or not isinstance(raw.get("id"), str):
        raise ValueError(f"{DATA.name}: every person needs an id")
    pid = raw["id"]
    if raw.get("language") not in LANGUAGES:
        raise _fail(pid, f"language must be one of {LANGUAGES}")
    behaviours = tuple(raw.get("behaviours") or ())
    if not behaviours or not set(behaviours) <= set(BEHAVIOURS):
        raise _fail(pid, f"behaviours must be some of {BEHAVIOURS}")
    say_raw = raw.get("say")
    if not isinstance(say_raw, dict) or set(say_raw) != set(SLOTS):
        got = set(say_raw) if isinstance(say_raw, dict) else set()
        raise _fail(pid, f"say needs every slot: missing {sorted(set(SLOTS) - got)}")
    say: dict[str, tuple[Step, ...]] = {}
    for slot in SLOTS:
        items = say_raw[slot] if isinstance(say_raw[slot], list) else [say_raw[slot]]
        say[slot] = tuple(_step(pid, slot, item) for item in items)
        if not any(slot in step.gives for step in say[slot]):
            raise _fail(pid, f"say.{slot} never answers {slot}")
    correction = raw.get("correction")
    if correction is not None and not (isinstance(correction, str) and correction.strip()):
        raise _fail(pid, "correction must be a text")
    if ("correction" in behaviours) != (correction is not None):
        raise _fail(pid, "behaviour `correction` and a correction text go together")
    return Person(
        id=pid,
        language=raw["language"],
        group=str(raw.get("group") or ""),
        behaviours=behaviours,
        say=say,
        correction=correction,
        expect=_expect(pid, raw.get("expect")),
    )


def load_people(path: Path = DATA) -> list[Person]:
    """Every person in the data file, checked; ValueError on the first problem."""
    data = yaml.safe_load(path.read_text("utf-8"))
    people = [parse_person(raw) for raw in (data or {}).get("people") or []]
    ids = [person.id for person in people]
    if len(set(ids)) != len(ids):
        raise ValueError(f"{path.name}: duplicate ids")
    return people
