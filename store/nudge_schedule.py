"""When a person's next nudge is due: frequency, pause and quiet hours (pure functions).

Times are reasoned about on the Amsterdam wall clock, so a weekly nudge on Monday 10:00 stays
on Monday 10:00 across the changes to and from summer time.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
QUIET_START = time(21, 0)
QUIET_END = time(9, 0)
FREQUENCIES = ("daily", "weekly", "biweekly", "off")
INTERVAL_DAYS = {"daily": 1, "weekly": 7, "biweekly": 14}


def _local(moment: datetime) -> datetime:
    """`moment` on the Amsterdam clock; a naive moment is refused (it could mean anything)."""
    if moment.tzinfo is None:
        raise ValueError("a nudge time must be timezone-aware")
    return moment.astimezone(AMSTERDAM)


def in_quiet_hours(moment: datetime) -> bool:
    """Whether `moment` falls in 21:00-09:00 Amsterdam time (21:00 quiet, 09:00 not)."""
    clock = _local(moment).time()
    return clock >= QUIET_START or clock < QUIET_END


def shift_out_of_quiet_hours(moment: datetime) -> datetime:
    """`moment` itself when allowed, else the next 09:00 Amsterdam time."""
    local = _local(moment)
    if not in_quiet_hours(local):
        return local
    day = local.date() + timedelta(days=1) if local.time() >= QUIET_START else local.date()
    return datetime.combine(day, QUIET_END, tzinfo=AMSTERDAM)


def _add_days(moment: datetime, days: int) -> datetime:
    """`days` later on the wall clock (a day across a DST change is 23 or 25 hours)."""
    shifted = _local(moment) + timedelta(days=days)
    # Round trip through UTC so a wall time that does not exist (02:30 in March) is valid.
    return shifted.astimezone(ZoneInfo("UTC")).astimezone(AMSTERDAM)


def next_due(
    *,
    now: datetime,
    frequency: str,
    paused_until: datetime | None,
    last_sent_at: datetime | None,
) -> datetime | None:
    """The next moment a nudge is due; None when the person wants none (`off`).

    One interval after the last nudge (or after `now` when there was none). A due moment that
    is already past moves on by whole intervals, so downtime never causes a burst and the
    person keeps their rhythm. Never before `paused_until`, never in quiet hours.
    """
    if frequency not in FREQUENCIES:
        raise ValueError(f"unknown nudge frequency {frequency!r}; use one of {FREQUENCIES}")
    if frequency == "off":
        return None
    days = INTERVAL_DAYS[frequency]
    due = _add_days(last_sent_at if last_sent_at is not None else now, days)
    while due < now:
        due = _add_days(due, days)
    if paused_until is not None and due < paused_until:
        due = _local(paused_until)
    return shift_out_of_quiet_hours(due)
