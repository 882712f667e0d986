"""Time as the project reasons about it: aware UTC for storing, the Amsterdam wall clock for
people (quiet hours, working days, what a person reads)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

AMSTERDAM = ZoneInfo("Europe/Amsterdam")


def utcnow() -> datetime:
    """The current time, timezone-aware in UTC."""
    return datetime.now(timezone.utc)


def as_utc(moment: datetime) -> datetime:
    """A stored moment as aware UTC (SQLite hands back the naive UTC value it stored)."""
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment


def amsterdam(moment: datetime) -> datetime:
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
    clock = amsterdam(moment).time()
    if quiet.start < quiet.end:
        return quiet.start <= clock < quiet.end
    return clock >= quiet.start or clock < quiet.end


def shift_out_of_quiet_hours(
    moment: datetime, quiet: QuietHours | None = DEFAULT_QUIET
) -> datetime:
    """`moment` itself when allowed, else the end of the quiet hours it falls in."""
    local = amsterdam(moment)
    if quiet is None or not in_quiet_hours(local, quiet):
        return local
    crosses_midnight = quiet.start > quiet.end
    day = local.date()
    if crosses_midnight and local.time() >= quiet.start:
        day += timedelta(days=1)
    return datetime.combine(day, quiet.end, tzinfo=AMSTERDAM)


def add_working_days(start: datetime, days: int) -> datetime:
    """`days` working days (Monday to Friday) after `start`."""
    moment = start
    left = days
    while left > 0:
        moment += timedelta(days=1)
        if moment.weekday() < 5:
            left -= 1
    return moment
