"""The nudge catalogue (store/nudges.yml): e-learning modules and encouraging messages.

`load_catalogue` reads the file and checks all of it before anything is sent from it; a file
that fails raises CatalogueError listing every problem with its place, such as
`store/nudges.yml:57: modules[3].url: must start with https://`. docs/nudges.md describes
the format.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, Literal, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator

from core.languages import language_of
from core.privacy import mentions_health

DEFAULT_CATALOGUE = Path(__file__).with_name("nudges.yml")
PLACEHOLDERS = ("name", "talent", "success")
MIN_MODULES = 15
MIN_ENCOURAGEMENTS = 20
# Someone who told the bot little (no name, talent or success yet) still needs a full round.
MIN_PLAIN_ENCOURAGEMENTS = 10
# NudgeLog.module_id holds a module id, so an id must fit its String(64).
MAX_ID_LENGTH = 64
MAX_TEXT_LENGTH = 300  # a chat message people read at a glance

Place = tuple[str | int, ...]
Problem = tuple[Place, str]

_ID = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
_FIELD = re.compile(r"\{([^{}]*)\}")
_JOINERS = re.compile("['\u2019-]")
_WORD = re.compile(r"[^\W_]+")


def words(text: str) -> list[str]:
    """Lowercase words without accents, hyphens or apostrophes: "E-mail, één" -> email, een."""
    folded = unicodedata.normalize("NFKD", text.lower())
    folded = "".join(char for char in folded if not unicodedata.combining(char))
    return _WORD.findall(_JOINERS.sub("", folded))


def _readable(value: str) -> str:
    """A text shown to people: not empty and free of health words."""
    if not value:
        raise ValueError("must not be empty")
    if mentions_health(value):
        raise ValueError("mentions a health word; nudges are about what people can")
    return value


def _slug(value: str) -> str:
    """An id: lowercase letters and digits joined by single hyphens, short enough to store."""
    if not _ID.fullmatch(value):
        raise ValueError("must be lowercase letters and digits joined by hyphens (a slug)")
    if len(value) > MAX_ID_LENGTH:
        raise ValueError(f"must be at most {MAX_ID_LENGTH} characters")
    return value


class _Strict(BaseModel):
    """No unknown fields and no silent conversions: a typo in the file is an error."""

    model_config = ConfigDict(extra="forbid", strict=True, str_strip_whitespace=True)


class Text(_Strict):
    """A module's title or description in Dutch and English."""

    nl: str = Field(max_length=MAX_TEXT_LENGTH)
    en: str = Field(max_length=MAX_TEXT_LENGTH)

    @field_validator("nl", "en")
    @classmethod
    def _plain(cls, value: str) -> str:
        value = _readable(value)
        if "{" in value or "}" in value:
            raise ValueError("placeholders such as {name} belong in encouragements only")
        return value

    def get(self, language: str) -> str:
        """The text in `language`; Dutch unless it is English."""
        return self.en if language_of(language) == "en" else self.nl


class Module(_Strict):
    """One e-learning module the bot may suggest."""

    id: str
    title: Text
    description: Text
    url: str
    topics: list[str] = Field(min_length=1)
    duration_minutes: int = Field(ge=1, le=600)
    provider: str = Field(max_length=100)
    popularity: int = Field(ge=0)

    _id = field_validator("id")(_slug)
    _provider = field_validator("provider")(_readable)

    @field_validator("url")
    @classmethod
    def _https(cls, value: str) -> str:
        if not value.startswith("https://"):
            raise ValueError("must start with https://")
        host = value.removeprefix("https://").split("/", 1)[0]
        if "." not in host or any(char.isspace() for char in value):
            raise ValueError("must be a web address such as https://provider.example.org/course")
        return _readable(value)


class Encouragement(_Strict):
    """One encouraging message; `needs` names the placeholders its texts use."""

    # Before the texts: their validator reads the declared needs.
    needs: list[Literal["name", "talent", "success"]] = []
    id: str
    nl: str = Field(max_length=MAX_TEXT_LENGTH)
    en: str = Field(max_length=MAX_TEXT_LENGTH)

    _id = field_validator("id")(_slug)

    @field_validator("nl", "en")
    @classmethod
    def _placeholders(cls, value: str, info: ValidationInfo) -> str:
        used = _FIELD.findall(value)
        if "{" in _FIELD.sub("", value) or "}" in _FIELD.sub("", value):
            raise ValueError("has a { or } that is not part of a placeholder such as {name}")
        unknown = sorted({field for field in used if field not in PLACEHOLDERS})
        if unknown:
            known = ", ".join("{" + field + "}" for field in PLACEHOLDERS)
            raise ValueError(f"{{{unknown[0]}}} is not a placeholder; use {known}")
        if "needs" in info.data:  # absent when `needs` itself was wrong
            needs = set(info.data["needs"])
            undeclared = sorted(set(used) - needs)
            if undeclared:
                raise ValueError(f"uses {{{undeclared[0]}}}; add it to needs: [...]")
            unused = sorted(needs - set(used))
            if unused:
                raise ValueError(f"needs {unused[0]} but does not use {{{unused[0]}}}")
        return _readable(value)

    def text(self, language: str) -> str:
        """The message in `language`, placeholders unfilled; Dutch unless it is English."""
        return self.en if language_of(language) == "en" else self.nl


class Catalogue(BaseModel):
    """The checked catalogue: topics with the words that say them, modules, encouragements."""

    topics: dict[str, list[str]]
    modules: list[Module]
    encouragements: list[Encouragement]

    def module(self, module_id: str) -> Module | None:
        """The module with this id, if the catalogue has it."""
        return next((module for module in self.modules if module.id == module_id), None)


class CatalogueError(Exception):
    """The catalogue file cannot be used; `problems` holds one line per problem."""

    def __init__(self, path: Path, problems: Sequence[str]) -> None:
        self.path = path
        self.problems = list(problems)
        super().__init__(
            f"{path}: {len(self.problems)} problem(s) in the nudge catalogue:\n"
            + "\n".join(self.problems)
        )


def load_catalogue(path: Path = DEFAULT_CATALOGUE) -> Catalogue:
    """Read and check a catalogue file; raises CatalogueError with every problem found."""
    try:
        source = path.read_text("utf-8")
    except OSError as error:
        raise CatalogueError(path, [f"{path}: cannot be read: {error.strerror}"]) from None
    except UnicodeDecodeError:
        raise CatalogueError(path, [f"{path}: cannot be read: not UTF-8 text"]) from None
    try:
        root = yaml.compose(source)
        data = yaml.safe_load(source)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark else str(path)
        problem = getattr(error, "problem", None) or str(error)
        raise CatalogueError(path, [f"{where}: not valid YAML: {problem}"]) from None
    catalogue, problems = check_catalogue(data)
    if catalogue is None or problems:
        # In file order, so the list reads top to bottom next to the file.
        located = sorted(
            ((_line(root, place) or 0, place, text) for place, text in problems),
            key=lambda problem: problem[0],
        )
        lines = [_describe(path, line, place, text) for line, place, text in located]
        raise CatalogueError(path, lines)
    return catalogue


def check_catalogue(data: Any) -> tuple[Catalogue | None, list[Problem]]:
    """The catalogue built from parsed YAML, and every problem found, each with its place."""
    if not isinstance(data, dict):
        return None, [((), "must be a mapping with topics, modules and encouragements")]
    problems: list[Problem] = [
        ((key,), "is not a known section; use topics, modules and encouragements")
        for key in data
        if key not in ("topics", "modules", "encouragements")
    ]
    topics = _check_topics(data.get("topics"), problems)
    modules = _check_items(data, "modules", Module, MIN_MODULES, problems)
    encouragements = _check_items(
        data, "encouragements", Encouragement, MIN_ENCOURAGEMENTS, problems
    )
    _check_unique_ids([*modules, *encouragements], problems)
    for index, module in modules:
        for position, topic in enumerate(module.topics):
            if topic not in topics:
                place: Place = ("modules", index, "topics", position)
                hint = "add it under `topics:` or use one listed there"
                problems.append((place, f"unknown topic {topic!r}: {hint}"))
    plain = sum(1 for _, message in encouragements if not message.needs)
    if len(encouragements) >= MIN_ENCOURAGEMENTS and plain < MIN_PLAIN_ENCOURAGEMENTS:
        note = (
            f"only {plain} messages need nothing; at least {MIN_PLAIN_ENCOURAGEMENTS} are needed "
            "for people who have not told their name, talents or successes"
        )
        problems.append((("encouragements",), note))
    if problems:
        return None, problems
    catalogue = Catalogue(
        topics=topics,
        modules=[module for _, module in modules],
        encouragements=[message for _, message in encouragements],
    )
    return catalogue, []


def _check_topics(raw: Any, problems: list[Problem]) -> dict[str, list[str]]:
    """The topic vocabulary; each topic needs a slug name and one-word lowercase keywords."""
    if not isinstance(raw, dict) or not raw:
        problems.append((("topics",), "must map each topic to the words people use for it"))
        return {}
    topics: dict[str, list[str]] = {}
    for name, keywords in raw.items():
        place: Place = ("topics", str(name))
        if not isinstance(name, str) or not _ID.fullmatch(name):
            problems.append((place, "a topic must be lowercase letters joined by hyphens"))
            continue
        if mentions_health(name.replace("-", " ")):
            problems.append((place, "mentions a health word; topics are about what people can"))
        if not isinstance(keywords, list) or not keywords:
            problems.append((place, "must list the words people use for this topic"))
            continue
        for position, keyword in enumerate(keywords):
            if not isinstance(keyword, str) or words(keyword) != [keyword]:
                one_word = "must be one lowercase word without accents or hyphens"
                problems.append(((*place, position), f"{keyword!r} {one_word}"))
            elif mentions_health(keyword):
                problems.append(((*place, position), f"{keyword!r} is a health word"))
        topics[name] = [keyword for keyword in keywords if isinstance(keyword, str)]
    return topics


_Item = TypeVar("_Item", Module, Encouragement)


def _check_items(
    data: dict[str, Any],
    section: str,
    model: type[_Item],
    minimum: int,
    problems: list[Problem],
) -> list[tuple[int, _Item]]:
    """The valid items of one list section with their positions; the others become problems."""
    raw = data.get(section)
    if not isinstance(raw, list):
        problems.append(((section,), f"must be a list of at least {minimum} items"))
        return []
    if len(raw) < minimum:
        problems.append(((section,), f"has {len(raw)} items; at least {minimum} are needed"))
    items: list[tuple[int, _Item]] = []
    for index, item in enumerate(raw):
        try:
            items.append((index, model.model_validate(item)))
        except ValidationError as error:
            problems.extend(_pydantic_problems((section, index), error))
    return items


def _check_unique_ids(
    items: Sequence[tuple[int, Module | Encouragement]], problems: list[Problem]
) -> None:
    """Ids are unique over the whole catalogue, so a logged id names exactly one thing."""
    seen: dict[str, Place] = {}
    for index, item in items:
        section = "modules" if isinstance(item, Module) else "encouragements"
        place: Place = (section, index, "id")
        if item.id in seen:
            first = _where(seen[item.id][:2])
            problems.append((place, f"{item.id!r} is already the id of {first}"))
        else:
            seen[item.id] = place


_PYDANTIC_MESSAGES = {
    "missing": "is missing",
    "extra_forbidden": "is not a known field",
    "string_type": "must be text",
    "int_type": "must be a whole number",
    "list_type": "must be a list",
    "model_type": "must be a mapping of fields",
}


def _pydantic_problems(prefix: Place, error: ValidationError) -> Iterator[Problem]:
    """One problem per pydantic error, with its place in the file and a plain message."""
    for detail in error.errors():
        message = _PYDANTIC_MESSAGES.get(detail["type"]) or str(detail["msg"])
        message = message.removeprefix("Value error, ")
        yield (*prefix, *detail["loc"]), message[:1].lower() + message[1:]


def _where(place: Place) -> str:
    """A place as a path: ("modules", 3, "url") -> modules[3].url."""
    text = ""
    for part in place:
        text += f"[{part}]" if isinstance(part, int) else f".{part}" if text else part
    return text or "the file"


def _line(root: yaml.Node | None, place: Place) -> int | None:
    """The line (1-based) of the deepest node of `place` that is in the file."""
    node, line = root, None
    for part in place:
        if isinstance(node, yaml.MappingNode):
            node = next((value for key, value in node.value if key.value == part), None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            node = node.value[part] if part < len(node.value) else None
        else:
            node = None
        if node is None:
            break
        line = node.start_mark.line + 1
    return line


def _describe(path: Path, line: int, place: Place, message: str) -> str:
    """One problem as `file:line: place: message`, the way compilers and linters write them."""
    return f"{path}{f':{line}' if line else ''}: {_where(place)}: {message}"
