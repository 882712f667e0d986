"""The two languages the bot speaks, and the one way to tell which a language code means."""

from __future__ import annotations

LANGUAGES = ("nl", "en")
DEFAULT_LANGUAGE = "nl"


def language_from_code(code: object) -> str | None:
    """One of ours for a client language code such as `en-GB` or `nl_NL`; None when unknown."""
    if not isinstance(code, str) or not code:
        return None
    short = code.strip().lower().replace("_", "-").split("-")[0]
    return short if short in LANGUAGES else None


def language_of(code: str | None) -> str:
    """Our language for any code or stored language: English for `en*`, otherwise Dutch."""
    return "en" if code and code.strip().lower().startswith("en") else DEFAULT_LANGUAGE


def reader_language(languages: list[str] | None) -> str:
    """The language to write in for someone who reads `languages` (a recruiter): Dutch when
    they read it, else the first of ours they read, else Dutch."""
    ours = [language for language in languages or () if language_from_code(language)]
    if not ours or any(language_of(language) == DEFAULT_LANGUAGE for language in ours):
        return DEFAULT_LANGUAGE
    return language_of(ours[0])
