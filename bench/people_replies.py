"""Telling the bot's replies apart: which response (and language variation) a text came from.

The domain's response templates are turned into patterns, each {placeholder} matching any
text, so a question is recognised however its values were filled in, and the variation that
matched tells the reply's language.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from bench.intake import model_responses
from bot.language import guess_language

SKETCH = "utter_profile_sketch"
CONFIRMED = "utter_profile_confirmed"
NAME_CONFIRM = "utter_ask_first_name_confirm"
# The way out offered instead of a third identical question: one response per question.
WAY_OUT = "utter_way_out_"
# Replies that mean the bot did not get the message. utter_out_of_scope counts too: during an
# intake answer it is the bot not recognising the answer as one.
NOT_UNDERSTOOD = frozenset(
    {
        "utter_default",
        "utter_please_rephrase",
        "utter_ask_rephrase",
        "utter_out_of_scope",
    }
)
MIN_LITERAL = 4
_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


@dataclass(frozen=True)
class Reply:
    """One bot message, recognised: the response it came from and the values put into it."""

    response: str  # utter_* name, "other" for text an action composed, "empty" without text
    text: str = ""
    language: str | None = None  # of the variation that matched; None when not telling
    params: tuple[tuple[str, str], ...] = ()
    buttons: tuple[tuple[str, str], ...] = ()  # (title, payload)

    @property
    def way_out(self) -> bool:
        """Whether this is the way out (skip, later, a person) instead of a question."""
        return self.response.startswith(WAY_OUT)

    @property
    def not_understood(self) -> bool:
        """Whether the reply says the bot could not use the message."""
        return (
            self.response in NOT_UNDERSTOOD
            or self.response.startswith("utter_invalid_")
            or self.way_out
        )

    @property
    def asks(self) -> str | None:
        """The slot of an `utter_ask_<slot>` question, else None."""
        prefix = "utter_ask_"
        return self.response[len(prefix) :] if self.response.startswith(prefix) else None

    def param(self, name: str) -> str | None:
        """The text that filled {name}, or the first placeholder's text when there is no such."""
        values = dict(self.params)
        return values.get(name) or next(iter(values.values()), None)

    def payload(self, prefix: str) -> str | None:
        """The payload of the first button whose payload starts with `prefix`."""
        return next((p for _, p in self.buttons if p.startswith(prefix)), None)


@dataclass(frozen=True)
class _Variation:
    response: str
    language: str
    pattern: re.Pattern[str]
    names: tuple[str, ...]
    literal: int  # characters of fixed text: the longest match wins over a looser one


class Templates:
    """The domain's responses as patterns; each {placeholder} matches any text."""

    def __init__(self, responses: Mapping[str, Any], default_language: str = "nl") -> None:
        self._variations: list[_Variation] = []
        for name, variations in responses.items():
            for variation in variations or []:
                text = variation.get("text") if isinstance(variation, dict) else None
                if isinstance(text, str) and text.strip():
                    language = _condition_language(variation) or default_language
                    found = _variation(name, language, text)
                    # A template that is only placeholders ("{status}") would match any text.
                    if found.literal >= MIN_LITERAL:
                        self._variations.append(found)
        self._variations.sort(key=lambda v: -v.literal)

    @classmethod
    def from_model(cls, model: Path) -> Templates:
        """The responses of the domain the model was trained with."""
        return cls(model_responses(model))

    @classmethod
    def from_domain(cls, folder: Path) -> Templates:
        """The responses in a domain folder's YAML files."""
        responses: dict[str, Any] = {}
        for path in sorted(folder.glob("*.yml")):
            data = yaml.safe_load(path.read_text("utf-8")) or {}
            responses.update(data.get("responses") or {})
        return cls(responses)

    def reply(self, message: Mapping[str, Any]) -> Reply:
        """One message of the web chat's JSON, recognised."""
        text = str(message.get("text") or "").strip()
        buttons = tuple(
            (str(b.get("title")), str(b.get("payload")))
            for b in message.get("buttons") or []
            if isinstance(b, dict)
        )
        if not text:
            return Reply("empty", buttons=buttons)
        flat = " ".join(text.split())
        best: _Variation | None = None
        languages: set[str] = set()
        params: tuple[tuple[str, str], ...] = ()
        for variation in self._variations:
            if best is not None and variation.literal < best.literal:
                break
            match = variation.pattern.fullmatch(flat)
            if match is None or (best is not None and variation.response != best.response):
                continue
            if best is None:
                best = variation
                params = tuple(
                    (name, match.group(f"p{i}").strip()) for i, name in enumerate(variation.names)
                )
            languages.add(variation.language)
        if best is None:
            return Reply("other", text, guess_language(text), buttons=buttons)
        language = next(iter(languages)) if len(languages) == 1 else None
        return Reply(best.response, text, language, params, buttons)


def _condition_language(variation: Mapping[str, Any]) -> str | None:
    for condition in variation.get("condition") or []:
        if isinstance(condition, dict) and condition.get("name") == "language":
            return str(condition.get("value"))
    return None


def _variation(name: str, language: str, text: str) -> _Variation:
    parts = _PLACEHOLDER.split(" ".join(text.split()))
    literals, names = parts[0::2], parts[1::2]
    regex = ""
    for i, literal in enumerate(literals):
        # Whitespace in a template may come out as a newline or a single space.
        regex += r"\s+".join(re.escape(word) for word in literal.split(" "))
        if i < len(names):
            regex += f"(?P<p{i}>.+?)"
    literal_length = sum(len(part.strip()) for part in literals)
    return _Variation(name, language, re.compile(regex, re.DOTALL), tuple(names), literal_length)
