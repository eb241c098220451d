"""What every progress service shares: the sessionmaker, the guide, the clock."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.services.clock import Clock, as_utc, utc_now
from bot.services.errors import ValidationError
from knowledge.content import Guide
from storage.engine import transaction

_MAX_SNOWFLAKE = 2**63 - 1


def _check_id(label: str, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= _MAX_SNOWFLAKE:
        raise ValidationError(f"Invalid {label}: {value!r}.")


def check_ids(guild_id: int, user_id: int) -> None:
    """Discord ids are positive 64-bit integers; anything else is a caller bug or abuse."""
    _check_id("guild id", guild_id)
    _check_id("user id", user_id)


def check_guild(guild_id: int) -> None:
    _check_id("guild id", guild_id)


class Service:
    """Base class; subclasses open exactly one transaction per public method."""

    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        guide: Guide,
        clock: Clock = utc_now,
    ) -> None:
        self._sessionmaker = sessionmaker
        self._guide = guide
        self._clock = clock

    def _now(self) -> datetime:
        return as_utc(self._clock())

    @asynccontextmanager
    async def _read(self) -> AsyncIterator[AsyncSession]:
        async with transaction(self._sessionmaker, write=False) as session:
            yield session

    @asynccontextmanager
    async def _write(self) -> AsyncIterator[AsyncSession]:
        async with transaction(self._sessionmaker, write=True) as session:
            yield session
