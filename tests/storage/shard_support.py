"""Helpers for the multi-process scheduler tests: a population spread over shards, a
scheduler whose composition is stubbed, and a file outbox that survives SIGKILL.

Composition (`_rebuild`: the nudge text from each member's data) is covered by the nudge
tests; here it is replaced by a fixed text so 10,000 deliveries fit in seconds while the
planning, claim, intent, send and mark path stays the real one.
"""

from __future__ import annotations

import asyncio
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Table, insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.services.delivery import OutgoingMessage, Pacing, SendOutcome
from bot.services.scheduler import CommunityScheduler
from storage.models import GuildSettings, Member
from storage.sharding import ShardScope

# Monday 9 March 2026, 18:00 UTC: the default slot (Monday 18:00) in the UTC timezone.
SLOT = datetime(2026, 3, 9, 18, 0, tzinfo=UTC)
WEEK = "2026-W11"
FAST = Pacing(messages=100_000, seconds=1)


def guild_ids(count: int) -> list[int]:
    """Realistic snowflakes (timestamps from 2017 on), spread evenly over the shards."""
    base = 300_000_000_000  # milliseconds since the Discord epoch, in the high bits
    return [((base + i * 7_919_003) << 22) | (i * 4_099 % (1 << 22)) for i in range(count)]


async def populate(
    sessionmaker: async_sessionmaker[AsyncSession],
    guilds: int,
    members_per_guild: int,
    due_every: int = 1,
) -> list[tuple[int, int]]:
    """Members with nudges on; every `due_every`-th one's slot is Monday 18:00 (due at
    `SLOT`), the others chose Thursday (planned and passed over, not due yet).
    Returns the (guild, user) keys of the members due at `SLOT`."""
    now = SLOT.replace(month=1)
    keys: list[tuple[int, int]] = []
    rows: list[dict[str, Any]] = []
    settings = []
    for g in guild_ids(guilds):
        settings.append({"guild_id": g, "timezone": "UTC", "created_at": now, "updated_at": now})
        for _ in range(members_per_guild):
            user = 500_000_000_000_000_000 + len(rows)
            due = len(rows) % due_every == 0
            if due:
                keys.append((g, user))
            rows.append(
                {
                    "guild_id": g,
                    "user_id": user,
                    "timezone": "UTC",
                    "nudge_enabled": True,
                    "nudge_custom": True,
                    "nudge_weekday": 0 if due else 3,
                    "nudge_hour": 18,
                    "created_at": now,
                    "updated_at": now,
                }
            )
    async with sessionmaker.begin() as session:
        await session.execute(insert(GuildSettings), settings)
        for i in range(0, len(rows), 2_000):
            await session.execute(insert(Member), rows[i : i + 2_000])
    return keys


class StubComposer(CommunityScheduler):
    """The real scheduler with a fixed nudge text (see the module docstring)."""

    async def _rebuild(
        self, table: Table, key: tuple[Any, ...], row_id: int, now: datetime
    ) -> OutgoingMessage:
        guild_id, user_id, week = key
        return OutgoingMessage(
            "nudge", guild_id, "dm", "nudge", f"nudge:{guild_id}:{user_id}:{week}", user_id, None
        )


class FileSender:
    """Delivers by appending "instance key" to a file, fsynced so it survives a SIGKILL."""

    def __init__(self, path: Path, name: str) -> None:
        self.path = path
        self.name = name

    async def send(self, message: OutgoingMessage) -> SendOutcome:
        with self.path.open("a", encoding="utf-8") as out:
            out.write(f"{self.name} {message.key}\n")
            out.flush()
            os.fsync(out.fileno())
        return SendOutcome.sent()

    async def grant_role(self, guild_id: int, user_id: int, role_id: int) -> SendOutcome:
        return SendOutcome.sent()


class MemorySender:
    """Records (instance, key) of every delivery, in memory."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.sent: list[tuple[str, str]] = []

    async def send(self, message: OutgoingMessage) -> SendOutcome:
        self.sent.append((self.name, message.key))
        await asyncio.sleep(0)  # a real send yields to the loop: let the other instance run
        return SendOutcome.sent()

    async def grant_role(self, guild_id: int, user_id: int, role_id: int) -> SendOutcome:
        return SendOutcome.sent()


async def no_sleep(_seconds: float) -> None:
    """Pacing is not under test here."""


def scheduler(
    sessionmaker: async_sessionmaker[AsyncSession],
    guide: Any,
    sender: Any,
    now: datetime,
    scope: ShardScope,
    per_run: int = 20_000,
) -> StubComposer:
    return StubComposer(
        sessionmaker,
        guide,
        sender,
        lambda: now,
        pacing=FAST,
        per_run=per_run,
        sleep=no_sleep,
        scope=scope,
    )
