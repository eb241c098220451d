"""Study logs: writes, and the aggregate queries behind stats, streaks and leaderboards.

Every aggregate is one SQL statement that sums in the database; Python never loops over a
guild's logs. Time windows arrive as UTC instants computed by the services in the right
timezone (DST-aware), so the SQL stays portable between SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from itertools import pairwise
from typing import Any

from sqlalchemy import ColumnElement, and_, case, delete, func, insert, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import StudyLog


@dataclass(frozen=True, slots=True)
class LogTotals:
    minutes: int
    sessions: int


class StudyLogRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    def _member(self, guild_id: int, user_id: int) -> ColumnElement[bool]:
        return and_(StudyLog.guild_id == guild_id, StudyLog.user_id == user_id)

    async def add(
        self,
        *,
        guild_id: int,
        user_id: int,
        minutes: int,
        topic: str,
        note: str | None,
        link: str | None,
        phase: int | None,
        logged_at: datetime,
    ) -> int:
        """Insert one log and return its id (a Core INSERT ... RETURNING: the hot path)."""
        stmt = (
            insert(StudyLog)
            .values(
                guild_id=guild_id,
                user_id=user_id,
                minutes=minutes,
                topic=topic,
                note=note,
                link=link,
                phase=phase,
                logged_at=logged_at,
            )
            .returning(StudyLog.id)
        )
        return int((await self._session.execute(stmt)).scalar_one())

    async def add_many(self, rows: Sequence[Mapping[str, Any]]) -> list[int]:
        """Insert several logs (keys as in `add`) in one batched statement; ids in order."""
        if not rows:
            return []
        stmt = insert(StudyLog).returning(StudyLog.id, sort_by_parameter_order=True)
        result = await self._session.execute(stmt, list(rows))
        return [int(i) for i in result.scalars().all()]

    async def minutes_since_many(
        self, windows: Mapping[tuple[int, int], datetime]
    ) -> dict[tuple[int, int], int]:
        """Minutes per (guild_id, user_id) since that member's own start, in one query."""
        if not windows:
            return {}
        condition = or_(
            *(
                and_(
                    StudyLog.guild_id == guild_id,
                    StudyLog.user_id == user_id,
                    StudyLog.logged_at >= since,
                )
                for (guild_id, user_id), since in windows.items()
            )
        )
        stmt = (
            select(StudyLog.guild_id, StudyLog.user_id, func.sum(StudyLog.minutes))
            .where(condition)
            .group_by(StudyLog.guild_id, StudyLog.user_id)
        )
        totals = {key: 0 for key in windows}
        for guild_id, user_id, minutes in (await self._session.execute(stmt)).all():
            totals[(int(guild_id), int(user_id))] = int(minutes)
        return totals

    async def last(self, guild_id: int, user_id: int) -> StudyLog | None:
        """The member's most recent log (ties on time broken by id: the later insert)."""
        result = await self._session.execute(
            select(StudyLog)
            .where(self._member(guild_id, user_id))
            .order_by(StudyLog.logged_at.desc(), StudyLog.id.desc())
            .limit(1)
        )
        return result.scalar_one_or_none()

    async def delete(self, log_id: int) -> None:
        await self._session.execute(delete(StudyLog).where(StudyLog.id == log_id))

    async def totals_since(
        self, guild_id: int, user_id: int, starts: Sequence[datetime]
    ) -> tuple[LogTotals, list[LogTotals]]:
        """All-time totals plus totals since each of `starts`, in one scan of the member."""
        columns: list[ColumnElement[int]] = [
            func.coalesce(func.sum(StudyLog.minutes), 0),
            func.count(StudyLog.id),
        ]
        for start in starts:
            recent = StudyLog.logged_at >= start
            columns.append(func.coalesce(func.sum(case((recent, StudyLog.minutes), else_=0)), 0))
            columns.append(func.count(case((recent, StudyLog.id))))
        row = (
            await self._session.execute(select(*columns).where(self._member(guild_id, user_id)))
        ).one()
        values = [int(v) for v in row]
        windows = [LogTotals(values[i], values[i + 1]) for i in range(2, len(values), 2)]
        return LogTotals(values[0], values[1]), windows

    async def bucket_minutes(
        self, guild_id: int, user_id: int, boundaries: Sequence[datetime]
    ) -> list[int]:
        """Minutes in each [boundaries[i], boundaries[i+1]) bucket, in one statement.

        Used for the 12-week chart: boundaries are local Mondays converted to UTC.
        """
        if len(boundaries) < 2:
            return []
        columns = [
            func.coalesce(
                func.sum(
                    case(
                        (
                            and_(StudyLog.logged_at >= lo, StudyLog.logged_at < hi),
                            StudyLog.minutes,
                        ),
                        else_=0,
                    )
                ),
                0,
            )
            for lo, hi in pairwise(boundaries)
        ]
        stmt = select(*columns).where(
            self._member(guild_id, user_id),
            StudyLog.logged_at >= boundaries[0],
            StudyLog.logged_at < boundaries[-1],
        )
        return [int(v) for v in (await self._session.execute(stmt)).one()]

    async def by_topic(self, guild_id: int, user_id: int, limit: int) -> list[tuple[str, int, int]]:
        """(topic, minutes, sessions), topics compared case-insensitively, biggest first."""
        topic = func.lower(StudyLog.topic)
        minutes = func.sum(StudyLog.minutes)
        stmt = (
            select(topic, minutes, func.count(StudyLog.id))
            .where(self._member(guild_id, user_id))
            .group_by(topic)
            .order_by(minutes.desc(), topic)
            .limit(limit)
        )
        return [(str(t), int(m), int(c)) for t, m, c in (await self._session.execute(stmt)).all()]

    async def by_phase(self, guild_id: int, user_id: int) -> list[tuple[int | None, int, int]]:
        """(phase at the time of logging, minutes, sessions); "no phase" first, then by phase."""
        stmt = (
            select(StudyLog.phase, func.sum(StudyLog.minutes), func.count(StudyLog.id))
            .where(self._member(guild_id, user_id))
            .group_by(StudyLog.phase)
            .order_by(StudyLog.phase.asc().nulls_first())
        )
        return [
            (p if p is None else int(p), int(m), int(c))
            for p, m, c in (await self._session.execute(stmt)).all()
        ]

    async def timestamps(
        self, guild_id: int, user_id: int, since: datetime | None = None
    ) -> list[datetime]:
        """The member's log times, oldest first (streaks need local calendar days).

        One member's history is small (a few per day) and is read through the covering
        (user_id, guild_id, logged_at, minutes) index.
        """
        stmt = select(StudyLog.logged_at).where(self._member(guild_id, user_id))
        if since is not None:
            stmt = stmt.where(StudyLog.logged_at >= since)
        stmt = stmt.order_by(StudyLog.logged_at)
        return list((await self._session.execute(stmt)).scalars().all())
