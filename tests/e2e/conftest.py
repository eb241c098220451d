"""End-to-end fixtures: discord-digital-twin in a Node process, the real bot against it.

The bot is the production `MentorBot` (real discord.py client, real aiohttp HTTP and
WebSocket traffic to 127.0.0.1), built by the production `build_bot_services` on a real
SQLite file; the answer engine loads through the real warm-up path (a worker thread from
`setup_hook`) over the small test guide with the deterministic test embedder. The only
test-side code between them is `tests/e2e/shims.py`.

Install once: `npm ci` in the repository root (Node 20; see package.json).
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import pytest_asyncio
import yarl
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.discord.app import MentorBot
from bot.discord.context import BotServices
from bot.discord.runner import build_bot_services
from bot.services.guild_config import GuildConfigService
from bot.services.mentor import MentorService
from knowledge.content import load_guide
from knowledge.engine import load_knowledge
from storage.engine import make_engine, make_sessionmaker
from storage.migrate import upgrade
from tests.e2e.shims import twin_shims
from tests.helpers import HashingEmbedder, simple_ranking_model, write_guide

ROOT = Path(__file__).resolve().parents[2]
TWIN_PACKAGE = ROOT / "node_modules" / "discord-digital-twin"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.e2e)


@dataclass
class Twin:
    info: dict[str, Any]
    session: aiohttp.ClientSession

    @property
    def guild_id(self) -> int:
        return int(self.info["guildId"])

    def front_url_for(self, tag: str) -> str:
        """The REST front door for one bot process among several: the proxy records `tag`
        as `via` on every request it sends, so a test can tell who sent what."""
        front = yarl.URL(self.info["frontUrl"])
        return str(front.with_path(f"/via/{tag}{front.path}"))

    def user(self, name: str) -> str:
        return self.info["users"][name]

    def channel(self, name: str) -> str:
        return self.info["channels"][name]

    async def call(self, action: str, **body: Any) -> Any:
        url = f"{self.info['controlUrl']}/{action}"
        async with self.session.post(url, json=body) as response:
            data = await response.json()
            if response.status != 200:
                raise AssertionError(f"twin {action} failed: {data.get('error')}")
            return data

    async def slash(
        self,
        user: str,
        name: str,
        options: list[dict[str, Any]] | None = None,
        *,
        channels: list[str] | None = None,
    ) -> str:
        """Run a slash command as `user` in #general; returns the interaction id.

        `channels`: ids of channels passed as channel options, sent in `resolved` as
        Discord does (see twin.mjs).
        """
        result = await self.call(
            "slash",
            userId=self.user(user),
            channelId=self.channel("general"),
            name=name,
            options=options or [],
            channelOptions=channels or [],
        )
        return result["id"]

    async def messages_by_bot(self, channel: str, after: str) -> list[dict[str, Any]]:
        """The bot's messages in `channel` newer than the snowflake `after` (no waiting)."""
        return await self.call("botMessages", channelId=self.channel(channel), afterId=after)

    async def sent_requests(
        self, method: str, path_pattern: str, after_seq: int = -1
    ) -> list[dict[str, Any]]:
        """What discord.py sent over HTTP (`{seq, method, path, via, body}`), via the proxy.

        Bodies are parsed here, not in Node, so 64-bit ids keep every digit."""
        found = await self.call(
            "sentRequests", method=method, pathPattern=path_pattern, afterSeq=after_seq
        )
        return [
            {
                "seq": r["seq"],
                "method": r["method"],
                "path": r["path"],
                "via": r.get("via"),
                "body": json.loads(r["raw"]),
            }
            for r in found
        ]

    async def last_seq(self) -> int:
        return int((await self.call("lastSeq"))["seq"])

    async def ack(self, interaction_id: str) -> dict[str, Any]:
        return await self.call("ack", interactionId=interaction_id, timeout=15_000)

    async def bot_messages(
        self, after: str, *, count: int = 1, channel: str = "general"
    ) -> list[dict[str, Any]]:
        return await self.call(
            "waitBotMessages",
            channelId=self.channel(channel),
            afterId=after,
            count=count,
            timeout=15_000,
        )


@dataclass
class RunningBot:
    bot: MentorBot
    services: BotServices
    twin: Twin
    database: AsyncEngine  # the bot's own database, for setting up a test's starting state


@asynccontextmanager
async def launch_twin(log_path: Path, *, shard_count: int = 1) -> AsyncIterator[Twin]:
    """A discord-digital-twin process (twin.mjs) for the block; it stops when the block ends
    (its stdin closes). Tests that stop Discord on purpose launch their own.

    `shard_count` > 1: a sharded twin (two guilds on different shards, the gateway routed by
    IDENTIFY's shard; see shard_router.mjs), for runs with several shard processes."""
    node = shutil.which("node")
    if node is None or not TWIN_PACKAGE.is_dir():
        pytest.fail("e2e tests need Node 20 and `npm ci` in the repository root")
    log = log_path.open("wb")
    process = await asyncio.create_subprocess_exec(
        node,
        str(Path(__file__).with_name("twin.mjs")),
        cwd=ROOT,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=log,
        env={**os.environ, "TWIN_SHARD_COUNT": str(shard_count)},
    )
    try:
        assert process.stdout is not None
        line = await asyncio.wait_for(process.stdout.readline(), timeout=60)
        if not line:
            raise AssertionError(f"the twin exited early; see {log.name}")
        async with aiohttp.ClientSession() as session:
            yield Twin(json.loads(line), session)
    finally:
        if process.stdin is not None:
            process.stdin.close()
        try:
            await asyncio.wait_for(process.wait(), timeout=10)
        except TimeoutError:
            process.kill()
            await process.wait()
        log.close()


@pytest_asyncio.fixture(scope="package", loop_scope="package")
async def twin(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Twin]:
    async with launch_twin(tmp_path_factory.mktemp("twin") / "twin.log") as launched:
        yield launched


@pytest_asyncio.fixture(scope="package", loop_scope="package")
async def running(
    twin: Twin, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[RunningBot]:
    root = tmp_path_factory.mktemp("e2e-bot")
    guide_dir = root / "guide"
    write_guide(guide_dir)

    def load_engine() -> MentorService:
        knowledge = load_knowledge(
            root / "index",
            guide_dir=guide_dir,
            embedder=HashingEmbedder(),
            ranking=simple_ranking_model(),
        )
        return MentorService(knowledge.retriever, knowledge.guide)

    database = make_engine(f"sqlite+aiosqlite:///{root / 'mentor.sqlite3'}")
    await upgrade(database)
    services = build_bot_services(
        make_sessionmaker(database),
        load_guide(guide_dir),
        load_engine,
        config_factory=GuildConfigService,
    )
    with twin_shims(twin.info["frontUrl"], twin.info["gatewayUrl"]):
        bot = MentorBot(services, data_dir=root, dev_guild_id=twin.guild_id)
        task = asyncio.create_task(bot.start(twin.info["botToken"]))
        try:
            await asyncio.wait_for(bot.wait_until_ready(), timeout=30)
            # The command sync runs in the background; slash tests need the commands.
            assert bot.command_sync is not None
            assert await asyncio.wait_for(bot.command_sync, timeout=30)
            for _ in range(300):
                if services.engine.ready:
                    break
                await asyncio.sleep(0.05)
            assert services.engine.ready, "the answer engine did not load"
            yield RunningBot(bot, services, twin, database)
        finally:
            await bot.close()
            await asyncio.wait_for(task, timeout=10)
            await database.dispose()
