"""Milestone status per member (ids and titles live in the guide, not here)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import MilestoneStatus


class MilestoneRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def statuses(
        self, guild_id: int, user_id: int, milestone_ids: Iterable[str] | None = None
    ) -> dict[str, MilestoneStatus]:
        """The member's rows keyed by milestone id (optionally only `milestone_ids`)."""
        stmt = select(MilestoneStatus).where(
            MilestoneStatus.guild_id == guild_id, MilestoneStatus.user_id == user_id
        )
        if milestone_ids is not None:
            stmt = stmt.where(MilestoneStatus.milestone_id.in_(list(milestone_ids)))
        rows = (await self._session.execute(stmt)).scalars().all()
        return {row.milestone_id: row for row in rows}

    async def set_status(
        self, guild_id: int, user_id: int, milestone_id: str, status: str, now: datetime
    ) -> MilestoneStatus:
        """Upsert the status, keeping when learning started and stamping completion.

        `started_at` is set the first time the member touches the milestone and kept
        afterwards; `completed_at` is set when it becomes done and cleared otherwise.
        """
        existing = (await self.statuses(guild_id, user_id, [milestone_id])).get(milestone_id)
        if existing is None:
            existing = MilestoneStatus(
                guild_id=guild_id,
                user_id=user_id,
                milestone_id=milestone_id,
                status=status,
                started_at=now,
                updated_at=now,
            )
            self._session.add(existing)
        existing.status = status
        existing.started_at = existing.started_at or now
        existing.completed_at = (existing.completed_at or now) if status == "done" else None
        existing.updated_at = now
        await self._session.flush()
        return existing

    async def clear(self, guild_id: int, user_id: int, milestone_id: str) -> bool:
        """Forget the member's status on one milestone; True if there was one."""
        result = await self._session.execute(
            delete(MilestoneStatus).where(
                MilestoneStatus.guild_id == guild_id,
                MilestoneStatus.user_id == user_id,
                MilestoneStatus.milestone_id == milestone_id,
            )
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]
