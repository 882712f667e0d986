"""Nudge choices in words: pauses on the Amsterdam calendar, frequencies and their steps."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest

from actions.nudge_words import (
    Pause,
    day_in_words,
    frequency_from_words,
    last_quiet_day,
    normalise,
    parse_pause,
    stepped,
)
from core.time import AMSTERDAM

# Wednesday 4 March 2026, 10:00 in Amsterdam (winter time, UTC+1).
NOW = datetime(2026, 3, 4, 9, 0, tzinfo=timezone.utc)
TODAY = date(2026, 3, 4)


def last_day(text: str, now: datetime = NOW) -> date | None:
    pause = parse_pause(text, now)
    return None if pause is None else pause.last_day


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # A length: today is the first quiet day.
        ("twee weken", date(2026, 3, 17)),
        ("2 weken", date(2026, 3, 17)),
        ("stuur twee weken niks", date(2026, 3, 17)),
        ("een week", date(2026, 3, 10)),
        ("één week", date(2026, 3, 10)),
        ("pauzeer de berichtjes een weekje", date(2026, 3, 10)),
        ("een maand", date(2026, 4, 3)),
        ("stop even een maandje met de berichten", date(2026, 4, 3)),
        ("een paar dagen", date(2026, 3, 6)),
        ("3 dagen", date(2026, 3, 6)),
        ("een dag", TODAY),
        ("zet de nudges 3 weken stil", date(2026, 3, 24)),
        ("geef me even rust, een week of twee", date(2026, 3, 17)),
        ("de komende week niks graag", date(2026, 3, 10)),
        ("de komende drie weken geen tips", date(2026, 3, 24)),
        ("14 dagen", date(2026, 3, 17)),
        ("een jaar", date(2027, 3, 3)),
        ("for two weeks", date(2026, 3, 17)),
        ("a month", date(2026, 4, 3)),
        ("a week", date(2026, 3, 10)),
        ("pause notifications for a few days", date(2026, 3, 6)),
        ("a couple of days", date(2026, 3, 5)),
        ("take a break from messages for 10 days", date(2026, 3, 13)),
        ("i'm away for three weeks", date(2026, 3, 24)),
        ("a week or two", date(2026, 3, 17)),
        ("a fortnight", date(2026, 3, 17)),
        ("for the next two weeks", date(2026, 3, 17)),
        # A day: up to and including it.
        ("tot maandag", date(2026, 3, 9)),
        ("kun je me tot maandag met rust laten", date(2026, 3, 9)),
        ("tot volgende vrijdag", date(2026, 3, 6)),
        ("tot woensdag", date(2026, 3, 11)),  # today is a Wednesday: the next one
        ("please be quiet until monday", date(2026, 3, 9)),
        ("tot 15 april", date(2026, 4, 15)),
        ("pauzeer alles tot 15 april", date(2026, 4, 15)),
        ("tot 1 maart", date(2027, 3, 1)),  # already past this year
        ("tot 4 maart", TODAY),
        ("tot de 1e maart", date(2027, 3, 1)),
        ("until March 1", date(2027, 3, 1)),
        ("until 1 march", date(2027, 3, 1)),
        ("until the 20th of march", date(2026, 3, 20)),
        ("until april 2nd", date(2026, 4, 2)),
        ("tot 2-4", date(2026, 4, 2)),
        ("tot 2/4", date(2026, 4, 2)),
        ("tot 2.4.2026", date(2026, 4, 2)),
        ("pause the nudges till the 15th", date(2026, 3, 15)),
        ("tot de 2e", date(2026, 4, 2)),  # the 2nd of this month is past: next month's
        ("tot morgen", date(2026, 3, 5)),
        ("tot overmorgen", date(2026, 3, 6)),
        ("vandaag even niet", TODAY),
        # A month or a week to wait for: until it begins.
        ("tot januari", date(2026, 12, 31)),
        ("tot januari geen berichten aub", date(2026, 12, 31)),
        ("ik ga op vakantie, stuur tot augustus niks", date(2026, 7, 31)),
        ("pause the reminders until March", date(2027, 2, 28)),
        ("take a break from the tips until may", date(2026, 4, 30)),
        ("tot begin mei", date(2026, 4, 30)),
        ("tot volgende week", date(2026, 3, 8)),
        ("niet storen tot volgende week", date(2026, 3, 8)),
        ("hold the reminders, i'll be back next week", date(2026, 3, 8)),
        ("tot volgende maand", date(2026, 3, 31)),
        ("hold the messages until next month", date(2026, 3, 31)),
        # ... or to include.
        ("tot en met januari", date(2027, 1, 31)),
        ("pauzeer de nudges tot eind mei, daarna mag het om de week", date(2026, 5, 31)),
        ("until the end of may", date(2026, 5, 31)),
        ("deze week even niet", date(2026, 3, 8)),
        ("give me a break this week", date(2026, 3, 8)),
        ("tot na het weekend", date(2026, 3, 8)),
        ("deze maand geen tips meer", date(2026, 3, 31)),
        ("stuur tot het eind van de maand niks", date(2026, 3, 31)),
    ],
)
def test_a_pause_in_words_ends_on_the_day_it_names(text: str, expected: date) -> None:
    assert last_day(text) == expected


DUTCH_NUMBERS = ("een", "twee", "drie", "vier", "vijf", "zes", "zeven", "acht", "negen", "tien",
                 "elf", "twaalf")  # fmt: skip
ENGLISH_NUMBERS = ("one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
                   "eleven", "twelve")  # fmt: skip


@pytest.mark.parametrize(
    ("words", "count"),
    [
        *((f"pauzeer {word} {'week' if n == 1 else 'weken'}", n)
          for n, word in enumerate(DUTCH_NUMBERS, start=1)),
        *((f"pause for {word} {'week' if n == 1 else 'weeks'}", n)
          for n, word in enumerate(ENGLISH_NUMBERS, start=1)),
    ],
)  # fmt: skip
def test_number_words_one_to_twelve(words: str, count: int) -> None:
    assert last_day(words) == TODAY + timedelta(days=7 * count - 1)


@pytest.mark.parametrize(
    "text",
    [
        "even pauze graag",
        "pauze tot na de zomer",
        "de komende weken even niks",
        "ik ben er even niet",
        "pause the tips for a while",
        "elke twee weken",  # a frequency, not a length
        "once a week",
        "tot 1 maart 2025",  # past
        "tot 31 februari",  # no such day
        "",
    ],
)
def test_words_without_a_period_are_not_a_pause(text: str) -> None:
    assert parse_pause(text, NOW) is None


def test_a_pause_ends_at_midnight_amsterdam_after_its_last_day() -> None:
    pause = parse_pause("een week", NOW)
    assert pause == Pause(date(2026, 3, 10))
    assert pause.until == datetime(2026, 3, 11, tzinfo=AMSTERDAM)
    assert pause.until == datetime(2026, 3, 10, 23, 0, tzinfo=timezone.utc)
    assert last_quiet_day(pause.until) == pause.last_day


@pytest.mark.parametrize(
    ("text", "until_utc"),
    [
        # Summer time starts on Sunday 29 March 2026: midnight moves from 23:00 to 22:00 UTC.
        ("tot 28 maart", datetime(2026, 3, 28, 23, 0, tzinfo=timezone.utc)),
        ("tot 29 maart", datetime(2026, 3, 29, 22, 0, tzinfo=timezone.utc)),
        # ... and ends on Sunday 25 October 2026.
        ("tot 24 oktober", datetime(2026, 10, 24, 22, 0, tzinfo=timezone.utc)),
        ("tot 25 oktober", datetime(2026, 10, 25, 23, 0, tzinfo=timezone.utc)),
    ],
)
def test_the_end_of_a_pause_follows_summer_time(text: str, until_utc: datetime) -> None:
    pause = parse_pause(text, NOW)
    assert pause is not None
    assert pause.until == until_utc
    assert pause.until.astimezone(AMSTERDAM).hour == 0
    assert last_quiet_day(pause.until) == pause.last_day


def test_a_length_across_the_change_to_summer_time_counts_calendar_days() -> None:
    friday = datetime(2026, 3, 27, 15, 0, tzinfo=timezone.utc)
    pause = parse_pause("3 dagen", friday)
    assert pause == Pause(date(2026, 3, 29))
    assert pause.until == datetime(2026, 3, 30, tzinfo=AMSTERDAM)


def test_today_is_the_day_in_amsterdam_not_in_utc() -> None:
    # 23:30 UTC on 31 December is already 1 January in Amsterdam.
    new_year = datetime(2026, 12, 31, 23, 30, tzinfo=timezone.utc)
    assert last_day("een week", new_year) == date(2027, 1, 7)
    assert last_day("vandaag even niet", new_year) == date(2027, 1, 1)
    assert last_day("tot januari", new_year) == date(2027, 12, 31)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("tot 15 januari", date(2027, 1, 15)),
        ("tot januari", date(2026, 12, 31)),
        ("tot volgende maand", date(2026, 12, 31)),
        ("twee weken", date(2027, 1, 2)),
        ("een maand", date(2027, 1, 19)),
        ("tot 1 maart", date(2027, 3, 1)),
        ("tot maandag", date(2026, 12, 21)),
        ("tot en met februari", date(2027, 2, 28)),
        ("tot 10 december", date(2027, 12, 10)),  # past: next year, exactly within a year
    ],
)
def test_across_the_end_of_the_year(text: str, expected: date) -> None:
    december = datetime(2026, 12, 20, 12, 0, tzinfo=timezone.utc)  # a Sunday
    assert last_day(text, december) == expected


@pytest.mark.parametrize("text", ["60 weken", "twee jaar", "tot 1 maart 2028", "for 18 months"])
def test_a_pause_is_never_longer_than_a_year(text: str) -> None:
    pause = parse_pause(text, NOW)
    assert pause == Pause(date(2027, 3, 4), capped=True)


def test_a_pause_of_exactly_a_year_is_not_cut() -> None:
    assert parse_pause("twaalf maanden", NOW) == Pause(date(2027, 3, 3))
    assert parse_pause("tot 4 maart 2027", NOW) == Pause(date(2027, 3, 4))


def test_the_moment_must_know_its_time_zone() -> None:
    with pytest.raises(ValueError, match="timezone"):
        parse_pause("een week", datetime(2026, 3, 4, 10, 0))


@pytest.mark.parametrize(
    ("text", "frequency"),
    [
        ("stuur me elke week iets", "weekly"),
        ("liever dagelijks", "daily"),
        ("om de week is genoeg", "biweekly"),
        ("send me something every day", "daily"),
        ("elke dag", "daily"),
        ("iedere ochtend een tip", "daily"),
        ("een keer per dag is fijn", "daily"),
        ("once a day is fine", "daily"),
        ("everyday", "daily"),
        ("wekelijks", "weekly"),
        ("1x per week is genoeg", "weekly"),
        ("één keer per week", "weekly"),
        ("elke vrijdag een tip", "weekly"),
        ("every monday please", "weekly"),
        ("once a week", "weekly"),
        ("weekly", "weekly"),
        ("om de twee weken", "biweekly"),
        ("elke 2 weken een tip", "biweekly"),
        ("tweewekelijks", "biweekly"),
        ("2x per maand", "biweekly"),
        ("twee keer per maand", "biweekly"),
        ("every other week", "biweekly"),
        ("every two weeks", "biweekly"),
        ("once every two weeks", "biweekly"),
        ("twice a month", "biweekly"),
        ("biweekly", "biweekly"),
        ("bi-weekly", "biweekly"),
        ("fortnightly", "biweekly"),
        ("minder vaak", "less"),
        ("het is te veel, minder berichtjes aub", "less"),
        ("niet zo vaak", "less"),
        ("less often please", "less"),
        ("fewer tips", "less"),
        ("not so often", "less"),
        ("vaker", "more"),
        ("ik wil meer tips", "more"),
        ("more often please", "more"),
        ("send me more reminders", "more"),
        ("minder vaak, elke week is genoeg", "weekly"),  # a named frequency wins over a step
    ],
)
def test_a_frequency_in_words(text: str, frequency: str) -> None:
    assert frequency_from_words(text) == frequency


@pytest.mark.parametrize(
    "text", ["stuur me weer tips", "geen tips meer", "no more tips", "ja", "/affirm", ""]
)
def test_words_without_a_frequency(text: str) -> None:
    assert frequency_from_words(text) is None


@pytest.mark.parametrize(
    ("current", "step", "expected"),
    [
        ("daily", "less", "weekly"),
        ("weekly", "less", "biweekly"),
        ("biweekly", "less", "biweekly"),
        ("biweekly", "more", "weekly"),
        ("weekly", "more", "daily"),
        ("daily", "more", "daily"),
        ("off", "less", "biweekly"),  # off counts as weekly, the default
        ("off", "more", "daily"),
        (None, "less", "biweekly"),
    ],
)
def test_one_step_less_or_more_often(current: str | None, step: str, expected: str) -> None:
    assert stepped(current, step) == expected


def test_a_day_in_words() -> None:
    assert day_in_words(date(2026, 3, 1), "nl", TODAY) == "zondag 1 maart"
    assert day_in_words(date(2026, 3, 1), "en", TODAY) == "Sunday 1 March"
    assert day_in_words(date(2027, 1, 15), "nl", TODAY) == "vrijdag 15 januari 2027"
    assert day_in_words(date(2027, 1, 15), "en", TODAY) == "Friday 15 January 2027"


def test_normalise_keeps_dates_and_drops_accents_and_punctuation() -> None:
    assert normalise("Tot 1.3, graag!") == "tot 1-3 graag"
    assert normalise("Eén WEEK…") == "een week"
