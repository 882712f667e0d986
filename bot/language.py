"""A quick guess whether a message is Dutch or English, from common short words."""

from __future__ import annotations

import re

_DUTCH = frozenset(
    "ik je jij het een de en van is niet wat hoe ben wil graag hoi hallo dag doei ja nee "
    "mijn met voor op dat dit er maar ook kan kun kunnen wel goed werk zoek bedankt dank "
    "alsjeblieft waar wanneer waarom heb hebt heeft zijn nog al we wij jullie mag moet "
    # Greetings: "Goedemiddag" from a phone set to English is still Dutch.
    "goedemorgen goedemiddag goedenavond goeiemorgen goeiemiddag goeienavond goedendag "
    "hoii hee hallootjes moi moin groetjes dankjewel bedankt".split()
)
_ENGLISH = frozenset(
    "i you the a an and of is not what how am want please hi hello hey bye yes no my with "
    "for on that this there but also can could well good work looking thanks thank where "
    "when why have has are still we our may must would like morning afternoon evening hiya "
    "howdy cheers".split()
)
_WORD = re.compile(r"[a-zà-ÿ']+")


def guess_language(text: str) -> str | None:
    """ "nl" or "en" when the words clearly lean one way, else None."""
    words = _WORD.findall(text.lower())
    dutch = sum(word in _DUTCH for word in words)
    english = sum(word in _ENGLISH for word in words)
    if dutch > english:
        return "nl"
    if english > dutch:
        return "en"
    return None
