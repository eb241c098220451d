"""The bot's half of `mentor health`: write what it knows about itself, every few seconds.

Kept out of `bot.discord.app` so the bot class only starts and stops a `HeartbeatWriter`.
Gateway state is read per shard: an `AutoShardedBot` reports each of its shards, a plain
bot its single connection. A beat is also written at once when the gateway connects,
resumes or drops (so a lost connection shows within a second, not an interval later), and
a final one with every shard down when the bot closes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import discord
from discord.ext import commands
from sqlalchemy import text

from bot.discord.context import BotServices
from bot.health import (
    DATABASE_TIMEOUT,
    HEARTBEAT_INTERVAL,
    Heartbeat,
    heartbeat_path,
    read_heartbeat,
    write_heartbeat,
)

log = logging.getLogger("mentor.discord.heartbeat")

# Returns None when the database answered, else a one-line reason.
DatabaseProbe = Callable[[], Awaitable[str | None]]


def shard_states(client: discord.Client) -> dict[str, bool]:
    """shard id -> connected, for a sharded or an unsharded client."""
    if client.is_closed():
        return {}
    shards = getattr(client, "shards", None)
    if isinstance(shards, dict) and shards:
        return {str(shard_id): not info.is_closed() for shard_id, info in shards.items()}
    ws = getattr(client, "ws", None)
    connected = ws is not None and bool(getattr(ws, "open", False)) and client.is_ready()
    return {str(client.shard_id or 0): connected}


class HeartbeatWriter:
    def __init__(
        self,
        client: discord.Client,
        data_dir: Path,
        *,
        index_loaded: Callable[[], bool],
        database: DatabaseProbe | None = None,
        interval: float | None = None,
    ) -> None:
        self.client = client
        self.path = heartbeat_path(data_dir)
        self.index_loaded = index_loaded
        self.database = database
        self.interval = HEARTBEAT_INTERVAL if interval is None else interval
        self._task: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()
        self._database_error: str | None = "not checked yet"

    def start(self) -> None:
        if self._task is None or self._task.done():
            self._stopping = asyncio.Event()
            self._task = asyncio.create_task(self._run(), name="mentor-heartbeat")

    async def _run(self) -> None:
        while not self._stopping.is_set():
            await self._probe()
            self.beat()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self.interval)

    async def _probe(self) -> None:
        if self.database is None:
            self._database_error = None
            return
        try:
            self._database_error = await self.database()
        except Exception as exc:  # the probe must never stop the heartbeat
            self._database_error = f"{type(exc).__name__}: {exc}"

    def beat(self, *, closing: bool = False) -> None:
        """Write the current state now (cheap: no I/O besides one small file)."""
        if closing:  # every shard the last beat named, now down
            shards = dict.fromkeys(_known_shards(self.path), False)
        else:
            shards = shard_states(self.client)
        beat = Heartbeat(
            timestamp=time.time(),
            pid=os.getpid(),
            shards=shards,
            database=self._database_error is None,
            database_error=self._database_error or "",
            index_loaded=self.index_loaded(),
        )
        try:
            write_heartbeat(self.path, beat)
        except OSError as exc:
            log.warning("cannot write the heartbeat %s: %s", self.path, exc)

    async def stop(self) -> None:
        """Stop beating and leave a last beat saying the gateway is down.

        A database probe in flight is let finish (bounded by its own timeout) rather than
        cancelled: a cancelled aiosqlite call still completes in its thread later, and by
        then the event loop may be gone."""
        if self._task is not None:
            self._stopping.set()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._task, DATABASE_TIMEOUT + 1)
            self._task = None
        self.beat(closing=True)


def attach_heartbeat(bot: commands.Bot, services: BotServices, data_dir: Path) -> HeartbeatWriter:
    """Create, wire and start the writer for `bot` (called from its `setup_hook`)."""

    async def database() -> str | None:
        try:
            async with asyncio.timeout(DATABASE_TIMEOUT):
                async with services.progress.sessionmaker() as session:
                    await session.execute(text("SELECT 1"))
        except TimeoutError:
            return f"no answer within {DATABASE_TIMEOUT:.0f} s"
        except Exception as exc:
            return f"{type(exc).__name__}: {exc}".splitlines()[0]
        return None

    writer = HeartbeatWriter(
        bot, data_dir, index_loaded=lambda: services.engine.ready, database=database
    )

    async def changed(*_: object) -> None:
        writer.beat()

    for event in (
        "on_ready",
        "on_resumed",
        "on_disconnect",
        "on_shard_ready",
        "on_shard_resumed",
        "on_shard_disconnect",
    ):
        bot.add_listener(changed, event)
    writer.start()
    return writer


def _known_shards(path: Path) -> list[str]:
    previous = read_heartbeat(path)
    return list(previous.shards) if previous and previous.shards else ["0"]
