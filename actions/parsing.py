"""Turning answers in everyday words into profile values: hours, travel time, pathways, lists."""

from __future__ import annotations

import re
from collections.abc import Iterable

PATHWAYS = (
    "regular_job",
    "work_experience_place",
    "trial_placement",
    "learn_work_track",
    "temp_work",
    "volunteering",
)

# Everyday words for each pathway, Dutch and English (lowercase, matched inside the answer).
PATHWAY_WORDS: dict[str, tuple[str, ...]] = {
    "regular_job": (
        "gewone baan", "normale baan", "vaste baan", "betaald werk", "betaalde baan",
        "gewoon werk", "regular job", "normal job", "paid job", "paid work", "vast contract",
        "normaal baan", "normaal werk", "echte baan", "gewoon baan",
        "regular work", "normal work", "proper job", "real job", "een baan",
    ),
    "work_experience_place": (
        "werkervaringsplek", "werkervaringsplaats", "werkervaring", "work experience",
        "work-experience", "stage-achtig", "stageplek", "stageplaats",
    ),
    "trial_placement": (
        "proefplaatsing", "proefplaats", "proefperiode", "trial placement", "trial",
    ),
    "learn_work_track": (
        "leerwerktraject", "leerwerkplek", "leren en werken", "werken en leren", "bbl",
        "leerbaan", "learn-work", "learn and work", "learning and working", "apprentice",
    ),
    "temp_work": (
        "uitzendwerk", "uitzendbureau", "uitzendbaan", "tijdelijk werk", "tijdelijke baan",
        "temp work", "temporary", "agency work", "uitzenden",
    ),
    "volunteering": ("vrijwilligerswerk", "vrijwilliger", "volunteer"),
}  # fmt: skip

_SKIP = re.compile(
    r"^(sla\s*(maar\s*)?(deze|dit|die|hem|het)?\s*(vraag\s*)?(maar\s*)?over|overslaan|"
    r"skip( this| it| that)?( one| question)?|"
    r"weet\s*(ik)?\s*(het\s*)?(nog\s*)?niet( zo goed| precies| zeker)?|"
    r"geen\s*(flauw\s*)?idee|ik\s*weet\s*het\s*(nog\s*)?niet( zo goed| precies)?|"
    r"(nog\s*)?niet\s*zeker|i\s*don'?t\s*know( yet)?|dunno|idk|no\s*idea|no\s*clue|"
    r"not\s*sure( yet)?|pass|volgende|next|wss niet|geen\s*mening|maakt\s*me\s*niet\s*uit)"
    r"(\s+(tbh|eigenlijk|nog|hoor|echt|ff|sorry|yet|really|actually|though|haha))*$",
    re.IGNORECASE,
)
_NUMBER = r"(\d{1,3}(?:[.,]\d)?)"
_WORDS_AS_NUMBERS = {
    "een": 1, "één": 1, "twee": 2, "drie": 3, "vier": 4, "vijf": 5, "zes": 6, "acht": 8,
    "tien": 10, "twaalf": 12, "zestien": 16, "twintig": 20, "vierentwintig": 24,
    "dertig": 30, "tweeëndertig": 32, "zesendertig": 36, "veertig": 40,
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "ten": 10, "twenty": 20,
    "thirty": 30, "forty": 40,
}  # fmt: skip
HOURS_PER_DAY = 8
HOURS_PER_PART_OF_DAY = 4  # a morning or an afternoon
MAX_HOURS = 60
# Distances are stored as travel time: about 30 km/h door to door, so 2 minutes per km.
MINUTES_PER_KM = 2
MAX_TRAVEL_MINUTES = 180


def _bare(text: str) -> str:
    """Lowercase words only, without punctuation or emoji: "Geen idee 🙈!" is "geen idee"."""
    return " ".join(re.sub(r"[^\w\s']", " ", (text or "").lower()).split())


def is_skip(text: str) -> bool:
    """Whether the answer means "skip this question" ("sla over", "weet ik nog niet", "idk")."""
    return bool(_SKIP.match(_bare(text)))


def _numbers(text: str) -> list[float]:
    lowered = text.lower()
    for word, value in _WORDS_AS_NUMBERS.items():
        lowered = re.sub(rf"\b{word}\b", str(value), lowered)
    return [float(n.replace(",", ".")) for n in re.findall(_NUMBER, lowered)]


def parse_hours(text: str) -> tuple[float, float] | None:
    """Hours per week as (min, max): "24", "20 à 24", "tussen de 20 en 24 uur", "3 dagen".

    Returns None when no number is found; out-of-range values are returned so the caller can
    explain what is wrong.
    """
    lowered = text.lower()
    if re.search(r"\bfull[- ]?time\b|\bvoltijd\b", lowered):
        return (36.0, 40.0)
    numbers = _numbers(lowered)
    if not numbers:
        return None
    if re.search(r"\bdag(en)?\b|\bdays?\b", lowered) and max(numbers) <= 7:
        numbers = [n * HOURS_PER_DAY for n in numbers]
    elif re.search(r"\b(ochtend|middag|avond)(en)?\b|\b(morning|afternoon|evening)s?\b", lowered):
        numbers = [n * HOURS_PER_PART_OF_DAY for n in numbers if n <= 10]
        if not numbers:
            return None
    low, high = min(numbers[:2]), max(numbers[:2])
    return (low, high)


def hours_valid(hours: tuple[float, float]) -> bool:
    """Whether a range of hours per week can be real."""
    return 1 <= hours[0] <= hours[1] <= MAX_HOURS


def parse_travel_minutes(text: str) -> int | None:
    """Maximum travel time in minutes: "een half uur", "45 min", "anderhalf uur", "max 20 km"."""
    lowered = text.lower().replace("½", " half")
    fixed = {
        r"\banderhalf uur\b|\bone and a half hours?\b|\b1[.,]5 (uur|hours?)\b": 90,
        r"\bdrie kwartier\b|\bthree quarters of an hour\b": 45,
        r"\b(half uur(tje)?|half an hour|halfuur(tje)?)\b": 30,
        r"\bkwartier(tje)?\b|\bquarter of an hour\b": 15,
        r"^\s*(een |1 |an |one )?(uurtje|hour)\s*$": 60,
    }
    for pattern, minutes in fixed.items():
        if re.search(pattern, lowered):
            return minutes
    numbers = _numbers(lowered)
    if re.search(r"\b(een|an|one) (uur|hour)\b", lowered) and not numbers:
        return 60
    if not numbers:
        return None
    value = max(numbers)
    if re.search(r"\bkm\b|kilometer|\bmiles?\b", lowered):
        return round(value * MINUTES_PER_KM)
    if re.search(r"\b(uur|uren|hours?|hr|u)\b", lowered) and not re.search(r"\bmin", lowered):
        return round(value * 60)
    return round(value)


def travel_valid(minutes: int) -> bool:
    """Whether a maximum travel time is plausible."""
    return 5 <= minutes <= MAX_TRAVEL_MINUTES


def parse_pathways(text: str, entity_values: Iterable[str] = ()) -> list[str]:
    """The pathways named in an answer (several allowed), in the order of PATHWAYS."""
    lowered = text.lower()
    found = {value for value in entity_values if value in PATHWAYS}
    if re.search(r"\b(alles|maakt niet uit|all of them|anything|everything)\b", lowered):
        return list(PATHWAYS)
    for pathway, words in PATHWAY_WORDS.items():
        # A word counts from its start ("trial" is not found in "industrial").
        if any(re.search(rf"(?<![\w-]){re.escape(word)}", lowered) for word in words):
            found.add(pathway)
    return [pathway for pathway in PATHWAYS if pathway in found]


def split_items(text: str) -> list[str]:
    """Several answers in one message, split on commas, semicolons and new lines."""
    parts = re.split(r"[,;\n]+|\s+(?:•|-)\s+", text)
    return [" ".join(part.split()) for part in parts if part.strip(" .!-")]


_NONE_WORD = (
    r"(nee|neen|nope|no|nah|niets|niks|none|nothing|geen|niet nodig|not needed|no need|"
    r"nee hoor|nee dank je( wel)?|no thanks|no thank you|niks nodig|niets nodig|"
    r"nothing needed|niet echt|not really|all good|alles goed|gaat goed|is niet nodig|"
    r"hoeft niet|dat hoeft niet|geen idee|nvt|n v t|not applicable|nee hoor niks)"
)
_NONE = re.compile(rf"^{_NONE_WORD}(\s+{_NONE_WORD})*(\s+(hoor|eigenlijk|thanks|thx|bedankt))*$")


def means_none(text: str) -> bool:
    """Whether an answer means "nothing" ("nee", "niets", "no")."""
    return bool(_NONE.match(_bare(text)))


_REGION_PREFIXES = re.compile(
    r"^(ik\s+woon\s+(in|bij|vlakbij)|ik\s+zoek\s+in|(in\s+)?de\s+buurt\s+van|omgeving|"
    r"i\s+live\s+(in|near)|near|around|in)\s+",
    re.IGNORECASE,
)
_POSTCODE = re.compile(r"^([1-9]\d{3})\s?([a-zA-Z]{2})$")
# A place starts with a letter, or with 's- / 't as in 's-Hertogenbosch and 't Zandt.
_PLACE = re.compile(r"^(?:['\u2019][st][\s-])?[^\W\d_][\w\s'\u2019.()/-]*$", re.IGNORECASE)


def clean_free_text(text: str) -> str | None:
    """An answer kept as the person said it, or None when it is empty or only symbols."""
    text = " ".join(text.split())
    if len(text) < 2 or len(text) > 300 or not any(char.isalpha() for char in text):
        return None
    return text


def clean_place(text: str) -> str | None:
    """A place or Dutch postcode ("1234 AB"), or None when the answer is not one."""
    text = text.strip()
    # "ik woon in de buurt van Utrecht": strip one lead-in after another.
    while (shorter := _REGION_PREFIXES.sub("", text, count=1)) != text:
        text = shorter
    text = text.strip(" .!,")
    postcode = _POSTCODE.match(text)
    if postcode:
        return f"{postcode.group(1)} {postcode.group(2).upper()}"
    if not 2 <= len(text) <= 60 or not _PLACE.match(text):
        return None
    return text if text[0] in "'\u2019" else text[:1].upper() + text[1:]
