"""Reading one intake message: every fact it holds, kept for the question it belongs to.

People answer in their own way: ahead of the question, out of order, two facts in one message.
A message is cut into parts at commas, full stops and joining words ("en", "maar", "and"). A
part that plainly states a fact of another question ("maximaal een half uur reizen", "per
direct", "bel me maar", "ik woon in Utrecht") is kept for that question; what is left answers
the question asked. A part that mentions health is never kept.

This module knows nothing of Rasa: actions/intake.py feeds it the text, the question asked and
what the NLU found, and turns the reading into slot events and replies.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from actions import intake_words as words
from actions.intake_facts import hours_slots, place_in, plain_fact, travel_slots, work_wish_slots
from actions.parsing import (
    clean_free_text,
    clean_place,
    hours_valid,
    is_skip,
    means_none,
    parse_hours,
    parse_pathways,
    split_items,
)
from core.privacy import mentions_health

FIELDS = (
    "first_name",
    "talents",
    "development_points",
    "work_wish",
    "hours",
    "place",
    "max_travel",
    "pathways",
    "start",
    "support_needs",
    "contact_preference",
)
LIST_FIELDS = frozenset({"talents", "development_points", "pathways", "support_needs"})
# What to say when an answer holds nothing for the question asked.
NOTHING_USABLE = {
    "first_name": "utter_invalid_first_name",
    "hours": "utter_no_hours",
    "place": "utter_invalid_place",
    "max_travel": "utter_invalid_max_travel",
    "pathways": "utter_invalid_pathways",
    "start": "utter_invalid_start",
    "contact_preference": "utter_invalid_contact_preference",
}
# Free-text lists gather: a talent named later is added to the ones named before.
GATHERING = frozenset({"talents", "development_points", "support_needs"})
# Lists that a later answer adds to ("eerst een werkervaringsplaats", later "uitzendwerk").
ADDING = GATHERING | {"pathways"}


@dataclass
class Reading:
    """What one message gave: slot values, and how the question asked fared."""

    slots: dict[str, Any] = field(default_factory=dict)
    # The parts kept for other questions, as the person said them (for "Genoteerd: ...").
    noted: list[str] = field(default_factory=list)
    answered: bool = False  # the question asked got a usable answer, or was skipped
    question: bool = False  # the message asks something: that part is never an answer
    fits_asked: bool = False  # a part plainly answers the question asked ("morgen" at start)
    skipped: bool = False
    health: bool = False  # a part about health was left out
    # Why the answer to the question asked could not be used: the response that says so.
    problem: str | None = None
    name_to_confirm: str | None = None  # "Is X je voornaam?"

    @property
    def facts(self) -> bool:
        """Whether anything at all was kept."""
        return bool(self.slots)


# "leren en werken" is one pathway, "20 en 24 uur" one range: never cut inside them.
_KEEP_TOGETHER = re.compile(
    r"\b(leren en werken|werken en leren|learn(?:ing)? and work(?:ing)?|work(?:ing)? and "
    r"learn(?:ing)?|bellen of mailen|mailen of bellen|call or text)\b",
    re.IGNORECASE,
)
_SENTENCE = re.compile(r"(?<=[.!?])\s+|\n+|(?<=\?)(?=\S)")
_CUT = re.compile(
    r"(?<!\d)[,.](?!\d)|[;!]+|\s+-\s+|"
    r"(?<!\d)\s+(?:en|and|but|plus|&|because|also|so|dus|daarom)\s+(?!\d)|"
    # "maar", "want" and "ook" join sentences only before a new subject: "bel me maar op ...".
    r"\s+(?:maar|want|omdat|ook|verder)\s+(?=(?:ik|wil|liever|niet|geen|mijn|het|wel|graag|je|"
    r"dan|dat|i|my)\b)",
    re.IGNORECASE,
)
_JOINED = "\ue000"  # stands for a space inside words kept together


def clauses(text: str) -> list[str]:
    """The parts of a message, each stating at most one fact (as far as words tell).

    A question keeps its question mark, so it can be told from an answer.
    """
    protected = _KEEP_TOGETHER.sub(lambda m: m.group(0).replace(" ", _JOINED), text)
    parts: list[str] = []
    for sentence in _SENTENCE.split(protected):
        question = sentence.rstrip().endswith("?")
        pieces = [
            " ".join(piece.replace(_JOINED, " ").replace("?", " ").split())
            for piece in _CUT.split(sentence)
        ]
        pieces = [piece for piece in pieces if piece.strip(" .!-")]
        if question and pieces:
            pieces[-1] += "?"
        parts.extend(pieces)
    return parts


def is_question(clause: str) -> bool:
    """Whether a clause asks something: a question mark, or a question word first."""
    return clause.endswith("?") or bool(words.QUESTION_START.match(clause))


def read_name(text: str) -> tuple[str | None, bool]:
    """The first name in an answer and whether it is sure: (None, False) when there is none.

    A sentence is never a name ("ik zoek werk"); a single word that is also an everyday word
    or a town, or several lowercase words, is a name to confirm ("Is Koken je voornaam?").
    """
    prefixed = bool(words.NAME_PREFIX.match(text.strip()))
    bare = words.NAME_PREFIX.sub("", text.strip()).strip(" .!,:")
    tokens = bare.split()
    if not 1 <= len(tokens) <= 3 or len(bare) > 40:
        return None, False
    if not all(re.fullmatch(r"[^\W\d_]+(?:['\u2019-][^\W\d_]+)*", token) for token in tokens):
        return None, False
    lowered = [token.lower() for token in tokens]
    if lowered[0] in words.COMMON_WORDS and lowered[0] not in words.NAME_PARTICLES:
        return None, False
    if any(token in words.COMMON_WORDS and token not in words.NAME_PARTICLES for token in lowered):
        return None, False
    name = " ".join(
        token if i and token.lower() in words.NAME_PARTICLES else token[:1].upper() + token[1:]
        for i, token in enumerate(tokens)
    )
    known_place = " ".join(lowered) in words.lookup("place")
    capitalised = all(token[:1].isupper() for token in tokens if token.lower() not in
                      words.NAME_PARTICLES)  # fmt: skip
    sure = prefixed or (len(tokens) == 1 and not known_place) or (capitalised and not known_place)
    return name, sure


def _answer(asked: str, text: str, parts: list[str], entities: Mapping[str, Sequence[str]],
            reading: Reading) -> None:  # fmt: skip
    """Read `text` (the parts no other question claimed) as the answer to `asked`."""
    if asked == "first_name":
        name, sure = read_name(text)
        if name is None:
            reading.problem = "utter_invalid_first_name"
        elif sure:
            reading.slots["first_name"] = name
        else:
            reading.name_to_confirm = name
        return
    if asked in GATHERING:
        if means_none(text):
            reading.slots[asked] = []
            return
        items = [item for item in (clean_free_text(part) for part in parts) if item]
        if not items:
            reading.problem = "utter_invalid_free_text"
            return
        reading.slots[asked] = items
        return
    if asked == "work_wish":
        value = clean_free_text(text)
        if value is None:
            reading.problem = "utter_invalid_free_text"
            return
        reading.slots.update(work_wish_slots(value, entities))
        return
    if asked == "hours":
        hours = parse_hours(text)
        if hours is None:
            reading.problem = "utter_no_hours"
        elif not hours_valid(hours):
            reading.problem = "utter_invalid_hours"
        else:
            reading.slots.update(hours_slots(text) or {})
        return
    if asked == "place":
        place = next((p for p in map(clean_place, entities.get("place", [])) if p), None)
        place = place or place_in(text, loose=True, anywhere=True) or _plain_place(text)
        if place is None:
            reading.problem = "utter_invalid_place"
        else:
            reading.slots["place"] = place
        return
    if asked == "max_travel":
        slots = travel_slots(text)
        if slots is None:
            reading.problem = "utter_invalid_max_travel"
        else:
            reading.slots.update(slots)
        return
    if asked == "pathways":
        pathways = parse_pathways(text, entities.get("pathway", []))
        if pathways:
            reading.slots["pathways"] = pathways
        else:
            reading.problem = "utter_invalid_pathways"
        return
    if asked == "start":
        value = clean_free_text(text)
        if value is None or len(value) > 100 or means_none(text):
            reading.problem = "utter_invalid_start"
        else:
            reading.slots["start"] = value
        return
    if asked == "contact_preference":
        value = clean_free_text(text)
        if value is None or len(value) > 100 or not words.CONTACT_MEANS.search(value):
            reading.problem = "utter_invalid_contact_preference"
        else:
            reading.slots["contact_preference"] = value
        return


def _plain_place(text: str) -> str | None:
    """An unknown place given alone: one to three words, none of them an everyday word."""
    tokens = text.strip(" .!").split()
    if not 1 <= len(tokens) <= 3 or any(t.lower() in words.COMMON_WORDS for t in tokens):
        return None
    return clean_place(text)


def without_health(clause: str) -> str | None:
    """The clause without its health part, or None when nothing else of use is left.

    "door mijn reuma wil ik een aangepaste stoel" keeps "wil ik een aangepaste stoel";
    "ik ben snel moe na mijn behandeling" keeps nothing: what is left must be a practical
    need, a wish or a fact, or it is taken as part of the health story.
    """
    if not mentions_health(clause):
        return clause
    rest = " ".join(words.HEALTH_LEAD_IN.sub(_dropped_if_health, clause).split()).strip(" ,.")
    if mentions_health(rest) or not words.PRACTICAL.search(rest):
        return None  # "I get tired easily" is still about health
    return rest


def _dropped_if_health(found: re.Match[str]) -> str:
    return "" if mentions_health(found.group(0)) else found.group(0)


def read(
    text: str,
    asked: str | None,
    *,
    entities: Mapping[str, Sequence[str]] | None = None,
    skip: bool = False,
) -> Reading:
    """Every fact in `text`, and the answer to the question `asked` (None: no question open).

    `skip` is the NLU's word that the person wants to skip the question ("sla over").
    """
    entities = entities or {}
    reading = Reading()
    rest: list[str] = []
    for whole in clauses(text):
        clause = without_health(whole)
        if clause != whole:
            reading.health = True
        if clause is None:
            continue
        if is_question(whole):
            reading.question = True
            continue
        found = plain_fact(clause, asked, entities)
        if found is None or found[0] == asked:
            reading.fits_asked = reading.fits_asked or found is not None
            rest.append(clause)
            continue
        slots = found[1]
        if asked == "place" and "place" not in slots:
            # "amersfoort max half uur": the travel time, and the place asked for.
            if place := place_in(clause, loose=True, anywhere=True):
                slots = {**slots, "place": place}
        for slot, value in slots.items():
            if slot in ADDING and isinstance(value, list):
                value = reading.slots.get(slot, []) + value
            reading.slots[slot] = value
        reading.noted.append(clause)
    if asked is None:
        return reading
    if len(rest) > 1 or reading.noted:
        # A reason beside a fact ("want daar woon ik") answers nothing by itself.
        rest = [clause for clause in rest if not words.REASON.match(clause)]
    remainder = ", ".join(rest).strip()
    if skip or is_skip(remainder) or (not remainder and is_skip(text)):
        reading.skipped = reading.answered = True
        reading.slots[asked] = [] if asked in LIST_FIELDS else ""
        return reading
    if not remainder:
        if reading.question:
            reading.problem = "utter_question_unknown"
        elif not reading.facts and not reading.health:
            reading.problem = NOTHING_USABLE.get(asked, "utter_invalid_free_text")
        return reading
    # Nothing taken out: the answer keeps its own commas ("plannen, koken") as the list.
    untouched = not reading.health and len(rest) == len(clauses(text))
    parts = split_items(text) if untouched else rest
    _answer(asked, remainder, parts, entities, reading)
    reading.answered = asked in reading.slots
    if reading.answered:
        reading.problem = None
    return reading
