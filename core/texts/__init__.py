"""The text catalogue: every text the bot shows that does not come from Rasa's domain.

One YAML file per audience in this folder (`person.yml` for job seekers, `recruiter.yml` for
recruiters); a text is addressed as `<file>.<section>.<name>`, e.g. `person.gateway.unavailable`.
Each text has a Dutch and an English version and declares the `{fields}` it fills in.
`check_texts` reads every file and lists each problem with its place; the catalogue is checked
the same way when it is first used, so a broken file stops the process that reads it instead of
sending half a message. docs/texts.md describes the format and the check command.
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from core.languages import LANGUAGES, language_of
from core.privacy import mentions_health

TEXTS_DIR = Path(__file__).parent
_NAME = re.compile(r"[a-z][a-z0-9_]*")
_ENTRY_KEYS = frozenset({"fields", *LANGUAGES})


@dataclass(frozen=True)
class Text:
    """One text in both languages and the fields it fills in."""

    versions: Mapping[str, str]
    fields: frozenset[str]

    def render(self, language: str | None, values: Mapping[str, object]) -> str:
        """The text in `language` (Dutch unless English) with its fields filled in."""
        missing = self.fields - values.keys()
        if missing:
            raise KeyError(f"missing fields: {', '.join(sorted(missing))}")
        template = self.versions[language_of(language)]
        return template.format_map(values) if self.fields else template


class TextsError(Exception):
    """The catalogue has problems; the message lists each with its file and line."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("The text catalogue has problems:\n" + "\n".join(problems))
        self.problems = problems


def phrase(key: str, language: str | None, **values: object) -> str:
    """The text `key` in the language of `language` (any code; Dutch unless English)."""
    return _catalogue()[key].render(language, values)


def phrases(prefix: str, language: str | None) -> dict[str, str]:
    """Every text of one section, by name: `phrases("recruiter.status", "nl")["placed"]`."""
    start = prefix + "."
    return {
        key[len(start) :]: entry.render(language, {})
        for key, entry in _catalogue().items()
        if key.startswith(start) and not entry.fields
    }


def keys(prefix: str) -> list[str]:
    """The names of one section's texts, in file order."""
    start = prefix + "."
    return [key[len(start) :] for key in _catalogue() if key.startswith(start)]


@lru_cache(maxsize=1)
def _catalogue() -> dict[str, Text]:
    catalogue, problems = load_texts(TEXTS_DIR)
    if problems:
        raise TextsError(problems)
    return catalogue


def check_texts(directory: Path = TEXTS_DIR) -> list[str]:
    """Every problem of the catalogue in `directory`, as `file:line: key: problem`."""
    return load_texts(directory)[1]


def load_texts(directory: Path = TEXTS_DIR) -> tuple[dict[str, Text], list[str]]:
    """The texts of every `*.yml` file in `directory`, and the problems found on the way."""
    catalogue: dict[str, Text] = {}
    problems: list[str] = []
    files = sorted(directory.glob("*.yml"))
    if not files:
        problems.append(f"{directory}: no *.yml files")
    for path in files:
        try:
            root = yaml.compose(path.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as error:
            problems.append(f"{path.name}: cannot be read: {error}")
            continue
        for key, line, entry in _entries(path.stem, root, problems, path.name):
            found = _check(entry)
            problems += [f"{path.name}:{line}: {key}: {message}" for message in found[1]]
            if found[0] is not None:
                catalogue[key] = found[0]
    return catalogue, problems


def _entries(
    prefix: str, node: yaml.Node | None, problems: list[str], where: str
) -> Iterator[tuple[str, int, dict[str, object]]]:
    """(key, line, raw entry) for every text under `node`, which maps names to sections or
    texts; a mapping with an `nl` or `en` key is a text."""
    if not isinstance(node, yaml.MappingNode):
        line = node.start_mark.line + 1 if node is not None else 1
        problems.append(f"{where}:{line}: {prefix}: must map names to texts or sections")
        return
    for key_node, value_node in node.value:
        name = str(key_node.value)
        key, line = f"{prefix}.{name}", key_node.start_mark.line + 1
        if not _NAME.fullmatch(name):
            problems.append(f"{where}:{line}: {key}: a name is lowercase letters, digits and _")
        elif isinstance(value_node, yaml.MappingNode) and any(
            str(k.value) in LANGUAGES for k, _ in value_node.value
        ):
            yield key, line, yaml.safe_load(yaml.serialize(value_node))
        else:
            yield from _entries(key, value_node, problems, where)


def _check(entry: dict[str, object]) -> tuple[Text | None, list[str]]:
    """The text, or None with the reasons it cannot be used."""
    problems = [f"unknown key {name!r}" for name in entry if name not in _ENTRY_KEYS]
    declared = entry.get("fields", [])
    if not isinstance(declared, list) or not all(isinstance(f, str) for f in declared):
        return None, [*problems, "fields must be a list of names"]
    versions: dict[str, str] = {}
    for language in LANGUAGES:
        value = entry.get(language)
        if not isinstance(value, str) or not value.strip():
            problems.append(f"{language}: missing or empty")
            continue
        try:
            used = {field for _, field, _, _ in string.Formatter().parse(value) if field}
        except ValueError as error:
            problems.append(f"{language}: {error}")
            continue
        problems += [
            f"{language}: {{{f}}} is not declared in fields" for f in sorted(used - {*declared})
        ]
        problems += [
            f"{language}: does not use the field {{{f}}}" for f in sorted({*declared} - used)
        ]
        if mentions_health(value):
            problems.append(f"{language}: mentions a health word")
        versions[language] = value
    if problems:
        return None, problems
    return Text(versions=versions, fields=frozenset(declared)), []
