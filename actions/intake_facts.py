"""The plain facts a part of an intake message can state, one check per question.

Each check reads one clause ("maximaal een half uur reizen", "per direct") and returns the
slots it fills, or None. They run in a fixed order (`plain_fact`): a travel time says "uur"
too, and "werken in Utrecht" is a place. actions/intake_reading.py decides what to do with a
fact: keep it for its own question, or read the clause as the answer to the question asked.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from actions import intake_words as words
from actions.parsing import (
    PATHWAY_WORDS,
    clean_place,
    hours_valid,
    parse_hours,
    parse_travel_minutes,
    travel_valid,
)

# Fewer hours a week than this, said in passing, are a travel time or a slip.
MIN_HOURS_IN_PASSING = 4


def place_in(clause: str, *, loose: bool, anywhere: bool = False) -> str | None:
    """A place named in a clause: a postcode, or a place of the lookup table.

    Loose (the clause is nothing but the place): any known place; else the place must stand
    after "in", "uit", "bij", ... or be written with a capital, so "best" in "ik ben best
    goed" is not the town of Best.
    """
    postcode = re.search(r"\b([1-9]\d{3})\s?([a-zA-Z]{2})\b", clause)
    if postcode and postcode.group(2).lower() not in {"en", "ik", "op", "in", "of", "is", "at"}:
        return f"{postcode.group(1)} {postcode.group(2).upper()}"
    known = words.lookup("place")
    tokens = re.findall(r"['\u2019]?[\w'-]+", clause)
    lowered = [token.lower() for token in tokens]
    for size in (3, 2, 1):
        for start in range(len(tokens) - size + 1):
            candidate = " ".join(lowered[start : start + size])
            if candidate not in known:
                continue
            before = " ".join(lowered[max(0, start - 3) : start])
            capital = tokens[start][:1].isupper()
            led_in = re.search(
                r"\b(in|uit|bij|rond|near|around|from|omgeving|buurt van|regio|te|woon|"
                r"wonen|live|living|richting)$",
                before,
            )
            whole = size == len(tokens) or (loose and size >= len(tokens) - 1)
            if anywhere or led_in or (capital and start > 0) or whole:
                return clean_place(" ".join(tokens[start : start + size]))
    lead = re.search(
        r"\b(ik woon in|woonachtig in|i live in|wonend in|ik kom uit|i'?m from|i am from|"
        r"ik woon vlakbij|ik woon bij)\s+(['\u2019]?[A-Z][\w'-]+(?:[ -][A-Z][\w'-]+)?)",
        clause,
    )
    return clean_place(lead.group(2)) if lead else None


def _sectors_in(text: str) -> list[str]:
    lowered = f" {text.lower()} "
    return sorted(
        {s for s in words.lookup("sector") if f" {s} " in lowered},
        key=lowered.index,
    )


def work_wish_slots(text: str, entities: Mapping[str, Sequence[str]]) -> dict[str, Any]:
    """The work wanted: the text as said, with its roles and sectors."""
    roles = list(entities.get("role", []))
    sectors = list(entities.get("sector", [])) or _sectors_in(text)
    if not roles and not sectors:
        found = words.WISH_OBJECT.search(text.strip(" .!"))
        roles = [found.group(1).strip()] if found else [text]
    return {"work_wish": text, "roles": roles, "sectors": sectors}


def _names_work(clause: str) -> bool:
    """Whether a clause plainly names work wanted: "werken als kok", "iets in de zorg".

    "Werken als de kinderen op school zijn" is about when, not what: "als" then starts a
    clause of its own (an article or a pronoun first, or a verb in it).
    """
    found = words.WORK_WISH.search(clause)
    if found:
        after = clause[found.end() - 1 :].lower().split()
        return not (after and after[0] in words.CLAUSE_START) and not any(
            word in words.CLAUSE_VERBS for word in after
        )
    if words.PAST.search(clause):  # "dertig jaar in de bouw gestaan" is experience
        return False
    lowered = clause.lower()
    return any(
        re.search(
            rf"\b(in|bij|met|iets|werken|work|working)\s+(de |het |the )?{re.escape(s)}\b", lowered
        )
        for s in _sectors_in(clause)
    )


def _pathways_out_of_turn(clause: str) -> list[str]:
    if words.PAST.search(clause):
        return []
    lowered = clause.lower()
    found = []
    for pathway, names in PATHWAY_WORDS.items():
        sure = [name for name in names if name not in words.PATHWAY_AMBIGUOUS]
        if any(re.search(rf"(?<![\w-]){re.escape(name)}", lowered) for name in sure):
            found.append(pathway)
    return found


def hours_slots(text: str) -> dict[str, Any] | None:
    hours = parse_hours(text)
    if hours is None or not hours_valid(hours):
        return None
    return {"hours": text, "hours_min": hours[0], "hours_max": hours[1]}


def _hours_fact(clause: str, asked: str | None) -> dict[str, Any] | None:
    """Hours per week said in passing: at least 4 ("1 uur" is a travel time, not a week)."""
    if not words.HOURS.search(clause):
        return None
    if asked == "max_travel" and not words.HOURS_OF_WORK.search(clause):
        return None
    slots = hours_slots(clause)
    if asked != "hours" and slots is not None and slots["hours_min"] < MIN_HOURS_IN_PASSING:
        return None
    return slots


def travel_slots(text: str) -> dict[str, Any] | None:
    minutes = parse_travel_minutes(text)
    if minutes is None or not travel_valid(minutes):
        return None
    return {"max_travel": text, "max_travel_minutes": float(minutes)}


def _when(pattern: re.Pattern[str], slots: Callable[[str], dict[str, Any] | None]) -> _Check:
    """A check that builds the slots only when the clause holds the pattern's words."""
    return lambda clause, _asked, _entities: slots(clause) if pattern.search(clause) else None


_Check = Callable[[str, "str | None", Mapping[str, Sequence[str]]], "dict[str, Any] | None"]
# In this order: a travel time says "uur" too, and "werken in Utrecht" is a place.
_CHECKS: tuple[tuple[str, _Check], ...] = (
    ("contact_preference", _when(words.CONTACT, lambda c: {"contact_preference": c})),
    ("max_travel", _when(words.TRAVEL, lambda c: travel_slots(c))),
    ("start", lambda c, asked, _e: _start_slots(c, loose=asked == "start")),
    ("hours", lambda c, asked, _e: _hours_fact(c, asked)),
    ("place", lambda c, asked, _e: _place_slots(c, asked)),
    ("pathways", lambda c, _a, _e: {"pathways": p} if (p := _pathways_out_of_turn(c)) else None),
    ("development_points", _when(words.DEVELOPMENT, lambda c: {"development_points": [c]})),
    ("talents", _when(words.TALENT, lambda c: {"talents": [c]})),
    ("support_needs", _when(words.SUPPORT, lambda c: {"support_needs": [c]})),
    ("work_wish", lambda c, _a, e: work_wish_slots(c, e) if _names_work(c) else None),
    ("first_name", lambda c, _a, _e: _name_slots(c)),
)


def plain_fact(
    clause: str, asked: str | None, entities: Mapping[str, Sequence[str]]
) -> tuple[str, dict[str, Any]] | None:
    """The first question whose plain words the clause holds, with the slots they give."""
    for field_name, check in _CHECKS:
        if slots := check(clause, asked, entities):
            return field_name, slots
    return None


def _start_slots(clause: str, *, loose: bool = False) -> dict[str, Any] | None:
    # "morgen" answers "when could you start?", but elsewhere only with a word for starting.
    if words.START.search(clause) or (
        words.START_WEAK.search(clause) and (loose or words.START_VERB.search(clause))
    ):
        return {"start": clause}
    return None


def _place_slots(clause: str, asked: str | None) -> dict[str, Any] | None:
    # At the name question a lone word is a name, even when a town has it too.
    place = place_in(clause, loose=asked != "first_name")
    if place is None or (asked == "first_name" and clause.strip(" .!").lower() == place.lower()):
        return None
    return {"place": place}


def _name_slots(clause: str) -> dict[str, Any] | None:
    found = words.NAME_SURE.search(clause)
    if not found:
        return None
    name = found.group("name")
    if name.lower() in words.COMMON_WORDS:
        return None
    return {"first_name": name[:1].upper() + name[1:]}
