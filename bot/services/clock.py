"""Time: the injectable clock and calendar windows in a member's or guild's timezone.

Services never call `datetime.now()` directly; they take a `Clock` so tests can pin "now"
and walk across week, month and DST boundaries deterministically. Calendar windows (this
week, this month, the last 12 weeks) are computed on local dates and converted to UTC
instants, so SQL compares plain UTC timestamps on every database.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta, tzinfo

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    """The production clock: aware, UTC."""
    return datetime.now(UTC)


def as_utc(value: datetime) -> datetime:
    """Reject naive datetimes (a clock bug) and normalise aware ones to UTC."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"clock returned naive datetime {value!r}; it must be aware UTC")
    return value.astimezone(UTC)


def local_midnight(day: date, tz: tzinfo) -> datetime:
    """The UTC instant at which `day` starts in `tz` (DST-aware via zoneinfo)."""
    return datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC)


def week_start_date(day: date) -> date:
    """Monday of the ISO week containing `day`."""
    return day - timedelta(days=day.weekday())


def week_start(now: datetime, tz: tzinfo) -> datetime:
    """UTC instant of the start (local Monday 00:00) of the current week in `tz`."""
    return local_midnight(week_start_date(now.astimezone(tz).date()), tz)


def month_start(now: datetime, tz: tzinfo) -> datetime:
    """UTC instant of local 00:00 on the 1st of the current month in `tz`."""
    return local_midnight(now.astimezone(tz).date().replace(day=1), tz)


def week_boundaries(now: datetime, tz: tzinfo, weeks: int) -> tuple[list[date], list[datetime]]:
    """The last `weeks` local weeks (oldest first) ending with the current one.

    Returns their local Monday dates and `weeks + 1` UTC boundaries: bucket i is
    [boundaries[i], boundaries[i + 1]).
    """
    current = week_start_date(now.astimezone(tz).date())
    mondays = [current - timedelta(weeks=k) for k in range(weeks - 1, -1, -1)]
    edges = [*mondays, current + timedelta(weeks=1)]
    return mondays, [local_midnight(d, tz) for d in edges]


def iso_week_label(now: datetime, tz: tzinfo) -> str:
    """'2026-W07' for the local ISO week (the key of nudge and digest deliveries)."""
    year, week, _ = now.astimezone(tz).isocalendar()
    return f"{year}-W{week:02d}"


# Index = date.weekday() (0 = Monday); one table for parsing and display everywhere.
WEEKDAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
