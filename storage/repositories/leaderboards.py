"""Leaderboard queries: top N, the asker's own rank and the guild totals in ONE statement.

A window function ranks every member's total once (ROW_NUMBER over minutes desc, user id
asc: ties always resolve the same way) and the outer query keeps only the top N plus the
asker's row, so a board costs one scan however many members there are.
- Week/month: sums study_logs in the window via the (guild_id, logged_at, user_id,
  minutes) covering index.
- All time: reads the per-member running totals on `members` (one row per member
  instead of every log in the guild's history).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Member, StudyLog


@dataclass(frozen=True, slots=True)
class RankedRow:
    rank: int
    user_id: int
    minutes: int
    sessions: int


@dataclass(frozen=True, slots=True)
class Board:
    rows: tuple[RankedRow, ...]  # the top N, then the asker's row if it is below them
    total_minutes: int
    active_members: int


class LeaderboardRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def window(
        self, guild_id: int, since: datetime, limit: int, user_id: int | None = None
    ) -> Board:
        """Minutes logged since `since` (UTC), per member."""
        totals = (
            select(
                StudyLog.user_id.label("user_id"),
                func.sum(StudyLog.minutes).label("minutes"),
                func.count().label("sessions"),
            )
            .where(StudyLog.guild_id == guild_id, StudyLog.logged_at >= since)
            .group_by(StudyLog.user_id)
        )
        return await self._ranked(totals, limit, user_id)

    async def all_time(self, guild_id: int, limit: int, user_id: int | None = None) -> Board:
        """All-time minutes per member, from the running totals on `members`."""
        totals = select(
            Member.user_id.label("user_id"),
            Member.total_minutes.label("minutes"),
            Member.total_sessions.label("sessions"),
        ).where(Member.guild_id == guild_id, Member.total_sessions > 0)
        return await self._ranked(totals, limit, user_id)

    async def _ranked(self, totals: Select[Any], limit: int, user_id: int | None) -> Board:
        sub = totals.subquery()
        ranked = select(
            sub.c.user_id,
            sub.c.minutes,
            sub.c.sessions,
            func.row_number().over(order_by=(sub.c.minutes.desc(), sub.c.user_id)).label("rank"),
            func.sum(sub.c.minutes).over().label("total"),
            func.count().over().label("active"),
        ).subquery()
        keep = ranked.c.rank <= limit
        if user_id is not None:
            keep = or_(keep, ranked.c.user_id == user_id)
        stmt = select(ranked).where(keep).order_by(ranked.c.rank)
        rows = (await self._session.execute(stmt)).mappings().all()
        if not rows:
            return Board((), 0, 0)
        return Board(
            tuple(
                RankedRow(int(r["rank"]), int(r["user_id"]), int(r["minutes"]), int(r["sessions"]))
                for r in rows
            ),
            int(rows[0]["total"]),
            int(rows[0]["active"]),
        )
