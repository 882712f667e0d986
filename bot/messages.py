"""The few things the gateway says itself, when Rasa cannot, in Dutch and English."""

from __future__ import annotations

from core.languages import language_of

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
    "deleted": {
        "nl": "Klaar: je profiel, ons gesprek en alles wat bij je hoorde zijn verwijderd. "
        "Als je me weer een bericht stuurt, beginnen we helemaal opnieuw.",
        "en": "Done: your profile, our conversation and everything that belonged to you "
        "have been deleted. If you message me again, we start completely afresh.",
    },
    "delete_failed": {
        "nl": "Sorry, het verwijderen lukt nu niet; er is niets gewist. "
        "Probeer het over een paar minuten nog eens.",
        "en": "Sorry, I can't delete your data right now; nothing was deleted. "
        "Please try again in a few minutes.",
    },
    "export_failed": {
        "nl": "Sorry, ik kan je gegevens nu niet ophalen. Probeer het over een paar minuten "
        "nog eens.",
        "en": "Sorry, I can't fetch your data right now. Please try again in a few minutes.",
    },
    "nudges_stopped": {
        "nl": "Goed, ik stuur je geen berichtjes meer. Wil je ze later weer? Zeg dan "
        "'stuur me weer tips'.",
        "en": "All right, I won't send you these messages any more. Want them again later? "
        "Just say 'send me tips again'.",
    },
    "nudge_done": {
        "nl": "Goed gedaan! Ik heb het genoteerd.",
        "en": "Well done! I've made a note of it.",
    },
    "nudge_not_yours": {
        "nl": "Deze knop hoort niet (meer) bij jou.",
        "en": "This button isn't (or is no longer) yours.",
    },
    "nothing_stored": {
        "nl": "Ik heb geen profiel van je opgeslagen, dus er is niets om te sturen. Ons "
        "gesprek zelf wordt binnen een dag gewist.",
        "en": "I haven't stored a profile for you, so there is nothing to send. Our "
        "conversation itself is deleted within a day.",
    },
}


def text(key: str, language_code: str | None) -> str:
    """One of the gateway's own messages in the person's language."""
    return _TEXTS[key][language_of(language_code)]
