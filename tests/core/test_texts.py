"""The text catalogue (core/texts/): the shipped files pass their check, each rule fails with
its place, texts render in both languages, and every key the code names exists."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest

from bot.cli import main
from core.paths import ROOT
from core.texts import check_texts, keys, load_texts, phrase, phrases

SOURCES = [
    path
    for folder in ("core", "bot", "store", "actions")
    for path in (ROOT / folder).rglob("*")
    if path.suffix in (".py", ".html") and "migrations" not in path.parts
]
# Whole keys in quotes ("person.gateway.unavailable"), and sections named by phrase(f"a.b.{x}"),
# phrases("a.b"), keys("a.b") and, in templates, phrase("a.b." ~ x).
_LITERAL = re.compile(r"""["']((?:person|recruiter)\.[a-z0-9_]+\.[a-z0-9_]+)["']""")
_PREFIX = re.compile(
    r"""phrase\(\s*f?["']([a-z0-9_.]+\.)(?:\{|["']\s*~)|(?:phrases|keys)\(\s*["']([a-z0-9_.]+)["']"""
)


def write(folder: Path, text: str, name: str = "person.yml") -> Path:
    folder.mkdir(exist_ok=True)
    (folder / name).write_text(textwrap.dedent(text), encoding="utf-8")
    return folder


def test_the_shipped_catalogue_passes_its_check() -> None:
    catalogue, problems = load_texts()
    assert problems == []
    assert {key.split(".", 1)[0] for key in catalogue} == {"person", "recruiter"}
    assert len(catalogue) > 80


def test_every_key_the_code_names_exists_and_every_text_is_used() -> None:
    catalogue = load_texts()[0]
    literals: set[str] = set()
    prefixes: set[str] = set()
    for path in SOURCES:
        source = path.read_text(encoding="utf-8")
        literals |= set(_LITERAL.findall(source))
        for dotted, section in _PREFIX.findall(source):
            prefixes.add(dotted or section + ".")
    assert literals and prefixes
    assert sorted(literals - catalogue.keys()) == []
    assert sorted(p for p in prefixes if not any(k.startswith(p) for k in catalogue)) == []
    unused = [
        key
        for key in catalogue
        if key not in literals and not any(key.startswith(p) for p in prefixes)
    ]
    assert unused == []


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        ('nl: "Hoi"', "person.yml:2: person.gateway.hello: en: missing or empty"),
        ('nl: "Hoi"\n    en: "Hi {name}"', "en: {name} is not declared in fields"),
        (
            'fields: [name]\n    nl: "Hoi {name}"\n    en: "Hi"',
            "person.gateway.hello: en: does not use the field {name}",
        ),
        ('nl: "Hoi"\n    en: "Hi"\n    de: "Hallo"', "unknown key 'de'"),
        ('nl: "Na je chemo"\n    en: "After the course"', "nl: mentions a health word"),
        ('nl: "Hoi {"\n    en: "Hi"', "nl: Single '{' encountered in format string"),
        ('fields: name\n    nl: "Hoi"\n    en: "Hi"', "fields must be a list of names"),
    ],
)
def test_each_rule_fails_with_its_place(tmp_path: Path, entry: str, expected: str) -> None:
    folder = write(tmp_path / "texts", f"gateway:\n  hello:\n    {entry}\n")
    problems = check_texts(folder)
    assert len(problems) == 1
    assert problems[0].startswith("person.yml:") and problems[0].endswith(expected)


def test_a_bad_name_and_a_section_that_holds_no_texts(tmp_path: Path) -> None:
    folder = write(tmp_path / "texts", "Gateway:\n  hello: hoi\nnudge: [1, 2]\n")
    assert check_texts(folder) == [
        "person.yml:1: person.Gateway: a name is lowercase letters, digits and _",
        "person.yml:3: person.nudge: must map names to texts or sections",
    ]


def test_an_empty_folder_and_a_file_that_is_not_yaml(tmp_path: Path) -> None:
    assert check_texts(tmp_path) == [f"{tmp_path}: no *.yml files"]
    folder = write(tmp_path / "texts", "gateway: [unclosed\n")
    (problem,) = check_texts(folder)
    assert problem.startswith("person.yml: cannot be read:")


def test_a_text_renders_in_the_language_of_any_code() -> None:
    values = {"recruiter": "Anna", "organisation": "Werkbureau"}
    dutch = phrase("person.handover.accept", "nl", **values)
    assert dutch == phrase("person.handover.accept", "nl-NL", **values)
    assert dutch == phrase("person.handover.accept", None, **values)
    assert dutch.startswith("Anna van Werkbureau")
    english = phrase("person.handover.accept", "en-GB", **values, unused="ignored")
    assert english.startswith("Anna from Werkbureau")
    with pytest.raises(KeyError, match="missing fields: organisation"):
        phrase("person.handover.accept", "nl", recruiter="Anna")
    with pytest.raises(KeyError):
        phrase("person.handover.no_such_text", "nl")


def test_a_section_by_name() -> None:
    assert phrases("recruiter.status", "en")["placed"] == "placed"
    assert phrases("recruiter.status", "nl")["placed"] == "geplaatst"
    assert keys("recruiter.refused") == ["not_yours", "closed", "not_now"]


def test_the_check_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["texts", "check"]) == 0
    assert "Texts OK:" in capsys.readouterr().out
    folder = write(tmp_path / "texts", 'gateway:\n  hello:\n    nl: "Hoi"\n')
    assert main(["texts", "check", "--dir", str(folder)]) == 2
    err = capsys.readouterr().err
    assert "person.yml:2: person.gateway.hello: en: missing or empty" in err
    assert f"1 problem(s) in {folder}." in err
