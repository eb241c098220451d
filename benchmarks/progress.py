"""Progress storage benchmark: write throughput, query latency, database size.

Run: .venv/bin/python benchmarks/progress.py [--logs 100000 --members 5000 ...]

Everything goes through the real services and a real database file (SQLite by default,
or --database-url postgresql+asyncpg://... ), and the figures printed are:
- study-log writes per second with concurrent writers (target >= 1,000/s on SQLite) and
  with a single sequential writer, for comparison;
- p50/p95 latency of the leaderboards (week, month, all time, with the asker's rank) and
  of a member's stats summary and streak, with --logs logs across --members members
  (target p50 <= 20 ms);
- database size per 100k logs (SQLite only).
Not a test: nothing asserts; the numbers are for humans and the issue's targets.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sqlalchemy import insert  # noqa: E402
from sqlalchemy.ext.asyncio import AsyncEngine  # noqa: E402

from bot.services.bundle import ProgressServices, build_progress_services  # noqa: E402
from knowledge.content import Guide, load_guide  # noqa: E402
from storage.engine import make_engine, make_sessionmaker, transaction  # noqa: E402
from storage.migrate import upgrade  # noqa: E402
from storage.models import Member, StudyLog  # noqa: E402
from storage.repositories import MemberRepository  # noqa: E402

GUILD = 424_242_424_242_424_242
TOPICS = ["backprop", "linear algebra", "pytorch", "sql", "statistics", "mlops", "numpy"]
NOW = datetime(2026, 3, 18, 12, 0, tzinfo=UTC)

MINI_GUIDE = """---
title: Foundations
phase: 1
kind: roadmap
milestones:
  - {id: p1-backprop, title: Backprop}
---
# Foundations
"""


def _guide(workdir: Path) -> Guide:
    """The bundled guide if it loads, else a one-file stand-in (only phases matter here)."""
    try:
        return load_guide()
    except Exception:
        root = workdir / "guide"
        root.mkdir(exist_ok=True)
        (root / "phase-1.md").write_text(MINI_GUIDE, encoding="utf-8")
        return load_guide(root)


def _percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return statistics.median(ordered) * 1000, p95 * 1000


async def bench_writes(
    services: ProgressServices, writes: int, concurrency: int, members: int
) -> float:
    """Logs per second through StudyLogService.log with `concurrency` writers."""
    gate = asyncio.Semaphore(concurrency)
    rng = random.Random(1)

    async def one(i: int) -> None:
        async with gate:
            user = 10**17 + rng.randrange(members)
            await services.study.log(GUILD + 1 + concurrency, user, 30, TOPICS[i % len(TOPICS)])

    start = time.perf_counter()
    await asyncio.gather(*(one(i) for i in range(writes)))
    return writes / (time.perf_counter() - start)


async def populate(sessionmaker, logs: int, members: int) -> None:
    """Bulk-load `logs` logs over the last ~26 weeks for `members` members (Core executemany)."""
    rng = random.Random(42)
    users = [10**17 + i for i in range(members)]
    async with transaction(sessionmaker, write=True) as session:
        await session.execute(
            insert(Member),
            [
                {
                    "guild_id": GUILD,
                    "user_id": u,
                    "phase": rng.randint(0, 3),
                    "timezone": rng.choice(["UTC", "Europe/Berlin", "Asia/Tokyo"]),
                    "nudge_enabled": False,
                    "nudge_weekday": 0,
                    "nudge_hour": 18,
                    "nudge_via": "dm",
                    "dm_closed": False,
                    "total_minutes": 0,
                    "total_sessions": 0,
                    "created_at": NOW,
                    "updated_at": NOW,
                }
                for u in users
            ],
        )
    batch = 10_000
    for offset in range(0, logs, batch):
        rows = [
            {
                "guild_id": GUILD,
                "user_id": rng.choice(users),
                "minutes": rng.randint(5, 180),
                "topic": rng.choice(TOPICS),
                "note": "worked through the exercises" if rng.random() < 0.3 else None,
                "link": "https://example.com/notes" if rng.random() < 0.1 else None,
                "phase": rng.randint(0, 3),
                "logged_at": NOW - timedelta(seconds=rng.randrange(182 * 86_400)),
            }
            for _ in range(min(batch, logs - offset))
        ]
        async with transaction(sessionmaker, write=True) as session:
            await session.execute(insert(StudyLog), rows)
    # The bulk load bypassed the services: rebuild the members' running totals.
    async with transaction(sessionmaker, write=True) as session:
        await MemberRepository(session).recompute_totals(GUILD)


async def bench_query(
    name: str, fn: Callable[[int], Awaitable[object]], runs: int, members: int
) -> None:
    rng = random.Random(7)
    await fn(10**17)  # warm caches and the statement cache
    samples = []
    for _ in range(runs):
        user = 10**17 + rng.randrange(members)
        start = time.perf_counter()
        await fn(user)
        samples.append(time.perf_counter() - start)
    p50, p95 = _percentiles(samples)
    print(f"  {name:<34} p50 {p50:7.2f} ms   p95 {p95:7.2f} ms")


async def _admin(url: str, sql: str) -> None:
    engine = make_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.exec_driver_sql(sql)
    finally:
        await engine.dispose()


async def main(args: argparse.Namespace) -> None:
    workdir = Path(tempfile.mkdtemp(prefix="mentor-bench-"))
    try:
        await run(args, workdir)
    finally:
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)


async def run(args: argparse.Namespace, workdir: Path) -> None:
    url = args.database_url or f"sqlite+aiosqlite:///{workdir / 'bench.sqlite3'}"
    sqlite = url.startswith("sqlite")
    schema = f"bench_{uuid.uuid4().hex[:12]}"
    if sqlite:
        engine = make_engine(url)
    else:  # a private schema, dropped at the end: never touches the database's own tables
        await _admin(url, f'CREATE SCHEMA "{schema}"')
        engine = make_engine(url, connect_args={"server_settings": {"search_path": schema}})
    try:
        await _run(args, workdir, engine, sqlite)
    finally:
        await engine.dispose()
        if not sqlite:
            await _admin(url, f'DROP SCHEMA "{schema}" CASCADE')


async def _run(args: argparse.Namespace, workdir: Path, engine: AsyncEngine, sqlite: bool) -> None:
    url = engine.url.render_as_string(hide_password=True)
    await upgrade(engine)
    sessionmaker = make_sessionmaker(engine)
    services = build_progress_services(sessionmaker, _guide(workdir), lambda: NOW)
    backend = "SQLite" if sqlite else engine.dialect.name
    print(f"Database: {backend} ({url})")

    print(f"Writes ({args.writes:,} study logs through StudyLogService.log):")
    for concurrency in (1, args.concurrency):
        rate = await bench_writes(services, args.writes, concurrency, args.members)
        print(f"  {concurrency:>3} concurrent writer(s): {rate:8,.0f} writes/s")

    size_before = (workdir / "bench.sqlite3").stat().st_size if sqlite else 0
    start = time.perf_counter()
    await populate(sessionmaker, args.logs, args.members)
    print(
        f"Loaded {args.logs:,} logs for {args.members:,} members in "
        f"{time.perf_counter() - start:.1f} s (bulk insert)"
    )
    if sqlite:
        async with engine.connect() as conn:
            await conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        grown = (workdir / "bench.sqlite3").stat().st_size - size_before
        per_100k = grown / args.logs * 100_000
        print(
            f"Database size: {per_100k / 2**20:.1f} MiB per 100k logs "
            f"({grown / args.logs:.0f} bytes per log incl. indexes and members)"
        )

    leaderboard = services.leaderboard.leaderboard
    print(f"Query latency ({args.runs} runs each, {args.logs:,} logs, {args.members:,} members):")
    for period in ("week", "month", "all"):

        async def board(user: int, period: str = period) -> object:
            return await leaderboard(GUILD, period, limit=10, user_id=user)

        await bench_query(f"leaderboard {period} (+ your rank)", board, args.runs, args.members)

    async def summary(user: int) -> object:
        return await services.stats.summary(GUILD, user)

    async def streak(user: int) -> object:
        return await services.stats.streak(GUILD, user)

    await bench_query("stats summary (weeks, topics, chart)", summary, args.runs, args.members)
    await bench_query("streak", streak, args.runs, args.members)
    if args.keep:
        print(f"(files kept in {workdir})")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--logs", type=int, default=100_000)
    parser.add_argument("--members", type=int, default=5_000)
    parser.add_argument("--writes", type=int, default=5_000)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument(
        "--database-url", default=None, help="e.g. postgresql+asyncpg://... (default: SQLite)"
    )
    parser.add_argument("--keep", action="store_true", help="keep the SQLite file afterwards")
    return parser.parse_args()


if __name__ == "__main__":
    asyncio.run(main(parse_args()))
