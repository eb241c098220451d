"""Guild configuration the Discord layer needs: ask channel, phase roles, FAQ overrides."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import GuildFaqOverride, GuildPhaseRole, GuildSettings


class GuildConfigRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def ask_channel(self, guild_id: int) -> int | None:
        result = await self._session.execute(
            select(GuildSettings.ask_channel_id).where(GuildSettings.guild_id == guild_id)
        )
        return result.scalar_one_or_none()

    async def phase_roles(self, guild_id: int) -> dict[int, int]:
        result = await self._session.execute(
            select(GuildPhaseRole.phase, GuildPhaseRole.role_id)
            .where(GuildPhaseRole.guild_id == guild_id)
            .order_by(GuildPhaseRole.phase)
        )
        return {phase: role_id for phase, role_id in result.all()}

    async def set_phase_role(
        self, guild_id: int, phase: int, role_id: int | None, now: datetime
    ) -> None:
        """Map `phase` to `role_id`, or remove the mapping when `role_id` is None."""
        await self._session.execute(
            delete(GuildPhaseRole).where(
                GuildPhaseRole.guild_id == guild_id, GuildPhaseRole.phase == phase
            )
        )
        if role_id is not None:
            self._session.add(
                GuildPhaseRole(guild_id=guild_id, phase=phase, role_id=role_id, updated_at=now)
            )
            await self._session.flush()

    async def faq(self, guild_id: int, question_key: str) -> GuildFaqOverride | None:
        result = await self._session.execute(
            select(GuildFaqOverride).where(
                GuildFaqOverride.guild_id == guild_id,
                GuildFaqOverride.question_key == question_key,
            )
        )
        return result.scalar_one_or_none()

    async def faqs(self, guild_id: int, limit: int = 100) -> list[GuildFaqOverride]:
        result = await self._session.execute(
            select(GuildFaqOverride)
            .where(GuildFaqOverride.guild_id == guild_id)
            .order_by(GuildFaqOverride.question_key)
            .limit(limit)
        )
        return list(result.scalars())

    async def upsert_faq(
        self,
        *,
        guild_id: int,
        question_key: str,
        question: str,
        answer: str,
        created_by: int,
        now: datetime,
    ) -> bool:
        """Insert or replace the guild's answer for `question_key`; True when inserted."""
        row = await self.faq(guild_id, question_key)
        if row is None:
            self._session.add(
                GuildFaqOverride(
                    guild_id=guild_id,
                    question_key=question_key,
                    question=question,
                    answer=answer,
                    created_by=created_by,
                    created_at=now,
                    updated_at=now,
                )
            )
            await self._session.flush()
            return True
        row.question = question
        row.answer = answer
        row.created_by = created_by
        row.updated_at = now
        await self._session.flush()
        return False

    async def delete_faq(self, guild_id: int, question_key: str) -> bool:
        result = await self._session.execute(
            delete(GuildFaqOverride).where(
                GuildFaqOverride.guild_id == guild_id,
                GuildFaqOverride.question_key == question_key,
            )
        )
        return bool(getattr(result, "rowcount", 0))
