"""When a person's next nudge is due: frequency, pause and quiet hours (pure functions).

Times are reasoned about on the Amsterdam wall clock, so a weekly nudge on Monday 10:00 stays
on Monday 10:00 across the changes to and from summer time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
FREQUENCIES = ("daily", "weekly", "biweekly", "off")
INTERVAL_DAYS = {"daily": 1, "weekly": 7, "biweekly": 14}


def _local(moment: datetime) -> datetime:
    """`moment` on the Amsterdam clock; a naive moment is refused (it could mean anything)."""
    if moment.tzinfo is None:
        raise ValueError("a nudge time must be timezone-aware")
    return moment.astimezone(AMSTERDAM)


@dataclass(frozen=True)
class QuietHours:
    """Hours on the Amsterdam clock in which no nudge goes out: from `start` until `end`,
    across midnight when `end` comes before `start`."""

    start: time
    end: time

    @classmethod
    def parse(cls, text: str) -> QuietHours | None:
        """`21:00-09:00`; `off` (or nothing) for none. ValueError for anything else."""
        cleaned = text.strip().lower()
        if cleaned in ("", "off", "none", "geen"):
            return None
        start, sep, end = cleaned.partition("-")
        try:
            if not sep:
                raise ValueError("no '-'")
            first, last = time.fromisoformat(start.strip()), time.fromisoformat(end.strip())
        except ValueError:
            raise ValueError(f"quiet hours look like 21:00-09:00 or off, not {text!r}") from None
        if first == last:
            raise ValueError(
                f"quiet hours look like 21:00-09:00 or off; {text!r} starts and ends at once"
            )
        return cls(first, last)

    def __str__(self) -> str:
        return f"{self.start:%H:%M}-{self.end:%H:%M}"


DEFAULT_QUIET = QuietHours(time(21, 0), time(9, 0))


def in_quiet_hours(moment: datetime, quiet: QuietHours | None = DEFAULT_QUIET) -> bool:
    """Whether `moment` falls in the quiet hours on the Amsterdam clock (start quiet, end not)."""
    if quiet is None:
        return False
    clock = _local(moment).time()
    if quiet.start < quiet.end:
        return quiet.start <= clock < quiet.end
    return clock >= quiet.start or clock < quiet.end


def shift_out_of_quiet_hours(
    moment: datetime, quiet: QuietHours | None = DEFAULT_QUIET
) -> datetime:
    """`moment` itself when allowed, else the end of the quiet hours it falls in."""
    local = _local(moment)
    if quiet is None or not in_quiet_hours(local, quiet):
        return local
    crosses_midnight = quiet.start > quiet.end
    day = local.date()
    if crosses_midnight and local.time() >= quiet.start:
        day += timedelta(days=1)
    return datetime.combine(day, quiet.end, tzinfo=AMSTERDAM)


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
        due = _local(now + first_after)
    else:
        due = _add_days(last_sent_at if last_sent_at is not None else now, days)
    while due < now:
        due = _add_days(due, days)
    if paused_until is not None and due < paused_until:
        due = _local(paused_until)
    return shift_out_of_quiet_hours(due, quiet)
