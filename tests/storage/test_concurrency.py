"""1,000 concurrent study logs for 50 members through the services: exact totals, no error.

Writers are spread over three service bundles: two sharing one engine (two bots' worth of
services in one process) and one on a second engine (another process on the same
database), so concurrent transactions really race: on member creation, on SQLite's
write lock (busy timeout across engines), and on PostgreSQL's row locks.
"""

from __future__ import annotations

import asyncio
import random

from bot.services.bundle import build_progress_services
from storage.engine import make_sessionmaker
from tests.storage.support import GUILD

MEMBERS = 50
WRITES = 1_000
# Enough concurrency to contend hard and use several pooled connections per engine,
# without queueing hundreds of tasks on the pool's checkout timeout.
CONCURRENCY = 32


async def test_concurrent_logs_are_all_counted(services, sessionmaker, empty_db, guide, clock):
    second_engine = empty_db.engine()
    try:
        bundles = [
            services,
            build_progress_services(sessionmaker, guide, clock),
            build_progress_services(make_sessionmaker(second_engine), guide, clock),
        ]
        rng = random.Random(7)
        users = [10**17 + i for i in range(MEMBERS)]
        writes = [(users[i % MEMBERS], rng.randint(1, 120)) for i in range(WRITES)]
        expected: dict[int, int] = {}
        for user, minutes in writes:
            expected[user] = expected.get(user, 0) + minutes
        gate = asyncio.Semaphore(CONCURRENCY)

        async def write(i: int, user: int, minutes: int) -> None:
            async with gate:
                bundle = bundles[i % len(bundles)]
                # Every member's first log races on member creation across bundles.
                await bundle.study.log(GUILD, user, minutes, f"topic {minutes % 7}")

        await asyncio.gather(*(write(i, u, m) for i, (u, m) in enumerate(writes)))
    finally:
        await second_engine.dispose()

    board = await services.leaderboard.leaderboard(GUILD, "all", limit=MEMBERS)
    assert {e.user_id: e.minutes for e in board.entries} == expected
    # All time reads the running totals on members; "month" sums the logs themselves.
    month = await services.leaderboard.leaderboard(GUILD, "month", limit=MEMBERS)
    assert month.entries == board.entries
    assert sum(e.sessions for e in board.entries) == WRITES
    assert board.total_minutes == sum(expected.values())
    assert board.active_members == MEMBERS
    stats = await services.stats.summary(GUILD, users[0])
    assert stats.all_time.minutes == expected[users[0]]
    assert stats.all_time.sessions == WRITES // MEMBERS
