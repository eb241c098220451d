"""`bot_state`: small key/value facts shared by every bot process (never commits)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import BotState
from storage.repositories._dialect import insert_for


class BotStateRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def get(self, key: str) -> str | None:
        result = await self._session.execute(select(BotState.value).where(BotState.key == key))
        return result.scalar_one_or_none()

    async def put(self, key: str, value: str, now: datetime) -> None:
        """Insert or overwrite `key` (last writer wins; callers store idempotent facts)."""
        table = BotState.__table__
        stmt = insert_for(self._session, table).values(key=key, value=value, updated_at=now)
        await self._session.execute(
            stmt.on_conflict_do_update(
                index_elements=["key"], set_={"value": value, "updated_at": now}
            )
        )
