"""Per-guild leaderboards by minutes studied: this week, this month, all time.

Weeks and months follow the guild's timezone (one shared board needs one calendar).
Ordering is minutes descending, then user id ascending, so two members with equal
minutes always appear in the same order and `rank` is stable between calls.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Literal

from bot.services.base import Service, check_guild, check_ids
from bot.services.clock import month_start, week_start
from bot.services.errors import ValidationError
from bot.services.timezones import zone
from storage.repositories import GuildRepository, LeaderboardRepository

Period = Literal["week", "month", "all"]
_ALIASES: dict[str, Period] = {
    "week": "week",
    "weekly": "week",
    "w": "week",
    "month": "month",
    "monthly": "month",
    "m": "month",
    "all": "all",
    "all-time": "all",
    "alltime": "all",
    "all_time": "all",
    "a": "all",
}
MAX_LIMIT = 50


def parse_period(text: str | None) -> Period:
    """'week' (default), 'month' or 'all' (with a few spellings)."""
    key = (text or "week").strip().lower()
    if key not in _ALIASES:
        raise ValidationError("Choose a leaderboard period: week, month or all.", field="period")
    return _ALIASES[key]


@dataclass(frozen=True, slots=True)
class LeaderboardEntry:
    rank: int
    user_id: int
    minutes: int
    sessions: int


@dataclass(frozen=True, slots=True)
class Leaderboard:
    guild_id: int
    period: Period
    since: datetime | None  # UTC start of the window; None for all time
    timezone: str
    entries: tuple[LeaderboardEntry, ...]
    total_minutes: int
    active_members: int
    you: LeaderboardEntry | None  # the asking member's own line, if they have minutes


def _window_start(period: Period, now: datetime, tz: tzinfo) -> datetime | None:
    if period == "week":
        return week_start(now, tz)
    if period == "month":
        return month_start(now, tz)
    return None


class LeaderboardService(Service):
    async def leaderboard(
        self,
        guild_id: int,
        period: Period | str = "week",
        *,
        limit: int = 10,
        user_id: int | None = None,
    ) -> Leaderboard:
        """The top `limit` members, plus the asking member's own line when given."""
        check_guild(guild_id)
        if user_id is not None:
            check_ids(guild_id, user_id)
        chosen = parse_period(period)
        limit = max(1, min(int(limit), MAX_LIMIT))
        now = self._now()
        async with self._read() as session:
            tz_name = await GuildRepository(session).timezone(guild_id)
            since = _window_start(chosen, now, zone(tz_name))
            boards = LeaderboardRepository(session)
            if since is None:
                board = await boards.all_time(guild_id, limit, user_id)
            else:
                board = await boards.window(guild_id, since, limit, user_id)
        lines = [LeaderboardEntry(r.rank, r.user_id, r.minutes, r.sessions) for r in board.rows]
        you = next((e for e in lines if e.user_id == user_id), None)
        entries = tuple(e for e in lines if e.rank <= limit)
        return Leaderboard(
            guild_id,
            chosen,
            since,
            tz_name,
            entries,
            board.total_minutes,
            board.active_members,
            you,
        )
