"""Stats, streaks and leaderboards: calendar windows in the right timezone, sums in SQL."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from bot.services.errors import ValidationError
from tests.storage.support import ALICE, BOB, CAROL, GUILD, OTHER_GUILD


async def _log_at(services, clock, when: datetime, minutes: int, topic: str = "t", **kw):
    clock.set(when)
    user = kw.pop("user", ALICE)
    guild = kw.pop("guild", GUILD)
    return await services.study.log(guild, user, minutes, topic, **kw)


async def test_summary_windows_topics_and_phases(services, clock) -> None:
    now = datetime(2026, 3, 18, 12, 0, tzinfo=UTC)  # Wednesday
    await _log_at(services, clock, datetime(2025, 11, 10, 9, tzinfo=UTC), 100, "Backprop")
    await services.phases.set_phase(GUILD, ALICE, 1)
    await _log_at(services, clock, datetime(2026, 3, 2, 9, tzinfo=UTC), 50, "backprop")
    await _log_at(services, clock, datetime(2026, 3, 16, 0, 0, tzinfo=UTC), 20, "SQL")
    await _log_at(services, clock, now, 10, "sql")
    await _log_at(services, clock, now, 999, "other member", user=BOB)
    clock.set(now)

    stats = await services.stats.summary(GUILD, ALICE)
    assert (stats.this_week.minutes, stats.this_week.sessions) == (30, 2)
    assert (stats.this_month.minutes, stats.this_month.sessions) == (80, 3)
    assert (stats.all_time.minutes, stats.all_time.sessions) == (180, 4)
    assert [(t.topic, t.minutes, t.sessions) for t in stats.topics] == [
        ("backprop", 150, 2),
        ("sql", 30, 2),
    ]
    assert [(p.phase, p.minutes, p.sessions) for p in stats.phases] == [(None, 100, 1), (1, 80, 3)]
    assert len(stats.weekly) == 12
    assert (stats.weekly[-1].week_start, stats.weekly[-1].minutes) == (date(2026, 3, 16), 30)
    assert stats.weekly[-3].week_start == date(2026, 3, 2)
    assert stats.weekly[-3].minutes == 50
    assert stats.weekly[0].week_start == date(2025, 12, 29)
    assert sum(w.minutes for w in stats.weekly) == 80  # November is outside the 12 weeks
    assert stats.weekly[1].minutes == 0


async def test_empty_member_has_zero_stats(services) -> None:
    stats = await services.stats.summary(GUILD, CAROL)
    assert stats.all_time.minutes == 0
    assert stats.topics == ()
    assert len(stats.weekly) == 12
    streak = await services.stats.streak(GUILD, CAROL)
    assert (streak.current, streak.longest, streak.last_day) == (0, 0, None)


async def test_week_follows_the_members_timezone(services, clock) -> None:
    # Monday 00:30 in Tokyo is still Sunday afternoon in UTC.
    monday_tokyo = datetime(2026, 3, 1, 15, 30, tzinfo=UTC)
    await services.profile.set_timezone(GUILD, ALICE, "Asia/Tokyo")
    await _log_at(services, clock, monday_tokyo, 40)
    await _log_at(services, clock, monday_tokyo, 40, user=BOB)  # BOB stays on UTC

    alice = await services.stats.summary(GUILD, ALICE)
    bob = await services.stats.summary(GUILD, BOB)
    assert alice.timezone == "Asia/Tokyo"
    assert alice.this_week.minutes == 40
    assert alice.weekly[-1].week_start == date(2026, 3, 2)
    assert bob.this_week.minutes == 40
    assert bob.weekly[-1].week_start == date(2026, 2, 23)
    # Month: Tokyo is in March, UTC still in March too (Mar 1); a log on Feb 28 23:30 UTC
    # is March 1 in Tokyo.
    await _log_at(services, clock, datetime(2026, 2, 28, 23, 30, tzinfo=UTC), 5)
    clock.set(monday_tokyo)
    assert (await services.stats.summary(GUILD, ALICE)).this_month.minutes == 45


async def test_chart_buckets_survive_a_dst_change(services, clock) -> None:
    await services.profile.set_timezone(GUILD, ALICE, "Europe/Berlin")
    # Berlin switches to summer time on Sunday 2026-03-29. Monday 00:30 local on
    # March 30 is 22:30 UTC on March 29 (UTC+2); on March 23 it is 23:30 UTC (UTC+1).
    await _log_at(services, clock, datetime(2026, 3, 29, 22, 30, tzinfo=UTC), 30)
    await _log_at(services, clock, datetime(2026, 3, 22, 23, 30, tzinfo=UTC), 20)
    await _log_at(services, clock, datetime(2026, 3, 29, 21, 30, tzinfo=UTC), 7)  # Sun 23:30
    clock.set(datetime(2026, 4, 1, 12, tzinfo=UTC))
    weekly = (await services.stats.summary(GUILD, ALICE)).weekly
    assert [(w.week_start, w.minutes) for w in weekly[-2:]] == [
        (date(2026, 3, 23), 27),
        (date(2026, 3, 30), 30),
    ]


async def test_streaks_in_local_days(services, clock) -> None:
    await services.profile.set_timezone(GUILD, ALICE, "Europe/Berlin")
    base = datetime(2026, 3, 1, 10, tzinfo=UTC)
    for day in (0, 1, 2, 3):  # Mar 1-4: four days
        await _log_at(services, clock, base + timedelta(days=day), 10)
    for day in (6, 7):  # Mar 7-8: two days
        await _log_at(services, clock, base + timedelta(days=day), 10)
    # 23:30 UTC on Mar 8 is 00:30 on Mar 9 in Berlin: extends the streak to three days.
    await _log_at(services, clock, datetime(2026, 3, 8, 23, 30, tzinfo=UTC), 10)

    clock.set(datetime(2026, 3, 9, 20, tzinfo=UTC))
    streak = await services.stats.streak(GUILD, ALICE)
    assert (streak.current, streak.longest, streak.studied_today) == (3, 4, True)
    assert streak.last_day == date(2026, 3, 9)

    clock.set(datetime(2026, 3, 10, 20, tzinfo=UTC))  # yesterday counts: still alive
    streak = await services.stats.streak(GUILD, ALICE)
    assert (streak.current, streak.studied_today) == (3, False)

    clock.set(datetime(2026, 3, 11, 20, tzinfo=UTC))  # a full day missed: broken
    assert (await services.stats.streak(GUILD, ALICE)).current == 0
    assert (await services.stats.streak(GUILD, ALICE)).longest == 4

    # The same logs in UTC: Mar 8 and "Mar 9 00:30" are both Mar 8, so the run is 2.
    await services.profile.set_timezone(GUILD, ALICE, "UTC")
    clock.set(datetime(2026, 3, 9, 12, tzinfo=UTC))
    assert (await services.stats.streak(GUILD, ALICE)).current == 2


async def test_leaderboard_windows_ties_and_isolation(services, clock) -> None:
    await _log_at(services, clock, datetime(2026, 2, 10, tzinfo=UTC), 500, user=CAROL)
    await _log_at(services, clock, datetime(2026, 3, 1, tzinfo=UTC), 100, user=BOB)
    await _log_at(services, clock, datetime(2026, 3, 3, tzinfo=UTC), 60, user=ALICE)
    await _log_at(services, clock, datetime(2026, 3, 4, tzinfo=UTC), 60, user=BOB)
    await _log_at(services, clock, datetime(2026, 3, 4, tzinfo=UTC), 999, guild=OTHER_GUILD)
    clock.set(datetime(2026, 3, 4, 12, tzinfo=UTC))

    week = await services.leaderboard.leaderboard(GUILD, "week")
    # ALICE and BOB tie on 60: the lower user id (ALICE) comes first, every time.
    assert [(e.rank, e.user_id, e.minutes) for e in week.entries] == [(1, ALICE, 60), (2, BOB, 60)]
    assert (week.total_minutes, week.active_members) == (120, 2)
    month = await services.leaderboard.leaderboard(GUILD, "monthly")
    assert [(e.user_id, e.minutes) for e in month.entries] == [(BOB, 160), (ALICE, 60)]
    everything = await services.leaderboard.leaderboard(GUILD, "all")
    assert [e.user_id for e in everything.entries] == [CAROL, BOB, ALICE]
    assert everything.since is None

    top1 = await services.leaderboard.leaderboard(GUILD, "all", limit=1, user_id=ALICE)
    assert [e.user_id for e in top1.entries] == [CAROL]
    assert top1.you is not None
    assert (top1.you.rank, top1.you.minutes) == (3, 60)
    none = await services.leaderboard.leaderboard(GUILD, "week", user_id=CAROL)
    assert none.you is None
    with pytest.raises(ValidationError):
        await services.leaderboard.leaderboard(GUILD, "yearly")


async def test_leaderboard_week_follows_the_guild_timezone(services, clock) -> None:
    # Sunday 20:00 UTC is Monday 05:00 in Tokyo.
    await _log_at(services, clock, datetime(2026, 3, 1, 20, tzinfo=UTC), 30)
    clock.set(datetime(2026, 3, 2, 1, tzinfo=UTC))
    assert (await services.leaderboard.leaderboard(GUILD, "week")).entries == ()
    assert await services.guild_settings.set_timezone(GUILD, "asia/tokyo") == "Asia/Tokyo"
    board = await services.leaderboard.leaderboard(GUILD, "week")
    assert [e.minutes for e in board.entries] == [30]
    assert board.timezone == "Asia/Tokyo"
