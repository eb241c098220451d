"""Plain helpers shared by the storage tests (fixtures live in conftest.py)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import text

from storage.engine import make_engine


@dataclass
class FakeClock:
    """An injectable clock the test moves by hand."""

    now: datetime = field(default_factory=lambda: datetime(2026, 3, 4, 12, 0, tzinfo=UTC))

    def __call__(self) -> datetime:
        return self.now

    def set(self, value: datetime) -> None:
        self.now = value

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


# Realistic 64-bit Discord snowflakes (well above 2**53, so float rounding would show).
GUILD = 111_111_111_111_111_111
OTHER_GUILD = 222_222_222_222_222_222
ALICE = 900_000_000_000_000_001
BOB = 900_000_000_000_000_002
CAROL = 900_000_000_000_000_003


async def _admin(url: str, sql: str) -> None:
    engine = make_engine(url)
    try:
        async with engine.begin() as connection:
            await connection.execute(text(sql))
    finally:
        await engine.dispose()


@asynccontextmanager
async def fresh_schema(url: str, prefix: str = "t") -> AsyncIterator[str]:
    """A PostgreSQL schema of its own on the shared test server, dropped afterwards (the
    test role may not create databases, and tests must not see each other's rows)."""
    schema = f"{prefix}_{uuid.uuid4().hex[:16]}"
    await _admin(url, f'CREATE SCHEMA "{schema}"')
    try:
        yield schema
    finally:
        await _admin(url, f'DROP SCHEMA "{schema}" CASCADE')
