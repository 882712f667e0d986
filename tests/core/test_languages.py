"""The one way to tell which of the bot's languages a code or a reader means."""

from __future__ import annotations

import pytest

from core.languages import language_from_code, language_of, reader_language

# A client's language code: ours or None, and the language the bot then writes in.
CODES: dict[object, tuple[str | None, str]] = {
    "en-GB": ("en", "en"), "en_US": ("en", "en"), "EN": ("en", "en"), " nl ": ("nl", "nl"),
    "nl-BE": ("nl", "nl"), "de": (None, "nl"), "english": (None, "en"), "": (None, "nl"),
    None: (None, "nl"), 42: (None, "nl"),
}  # fmt: skip


@pytest.mark.parametrize(("code", "expected"), CODES.items())
def test_a_code_is_ours_or_dutch(code: object, expected: tuple[str | None, str]) -> None:
    ours, written = expected
    assert language_from_code(code) == ours
    assert language_of(code if isinstance(code, str) else None) == written


@pytest.mark.parametrize(
    ("languages", "expected"),
    [
        (None, "nl"),
        ([], "nl"),
        (["nl"], "nl"),
        (["en"], "en"),
        (["en", "nl"], "nl"),
        (["de", "en"], "en"),
        (["de"], "nl"),
    ],
)
def test_a_reader_gets_dutch_when_they_read_it_else_english(
    languages: list[str] | None, expected: str
) -> None:
    assert reader_language(languages) == expected
