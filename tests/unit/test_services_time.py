"""Pure time logic: calendar windows across DST, streak runs, timezone suggestions."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.services.clock import as_utc, iso_week_label, month_start, week_boundaries, week_start
from bot.services.errors import InvalidTimezone
from bot.services.stats import streaks_from_days
from bot.services.timezones import canonical_timezone, suggest_timezones, zone

BERLIN = ZoneInfo("Europe/Berlin")


def test_week_and_month_start_are_local_midnights_in_utc() -> None:
    now = datetime(2026, 3, 4, 12, tzinfo=UTC)  # Wednesday
    assert week_start(now, UTC) == datetime(2026, 3, 2, tzinfo=UTC)
    assert week_start(now, BERLIN) == datetime(2026, 3, 1, 23, tzinfo=UTC)
    assert month_start(now, BERLIN) == datetime(2026, 2, 28, 23, tzinfo=UTC)
    tokyo_monday = datetime(2026, 3, 1, 16, tzinfo=UTC)  # Monday 01:00 in Tokyo
    assert week_start(tokyo_monday, ZoneInfo("Asia/Tokyo")) == datetime(2026, 3, 1, 15, tzinfo=UTC)


def test_week_boundaries_span_dst_with_23_hour_days() -> None:
    now = datetime(2026, 4, 1, 12, tzinfo=UTC)
    mondays, edges = week_boundaries(now, BERLIN, 3)
    assert mondays == [date(2026, 3, 16), date(2026, 3, 23), date(2026, 3, 30)]
    assert len(edges) == 4
    assert [b - a for a, b in itertools.pairwise(edges)] == [
        timedelta(days=7),
        timedelta(days=7, hours=-1),  # the week with the spring-forward Sunday
        timedelta(days=7),
    ]


def test_iso_week_label_uses_the_local_calendar() -> None:
    late_sunday = datetime(2026, 1, 4, 23, 30, tzinfo=UTC)
    assert iso_week_label(late_sunday, UTC) == "2026-W01"
    assert iso_week_label(late_sunday, BERLIN) == "2026-W02"


def test_clock_must_be_aware() -> None:
    with pytest.raises(ValueError, match="naive"):
        as_utc(datetime(2026, 1, 1))
    assert as_utc(datetime(2026, 1, 1, 1, tzinfo=BERLIN)).tzinfo is UTC


@pytest.mark.parametrize(
    ("days", "today", "expected"),
    [
        ([], date(2026, 3, 10), (0, 0)),
        ([date(2026, 3, 10)], date(2026, 3, 10), (1, 1)),
        ([date(2026, 3, 9)], date(2026, 3, 10), (1, 1)),
        ([date(2026, 3, 8)], date(2026, 3, 10), (0, 1)),
        ([date(2026, 3, d) for d in (1, 2, 3, 5, 6)], date(2026, 3, 6), (2, 3)),
        ([date(2026, 2, 27), date(2026, 2, 28), date(2026, 3, 1)], date(2026, 3, 1), (3, 3)),
        ([date(2025, 12, 31), date(2026, 1, 1)], date(2026, 1, 2), (2, 2)),
    ],
)
def test_streak_runs(days, today, expected) -> None:
    assert streaks_from_days(days, today) == expected


def test_timezones_are_canonicalised() -> None:
    assert canonical_timezone("utc") == "UTC"
    assert canonical_timezone(" america/new york ") == "America/New_York"
    assert zone("garbage/zone") == ZoneInfo("UTC")  # a corrupt stored value never crashes


@pytest.mark.parametrize(
    ("typo", "suggestion"),
    [
        ("Europe/Berlim", "Europe/Berlin"),
        ("berlin", "Europe/Berlin"),
        ("Amerca/New_York", "America/New_York"),
        ("Tokyo", "Asia/Tokyo"),
        ("Kolkatta", "Asia/Kolkata"),
    ],
)
def test_bad_timezones_get_close_suggestions(typo, suggestion) -> None:
    assert suggestion in suggest_timezones(typo)
    with pytest.raises(InvalidTimezone) as caught:
        canonical_timezone(typo)
    assert suggestion in caught.value.suggestions
    assert suggestion in str(caught.value)


@pytest.mark.parametrize("bad", ["", "   ", "/etc/passwd", "../UTC", "x" * 10_000, "UTC\x00"])
def test_hostile_timezone_names_are_rejected(bad) -> None:
    with pytest.raises(InvalidTimezone) as caught:
        canonical_timezone(bad)
    assert len(str(caught.value)) < 300
