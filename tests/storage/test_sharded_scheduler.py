"""Several scheduler instances over one PostgreSQL database, each owning a shard range.

What must hold with more than one bot process: every due nudge is sent exactly once
across all instances, each from the instance that holds the guild's shard; a process
killed mid-run (SIGKILL) and restarted loses and doubles nothing; two processes given the
same shard range by mistake still never double-send (the claim keys are the guard).
PostgreSQL only: several processes on SQLite are refused at start.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.services.scheduler import UNKNOWN_OUTCOME
from storage.engine import make_engine, make_sessionmaker
from storage.models import NudgeDelivery
from storage.sharding import ShardScope, shard_of
from tests.storage.conftest import GUIDE_FILES
from tests.storage.shard_support import (
    SLOT,
    WEEK,
    FileSender,
    MemorySender,
    populate,
    scheduler,
)

ROOT = Path(__file__).resolve().parents[2]
POSTGRES_ONLY = pytest.mark.parametrize(
    "empty_db", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)
NOW = SLOT + timedelta(minutes=1)


def _fast_engine(empty_db):
    """Another process's engine. `synchronous_commit=off` only skips waiting for the WAL
    flush: commits are still visible to everyone at once and survive a client's death
    (only a server crash could lose them), so the tests stay honest and fast."""
    args = dict(empty_db.connect_args)
    args["server_settings"] = {**args.get("server_settings", {}), "synchronous_commit": "off"}
    return make_engine(empty_db.url, connect_args=args, pool_pre_ping=False)


def _outbox(path: Path) -> list[tuple[str, str]]:
    if not path.exists():
        return []
    return [tuple(line.split(" ", 1)) for line in path.read_text().splitlines()]  # type: ignore[misc]


def _key(guild_id: int, user_id: int) -> str:
    return f"nudge:{guild_id}:{user_id}:{WEEK}"


async def _drain(instance) -> None:
    while (await instance.run_due_work(NOW)).sent:
        pass


async def _rows(sessionmaker) -> list[NudgeDelivery]:
    async with sessionmaker() as session:
        return list((await session.execute(select(NudgeDelivery))).scalars())


@POSTGRES_ONLY
async def test_two_instances_split_the_work_exactly(empty_db, sessionmaker, guide) -> None:
    # 10,000 members in 200 guilds are planned every pass; a quarter are due now (the rest
    # chose Thursday): 2,500 deliveries keep the test fast on a shared 2-core machine,
    # where each delivery costs two committed transactions (all 10,000 due took ~50 s).
    members = await populate(sessionmaker, guilds=200, members_per_guild=50, due_every=4)
    assert len(members) == 2_500
    scopes = {"a": ShardScope.of(4, {0, 1}), "b": ShardScope.of(4, {2, 3})}
    engines = [_fast_engine(empty_db), _fast_engine(empty_db)]
    senders = {"a": MemorySender("a"), "b": MemorySender("b")}
    try:
        instances = [
            scheduler(make_sessionmaker(e), guide, senders[n], NOW, scopes[n])
            for e, n in zip(engines, scopes, strict=True)
        ]
        await asyncio.gather(*(_drain(i) for i in instances))
    finally:
        for e in engines:
            await e.dispose()

    sent = senders["a"].sent + senders["b"].sent
    by_key = Counter(key for _, key in sent)
    assert len(sent) == 2_500
    assert set(by_key) == {_key(g, u) for g, u in members}
    assert max(by_key.values()) == 1  # exactly once across both instances
    for name, key in sent:  # ...and from the instance that holds the guild's shard
        guild = int(key.split(":")[1])
        assert shard_of(guild, 4) in scopes[name].ids
    assert Counter(name for name, _ in sent)["a"] not in (0, 2_500)
    assert {r.status for r in await _rows(sessionmaker)} == {"sent"}


@POSTGRES_ONLY
async def test_same_range_twice_never_doubles(empty_db, sessionmaker, guide) -> None:
    members = await populate(sessionmaker, guilds=40, members_per_guild=40)
    scope = ShardScope.of(2, {0})  # both processes were given shard 0 by mistake
    engines = [_fast_engine(empty_db), _fast_engine(empty_db)]
    senders = [MemorySender("a"), MemorySender("b")]
    try:
        instances = [
            # Small batches, so the two race for the same rows batch after batch.
            scheduler(make_sessionmaker(e), guide, s, NOW, scope, per_run=50)
            for e, s in zip(engines, senders, strict=True)
        ]
        await asyncio.gather(*(_drain(i) for i in instances))
    finally:
        for e in engines:
            await e.dispose()

    mine = {_key(g, u) for g, u in members if scope.owns(g)}
    by_key = Counter(key for _, key in senders[0].sent + senders[1].sent)
    assert set(by_key) == mine
    assert max(by_key.values()) == 1
    assert len(await _rows(sessionmaker)) == len(mine)  # shard 1's guilds were left alone


async def _child(empty_db, tmp_path: Path, now, name: str) -> asyncio.subprocess.Process:
    guide_dir = tmp_path / "guide"
    guide_dir.mkdir(exist_ok=True)
    for file, body in GUIDE_FILES.items():
        (guide_dir / file).write_text(body, encoding="utf-8")
    config = {
        "url": empty_db.url,
        "connect_args": empty_db.connect_args,
        "now": now.isoformat(),
        "count": 2,
        "ids": [0],
        "guide": str(guide_dir),
        "outbox": str(tmp_path / "outbox.txt"),
        "name": name,
    }
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.storage.shard_child",
        json.dumps(config),
        cwd=ROOT,
        stderr=asyncio.subprocess.PIPE,
    )


@POSTGRES_ONLY
async def test_killed_instance_restarts_without_loss_or_double(
    empty_db, sessionmaker, guide, tmp_path
) -> None:
    members = await populate(sessionmaker, guilds=40, members_per_guild=25)
    outbox = tmp_path / "outbox.txt"
    a_scope, b_scope = ShardScope.of(2, {0}), ShardScope.of(2, {1})

    child = await _child(empty_db, tmp_path, NOW, "a")
    # Instance b works its own shard in this process meanwhile.
    b_engine = _fast_engine(empty_db)
    other = asyncio.create_task(
        _drain(scheduler(make_sessionmaker(b_engine), guide, FileSender(outbox, "b"), NOW, b_scope))
    )
    for _ in range(600):  # kill a mid-run: some of its nudges sent, most not
        if sum(1 for n, _ in _outbox(outbox) if n == "a") >= 100:
            break
        await asyncio.sleep(0.05)
    os.kill(child.pid, signal.SIGKILL)
    await child.wait()
    assert child.returncode == -signal.SIGKILL
    await other
    await b_engine.dispose()
    sent_before = sum(1 for n, _ in _outbox(outbox) if n == "a")
    assert 100 <= sent_before < sum(1 for g, _ in members if a_scope.owns(g))

    # Restarted at once: its claims are fresh, so nothing is taken twice; after the
    # stale-claim timeout (10 min) the restarted process finishes what the dead one left.
    for minutes in (1, 11):
        restarted = await _child(empty_db, tmp_path, NOW + timedelta(minutes=minutes), "a")
        _, stderr = await asyncio.wait_for(restarted.communicate(), 120)
        assert restarted.returncode == 0, stderr.decode()[-2000:]

    sent = _outbox(outbox)
    by_key = Counter(key for _, key in sent)
    assert max(by_key.values()) == 1  # never doubled
    rows = {(r.guild_id, r.user_id): r for r in await _rows(sessionmaker)}
    unknown = [k for k, r in rows.items() if r.status == "skipped"]
    # At most the one send in flight at the kill is "outcome unknown" (at-most-once,
    # recorded with its reason); every other nudge of every guild was delivered.
    assert len(unknown) <= 1
    assert all(rows[k].error == UNKNOWN_OUTCOME for k in unknown)
    assert set(rows) == set(members)
    for g, u in members:
        if (g, u) not in unknown:
            assert rows[(g, u)].status == "sent"
            assert by_key[_key(g, u)] == 1
    for name, key in sent:
        assert ShardScope.of(2, {0} if name == "a" else {1}).owns(int(key.split(":")[1]))
