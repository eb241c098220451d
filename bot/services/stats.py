"""A member's numbers: totals per window, per topic, per phase, a 12-week chart, streaks.

Windows ("this week", "this month", chart buckets, streak days) are calendar periods in the
member's own timezone: someone in Tokyo who studies at 8am Monday should see it in
Monday's bar, not Sunday's. Sums are computed in SQL (see StudyLogRepository).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.base import Service, check_ids
from bot.services.clock import month_start, week_boundaries, week_start
from bot.services.timezones import zone
from storage.repositories import MemberRepository, StudyLogRepository

CHART_WEEKS = 12
TOP_TOPICS = 10


@dataclass(frozen=True, slots=True)
class Totals:
    minutes: int
    sessions: int


@dataclass(frozen=True, slots=True)
class TopicTotal:
    topic: str
    minutes: int
    sessions: int


@dataclass(frozen=True, slots=True)
class PhaseTotal:
    phase: int | None  # the member's phase when they logged; None if unset then
    minutes: int
    sessions: int


@dataclass(frozen=True, slots=True)
class WeekTotal:
    week_start: date  # local Monday
    minutes: int


@dataclass(frozen=True, slots=True)
class ProgressStats:
    timezone: str
    this_week: Totals
    this_month: Totals
    all_time: Totals
    topics: tuple[TopicTotal, ...]
    phases: tuple[PhaseTotal, ...]
    weekly: tuple[WeekTotal, ...]  # oldest first, the current week last


@dataclass(frozen=True, slots=True)
class Streak:
    timezone: str
    current: int  # consecutive local days up to today (or yesterday, if not yet today)
    longest: int
    studied_today: bool
    last_day: date | None


def streaks_from_days(days: list[date], today: date) -> tuple[int, int]:
    """(current, longest) runs of consecutive days; `days` sorted ascending, unique.

    The current streak survives until the end of the day after the last study day, so
    it does not read 0 every morning before the member has logged.
    """
    longest = run = 0
    previous: date | None = None
    for day in days:
        run = run + 1 if previous is not None and day - previous == timedelta(days=1) else 1
        longest = max(longest, run)
        previous = day
    current = 0
    if days and days[-1] >= today - timedelta(days=1) and days[-1] <= today:
        current = run
    return current, longest


class StatsService(Service):
    async def _timezone(self, session: AsyncSession, guild_id: int, user_id: int) -> str:
        member = await MemberRepository(session).get(guild_id, user_id)
        return member.timezone if member else "UTC"

    async def summary(self, guild_id: int, user_id: int) -> ProgressStats:
        check_ids(guild_id, user_id)
        now = self._now()
        async with self._read() as session:
            tz_name = await self._timezone(session, guild_id, user_id)
            tz = zone(tz_name)
            logs = StudyLogRepository(session)
            all_time, (week, month) = await logs.totals_since(
                guild_id, user_id, [week_start(now, tz), month_start(now, tz)]
            )
            mondays, edges = week_boundaries(now, tz, CHART_WEEKS)
            buckets = await logs.bucket_minutes(guild_id, user_id, edges)
            topics = await logs.by_topic(guild_id, user_id, TOP_TOPICS)
            phases = await logs.by_phase(guild_id, user_id)
        return ProgressStats(
            timezone=tz_name,
            this_week=Totals(week.minutes, week.sessions),
            this_month=Totals(month.minutes, month.sessions),
            all_time=Totals(all_time.minutes, all_time.sessions),
            topics=tuple(TopicTotal(*t) for t in topics),
            phases=tuple(PhaseTotal(*p) for p in phases),
            weekly=tuple(WeekTotal(d, m) for d, m in zip(mondays, buckets, strict=True)),
        )

    async def streak(self, guild_id: int, user_id: int) -> Streak:
        check_ids(guild_id, user_id)
        now = self._now()
        async with self._read() as session:
            tz_name = await self._timezone(session, guild_id, user_id)
            stamps = await StudyLogRepository(session).timestamps(guild_id, user_id)
        tz = zone(tz_name)
        today = now.astimezone(tz).date()
        days = sorted({stamp.astimezone(tz).date() for stamp in stamps})
        current, longest = streaks_from_days(days, today)
        last = days[-1] if days else None
        return Streak(tz_name, current, longest, last == today, last)
