"""Nudge choices in everyday words: how often, and how long a pause lasts (pure functions).

A pause is read on the Amsterdam calendar, relative to `now`. It is kept as its last quiet
day, `last_day`, which is what the person hears ("Ik stuur je tot en met 1 maart niets"), and
ends at midnight Amsterdam time at the start of the next day (`Pause.until`, stored as
NudgeSettings.paused_until). How the words are read:

- a length ("twee weken", "3 dagen", "een paar dagen", "a month", "for two weeks"): today is
  the first day, so "een week" said on a Monday is quiet up to and including Sunday;
- a day ("tot maandag", "tot 1 maart", "until March 1", "tot de 15e", "tot morgen"): up to and
  including that day. A date already past this year means next year;
- a month or a week to wait for ("tot januari", "until March", "tot volgende week", "tot
  volgende maand"): until it begins. "tot en met januari" and "tot eind mei" include it;
- "deze week" / "this week" up to and including Sunday, "deze maand" to the month's last day;
- never longer than a year: a longer period ends a year from today (`capped`).

"een paar" and "a few" count as 3, "a couple of" as 2; numbers are digits or the words
een..twaalf / one..twelve. Anything else is not understood (None): the bot then asks.
"""

from __future__ import annotations

import calendar
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from core.time import AMSTERDAM

FREQUENCY_STEPS = ("biweekly", "weekly", "daily")  # from least to most often
RELATIVE = ("less", "more")

_NUMBERS = {
    "een": 1, "one": 1, "a": 1, "an": 1, "twee": 2, "two": 2, "drie": 3, "three": 3,
    "vier": 4, "four": 4, "vijf": 5, "five": 5, "zes": 6, "six": 6, "zeven": 7, "seven": 7,
    "acht": 8, "eight": 8, "negen": 9, "nine": 9, "tien": 10, "ten": 10, "elf": 11,
    "eleven": 11, "twaalf": 12, "twelve": 12,
    "een paar": 3, "paar": 3, "a few": 3, "few": 3, "enkele": 3, "a couple of": 2,
    "a couple": 2, "couple of": 2,
}  # fmt: skip
_MONTHS = {
    "januari": 1, "january": 1, "jan": 1, "februari": 2, "february": 2, "feb": 2,
    "maart": 3, "march": 3, "mrt": 3, "mar": 3, "april": 4, "apr": 4, "mei": 5, "may": 5,
    "juni": 6, "june": 6, "jun": 6, "juli": 7, "july": 7, "jul": 7, "augustus": 8,
    "august": 8, "aug": 8, "september": 9, "sept": 9, "sep": 9, "oktober": 10,
    "october": 10, "okt": 10, "oct": 10, "november": 11, "nov": 11, "december": 12, "dec": 12,
}  # fmt: skip
_WEEKDAYS = {
    "maandag": 0, "monday": 0, "dinsdag": 1, "tuesday": 1, "woensdag": 2, "wednesday": 2,
    "donderdag": 3, "thursday": 3, "vrijdag": 4, "friday": 4, "zaterdag": 5, "saturday": 5,
    "zondag": 6, "sunday": 6,
}  # fmt: skip
_UNIT_DAYS = {"dag": 1, "day": 1, "week": 7, "weken": 7, "fortnight": 14}


def _alternatives(words: Iterable[str]) -> str:
    # Longest first, so that "a couple of" is tried before "a".
    return "|".join(sorted(map(re.escape, words), key=len, reverse=True))


_N = rf"(?P<n>\d{{1,3}}|{_alternatives(_NUMBERS)})"
_UNIT = (
    r"(?P<unit>dag(?:en|je|jes)?|days?|weken|week(?:je|jes|s)?|fortnights?|"
    r"maand(?:en|je|jes)?|months?|jaar|jaartje|years?)"
)
_ANY_MONTH = rf"(?P<month>{_alternatives(_MONTHS)})"
# Month names alone, without a day: not the short forms ("jan" is also a first name).
_FULL_NAMES = (month for month in _MONTHS if len(month) > 3 or month in ("mei", "may"))
_FULL_MONTH = rf"(?P<month>{_alternatives(_FULL_NAMES)})"
_WEEKDAY = rf"(?P<weekday>{_alternatives(_WEEKDAYS)})"
_ORDINAL = r"(?:ste|de|e|st|nd|rd|th)"
_UNTIL = r"(?:tot en met|tot|t/m|tm|until|till|til|through|thru|up to)"
_INCLUSIVE = r"(?:tot en met|t/m|tm|through|thru|tot na|until after|till after)"
# A length that is really a frequency ("elke twee weken", "once a week") is no pause.
_NOT_A_FREQUENCY = r"(?<!elke )(?<!iedere )(?<!om de )(?<!every )(?<!each )(?<!once )(?<!per )"


def _rx(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


_YEAR = r"(?:\s+(?P<year>\d{4}))?"
_DAY_MONTH = _rx(rf"\b(?P<day>\d{{1,2}}){_ORDINAL}?\s+(?:of\s+)?{_ANY_MONTH}\b{_YEAR}")
_MONTH_DAY = _rx(rf"\b{_ANY_MONTH}\s+(?:the\s+)?(?P<day>\d{{1,2}}){_ORDINAL}?\b{_YEAR}")
_NUMERIC = _rx(
    rf"\b{_UNTIL}\s+(?P<day>\d{{1,2}})[-/](?P<m>\d{{1,2}})(?:[-/](?P<year>\d{{4}}|\d{{2}}))?\b"
)
_DAY_OF_MONTH = _rx(rf"\b{_UNTIL}\s+(?:de\s+|the\s+)?(?P<day>\d{{1,2}}){_ORDINAL}\b")
_MONTH_END = _rx(
    rf"\b(?:eind|einde|end of|the end of|{_INCLUSIVE})\s+(?:van\s+|de maand\s+)?{_FULL_MONTH}\b"
)
_MONTH_START = _rx(
    rf"\b(?:{_UNTIL}|begin|start of)\s+(?:begin\s+|the start of\s+)?{_FULL_MONTH}\b"
)
_THIS_MONTH_END = _rx(
    r"\b(?:eind(?:e)? (?:van )?(?:deze|de) maand|end of (?:this|the) month|"
    r"(?:deze|volgende) maand|(?:this|next) month)\b"
)
_NAMED_DAY = _rx(
    rf"\b{_UNTIL}\s+(?:volgende |komende |aanstaande |next |this |coming )?{_WEEKDAY}\b"
)
_TOMORROW = _rx(r"\b(?P<word>overmorgen|the day after tomorrow|morgen|tomorrow)\b")
_TODAY = _rx(r"\b(?:vandaag|today)\b")
_COMING = _rx(rf"\b(?:(?:de|the) (?:komende|next|coming)|komende|coming)\s+(?:{_N}\s+)?{_UNIT}\b")
_THIS_WEEK = _rx(
    r"\b(?:deze week|this week|(?:volgende|next) week|(?:dit|het|this|the) weekend)\b"
)
_UNIT_OF_N = _rx(rf"\b(?:een\s+|a\s+)?{_UNIT}\s+o[fr]\s+{_N}\b")
_LENGTH = _rx(rf"{_NOT_A_FREQUENCY}\b{_N}\s*{_UNIT}\b")


@dataclass(frozen=True)
class Pause:
    """A pause: the last day without nudges, and whether it was cut to the longest allowed."""

    last_day: date
    capped: bool = False

    @property
    def until(self) -> datetime:
        """When nudges may come again: midnight (Amsterdam) at the start of the next day."""
        return datetime.combine(self.last_day + timedelta(days=1), time(0), tzinfo=AMSTERDAM)


def last_quiet_day(until: datetime) -> date:
    """The last day without nudges of a pause that ends at `until` (Amsterdam calendar)."""
    return (until.astimezone(AMSTERDAM) - timedelta(microseconds=1)).date()


def normalise(text: str) -> str:
    """Lowercase words without accents or punctuation ("één," → "een"); `/`, `-` and `.` are
    kept between digits for dates."""
    text = unicodedata.normalize("NFKD", text.lower())
    text = "".join(char for char in text if not unicodedata.combining(char))
    text = re.sub(r"(?<=\d)[.](?=\d)", "-", text)
    text = re.sub(r"[^\w/\-]+", " ", text)
    return " ".join(text.split())


def add_months(day: date, months: int) -> date:
    """The same day `months` later, or that month's last day when it is shorter."""
    year, month = divmod(day.month - 1 + months, 12)
    year += day.year
    month += 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _month_last_day(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def _number(word: str | None) -> int | None:
    if word is None:
        return None
    return int(word) if word.isdigit() else _NUMBERS.get(word)


def _length_end(today: date, count: int, unit: str) -> date | None:
    """The last day of a pause of `count` units starting today (today is its first day)."""
    if count < 1:
        return None
    if unit.startswith(("maand", "month")):
        return add_months(today, count) - timedelta(days=1)
    if unit.startswith(("jaar", "year")):
        return add_months(today, 12 * count) - timedelta(days=1)
    days = next(size for prefix, size in _UNIT_DAYS.items() if unit.startswith(prefix))
    return today + timedelta(days=days * count - 1)


def _next_date(today: date, month: int, day: int, year: str | None) -> date | None:
    """The date `day month`: this year, or next year when already past; None when invalid."""
    if year is not None:
        full = int(year) + (2000 if len(year) == 2 else 0)
        candidates = [full]
    else:
        candidates = [today.year, today.year + 1]
    for candidate in candidates:
        try:
            found = date(candidate, month, day)
        except ValueError:
            continue
        if found >= today:
            return found
    return None


def _next_month_start(today: date, month: int) -> date:
    """The next 1st of `month` after today."""
    start = date(today.year, month, 1)
    return start if start > today else date(today.year + 1, month, 1)


def _last_day(text: str, today: date) -> date | None:
    """The last quiet day the words name, before any cap; None when they name none."""
    if found := _DAY_MONTH.search(text) or _MONTH_DAY.search(text):
        return _next_date(today, _MONTHS[found["month"]], int(found["day"]), found["year"])
    if found := _NUMERIC.search(text):
        return _next_date(today, int(found["m"]), int(found["day"]), found["year"])
    if found := _DAY_OF_MONTH.search(text):
        day = int(found["day"])
        for month_start in (today.replace(day=1), add_months(today.replace(day=1), 1)):
            if day <= calendar.monthrange(month_start.year, month_start.month)[1]:
                candidate = month_start.replace(day=day)
                if candidate >= today:
                    return candidate
        return None
    if found := _MONTH_END.search(text):
        month = _MONTHS[found["month"]]
        end = _month_last_day(today.year, month)
        return end if end >= today else _month_last_day(today.year + 1, month)
    if found := _MONTH_START.search(text):
        return _next_month_start(today, _MONTHS[found["month"]]) - timedelta(days=1)
    if found := _COMING.search(text):
        plural = found["unit"].endswith(("en", "s"))
        count = _number(found["n"]) or (None if plural else 1)
        return _length_end(today, count, found["unit"]) if count else None
    if _THIS_MONTH_END.search(text):
        return _month_last_day(today.year, today.month)
    if found := _NAMED_DAY.search(text):
        ahead = (_WEEKDAYS[found["weekday"]] - today.weekday() - 1) % 7 + 1
        return today + timedelta(days=ahead)
    if found := _TOMORROW.search(text):
        later = "over" in found["word"] or "after" in found["word"]
        return today + timedelta(days=2 if later else 1)
    if _THIS_WEEK.search(text):
        return today + timedelta(days=6 - today.weekday())
    if found := _UNIT_OF_N.search(text) or _LENGTH.search(text):
        count = _number(found["n"])
        return _length_end(today, count, found["unit"]) if count else None
    if _TODAY.search(text):
        return today
    return None


def parse_pause(text: str, now: datetime) -> Pause | None:
    """The pause the words name, relative to `now` (timezone-aware); None when they name none."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    today = now.astimezone(AMSTERDAM).date()
    last_day = _last_day(normalise(text), today)
    if last_day is None:
        return None
    longest = add_months(today, 12)
    if last_day > longest:
        return Pause(longest, capped=True)
    return Pause(last_day)


_WEEKDAY_WORDS = _alternatives(_WEEKDAYS)
_FREQUENCY_WORDS: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "biweekly",
        _rx(
            r"\bom de (?:twee |2 )?(?:week|weken)\b|\b(?:elke|iedere) (?:twee|2) weken\b|"
            r"\b(?:twee|2) ?-?wekelijks\b|\b(?:twee|2) ?(?:keer|x|maal) (?:per|in de|a) maand\b|"
            r"\b(?:every|once every) (?:other|second|two|2) weeks?\b|\bbi-?weekly\b|"
            r"\bfortnight(?:ly)?\b|\b(?:twice|two times|2 times|2x) (?:a|per) month\b"
        ),
    ),
    (
        "daily",
        _rx(
            r"\b(?:elke|iedere) (?:dag|ochtend|morgen|middag|avond|werkdag)\b|\bdagelijks\b|"
            r"\b(?:1|een) ?(?:keer|x|maal) (?:per|in de|op een) dag\b|"
            r"\b(?:every|each) ?(?:day|morning|afternoon|evening|weekday)\b|\bdaily\b|"
            r"\b(?:once|one time|1x) (?:a|per) day\b"
        ),
    ),
    (
        "weekly",
        _rx(
            rf"\b(?:elke|iedere|every|each) (?:week|{_WEEKDAY_WORDS})\b|\bwekelijks\b|\bweekly\b|"
            r"\b(?:1|een) ?(?:keer|x|maal) (?:per|in de) week\b|"
            r"\b(?:once|one time|1x) (?:a|per) week\b"
        ),
    ),
    (
        "less",
        _rx(
            r"\bminder\b|\bniet (?:zo|te|zo ?veel) (?:vaak|veel)\b|\bless\b|\bfewer\b|"
            r"\bnot (?:so|as|that|too) (?:often|many|much)\b"
        ),
    ),
    (
        "more",
        _rx(
            r"\bvaker\b|(?<!geen )\bmeer (?:tips|berichtjes|berichten|herinneringen|nudges)\b|"
            r"\bmore (?:often|frequently)\b|"
            r"(?<!no )(?<!any )\bmore (?:tips|messages|reminders|nudges|notifications)\b"
        ),
    ),
)


def frequency_from_words(text: str) -> str | None:
    """daily, weekly or biweekly; less or more (one step); None when the words name none."""
    words = normalise(text)
    for frequency, pattern in _FREQUENCY_WORDS:
        if pattern.search(words):
            return frequency
    return None


def stepped(current: str | None, step: str) -> str:
    """`current` one step less or more often (`less`/`more`); off or unknown counts as weekly.

    The steps stop at the ends: less often than biweekly stays biweekly, more than daily daily.
    """
    base = current if current in FREQUENCY_STEPS else "weekly"
    index = FREQUENCY_STEPS.index(base) + (1 if step == "more" else -1)
    return FREQUENCY_STEPS[max(0, min(index, len(FREQUENCY_STEPS) - 1))]


_DAY_NAMES = {
    "nl": ("maandag", "dinsdag", "woensdag", "donderdag", "vrijdag", "zaterdag", "zondag"),
    "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
}
_MONTH_NAMES = {
    "nl": (
        "januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus",
        "september", "oktober", "november", "december",
    ),
    "en": (
        "January", "February", "March", "April", "May", "June", "July", "August",
        "September", "October", "November", "December",
    ),
}  # fmt: skip
FREQUENCY_NAMES = {
    "nl": {"daily": "elke dag", "weekly": "elke week", "biweekly": "om de week"},
    "en": {"daily": "every day", "weekly": "every week", "biweekly": "every other week"},
}


def day_in_words(day: date, language: str, today: date) -> str:
    """The day as people say it, "zondag 1 maart" / "Sunday 1 March", with a year not this one."""
    weekday, month = _DAY_NAMES[language][day.weekday()], _MONTH_NAMES[language][day.month - 1]
    words = f"{weekday} {day.day} {month}"
    return words if day.year == today.year else f"{words} {day.year}"
