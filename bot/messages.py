"""The few things the gateway says itself, when Rasa cannot, in Dutch and English."""

from __future__ import annotations

_TEXTS = {
    "unavailable": {
        "nl": "Sorry, ik ben even niet bereikbaar. Je bericht is niet verwerkt. "
        "Probeer het over een paar minuten nog eens.",
        "en": "Sorry, I can't be reached right now. Your message was not processed. "
        "Please try again in a few minutes.",
    },
    "text_only": {
        "nl": "Ik kan alleen tekstberichten lezen. Wil je het in een paar woorden typen?",
        "en": "I can only read text messages. Could you type it in a few words?",
    },
}


def language_of(code: str | None) -> str:
    """Our language for a client language code: English for `en*`, otherwise Dutch."""
    return "en" if code and code.lower().startswith("en") else "nl"


def text(key: str, language_code: str | None) -> str:
    """One of the gateway's own messages in the person's language."""
    return _TEXTS[key][language_of(language_code)]
