"""Guild settings: read with defaults, created on first write."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import GuildSettings
from storage.repositories._dialect import insert_for


class GuildRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def get(self, guild_id: int) -> GuildSettings | None:
        result = await self._session.execute(
            select(GuildSettings).where(GuildSettings.guild_id == guild_id)
        )
        return result.scalar_one_or_none()

    async def timezone(self, guild_id: int) -> str:
        """The guild's timezone for weekly/monthly windows; UTC until an admin sets one."""
        result = await self._session.execute(
            select(GuildSettings.timezone).where(GuildSettings.guild_id == guild_id)
        )
        return result.scalar_one_or_none() or "UTC"

    async def get_or_create(self, guild_id: int, now: datetime) -> GuildSettings:
        await self._session.execute(
            insert_for(self._session, GuildSettings)
            .values(
                guild_id=guild_id,
                timezone="UTC",
                leaderboard_enabled=True,
                created_at=now,
                updated_at=now,
            )
            .on_conflict_do_nothing(index_elements=["guild_id"])
        )
        settings = await self.get(guild_id)
        if settings is None:  # pragma: no cover
            raise RuntimeError("guild settings vanished right after get-or-create")
        return settings
