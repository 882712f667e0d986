"""The one way to tell which of the bot's languages a code or a reader means."""

from __future__ import annotations

import pytest

from core.languages import language_from_code, language_of, reader_language


@pytest.mark.parametrize(
    ("code", "ours", "shown"),
    [
        ("nl", "nl", "nl"),
        ("en-GB", "en", "en"),
        ("EN_us", "en", "en"),
        ("nl_BE", "nl", "nl"),
        ("de", None, "nl"),
        ("", None, "nl"),
        (None, None, "nl"),
    ],
)
def test_a_code_is_ours_or_dutch(code: str | None, ours: str | None, shown: str) -> None:
    assert language_from_code(code) == ours
    assert language_of(code) == shown


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
