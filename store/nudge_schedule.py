"""When a person's next nudge is due: frequency, pause and quiet hours (pure functions).

Times are reasoned about on the Amsterdam wall clock, so a weekly nudge on Monday 10:00 stays
on Monday 10:00 across the changes to and from summer time.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from core.time import AMSTERDAM, DEFAULT_QUIET, QuietHours, amsterdam, shift_out_of_quiet_hours

FREQUENCIES = ("daily", "weekly", "biweekly", "off")
INTERVAL_DAYS = {"daily": 1, "weekly": 7, "biweekly": 14}


def _add_days(moment: datetime, days: int) -> datetime:
    """`days` later on the wall clock (a day across a DST change is 23 or 25 hours)."""
    shifted = amsterdam(moment) + timedelta(days=days)
    # Round trip through UTC so a wall time that does not exist (02:30 in March) is valid.
    return shifted.astimezone(ZoneInfo("UTC")).astimezone(AMSTERDAM)


def next_due(
    *,
    now: datetime,
    frequency: str,
    paused_until: datetime | None,
    last_sent_at: datetime | None,
    quiet: QuietHours | None = DEFAULT_QUIET,
    first_after: timedelta | None = None,
) -> datetime | None:
    """The next moment a nudge is due; None when the person wants none (`off`).

    One interval after the last nudge; the very first one `first_after` after `now` (one
    interval when not given). A due moment that
    is already past moves on by whole intervals, so downtime never causes a burst and the
    person keeps their rhythm. Never before `paused_until`, never in quiet hours.
    """
    if frequency not in FREQUENCIES:
        raise ValueError(f"unknown nudge frequency {frequency!r}; use one of {FREQUENCIES}")
    if frequency == "off":
        return None
    days = INTERVAL_DAYS[frequency]
    if last_sent_at is None and first_after is not None:
        due = amsterdam(now + first_after)
    else:
        due = _add_days(last_sent_at if last_sent_at is not None else now, days)
    while due < now:
        due = _add_days(due, days)
    if paused_until is not None and due < paused_until:
        due = amsterdam(paused_until)
    return shift_out_of_quiet_hours(due, quiet)
