"""Community benchmark: nudge planning at scale and challenge standings latency.

Run: .venv/bin/python benchmarks/community.py [--members 50000 --guilds 500 --logs 100000]
     [--database-url postgresql+asyncpg://...]

Prints:
- the time to plan one minute of due nudges (`NudgeService.due`) with --members members
  across --guilds guilds, all with nudges on, in 12 timezones, a third on their own slot,
  half of them already nudged this week (target <= 2 s), after a first pass that works
  out every member's next_nudge_at (timed too);
- p50/p95 of `ChallengeService.status` (standings: top 10 + own place) with --logs study
  logs, for the minutes and active-days metrics (target p50 <= 20 ms).
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
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sqlalchemy import insert, text  # noqa: E402

from bot.services.challenges import ChallengeService  # noqa: E402
from bot.services.nudges import NudgeService  # noqa: E402
from knowledge.content import load_guide  # noqa: E402
from storage.engine import make_engine, make_sessionmaker  # noqa: E402
from storage.migrate import upgrade  # noqa: E402
from storage.models import (  # noqa: E402
    Challenge,
    ChallengeParticipant,
    GuildSettings,
    Member,
    NudgeDelivery,
    StudyLog,
)

NOW = datetime(2026, 3, 11, 18, 0, tzinfo=UTC)  # a Wednesday
ZONES = [
    "UTC",
    "Europe/Berlin",
    "Europe/London",
    "America/New_York",
    "America/Los_Angeles",
    "America/Sao_Paulo",
    "Asia/Kolkata",
    "Asia/Tokyo",
    "Asia/Singapore",
    "Australia/Sydney",
    "Pacific/Auckland",
    "Africa/Lagos",
]
CHUNK = 5000


def _ms(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return statistics.median(ordered) * 1000, p95 * 1000


async def _insert(sessionmaker, model, rows: list[dict]) -> None:
    for i in range(0, len(rows), CHUNK):
        async with sessionmaker.begin() as session:
            await session.execute(insert(model), rows[i : i + CHUNK])


async def seed_nudges(sessionmaker, members: int, guilds: int, rng: random.Random) -> None:
    guild_ids = [10_000 + g for g in range(guilds)]
    await _insert(
        sessionmaker,
        GuildSettings,
        [
            {
                "guild_id": g,
                "timezone": rng.choice(ZONES),
                "leaderboard_enabled": True,
                "nudge_weekday": rng.randrange(7),
                "nudge_hour": rng.randrange(24),
                "created_at": NOW,
                "updated_at": NOW,
            }
            for g in guild_ids
        ],
    )
    rows, deliveries = [], []
    for i in range(members):
        guild, user = guild_ids[i % guilds], 1_000_000 + i
        rows.append(
            {
                "guild_id": guild,
                "user_id": user,
                "timezone": rng.choice(ZONES),
                "nudge_enabled": True,
                "nudge_custom": i % 3 == 0,
                "nudge_weekday": rng.randrange(7),
                "nudge_hour": rng.randrange(24),
                "nudge_via": "dm",
                "dm_closed": False,
                "created_at": NOW,
                "updated_at": NOW,
            }
        )
        if i % 2 == 0:
            deliveries.append(
                {
                    "guild_id": guild,
                    "user_id": user,
                    "iso_week": "2026-W11",
                    "status": "sent",
                    "claimed_at": NOW,
                    "sent_at": NOW,
                }
            )
    await _insert(sessionmaker, Member, rows)
    await _insert(sessionmaker, NudgeDelivery, deliveries)


async def seed_challenge(sessionmaker, logs: int, rng: random.Random) -> tuple[int, list[int]]:
    guild, start = 99, NOW - timedelta(days=20)
    people = [5_000_000 + i for i in range(2000)]
    await _insert(
        sessionmaker,
        Member,
        [
            {
                "guild_id": guild,
                "user_id": u,
                "timezone": "UTC",
                "nudge_enabled": False,
                "created_at": start,
                "updated_at": start,
            }
            for u in people
        ],
    )
    await _insert(
        sessionmaker,
        StudyLog,
        [
            {
                "guild_id": guild,
                "user_id": rng.choice(people),
                "minutes": rng.randint(10, 120),
                "topic": "x",
                "logged_at": NOW - timedelta(seconds=rng.randrange(60 * 86400)),
            }
            for _ in range(logs)
        ],
    )
    ids = []
    for metric in ("minutes", "active_days"):
        async with sessionmaker.begin() as session:
            row = Challenge(
                guild_id=guild,
                title=f"bench {metric}",
                metric=metric,
                goal=500,
                starts_at=start,
                ends_at=NOW + timedelta(days=10),
                timezone="Europe/Berlin",
                status="active",
                created_at=start,
            )
            session.add(row)
            await session.flush()
            ids.append(row.id)
        await _insert(
            sessionmaker,
            ChallengeParticipant,
            [
                {"challenge_id": ids[-1], "guild_id": guild, "user_id": u, "joined_at": start}
                for u in people[::2]
            ],
        )
    return guild, ids


async def main(args: argparse.Namespace) -> None:
    workdir = Path(tempfile.mkdtemp(prefix="mentor-bench-"))
    schema = None
    if args.database_url:
        schema = f"bench_{uuid.uuid4().hex[:10]}"
        admin = make_engine(args.database_url)
        async with admin.begin() as conn:
            await conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        await admin.dispose()
        engine = make_engine(
            args.database_url, connect_args={"server_settings": {"search_path": schema}}
        )
    else:
        engine = make_engine(f"sqlite+aiosqlite:///{workdir / 'bench.sqlite3'}")
    try:
        await upgrade(engine)
        sessionmaker = make_sessionmaker(engine)
        guide = load_guide()
        rng = random.Random(7)
        t0 = time.perf_counter()
        await seed_nudges(sessionmaker, args.members, args.guilds, rng)
        guild, challenge_ids = await seed_challenge(sessionmaker, args.logs, rng)
        if engine.dialect.name == "postgresql":  # what autovacuum would do after a bulk load
            async with engine.connect() as conn:
                await conn.execute(text("ANALYZE"))
        print(f"seeded in {time.perf_counter() - t0:.1f} s ({engine.dialect.name})")

        nudges = NudgeService(sessionmaker, guide, lambda: NOW)
        # Seeded rows have next_nudge_at "work it out" (as after a guild-wide change, or an
        # upgrade without the migration's backfill): the first pass reads every member and
        # moves those not due to their slot. Then the steady state is timed.
        t = time.perf_counter()
        backlog = len(await nudges.due(NOW))
        print(
            f"first planning pass over all {args.members:,} members: "
            f"{(time.perf_counter() - t) * 1000:.0f} ms"
        )
        print(f"  (due and not yet sent at {NOW:%a %H:%M} UTC: {backlog:,})")
        samples, due = [], 0
        for _ in range(args.repeat):
            t = time.perf_counter()
            due = len(await nudges.due(NOW, limit=25))
            samples.append(time.perf_counter() - t)
        p50, p95 = _ms(samples)
        print(
            f"plan one minute of nudges ({args.members:,} members, {args.guilds} guilds, "
            f"{due} claimed per minute of the due backlog): p50 {p50:.0f} ms, p95 {p95:.0f} ms "
            "(target <= 2000 ms)"
        )

        challenges = ChallengeService(sessionmaker, guide, lambda: NOW)
        for metric, cid in zip(("minutes", "active_days"), challenge_ids, strict=True):
            samples = []
            await challenges.status(guild, 5_000_000, cid)  # warm the page cache
            for i in range(args.repeat * 5):
                t = time.perf_counter()
                await challenges.status(guild, 5_000_000 + 2 * (i % 1000), cid)
                samples.append(time.perf_counter() - t)
            p50, p95 = _ms(samples)
            print(
                f"challenge status/standings, {metric}, {args.logs:,} logs, 1,000 "
                f"participants: p50 {p50:.1f} ms, p95 {p95:.1f} ms (target p50 <= 20 ms)"
            )
    finally:
        await engine.dispose()
        if schema and args.database_url:
            admin = make_engine(args.database_url)
            async with admin.begin() as conn:
                await conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            await admin.dispose()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=50_000)
    parser.add_argument("--guilds", type=int, default=500)
    parser.add_argument("--logs", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--database-url", default=None)
    asyncio.run(main(parser.parse_args()))
