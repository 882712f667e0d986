"""The intake conversation the benchmarks drive, and telling bot replies apart by kind.

A simulated job seeker says "hoi", presses the consent button and then answers whatever the
bot asks (first name, talent, place, ...) from small lists, until the bot asks nothing it
knows how to answer. The questions are recognised by the response they came from, taken from
the domain inside the model, so the driver follows the intake as the form changes.
"""

from __future__ import annotations

import json
import random
import re
import tarfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from bot.rasa_client import Reply
from bot.turns import PART_SEPARATOR, one_message_per_turn

# Small lists, so consecutive conversations differ; every entry passes the form's validation.
NAMES = ("Sanne", "Daan", "Fatima", "Mohammed", "Lotte", "Ahmet", "Priya", "Joris", "Noor")
NAME_FORMS = ("{}", "ik heet {}", "mijn naam is {}", "{}")
TALENTS = (
    "Ik kan goed plannen en mensen helpen",
    "Ik ben handig met gereedschap",
    "Ik kan goed koken voor grote groepen",
    "Ik ben geduldig met kinderen",
    "Ik werk graag buiten in de tuin",
    "Ik ben goed met computers",
    "Ik kan goed luisteren",
    "Ik ben altijd op tijd en werk netjes",
)
PLACES = ("Amersfoort", "Utrecht", "Zwolle", "Rotterdam", "Den Bosch", "Tilburg", "3811 AB")
# Answers to the questions the intake asks after the first three, by the slot asked for.
ANSWERS: dict[str, tuple[str, ...]] = {
    "talent": TALENTS,
    "talents": TALENTS,
    "region": PLACES,
    "place": PLACES,
    "development_points": (
        "Ik wil beter leren plannen",
        "Ik wil beter Nederlands leren",
        "Ik wil leren werken met de computer",
    ),
    "work_wish": ("iets in de zorg", "kok", "werken in een magazijn", "iets met dieren"),
    "hours": ("20 uur", "24", "16 tot 20", "32 uur per week"),
    "max_travel": ("een half uur", "max 20 km", "45 minuten"),
    "start": ("zo snel mogelijk", "volgende maand", "per direct"),
    "support_needs": ("aangepaste werktijden", "niet vroeg beginnen", "korte werkdagen"),
    "contact_preference": ("via deze chat", "bellen", "mailen"),
    "pathways": ("een gewone baan", "leren en werken", "een werkervaringsplek"),
}
AFFIRM = "/affirm"
_QUESTION = re.compile(r"^utter_(?:ask|invalid)_(\w+?)(?:#\d+)?$")


@dataclass(frozen=True)
class Answer:
    """One bot reply: the response (and variation) it came from and its buttons."""

    kind: str
    titles: tuple[str, ...] = ()
    payloads: tuple[str, ...] = ()  # what a press sends: callback_data on Telegram

    def same_as(self, other: Answer) -> bool:
        """Whether two replies are the same kind (text template and buttons, not payloads)."""
        return self.kind == other.kind and self.titles == other.titles


@dataclass(frozen=True)
class Message:
    """One message of the person: typed text or a press on button `button` of the last reply."""

    key: str  # what it answers, e.g. "hoi", "first_name", "button:/affirm"
    kind: Literal["text", "button"]
    text: str  # the text, or the button's payload as Rasa's REST channel takes it
    button: int = -1


class Person:
    """One simulated job seeker with a first name; answers from the small lists."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.first_name = rng.choice(NAMES)

    def opening(self) -> Message:
        """The first message of a conversation."""
        return Message("hoi", "text", "hoi")

    def reply_to(self, replies: Sequence[Answer]) -> Message | None:
        """The answer to the bot's last reply; None when it asks nothing we can answer."""
        if not replies:
            return None
        last = replies[-1]
        if AFFIRM in last.payloads:
            return Message("button:" + AFFIRM, "button", AFFIRM, last.payloads.index(AFFIRM))
        match = _QUESTION.match(last.kind)
        slot = match.group(1) if match else None
        if slot == "first_name":
            text = self.rng.choice(NAME_FORMS).format(self.first_name)
            return Message(slot, "text", text)
        if last.payloads:
            index = self.rng.randrange(len(last.payloads))
            return Message(f"button:{slot or last.kind}", "button", last.payloads[index], index)
        if slot is not None and slot in ANSWERS:
            return Message(slot, "text", self.rng.choice(ANSWERS[slot]))
        return None


class ReplyKinds:
    """Recognises a reply text as a variation of one of the domain's responses."""

    def __init__(self, responses: dict[str, Any]) -> None:
        self._patterns: list[tuple[str, re.Pattern[str]]] = []
        for name, variations in responses.items():
            for index, variation in enumerate(variations or []):
                text = variation.get("text") if isinstance(variation, dict) else None
                if isinstance(text, str):
                    self._patterns.append((f"{name}#{index}", _template_pattern(text)))

    @classmethod
    def from_model(cls, model: Path) -> ReplyKinds:
        """The responses of the domain the model was trained with."""
        return cls(model_responses(model))

    def kind(self, text: str | None) -> str:
        """`name#variation` of the matching response, `other` for text an action composed."""
        if not text:
            return "empty"
        for name, pattern in self._patterns:
            if pattern.fullmatch(text.strip()):
                return name
        return "other"

    def kinds(self, text: str | None) -> str:
        """The kind of a message that may join several responses (bot/turns.py), each kind
        separated by `+`: "utter_noted#0+utter_ask_talents#0"."""
        if not text:
            return "empty"
        chunks = text.strip().split(PART_SEPARATOR)

        def parts(start: int) -> list[str]:
            # The shortest run of chunks that is a response, such that the rest is too.
            for end in range(start + 1, len(chunks) + 1):
                kind = self.kind(PART_SEPARATOR.join(chunks[start:end]))
                if kind == "other":
                    continue
                rest = parts(end) if end < len(chunks) else []
                if "other" not in rest:
                    return [kind, *rest]
            return ["other", *(parts(start + 1) if start + 1 < len(chunks) else [])]

        return "+".join(parts(0))

    def as_messages(self, messages: Iterable[Any], limit: int) -> list[Answer]:
        """Rasa's replies (the REST channel's JSON) as the text messages a chat channel sends
        for them: one message per turn where the meaning allows (bot/turns.py)."""
        replies = [Reply.from_rasa(m) for m in messages if isinstance(m, dict)]
        return [
            Answer(
                self.kinds(reply.text),
                tuple(b.title for b in reply.buttons),
                tuple(b.payload for b in reply.buttons),
            )
            for reply in one_message_per_turn(replies, limit)
            if reply.text and reply.image is None and reply.document is None
        ]

    def from_rasa(self, messages: Iterable[Any]) -> list[Answer]:
        """Answers in the REST channel's JSON."""
        answers = []
        for message in messages:
            if not isinstance(message, dict):
                answers.append(Answer("not-an-object"))
                continue
            buttons = [b for b in message.get("buttons") or [] if isinstance(b, dict)]
            answers.append(
                Answer(
                    self.kind(message.get("text")),
                    tuple(str(b.get("title")) for b in buttons),
                    tuple(str(b.get("payload")) for b in buttons),
                )
            )
        return answers

    def from_telegram(self, params: Iterable[dict[str, Any]]) -> list[Answer]:
        """Answers from sendMessage parameters as the fake Bot API recorded them."""
        answers = []
        for call in params:
            markup = call.get("reply_markup") or {}
            rows = (markup.get("inline_keyboard") or []) if isinstance(markup, dict) else []
            buttons = [button for row in rows for button in row if isinstance(button, dict)]
            answers.append(
                Answer(
                    self.kinds(call.get("text")),
                    tuple(str(b.get("text")) for b in buttons),
                    tuple(str(b.get("callback_data")) for b in buttons),
                )
            )
        return answers


def _template_pattern(text: str) -> re.Pattern[str]:
    """A response template as a regular expression; each {slot} matches any text."""
    parts = re.split(r"\{[A-Za-z_][A-Za-z0-9_]*\}", text.strip())
    return re.compile(".+?".join(re.escape(part) for part in parts), re.DOTALL)


def model_responses(model: Path) -> dict[str, Any]:
    """The responses of the domain a model was trained with (its metadata.json)."""
    with tarfile.open(model, "r:gz") as archive:
        for member in archive.getmembers():
            if member.name.lstrip("/") == "metadata.json":
                handle = archive.extractfile(member)
                if handle is not None:
                    metadata: Any = json.load(handle)
                    return dict(metadata["domain"].get("responses") or {})
    raise ValueError(f"{model.name} has no metadata.json with a domain")
