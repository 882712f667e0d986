"""Scoring played conversations against the people's facts, and the benchmark's figures.

Everything here works on recorded transcripts and stored profiles only, so the figures can be
checked on hand-made conversations without starting a process.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from bench.people_data import FIELDS, Expect, Person
from bench.people_replies import Reply
from core.privacy import mentions_health


@dataclass
class Turn:
    """One message of the person and the bot's replies to it."""

    sent: str
    replies: list[Reply]
    answered: str | None = None  # the slot the message answered, when it answered a question
    repeated: bool = False  # the bot asked for a fact the person had already given


@dataclass
class Transcript:
    """A played conversation and what the database holds afterwards."""

    person: Person
    turns: list[Turn] = field(default_factory=list)
    stored: dict[str, Any] | None = None  # store/export.py profile_dict; None: nothing stored
    confirmed: bool = False  # the profile's confirmed_at is set
    said_stored: list[str] = field(default_factory=list)  # person's texts kept in the tracker
    language_slots: list[str] = field(default_factory=list)  # the language slot, as set
    notes: list[str] = field(default_factory=list)  # what went wrong in the driver
    failed: bool = False  # a message got no proper answer (HTTP error, not JSON)


# Misfiled value detectors: what a kind of value looks like wherever it lands.
_HOURS = re.compile(
    r"\b\d{1,2}\s*(?:(?:-|tot|à|a|to|en|and)\s*\d{1,2}\s*)?(?:uur|uren|u|hours?|hrs?)\b"
    r"|\b(?:full[- ]?time|voltijd|part[- ]?time|deeltijd)\b"
    r"|\b\d\s*(?:ochtenden|middagen|dagen|mornings|afternoons|days)\b",
    re.IGNORECASE,
)
# Clock times ("niet voor 10 uur") and travel times ("1 uur reizen") are not hours a week.
_NOT_HOURS_BEFORE = re.compile(r"\b(?:voor|na|om|vanaf|tot|before|after|at|until)\s*$", re.I)
_NOT_HOURS_AFTER = re.compile(r"^\s*(?:reizen|rijden|fietsen|travel|met de|by|on my)\b", re.I)
_TRAVEL = re.compile(
    r"\b\d{1,3}\s*(?:min|mins|minuten|minuut|minutes|km|kilometer)\b|\bhalf\s+(?:uur|uurtje|an"
    r"\s+hour)\b|\bkwartier\b|\breizen\b|\breistijd\b|\btravel(?!\s*costs?)\b",
    re.IGNORECASE,
)
_CONTACT = re.compile(
    r"\b(?:bel(?:len|le)?|bel me|mail(?:en)?|e-?mail|appen|app|whatsapp|telefo\w*|phone|call"
    r"|text me|via deze chat|this chat)\b",
    re.IGNORECASE,
)
_PHONE_OR_MAIL = re.compile(r"\b0\d{9}\b|\b06[- ]?\d{8}\b|\+31\s?\d|\S+@\S+\.\w+")
_LEARNING = re.compile(
    r"\b(?:leren|learn|learning|cursus|course|diploma|beter worden|get better|improve)\b",
    re.IGNORECASE,
)
_SENTENCE_WORDS = frozenset(
    "ik ben heet mijn naam is de het een ja nee hoi hallo k my name i am im hi hello yes no the"
    " it its".split()
)
_CONTACT_WORD_FIELDS = ("support_needs", "start", "place", "name")


def _has(values: Iterable[str], keyword: str) -> bool:
    joined = " ".join(values).casefold()
    return any(alt.strip().casefold() in joined for alt in keyword.split("|") if alt.strip())


def _word_prefix(value: str, keyword: str) -> bool:
    return any(
        re.search(rf"(?<!\w){re.escape(alt.strip())}", value, re.IGNORECASE)
        for alt in keyword.split("|")
        if alt.strip()
    )


def _whole_word(value: str, phrase: str) -> bool:
    return re.search(rf"(?<!\w){re.escape(phrase)}(?!\w)", value, re.IGNORECASE) is not None


def _text_fields(stored: Mapping[str, Any]) -> dict[str, list[str]]:
    """The stored profile's text values by benchmark field."""

    def text(key: str) -> list[str]:
        value = stored.get(key)
        return [str(value)] if value not in (None, "") else []

    def items(*keys: str) -> list[str]:
        return [str(v) for key in keys for v in stored.get(key) or [] if str(v).strip()]

    return {
        "name": text("name"),
        "talents": items("talents"),
        "development_points": items("development_points"),
        "work": items("roles", "sectors"),
        "place": text("place"),
        "start": text("start"),
        "support_needs": items("support_needs"),
        "contact_preference": text("contact_preference"),
    }


def field_results(expect: Expect, stored: Mapping[str, Any] | None) -> dict[str, bool]:
    """Per expected field, whether the database holds it correctly."""
    if stored is None:
        return dict.fromkeys(FIELDS, False)
    texts = _text_fields(stored)
    results: dict[str, bool] = {}
    results["name"] = [n.casefold() for n in texts["name"]] == [expect.name.casefold()]
    for name in ("talents", "development_points", "work", "start", "support_needs"):
        keywords = expect.keywords(name)
        values = texts[name]
        results[name] = all(_has(values, k) for k in keywords) if keywords else not values
    hours = (stored.get("hours_min"), stored.get("hours_max"))
    results["hours"] = hours == (expect.hours or (None, None))
    place = [p.casefold() for p in texts["place"]]
    results["place"] = (
        len(place) == 1 and place[0] in {p.casefold() for p in expect.place}
        if expect.place
        else not place
    )
    results["max_travel_minutes"] = stored.get("max_travel_minutes") == expect.max_travel_minutes
    results["pathways"] = set(stored.get("pathways") or []) == set(expect.pathways)
    contact = expect.contact_preference
    values = texts["contact_preference"]
    results["contact_preference"] = (
        all(_has(values, k) for k in contact) if contact else not values
    )
    return {name: results[name] for name in FIELDS}


def _hours_text(value: str) -> bool:
    for match in _HOURS.finditer(value):
        before, after = value[: match.start()], value[match.end() :]
        if not _NOT_HOURS_BEFORE.search(before) and not _NOT_HOURS_AFTER.match(after):
            return True
    return False


def misfiled_values(person: Person, stored: Mapping[str, Any] | None) -> list[str]:
    """Stored values that belong in another field, as "field ← kind: value"."""
    if stored is None:
        return []
    expect = person.expect
    found: list[str] = []
    questions = [" ".join(q.casefold().split()) for q in person.questions()]
    for name, values in _text_fields(stored).items():
        for value in values:
            kinds = []
            if name == "name" and value.casefold() != expect.name.casefold():
                words = value.casefold().split()
                if (
                    len(words) > len(expect.name.split())
                    or any(char.isdigit() for char in value)
                    or _SENTENCE_WORDS & set(words)
                ):
                    kinds.append("a sentence")
            if name != "hours" and _hours_text(value):
                kinds.append("hours")
            if name != "place" and any(_whole_word(value, place) for place in expect.place):
                kinds.append("place")
            if _TRAVEL.search(value):
                kinds.append("travel")
            if name != "contact_preference" and _PHONE_OR_MAIL.search(value):
                kinds.append("phone or e-mail")
            if name in _CONTACT_WORD_FIELDS and _CONTACT.search(value):
                kinds.append("contact")
            if name == "talents" and _LEARNING.search(value):
                kinds.append("a learning wish")
            flat = " ".join(value.casefold().split())
            if "?" in value or any(q.rstrip("?") in flat for q in questions):
                kinds.append("a question")
            kinds += _other_keywords(expect, name, value)
            found += [f"{name} ← {kind}: {value!r}" for kind in kinds]
    found += _misfiled_numbers(expect, stored)
    return found


def _other_keywords(expect: Expect, name: str, value: str) -> list[str]:
    """Another list field's facts in this value, and none of this field's own."""
    lists = ("talents", "development_points", "work", "support_needs")
    if name not in lists or any(_word_prefix(value, k) for k in expect.keywords(name)):
        return []
    return [
        other.replace("_", " ")
        for other in lists
        if other != name and any(_word_prefix(value, k) for k in expect.keywords(other))
    ]


def _misfiled_numbers(expect: Expect, stored: Mapping[str, Any]) -> list[str]:
    """Hours that are really the travel time, and a travel time that is really the hours."""
    found = []
    hours = {int(v) for v in (stored.get("hours_min"), stored.get("hours_max")) if v is not None}
    travel = stored.get("max_travel_minutes")
    wanted_hours = set(expect.hours or ())
    if hours - wanted_hours and expect.max_travel_minutes in hours:
        found.append(f"hours ← travel: {sorted(hours)}")
    if travel is not None and travel != expect.max_travel_minutes:
        if travel in wanted_hours or travel in {60 * h for h in wanted_hours}:
            found.append(f"max_travel_minutes ← hours: {travel}")
    return found


def health_leaks(person: Person, transcript: Transcript) -> list[str]:
    """Stored profile values and stored words of the person that hold health information."""
    leaks = []
    stored = transcript.stored or {}
    for name, values in _text_fields(stored).items():
        for value in values:
            own = any(_word_prefix(value, word) for word in person.expect.health)
            if mentions_health(value) or own:
                leaks.append(f"profile {name}: {value!r}")
    said = transcript.said_stored
    leaks += [f"conversation: {text!r}" for text in said if mentions_health(text)]
    return leaks


def question_runs(turns: Sequence[Turn]) -> list[tuple[str, int]]:
    """Runs of the same question (`utter_ask_*`) with no other question between."""
    runs: list[tuple[str, int]] = []
    for reply in (r for turn in turns for r in turn.replies):
        if reply.asks is None:
            continue
        if runs and runs[-1][0] == reply.response:
            runs[-1] = (reply.response, runs[-1][1] + 1)
        else:
            runs.append((reply.response, 1))
    return runs


def not_understood(turns: Sequence[Turn]) -> int:
    """Replies that mean the bot did not understand the message."""
    return sum(r.not_understood for turn in turns for r in turn.replies)


def other_language(person: Person, transcript: Transcript) -> tuple[int, int]:
    """Replies in the other language, and times the language slot was set to it."""
    replies = sum(
        r.language not in (None, person.language) for t in transcript.turns for r in t.replies
    )
    slots = sum(value != person.language for value in transcript.language_slots)
    return replies, slots


@dataclass
class Score:
    """One person's results."""

    completed: bool
    fields: dict[str, bool]
    misfiled: list[str]
    not_understood: int
    runs: list[tuple[str, int]]
    repeated: list[str]  # slots asked again after the person had given them
    other_language: tuple[int, int]
    health: list[str]

    def summary(self, transcript: Transcript) -> str:
        """A one-line account of what failed, for engineers."""
        stored = transcript.stored
        parts = ["completed" if self.completed else "NOT completed"]
        wrong = [name for name, ok in self.fields.items() if not ok]
        if stored is None:
            parts.append("nothing stored")
        elif wrong:
            parts.append("wrong: " + ", ".join(_shown(name, stored) for name in wrong))
        parts += [f"misfiled {m}" for m in self.misfiled]
        if self.not_understood:
            parts.append(f"not understood {self.not_understood} times")
        parts += [f"{name} {n} times in a row" for name, n in self.runs if n >= 3]
        if self.repeated:
            counts = Counter(self.repeated)
            parts.append("asked again: " + ", ".join(f"{k} ({n})" for k, n in counts.items()))
        if any(self.other_language):
            replies, slots = self.other_language
            parts.append(f"other language: {replies} replies, slot set to it {slots} times")
        parts += [f"HEALTH stored {leak}" for leak in self.health]
        parts += transcript.notes
        return f"{transcript.person.id}: " + " | ".join(parts)


def _shown(name: str, stored: Mapping[str, Any]) -> str:
    texts = _text_fields(stored)
    if name in texts:
        return f"{name}={texts[name]!r}"
    if name == "hours":
        return f"hours={stored.get('hours_min')}-{stored.get('hours_max')}"
    return f"{name}={stored.get(name)!r}"


def score(transcript: Transcript) -> Score:
    """Score one played conversation."""
    person = transcript.person
    return Score(
        completed=transcript.confirmed,
        fields=field_results(person.expect, transcript.stored),
        misfiled=misfiled_values(person, transcript.stored),
        not_understood=not_understood(transcript.turns),
        runs=question_runs(transcript.turns),
        repeated=[t.answered for t in transcript.turns if t.repeated and t.answered],
        other_language=other_language(person, transcript),
        health=health_leaks(person, transcript),
    )


def figures(scores: Sequence[Score]) -> list[dict[str, Any]]:
    """The benchmark's JSON lines."""
    n = len(scores)
    fields = [ok for s in scores for ok in s.fields.values()]
    completion = sum(s.completed for s in scores) / n if n else 0.0
    accuracy = sum(fields) / len(fields) if fields else 0.0
    done = [ok for s in scores if s.completed for ok in s.fields.values()]
    misfiled = sum(len(s.misfiled) for s in scores)
    unclear = [s.not_understood for s in scores]
    longest = [max((length for _, length in s.runs), default=0) for s in scores]
    long_runs = sum(length >= 3 for s in scores for _, length in s.runs)
    switched = sum(any(s.other_language) for s in scores)
    leaks = [leak for s in scores for leak in s.health]
    in_profile = sum(leak.startswith("profile") for leak in leaks)
    repeated = sum(len(s.repeated) for s in scores)
    return [
        _line("people_intake_completion_rate", round(completion, 3), 0.95, completion >= 0.95, n),
        {
            **_line("people_field_accuracy", round(accuracy, 3), 0.95, accuracy >= 0.95, n),
            "n": len(fields),
            "people": n,
            # An intake that saves only at the end stores nothing for those who did not finish.
            "among_completed": round(sum(done) / len(done), 3) if done else None,
        },
        _line("people_misfiled_values", misfiled, 0, misfiled == 0, n),
        {
            **_line("people_not_understood_per_conversation", None, None, None, n),
            "value": round(sum(unclear) / n, 2) if n else None,
            "max": max(unclear, default=0),
        },
        {
            **_line("people_longest_question_run", max(longest, default=0), 2, long_runs == 0, n),
            "runs_of_3_or_more": long_runs,
        },
        {
            **_line("people_language_switches", switched, 0, switched == 0, n),
            "replies_in_other_language": sum(s.other_language[0] for s in scores),
            "language_slot_set_to_other": sum(s.other_language[1] for s in scores),
        },
        {
            **_line("people_health_words_stored", len(leaks), 0, not leaks, n),
            "in_profile": in_profile,
            "in_conversation": len(leaks) - in_profile,
        },
        _line("people_facts_asked_again", repeated, None, None, n),
    ]


def _line(name: str, value: Any, target: Any, met: bool | None, n: int) -> dict[str, Any]:
    return {"figure": name, "value": value, "target": target, "met": met, "n": n}
