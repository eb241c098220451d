"""Two `mentor run` processes, one shard each of MENTOR_SHARD_COUNT=2, over one PostgreSQL
database, against a twin whose gateway is routed by shard (twin.mjs with TWIN_SHARD_COUNT=2,
shard_router.mjs): the multi-process deployment of the README's Sharding section, over the
wire.

What it proves: each process identifies with its own shard, receives only its shard's guild
and reports that shard connected; a question @mentioning the bot is delivered only to the
process holding its guild's shard and answered once, by that process (the twin's REST proxy
records which process sent each request); application commands are synced once, by the
process holding shard 0, and the "already synced" marker lands in the shared database; a
nudge due in each guild when the processes start (seeded in the shared database; the
scheduler's first pass runs once connected) goes out once, from the guild's own process.
"""

from __future__ import annotations

import asyncio
import inspect
import os
from collections.abc import Callable
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from bot.health import heartbeat_path, read_heartbeat
from bot.services.bundle import build_progress_services
from bot.services.clock import utc_now
from bot.services.guild_config import GuildConfigService
from knowledge.content import load_guide
from storage.engine import make_engine, make_sessionmaker
from storage.migrate import upgrade
from tests.e2e.conftest import Twin, launch_twin
from tests.e2e.test_health_and_stop import (
    bot_env,
    bot_process,
    health,
    stop,
    wait_healthy,
)
from tests.storage.support import fresh_schema

pytestmark = pytest.mark.asyncio(loop_scope="package")
PG_ENV = "TEST_DATABASE_URL"
SHARDS = 2
NUDGES = ("nudges", "lounge-nudges")  # each guild's nudge channel, by shard
COMMANDS_PUT = r"^/api/v10/applications/\d+/guilds/\d+/commands$"


async def sync_markers(url: str, schema: str) -> list[str]:
    """The command-sync markers in the shared database (table bot_state)."""
    engine = make_engine(url, connect_args={"server_settings": {"search_path": schema}})
    try:
        async with engine.connect() as connection:
            rows = await connection.execute(
                text("SELECT key FROM bot_state WHERE key LIKE 'commands:%'")
            )
            return [row[0] for row in rows]
    finally:
        await engine.dispose()


async def wait_for(check: Callable[[], Any], what: str, limit: float = 20) -> Any:
    """Poll `check` (plain or async) until it returns something truthy; fail naming `what`
    after `limit` seconds. A condition, not a sleep: it returns as soon as it holds."""
    deadline = asyncio.get_running_loop().time() + limit
    while True:
        result = check()
        if inspect.isawaitable(result):
            result = await result
        if result:
            return result
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


async def seed_due_nudges(
    url: str, schema: str, guide_dir: Path, due: dict[int, tuple[int, int]]
) -> None:
    """Migrate the shared schema and make, per guild id, member `due[g][0]` due for a nudge
    in channel `due[g][1]` now: slot = this UTC hour, so the scheduler's first pass (as soon
    as a process is connected) sends it, with no clock to drive and nothing to wait for.
    (Only a seed in the last seconds of a Sunday UTC would miss: the slot is then next week's.)"""
    engine = make_engine(url, connect_args={"server_settings": {"search_path": schema}})
    try:
        await upgrade(engine)
        sessionmaker = make_sessionmaker(engine)
        guide = await asyncio.to_thread(load_guide, guide_dir)
        nudges = build_progress_services(sessionmaker, guide).nudges
        config = GuildConfigService(sessionmaker, guide, utc_now)
        now = utc_now()
        for guild_id, (user_id, channel_id) in due.items():
            await config.set_nudge_channel(guild_id, channel_id)
            await nudges.set_preferences(
                guild_id, user_id, enabled=True, weekday=now.weekday(), hour=now.hour, via="channel"
            )
    finally:
        await engine.dispose()


def log_of(root: Path) -> str:
    return (root / "bot.log").read_text(errors="replace")


async def test_two_shard_processes_each_serve_their_own_guild(tmp_path: Path) -> None:
    url = os.environ.get(PG_ENV)
    if not url:
        pytest.skip(
            f"{PG_ENV} is not set: two shard processes need PostgreSQL (the bot refuses a "
            "split shard range on SQLite); CI sets it"
        )
    async with (
        fresh_schema(url, prefix="e2e") as schema,
        launch_twin(tmp_path / "twin.log", shard_count=SHARDS) as twin,
        AsyncExitStack() as stack,
    ):
        guild = {g["shard"]: g for g in twin.info["guilds"]}
        assert sorted(guild) == [0, 1]  # the twin made one guild per shard
        roots = [tmp_path / f"shard{shard}" for shard in range(SHARDS)]
        processes, envs = [], []
        for shard, root in enumerate(roots):
            env = {
                **bot_env(twin, root),
                "DATABASE_URL": url,
                "MENTOR_TEST_PG_SCHEMA": schema,
                "MENTOR_SHARD_COUNT": str(SHARDS),
                "MENTOR_SHARD_IDS": str(shard),
            }
            envs.append(env)
        carol = int(twin.user("carol"))
        await seed_due_nudges(
            url,
            schema,
            roots[0] / "guide",
            {int(guild[s]["id"]): (carol, int(twin.channel(NUDGES[s]))) for s in range(SHARDS)},
        )
        for shard, (root, env) in enumerate(zip(roots, envs, strict=True)):
            processes.append(
                await stack.enter_async_context(
                    bot_process(twin, root, env=env, front_url=twin.front_url_for(f"p{shard}"))
                )
            )
        try:
            await asyncio.gather(
                *(wait_healthy(r, p) for r, p in zip(roots, processes, strict=True))
            )
            await check_connections(twin, roots, guild)
            reports = await asyncio.gather(*(asyncio.to_thread(health, e) for e in envs))
            for report in reports:  # the operator's view: each process, its one shard
                assert report.returncode == 0, report.stdout + report.stderr
                assert report.stdout.startswith("gateway: ok (connected, 1 shard(s)")
            await check_questions(twin, guild)
            await check_command_sync(twin, roots, url, schema)
            await check_nudges(twin, carol)
            # Last, after everything above had time to happen: still one answer per question
            # and one nudge per guild (no second process sent one late).
            for channel in ("general", "lounge"):
                posted = await twin.call("botMessages", channelId=twin.channel(channel))
                assert len(posted) == 1, (channel, posted)
            for channel in NUDGES:
                assert len(await nudges_in(twin, channel, carol)) == 1
        finally:
            results = [await stop(p) for p in processes if p.returncode is None]
        for root in roots:
            assert "Traceback" not in log_of(root), log_of(root)[-3000:]
        assert [code for code, _ in results] == [0] * SHARDS


async def check_connections(twin: Twin, roots: list[Path], guild: dict[int, Any]) -> None:
    """Each process connected its own shard, and the gateway gave it only its guild."""
    for shard, root in enumerate(roots):
        beat = read_heartbeat(heartbeat_path(root / "data"))
        assert beat is not None
        assert beat.shards == {str(shard): True}  # what `mentor health` reports per shard
    routing = await twin.call("shardRouting")
    assert sorted(i["shard"] for i in routing["identified"]) == [[0, SHARDS], [1, SHARDS]]
    created = {
        (d["shard"], d["guildId"]) for d in routing["deliveries"] if d["event"] == "GUILD_CREATE"
    }
    assert created == {(0, guild[0]["id"]), (1, guild[1]["id"])}
    for shard, root in enumerate(roots):
        ready = f"shard {shard}/{SHARDS} ready with 1 guilds"
        await wait_for(lambda r=root, s=ready: s in log_of(r), f"{ready!r} in the log")
    # A process started without MENTOR_SHARD_COUNT would ask Discord how many shards to run.
    async with twin.session.get(
        twin.info["frontUrl"] + "/v10/gateway/bot",
        headers={"Authorization": f"Bot {twin.info['botToken']}"},
    ) as response:
        assert (await response.json())["shards"] == SHARDS


async def check_questions(twin: Twin, guild: dict[int, Any]) -> None:
    """A mention in each guild reaches, and is answered by, only the guild's own process."""
    bot_id = twin.info["botUserId"]
    questions = {
        0: ("general", "How do I serve a model with FastAPI?"),
        1: ("lounge", "How do I detect data drift with Evidently?"),
    }
    sent = {}
    for shard, (channel, question) in questions.items():
        assert twin.channel(channel) in guild[shard]["channels"].values()
        sent[shard] = await twin.call(
            "sendMessage",
            userId=twin.user("alice"),
            channelId=twin.channel(channel),
            content=f"<@{bot_id}> {question}",
        )
    for shard, (channel, question) in questions.items():
        [answer] = await twin.bot_messages(sent[shard]["id"], channel=channel)
        assert answer["embeds"][0]["title"] == question
        posts = await twin.sent_requests(
            "POST", rf"^/api/v10/channels/{twin.channel(channel)}/messages$"
        )
        assert [p["via"] for p in posts] == [f"p{shard}"]
    routing = await twin.call("shardRouting")
    for shard in questions:
        got = [
            d["shard"]
            for d in routing["deliveries"]
            if d["event"] == "MESSAGE_CREATE" and d["id"] == sent[shard]["id"]
        ]
        assert got == [shard]  # the other process never saw the question


async def check_command_sync(twin: Twin, roots: list[Path], url: str, schema: str) -> None:
    """Commands are the application's, not a shard's: only the shard-0 process syncs."""
    marker = f"commands:guild-{twin.guild_id}"
    await wait_for(lambda: sync_markers(url, schema), "the command-sync marker")
    assert await sync_markers(url, schema) == [marker]
    puts = await twin.sent_requests("PUT", COMMANDS_PUT)
    assert [p["via"] for p in puts] == ["p0"]
    assert "synced" in log_of(roots[0])
    assert "application commands" not in log_of(roots[1])


async def nudges_in(twin: Twin, channel: str, carol: int) -> list[dict[str, Any]]:
    """Carol's nudges among the bot's posts in `channel` (the weekly digest may be there too:
    it is due from its own weekly slot on, which depends on the day the test runs)."""
    posted = await twin.call("botMessages", channelId=twin.channel(channel))
    return [m for m in posted if m["content"].startswith(f"<@{carol}> ")]


async def check_nudges(twin: Twin, carol: int) -> None:
    """The due nudge in each guild was posted by the process holding the guild's shard."""
    for shard, channel in enumerate(NUDGES):
        [nudge] = await wait_for(
            lambda c=channel: nudges_in(twin, c, carol), f"a nudge in {channel}"
        )
        assert len(nudge["content"]) > len(f"<@{carol}> ")
        posts = await twin.sent_requests(
            "POST", rf"^/api/v10/channels/{twin.channel(channel)}/messages$"
        )
        assert {p["via"] for p in posts} == {f"p{shard}"}  # the nudge (and any digest)
