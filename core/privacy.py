"""Recognising health information, so that it is never written to a profile.

Method: a word list (docs/privacy.md explains it). A text is health information when it holds
one of the whole words below, or one of the stems anywhere ("chemo" in "chemokuur", "kanker" in
"borstkanker"). Job words that contain a general health word ("ziekenverzorgende",
"gehandicaptenzorg") are not caught, because general words count only as whole words. A false
alarm costs one rephrased answer; a miss would store a diagnosis, so the list leans wide.
"""

from __future__ import annotations

import re

# Whole words only: general words that are also part of job words ("ziekenverzorgende",
# "gehandicaptenzorg") count only on their own.
HEALTH_WORDS = frozenset(
    {
        "ziek", "zieke", "ziekte", "ziektes", "ziekten", "sick", "illness", "ill", "disease",
        "diagnose", "diagnosis", "gediagnosticeerd", "diagnosed", "behandeling",
        "behandelingen", "treatment", "chronisch", "chronische", "chronic", "handicap",
        "beperking", "disability", "arbeidsongeschikt", "wia", "wajong", "ms", "cva",
        "hiv", "aids", "copd", "adhd", "ptss", "ptsd", "operatie", "geopereerd", "surgery",
        "doof", "dove", "deaf", "dialyse", "dialysis", "therapie", "therapy",
        "medicijnen", "medicatie", "medication", "revalidatie",
        "rehabilitation", "huisarts", "psycholoog", "psychiater", "psychologist",
        "vermoeidheid", "fatigue",
    }
)  # fmt: skip

# Stems matched anywhere: names of diagnoses and treatments ("borstkanker", "chemokuur").
HEALTH_STEMS = (
    "kanker", "cancer", "tumor", "tumour", "chemo", "bestraling", "radiotherap",
    "leukemie", "leukaemia", "leukemia", "lymfoom", "lymphoma", "uitzaaiing", "metasta",
    "burn-out", "burnout", "burn out", "depressie", "depressief", "depression", "depressed",
    "angststoornis", "anxiety disorder", "paniekaanval", "panic attack", "bipolair",
    "bipolar", "schizofren", "psychose", "psychosis", "autisme", "autistisch", "autism",
    "autistic", "asperger", "eetstoornis", "eating disorder", "verslaving", "addiction",
    "parkinson", "epilep", "migraine", "hersenletsel", "brain injury", "beroerte", "stroke",
    "herseninfarct", "hartinfarct", "heart attack", "hartfalen", "diabet", "suikerziekte",
    "reuma", "rheumat", "artrose", "arthritis", "hernia", "fibromyalg", "long covid",
    "crohn", "colitis", "astma", "asthma", "hepatitis", "multiple sclero", "spierziekte",
    "slechtziend", "slechthorend", "doofheid", "blindheid", "rolstoel", "wheelchair",
    "amputat", "hard of hearing", "hearing aid", "gehoorapparaat", "visually impaired",
    "hearing impaired", "snel moe", "chronic pain", "chronische pijn",
)  # fmt: skip

_WORD = re.compile(r"[\w'-]+", re.UNICODE)


# Abbreviations that are everyday words in lowercase: "NAH" (brain injury), but "nah" (no).
HEALTH_CAPITALS = re.compile(r"\bNAH\b")


def mentions_health(text: str | None) -> bool:
    """Whether `text` contains a health or diagnosis word from the list."""
    if not text:
        return False
    if HEALTH_CAPITALS.search(text):
        return True
    lowered = text.lower()
    if any(word in HEALTH_WORDS for word in _WORD.findall(lowered)):
        return True
    return any(stem in lowered for stem in HEALTH_STEMS)


REDACTED = "[…]"
_PHRASE_STEMS = tuple(stem for stem in HEALTH_STEMS if " " in stem)
_PHRASES = re.compile(
    "|".join(r"[\w'-]*" + re.escape(stem) + r"[\w'-]*" for stem in _PHRASE_STEMS),
    re.IGNORECASE,
)


def _redact_word(match: re.Match[str]) -> str:
    word = match.group(0)
    lowered = word.lower()
    if lowered in HEALTH_WORDS or any(stem in lowered for stem in HEALTH_STEMS):
        return REDACTED
    return word


def redact_health(text: str) -> str:
    """`text` with every health word (and every word holding a health stem) replaced by […]."""
    text = HEALTH_CAPITALS.sub(REDACTED, _PHRASES.sub(REDACTED, text))
    return _WORD.sub(_redact_word, text)
