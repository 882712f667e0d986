"""When nudges are due: intervals, pause and quiet hours, across the DST changes."""

from __future__ import annotations

from datetime import datetime, time, timedelta, timezone

import pytest

from core.settings import Settings
from core.time import AMSTERDAM, QuietHours, in_quiet_hours, shift_out_of_quiet_hours
from store.nudge_schedule import next_due


def ams(year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    """An Amsterdam wall-clock moment."""
    return datetime(year, month, day, hour, minute, tzinfo=AMSTERDAM)


@pytest.mark.parametrize(
    ("moment", "quiet"),
    [
        (ams(2026, 1, 5, 8, 59), True),
        (ams(2026, 1, 5, 9, 0), False),
        (ams(2026, 1, 5, 20, 59), False),
        (ams(2026, 1, 5, 21, 0), True),
        (ams(2026, 1, 5, 0, 0), True),
    ],
)
def test_quiet_hours_run_from_nine_in_the_evening_to_nine_in_the_morning(
    moment: datetime, quiet: bool
) -> None:
    assert in_quiet_hours(moment) is quiet


def test_a_moment_in_quiet_hours_moves_to_the_next_nine_oclock() -> None:
    assert shift_out_of_quiet_hours(ams(2026, 1, 5, 21, 0)) == ams(2026, 1, 6, 9)
    assert shift_out_of_quiet_hours(ams(2026, 1, 5, 23, 59)) == ams(2026, 1, 6, 9)
    assert shift_out_of_quiet_hours(ams(2026, 1, 6, 3, 0)) == ams(2026, 1, 6, 9)
    assert shift_out_of_quiet_hours(ams(2026, 1, 6, 9, 0)) == ams(2026, 1, 6, 9)
    assert shift_out_of_quiet_hours(ams(2026, 1, 6, 14, 30)) == ams(2026, 1, 6, 14, 30)


def test_quiet_hours_are_amsterdam_time_whatever_the_input_zone() -> None:
    # 19:30 UTC is 21:30 in Amsterdam in summer (quiet) and 20:30 in winter (allowed).
    summer = datetime(2026, 7, 1, 19, 30, tzinfo=timezone.utc)
    winter = datetime(2026, 1, 7, 19, 30, tzinfo=timezone.utc)
    assert shift_out_of_quiet_hours(summer) == ams(2026, 7, 2, 9)
    assert shift_out_of_quiet_hours(winter) == winter


def test_naive_moments_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        shift_out_of_quiet_hours(datetime(2026, 1, 5, 12))


@pytest.mark.parametrize(
    ("frequency", "expected"),
    [
        ("daily", ams(2026, 1, 6, 10)),
        ("weekly", ams(2026, 1, 12, 10)),
        ("biweekly", ams(2026, 1, 19, 10)),
        ("off", None),
    ],
)
def test_the_interval_follows_the_frequency(frequency: str, expected: datetime | None) -> None:
    now = ams(2026, 1, 5, 10)
    assert next_due(now=now, frequency=frequency, paused_until=None, last_sent_at=None) == expected


def test_an_unknown_frequency_is_an_error() -> None:
    with pytest.raises(ValueError, match="unknown nudge frequency"):
        next_due(now=ams(2026, 1, 5, 10), frequency="hourly", paused_until=None, last_sent_at=None)


def test_the_interval_counts_from_the_last_nudge() -> None:
    due = next_due(
        now=ams(2026, 1, 8, 12),
        frequency="weekly",
        paused_until=None,
        last_sent_at=ams(2026, 1, 5, 10),
    )
    assert due == ams(2026, 1, 12, 10)


def test_a_due_moment_passed_during_downtime_keeps_the_rhythm_without_a_burst() -> None:
    due = next_due(
        now=ams(2026, 1, 27, 12),
        frequency="weekly",
        paused_until=None,
        last_sent_at=ams(2026, 1, 5, 10),
    )
    assert due == ams(2026, 2, 2, 10)


@pytest.mark.parametrize(
    ("last", "frequency", "expected"),
    [
        # Summer time starts on 29 March 2026 and ends on 25 October 2026.
        (ams(2026, 3, 28, 10), "daily", ams(2026, 3, 29, 10)),
        (ams(2026, 3, 23, 10), "weekly", ams(2026, 3, 30, 10)),
        (ams(2026, 10, 24, 10), "daily", ams(2026, 10, 25, 10)),
        (ams(2026, 10, 19, 10), "biweekly", ams(2026, 11, 2, 10)),
    ],
)
def test_the_wall_clock_time_survives_the_dst_changes(
    last: datetime, frequency: str, expected: datetime
) -> None:
    due = next_due(now=last, frequency=frequency, paused_until=None, last_sent_at=last)
    assert due == expected
    assert due is not None and due.astimezone(AMSTERDAM).hour == 10


def test_a_day_across_the_spring_change_is_23_hours() -> None:
    last = ams(2026, 3, 28, 10)
    due = next_due(now=last, frequency="daily", paused_until=None, last_sent_at=last)
    assert due is not None
    # Same-zone subtraction in Python is wall-clock time: compare instants in UTC.
    elapsed = due.astimezone(timezone.utc) - last.astimezone(timezone.utc)
    assert elapsed.total_seconds() == 23 * 3600


def test_nothing_is_due_during_a_pause() -> None:
    due = next_due(
        now=ams(2026, 1, 5, 10),
        frequency="daily",
        paused_until=ams(2026, 2, 1, 0),
        last_sent_at=ams(2026, 1, 4, 10),
    )
    # The pause ends at midnight, in quiet hours: the first nudge comes at nine.
    assert due == ams(2026, 2, 1, 9)


def test_a_pause_that_is_over_changes_nothing() -> None:
    due = next_due(
        now=ams(2026, 1, 5, 10),
        frequency="daily",
        paused_until=ams(2026, 1, 1, 0),
        last_sent_at=ams(2026, 1, 5, 10),
    )
    assert due == ams(2026, 1, 6, 10)


def test_an_evening_nudge_moves_to_the_next_morning() -> None:
    due = next_due(now=ams(2026, 1, 5, 22, 15), frequency="daily", paused_until=None,
                   last_sent_at=None)  # fmt: skip
    assert due == ams(2026, 1, 7, 9)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("21:00-09:00", QuietHours(time(21, 0), time(9, 0))),
        (" 22:30 - 07:15 ", QuietHours(time(22, 30), time(7, 15))),
        ("12:00-13:00", QuietHours(time(12, 0), time(13, 0))),
        ("off", None),
        ("", None),
    ],
)
def test_quiet_hours_are_read_from_their_setting(text: str, expected: QuietHours | None) -> None:
    assert QuietHours.parse(text) == expected


@pytest.mark.parametrize("text", ["21-9", "21:00", "25:00-09:00", "09:00-09:00", "nachts"])
def test_unreadable_quiet_hours_are_refused_with_the_form_to_use(text: str) -> None:
    with pytest.raises(ValueError, match="21:00-09:00"):
        QuietHours.parse(text)
    with pytest.raises(ValueError, match="nudge_quiet_hours"):
        Settings.model_validate({"nudge_quiet_hours": text})


def test_quiet_hours_within_one_day_and_none_at_all() -> None:
    lunch = QuietHours(time(12, 0), time(13, 0))
    assert in_quiet_hours(ams(2026, 1, 5, 12, 30), lunch)
    assert not in_quiet_hours(ams(2026, 1, 5, 22, 0), lunch)
    assert shift_out_of_quiet_hours(ams(2026, 1, 5, 12, 30), lunch) == ams(2026, 1, 5, 13, 0)
    assert not in_quiet_hours(ams(2026, 1, 5, 23, 0), None)
    assert shift_out_of_quiet_hours(ams(2026, 1, 5, 23, 0), None) == ams(2026, 1, 5, 23, 0)


def test_the_first_nudge_comes_after_the_first_wait_then_the_rhythm() -> None:
    now = ams(2026, 1, 5, 10, 0)
    first = next_due(
        now=now,
        frequency="weekly",
        paused_until=None,
        last_sent_at=None,
        first_after=timedelta(days=1),
    )
    assert first == ams(2026, 1, 6, 10, 0)
    # At 20:30 plus one hour is quiet: it waits for nine the next morning.
    late = next_due(
        now=ams(2026, 1, 5, 20, 30),
        frequency="daily",
        paused_until=None,
        last_sent_at=None,
        first_after=timedelta(hours=1),
    )
    assert late == ams(2026, 1, 6, 9, 0)
    after_one = next_due(
        now=now, frequency="weekly", paused_until=None, last_sent_at=now, first_after=timedelta(0)
    )
    assert after_one == ams(2026, 1, 12, 10, 0)
