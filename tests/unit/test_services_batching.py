"""GroupCommit: batching, per-caller results, failures reach every caller of the batch."""

from __future__ import annotations

import asyncio

import pytest

from bot.services.batching import GroupCommit


async def test_concurrent_submissions_share_batches_and_get_their_own_results() -> None:
    batches: list[list[int]] = []

    async def flush(items):
        batches.append(list(items))
        await asyncio.sleep(0.01)
        return [i * 10 for i in items]

    group = GroupCommit(flush, max_batch=8)
    results = await asyncio.gather(*(group.submit(i) for i in range(20)))
    assert results == [i * 10 for i in range(20)]
    assert sorted(i for b in batches for i in b) == list(range(20))
    assert len(batches) < 20
    assert max(len(b) for b in batches) <= 8


async def test_a_lone_caller_is_not_delayed() -> None:
    async def flush(items):
        return list(items)

    group = GroupCommit(flush)
    assert await asyncio.wait_for(group.submit("x"), timeout=1) == "x"
    assert await group.submit("y") == "y"


async def test_a_failed_batch_fails_each_of_its_callers_only() -> None:
    calls = 0

    async def flush(items):
        nonlocal calls
        calls += 1
        if calls == 1:
            raise RuntimeError("disk full")
        return list(items)

    group = GroupCommit(flush)
    first = await asyncio.gather(group.submit(1), group.submit(2), return_exceptions=True)
    assert all(isinstance(r, RuntimeError) for r in first)
    assert await group.submit(3) == 3  # the writer recovers for later callers


async def test_cancelled_caller_is_dropped_before_its_batch_starts() -> None:
    seen: list[int] = []
    gate = asyncio.Event()

    async def flush(items):
        seen.extend(items)
        await gate.wait()
        return list(items)

    group = GroupCommit(flush)
    first = asyncio.ensure_future(group.submit(1))
    await asyncio.sleep(0)  # batch [1] is now in flight
    await asyncio.sleep(0)
    doomed = asyncio.ensure_future(group.submit(2))
    kept = asyncio.ensure_future(group.submit(3))
    await asyncio.sleep(0)
    doomed.cancel()
    gate.set()
    assert await first == 1
    assert await kept == 3
    with pytest.raises(asyncio.CancelledError):
        await doomed
    assert seen == [1, 3]
