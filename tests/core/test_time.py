"""Working days: Saturdays and Sundays do not count."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from core.time import add_working_days

FRIDAY = datetime(2025, 6, 6, 10, 0, tzinfo=timezone.utc)
MONDAY = FRIDAY + timedelta(days=3)


@pytest.mark.parametrize(
    ("start", "days", "end"),
    [
        (FRIDAY, 1, MONDAY),
        (FRIDAY, 2, MONDAY + timedelta(days=1)),
        (FRIDAY - timedelta(days=2), 2, FRIDAY),
        (MONDAY, 5, MONDAY + timedelta(days=7)),
        (FRIDAY + timedelta(days=1), 1, MONDAY),
        (FRIDAY + timedelta(days=2), 0, FRIDAY + timedelta(days=2)),
    ],
)
def test_add_working_days_skips_weekends(start: datetime, days: int, end: datetime) -> None:
    """Saturdays and Sundays do not count; the time of day stays."""
    assert add_working_days(start, days) == end
