"""The bot's heartbeat writer: per-shard gateway state, database probe, closing beat."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from pathlib import Path

from bot.discord.heartbeat import HeartbeatWriter, shard_states
from bot.health import heartbeat_path, read_heartbeat


@dataclass
class FakeShard:
    closed: bool

    def is_closed(self) -> bool:
        return self.closed


@dataclass
class FakeWebSocket:
    open: bool


@dataclass
class FakeClient:
    """The few attributes of discord.Client / AutoShardedClient the writer reads."""

    closed: bool = False
    ready: bool = True
    ws: FakeWebSocket | None = field(default_factory=lambda: FakeWebSocket(True))
    shard_id: int | None = None
    shards: dict[int, FakeShard] | None = None

    def is_closed(self) -> bool:
        return self.closed

    def is_ready(self) -> bool:
        return self.ready


def test_an_unsharded_client_is_one_shard_connected_while_its_socket_is_open() -> None:
    assert shard_states(FakeClient()) == {"0": True}  # type: ignore[arg-type]
    assert shard_states(FakeClient(ws=FakeWebSocket(False))) == {"0": False}  # type: ignore[arg-type]
    assert shard_states(FakeClient(ready=False)) == {"0": False}  # type: ignore[arg-type]
    assert shard_states(FakeClient(ws=None)) == {"0": False}  # type: ignore[arg-type]
    assert shard_states(FakeClient(closed=True)) == {}  # type: ignore[arg-type]


def test_a_sharded_client_reports_every_shard() -> None:
    client = FakeClient(shards={0: FakeShard(False), 1: FakeShard(True), 2: FakeShard(False)})
    assert shard_states(client) == {"0": True, "1": False, "2": True}  # type: ignore[arg-type]


async def test_the_writer_beats_with_the_probe_result_and_ends_with_every_shard_down(
    tmp_path: Path,
) -> None:
    client = FakeClient(shards={0: FakeShard(False), 1: FakeShard(False)})
    answers = iter(["OperationalError: database is locked", None])
    loaded = [False]

    async def probe() -> str | None:
        return next(answers, None)

    writer = HeartbeatWriter(
        client,  # type: ignore[arg-type]
        tmp_path,
        index_loaded=lambda: loaded[0],
        database=probe,
        interval=0.05,
    )
    writer.start()
    path = heartbeat_path(tmp_path)
    for _ in range(100):
        if path.exists():
            break
        await asyncio.sleep(0.01)
    first = read_heartbeat(path)
    assert first is not None
    assert first.shards == {"0": True, "1": True}
    assert not first.database
    assert "locked" in first.database_error
    loaded[0] = True
    for _ in range(100):
        current = read_heartbeat(path)
        if current is not None and current.database and current.index_loaded:
            break
        await asyncio.sleep(0.01)
    else:
        raise AssertionError("the writer never reported the database back and the index loaded")
    await writer.stop()
    last = read_heartbeat(path)
    assert last is not None
    assert last.shards == {"0": False, "1": False}


async def test_a_probe_that_raises_marks_the_database_down_and_keeps_beating(
    tmp_path: Path,
) -> None:
    async def probe() -> str | None:
        raise RuntimeError("pool exhausted")

    writer = HeartbeatWriter(
        FakeClient(),  # type: ignore[arg-type]
        tmp_path,
        index_loaded=lambda: True,
        database=probe,
        interval=0.02,
    )
    writer.start()
    await asyncio.sleep(0.1)
    await writer.stop()
    last = read_heartbeat(heartbeat_path(tmp_path))
    assert last is not None
    assert not last.database
    assert "pool exhausted" in last.database_error
