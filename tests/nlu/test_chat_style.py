"""The chat-style part of the held-out set, and how languages are annotated (nlu-guidelines)."""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

from bench.nlu import HOLDOUT
from core.paths import ROOT
from tests.nlu.test_holdout import CATALOGUE, examples

# [text](entity) or [text]{"entity": ..., "value": ...}
ANNOTATION = re.compile(r"\[(?P<text>[^\]]+)\](?:\((?P<name>[^)]+)\)|(?P<json>\{[^}]*\}))")
# The words the EntitySynonymMapper turns into nl / en, whatever the entity type.
LANGUAGE_WORDS = {"nederlands", "dutch", "engels", "english"}


def blocks(path: Path) -> list[dict[str, Any]]:
    return [block for block in yaml.safe_load(path.read_text("utf-8"))["nlu"] if "intent" in block]


def entities(text: str) -> Iterator[tuple[str, str, str | None]]:
    """(span, entity, value) for every annotation in one example."""
    for match in ANNOTATION.finditer(text):
        if match.group("json"):
            data = json.loads(match.group("json"))
            yield match.group("text"), data["entity"], data.get("value")
        else:
            yield match.group("text"), match.group("name"), None


def annotated_files() -> list[Path]:
    return [*sorted((ROOT / "nlu").glob("*.yml")), HOLDOUT]


def test_the_chat_part_covers_every_intent_in_both_languages() -> None:
    counts: Counter[tuple[str, str]] = Counter()
    for block in blocks(HOLDOUT):
        metadata = block.get("metadata") or {}
        if metadata.get("style") == "chat":
            assert metadata.get("language") in ("nl", "en"), block["intent"]
            counts[(block["intent"], metadata["language"])] += len(examples(block))
    short = {
        (intent, language): counts[(intent, language)]
        for intent in [*CATALOGUE, "skip"]
        for language in ("nl", "en")
        if counts[(intent, language)] < 5
    }
    assert short == {}, f"too few chat-style held-out examples: {short}"


def test_dutch_and_english_are_annotated_as_language_with_a_normative_value() -> None:
    wrong = []
    for path in annotated_files():
        for block in blocks(path):
            for text in examples(block):
                for span, entity, value in entities(text):
                    if entity == "language" and value not in ("nl", "en"):
                        wrong.append((path.name, text))
                    if entity != "language" and span.lower() in LANGUAGE_WORDS:
                        # EntitySynonymMapper would turn this skill into "nl" / "en".
                        wrong.append((path.name, text))
    assert wrong == []
