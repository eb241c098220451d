"""Sharding benchmark on PostgreSQL: planning cost per process of N, read latencies, size.

Run: .venv/bin/python benchmarks/sharding.py --database-url postgresql+asyncpg://...
     [--members 1000000 --guilds 10000 --logs 2000000] [--processes 1 2 4] [--repeat 5]

Seeds a fresh schema server-side (INSERT ... SELECT generate_series, so a million rows
take seconds, not a Python loop), then prints:
- the time for one process of N to plan one minute of due work (nudges, digests,
  challenge announcements: the scheduler's planning) for its shard, N = 1, 2, 4
  (target <= 2 s at N = 1, falling roughly as 1/N); then the same with every due nudge
  planned instead of the 25 pacing takes in a minute (the work that divides by N);
- leaderboard (week / month / all time) and challenge standings p50 in a typical guild
  (target <= 20 ms);
- rows and bytes per member over every table and index, to size the database.
The steady state at the measured instant (Thursday 12:00 UTC): every member whose slot
passed earlier this week was nudged (next_nudge_at: next week's slot); the members whose
slot is this hour are due (about 6,000: one slot of 168).
Not a test: nothing asserts. The schema is dropped afterwards unless --keep.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sqlalchemy import text  # noqa: E402

from bot.services.challenges import ChallengeService  # noqa: E402
from bot.services.community_work import CommunityWork  # noqa: E402
from bot.services.leaderboard import LeaderboardService  # noqa: E402
from bot.services.nudges import NudgeService  # noqa: E402
from knowledge.content import load_guide  # noqa: E402
from storage.engine import make_engine, make_sessionmaker  # noqa: E402
from storage.migrate import upgrade  # noqa: E402
from storage.sharding import ShardScope  # noqa: E402

NOW = datetime(2026, 3, 12, 12, 0, 30, tzinfo=UTC)  # Thursday of ISO week 2026-W11
MONDAY = datetime(2026, 3, 9, tzinfo=UTC)
# Guild i's snowflake: realistic timestamps in the high bits, spread over the shards.
GUILD_SQL = "(((300000000000 + (({i}) % :g) * 7919003) << 22) | ((({i}) % :g) * 4099 % 4194304))"


def _guild(i: int, guilds: int) -> int:
    g = i % guilds
    return ((300_000_000_000 + g * 7_919_003) << 22) | (g * 4_099 % 4_194_304)


async def seed(conn, members: int, guilds: int, logs: int) -> None:
    p = {"m": members, "g": guilds, "l": logs, "now": NOW, "monday": MONDAY}
    # Guild i's digest slot is (i + i // 8) % 168: guild i's shard of N <= 8 depends on
    # i % 8 only (see GUILD_SQL), so each slot's guilds are spread over the shards too.
    await conn.execute(
        text(
            f"""INSERT INTO guild_settings (guild_id, timezone, leaderboard_enabled,
                nudge_weekday, nudge_hour, nudge_channel_id, created_at, updated_at)
            SELECT {GUILD_SQL.format(i="s")}, 'UTC', true, (s + s / 8) % 168 / 24, (s + s / 8) % 24,
                   900000000000000000 + s, :now, :now
            FROM generate_series(CAST(0 AS bigint), :g - 1) s"""
        ),
        p,
    )
    # Member i: guild i % g; week-hour slot q = (i + i // g) % 168 (weekday q // 24 at hour
    # q % 24, UTC), so a slot's members are spread over every guild and shard (with the
    # slot taken from i alone, everyone due at one instant sat in guilds of shard 0 of 4,
    # and N changed nothing). next_nudge_at as the scheduler keeps it: this week's slot,
    # or next week's once the member was nudged.
    await conn.execute(
        text(
            f"""INSERT INTO members (guild_id, user_id, phase, timezone, nudge_enabled,
                nudge_weekday, nudge_hour, nudge_via, dm_closed, nudge_custom,
                digest_opt_out, total_minutes, total_sessions, next_nudge_at, created_at,
                updated_at)
            SELECT {GUILD_SQL.format(i="s")}, 100000000000000000 + s, s % 5, 'UTC', true,
                   (s + s / :g) % 168 / 24, (s + s / :g) % 24, 'dm', false, true, false, 0, 0,
                   slot + CASE WHEN slot < date_trunc('hour', CAST(:now AS timestamptz))
                          THEN interval '7 days' ELSE interval '0' END, :now, :now
            FROM generate_series(CAST(0 AS bigint), :m - 1) s,
                 LATERAL (SELECT CAST(:monday AS timestamptz)
                          + make_interval(days => CAST((s + s / :g) % 168 / 24 AS int),
                                          hours => CAST((s + s / :g) % 24 AS int)) AS slot) t"""
        ),
        p,
    )
    # Steady state: everyone whose slot passed before this hour got this week's nudge.
    await conn.execute(
        text(
            """INSERT INTO nudge_deliveries (guild_id, user_id, iso_week, status, via,
                claimed_at, sent_at, attempts)
            SELECT guild_id, user_id, '2026-W11', 'sent', 'dm', :now, :now, 1
            FROM members
            WHERE CAST(:monday AS timestamptz)
                  + make_interval(days => nudge_weekday, hours => nudge_hour)
                  < date_trunc('hour', CAST(:now AS timestamptz))"""
        ),
        p,
    )
    await conn.execute(
        text(
            """INSERT INTO digest_deliveries (guild_id, iso_week, status, channel_id,
                claimed_at, sent_at, attempts)
            SELECT guild_id, '2026-W11', 'sent', nudge_channel_id, :now, :now, 1
            FROM guild_settings
            WHERE CAST(:monday AS timestamptz) + make_interval(days => nudge_weekday,
                  hours => nudge_hour) < date_trunc('hour', CAST(:now AS timestamptz))"""
        ),
        p,
    )
    # Logs over the last 60 days, for members spread over every guild.
    await conn.execute(
        text(
            f"""INSERT INTO study_logs (guild_id, user_id, minutes, topic, phase, logged_at)
            SELECT {GUILD_SQL.format(i="(s * 7919) % :m")},
                   100000000000000000 + (s * 7919) % :m, 10 + s % 110, 'topic', 1,
                   CAST(:now AS timestamptz) - make_interval(secs => (s * 37) % 5184000)
            FROM generate_series(CAST(0 AS bigint), :l - 1) s"""
        ),
        p,
    )
    await conn.execute(
        text(
            """UPDATE members m SET total_minutes = t.mins, total_sessions = t.n
            FROM (SELECT guild_id, user_id, sum(minutes) mins, count(*) n
                  FROM study_logs GROUP BY guild_id, user_id) t
            WHERE m.guild_id = t.guild_id AND m.user_id = t.user_id"""
        )
    )


async def seed_challenges(conn, guild: int) -> list[int]:
    """Two running challenges in `guild`, every member of it taking part."""
    ids = []
    start = NOW - timedelta(days=20)
    for metric in ("minutes", "active_days"):
        row = await conn.execute(
            text(
                """INSERT INTO challenges (guild_id, title, starts_at, ends_at, created_at,
                    metric, goal, timezone, leagues, count_before_join, status)
                VALUES (:g, :t, :s, :e, :s, :metric, 500, 'UTC', false, true, 'active')
                RETURNING id"""
            ),
            {
                "g": guild,
                "t": f"bench {metric}",
                "s": start,
                "e": NOW + timedelta(days=10),
                "metric": metric,
            },
        )
        cid = row.scalar_one()
        ids.append(cid)
        await conn.execute(
            text(
                """INSERT INTO challenge_participants (challenge_id, user_id, guild_id,
                    joined_at) SELECT :c, user_id, guild_id, :s FROM members
                WHERE guild_id = :g"""
            ),
            {"c": cid, "g": guild, "s": start},
        )
    return ids


def _p50(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


async def plan_minute(sessionmaker, guide, scope: ShardScope, limit: int | None = 25) -> int:
    """The scheduler's planning for one minute: due nudges (what pacing takes in one
    call, or every due one with `limit` None), due digests, due challenge announcements,
    all for `scope`'s guilds."""
    clock = lambda: NOW  # noqa: E731
    nudges = await NudgeService(sessionmaker, guide, clock).due(NOW, limit, scope)
    work = CommunityWork(sessionmaker, guide, clock)
    digests = await work.due_digests(NOW, scope)
    announcements, _ = await work.due_announcements(NOW, scope)
    return len(nudges) + len(digests) + len(announcements)


async def main(args: argparse.Namespace) -> None:
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    admin = make_engine(args.database_url)
    async with admin.begin() as conn:
        await conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine = make_engine(
        args.database_url, connect_args={"server_settings": {"search_path": schema}}
    )
    try:
        await upgrade(engine)
        t0 = time.perf_counter()
        big = _guild(0, args.guilds)
        async with engine.begin() as conn:
            await seed(conn, args.members, args.guilds, args.logs)
            challenge_ids = await seed_challenges(conn, big)
        async with engine.connect() as conn:
            await conn.execute(text("COMMIT"))
            await conn.execute(text("VACUUM ANALYZE"))
        print(
            f"seeded {args.members:,} members in {args.guilds:,} guilds, {args.logs:,} "
            f"logs in {time.perf_counter() - t0:.0f} s"
        )
        sessionmaker = make_sessionmaker(engine)
        guide = load_guide()
        for limit, what in ((25, "plan one minute"), (None, "plan every due nudge")):
            for n in args.processes:
                scope = ShardScope.of(n, {0})
                await plan_minute(sessionmaker, guide, scope, limit)  # warm the cache
                samples, due = [], 0
                for _ in range(args.repeat):
                    t = time.perf_counter()
                    due = await plan_minute(sessionmaker, guide, scope, limit)
                    samples.append(time.perf_counter() - t)
                print(
                    f"{what}, one process of {n} (shard 0 of {n}): p50 "
                    f"{_p50(samples):.1f} ms, max {max(samples) * 1000:.1f} ms "
                    f"({due} items planned)"
                )
        async with engine.connect() as conn:
            backlog = await conn.execute(
                text(
                    "SELECT count(*) FROM members m WHERE NOT EXISTS (SELECT 1 FROM "
                    "nudge_deliveries d WHERE d.guild_id = m.guild_id AND "
                    "d.user_id = m.user_id AND d.iso_week = '2026-W11')"
                )
            )
            print(f"  (members not yet nudged this week: {backlog.scalar():,})")

        clock = lambda: NOW  # noqa: E731
        boards = LeaderboardService(sessionmaker, guide, clock)
        user = 100_000_000_000_000_000  # member 0, in guild 0
        for period in ("week", "month", "all"):
            samples = []
            for _ in range(args.repeat * 4):
                t = time.perf_counter()
                await boards.leaderboard(big, period, user_id=user)
                samples.append(time.perf_counter() - t)
            print(f"leaderboard {period}: p50 {_p50(samples):.1f} ms (target <= 20 ms)")
        challenges = ChallengeService(sessionmaker, guide, clock)
        for metric, cid in zip(("minutes", "active_days"), challenge_ids, strict=True):
            samples = []
            for _ in range(args.repeat * 4):
                t = time.perf_counter()
                await challenges.status(big, user, cid)
                samples.append(time.perf_counter() - t)
            print(f"challenge standings {metric}: p50 {_p50(samples):.1f} ms (target <= 20 ms)")

        async with engine.connect() as conn:
            sizes = await conn.execute(
                text(
                    "SELECT c.relname, c.reltuples::bigint, pg_total_relation_size(c.oid) "
                    "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                    "WHERE n.nspname = :s AND c.relkind = 'r' ORDER BY 3 DESC"
                ),
                {"s": schema},
            )
            rows = sizes.all()
        total_rows = sum(max(r[1], 0) for r in rows)
        total_bytes = sum(r[2] for r in rows)
        print(
            f"database: {total_bytes / 2**20:,.0f} MiB, {total_rows:,} rows; per member "
            f"{total_rows / args.members:.1f} rows, {total_bytes / args.members:,.0f} bytes"
        )
        for name, count, size in rows[:5]:
            print(f"  {name}: {max(count, 0):,} rows, {size / 2**20:,.1f} MiB")
    finally:
        await engine.dispose()
        if not args.keep:
            async with admin.begin() as conn:
                await conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        await admin.dispose()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--members", type=int, default=1_000_000)
    parser.add_argument("--guilds", type=int, default=10_000)
    parser.add_argument("--logs", type=int, default=2_000_000)
    parser.add_argument("--processes", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--keep", action="store_true", help="keep the schema afterwards")
    asyncio.run(main(parser.parse_args()))
