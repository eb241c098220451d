"""MentorBot: construction, setup_hook, command sync only on change."""

from __future__ import annotations

import asyncio
import logging
import threading
from pathlib import Path
from unittest.mock import AsyncMock, MagicMock, patch

import aiohttp
import discord
import pytest
from pydantic import ValidationError

from bot.discord.app import MentorBot
from bot.discord.context import BotServices
from bot.discord.runner import (
    BotStartupError,
    build_bot_services,
    check_shard_backend,
    create_bot,
    dev_guild_id,
)
from bot.services.guild_config import GuildConfigService
from bot.services.mentor import MentorService
from bot.settings import Settings
from storage.engine import make_sessionmaker, transaction
from storage.repositories.bot_state import BotStateRepository

EXPECTED_COMMANDS = {
    "admin",
    "ask",
    "challenge",
    "challenge-admin",
    "digest",
    "help",
    "leaderboard",
    "log",
    "mydata",
    "nudge",
    "nudges",
    "phase",
    "progress",
    "roadmap",
    "settings",
    "streak",
    "undo",
}


async def synced_digest(services: BotServices, scope: str = "global") -> str | None:
    """The "already synced" marker, kept in the database (shared by every process)."""
    async with transaction(services.progress.sessionmaker, write=False) as session:
        return await BotStateRepository(session).get(f"commands:{scope}")


def test_bot_defaults_never_ping_and_read_message_content(
    services: BotServices, tmp_path: Path
) -> None:
    bot = MentorBot(services, data_dir=tmp_path)
    assert bot.intents.message_content
    assert bot.intents.guilds
    assert bot.intents.guild_messages
    assert not bot.intents.members
    assert not bot.intents.presences
    mentions = bot.allowed_mentions
    assert mentions is not None
    assert (mentions.everyone, mentions.users, mentions.roles, mentions.replied_user) == (
        False,
        False,
        False,
        False,
    )


def test_dev_guild_setting(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MENTOR_DEV_GUILD_ID", "123")
    assert dev_guild_id(Settings(mentor_data_dir=tmp_path)) == 123
    monkeypatch.setenv("MENTOR_DEV_GUILD_ID", "")
    assert dev_guild_id(Settings(mentor_data_dir=tmp_path)) is None
    monkeypatch.setenv("MENTOR_DEV_GUILD_ID", "nope")
    with pytest.raises(ValidationError, match="mentor_dev_guild_id"):
        Settings(mentor_data_dir=tmp_path)


async def test_setup_hook_loads_cogs_views_and_engine_off_the_loop(
    db, mentor: MentorService, tmp_path: Path
) -> None:
    loaded_in: list[int] = []

    def loader() -> MentorService:
        loaded_in.append(threading.get_ident())
        return mentor

    services = build_bot_services(
        make_sessionmaker(db), mentor.guide, loader, config_factory=GuildConfigService
    )
    bot = create_bot(Settings(mentor_data_dir=tmp_path), services, sync_commands=False)
    async with bot:  # initialises the client (no login), and closing unloads the cogs
        await bot.setup_hook()
        assert {c.name for c in bot.tree.get_commands()} == EXPECTED_COMMANDS
        assert set(bot.cogs) == {
            "Answers",
            "Progress",
            "Roadmap",
            "Settings",
            "AdminCog",
            "Community",
            "Challenges",
            "Help",
            "Reactions",
        }
        assert len(bot._connection._view_store._dynamic_items) == 2
        for _ in range(100):
            if services.engine.ready:
                break
            await asyncio.sleep(0.01)
        assert services.engine.ready
    assert loaded_in
    assert loaded_in[0] != threading.get_ident()


async def test_commands_sync_only_when_changed(services: BotServices, tmp_path: Path) -> None:
    bot = MentorBot(services, data_dir=tmp_path, sync_commands=False)
    async with bot:  # a client, not logged in; the community loop can wait for ready
        await bot.setup_hook()
        bot._connection.application_id = 42
        with patch.object(bot.tree, "sync", new=AsyncMock(return_value=[])) as sync:
            assert await bot.sync_commands_if_changed() is True
            assert await bot.sync_commands_if_changed() is False
            sync.assert_awaited_once_with(guild=None)
            assert await synced_digest(services) == bot.command_digest()
            bot.tree.remove_command("streak")
            assert await bot.sync_commands_if_changed() is True
            assert sync.await_count == 2


async def test_dev_guild_sync_copies_commands_to_that_guild(
    services: BotServices, tmp_path: Path
) -> None:
    bot = MentorBot(services, data_dir=tmp_path, dev_guild_id=77, sync_commands=False)
    async with bot:
        await bot.setup_hook()
        bot._connection.application_id = 42
        with patch.object(bot.tree, "sync", new=AsyncMock(return_value=[])) as sync:
            assert await bot.sync_commands_if_changed() is True
            [call] = sync.await_args_list
            assert call.kwargs["guild"].id == 77
        guild_commands = bot.tree.get_commands(guild=discord.Object(77))
        assert {c.name for c in guild_commands} == EXPECTED_COMMANDS
    assert await synced_digest(services, "guild-77") is not None


def http_error(status: int, cls: type[discord.HTTPException] = discord.HTTPException) -> Exception:
    """The exception discord.py raises for an HTTP `status` (a spec'd aiohttp response)."""
    response = MagicMock(spec=aiohttp.ClientResponse)
    response.status = status
    response.reason = "Service Unavailable" if status >= 500 else "Bad Request"
    return cls(response, {"message": "upstream failure", "code": 0})


async def test_sync_failure_at_start_up_is_retried_with_backoff_until_it_works(
    services: BotServices, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    delays: list[float] = []
    release = asyncio.Event()

    async def sleep(seconds: float) -> None:
        delays.append(seconds)
        if len(delays) == 3:
            await release.wait()  # hold the third retry: the bot must be up meanwhile

    bot = MentorBot(services, data_dir=tmp_path, sync_delays=(5.0, 12.0), sleep=sleep)
    outage = [
        http_error(503, discord.DiscordServerError),
        http_error(500, discord.DiscordServerError),
        aiohttp.ClientConnectionError("connection reset"),
        [],
    ]
    async with bot:
        bot._connection.application_id = 42
        with (
            patch.object(bot.tree, "sync", new=AsyncMock(side_effect=outage)) as sync,
            caplog.at_level(logging.WARNING, "mentor.discord"),
        ):
            await bot.setup_hook()  # returns at once: serving does not wait for the sync
            assert bot.command_sync is not None
            for _ in range(100):
                if len(delays) == 3:
                    break
                await asyncio.sleep(0)
            assert not bot.command_sync.done()
            assert "Answers" in bot.cogs  # the bot is set up and serving
            assert await synced_digest(services) is None
            release.set()
            assert await asyncio.wait_for(bot.command_sync, timeout=5) is True
        assert sync.await_count == 4
    assert delays == [5.0, 10.0, 12.0]
    assert await synced_digest(services) is not None
    assert caplog.text.count("application command sync failed") == 3
    assert "503" in caplog.text


async def test_sync_refused_by_discord_is_logged_once_and_not_retried(
    services: BotServices, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    sleep = AsyncMock()
    bot = MentorBot(services, data_dir=tmp_path, sync_commands=False, sleep=sleep)
    async with bot:
        await bot.setup_hook()
        bot._connection.application_id = 42
        with (
            patch.object(bot.tree, "sync", new=AsyncMock(side_effect=http_error(400))) as sync,
            caplog.at_level(logging.ERROR, "mentor.discord"),
        ):
            assert await bot.sync_commands_until_done() is False
        sync.assert_awaited_once()
    sleep.assert_not_awaited()
    assert "refused the application command sync" in caplog.text


async def test_closing_the_bot_stops_a_pending_sync_retry(
    services: BotServices, tmp_path: Path
) -> None:
    bot = MentorBot(services, data_dir=tmp_path, sync_delays=(3600.0, 3600.0))
    async with bot:
        bot._connection.application_id = 42
        failing = AsyncMock(side_effect=http_error(502, discord.DiscordServerError))
        with patch.object(bot.tree, "sync", new=failing):
            await bot.setup_hook()
            task = bot.command_sync
            assert task is not None
            await asyncio.sleep(0.05)
    assert task.cancelled()


async def test_another_machine_sharing_the_database_does_not_sync_again(
    services: BotServices, tmp_path: Path
) -> None:
    """The marker lives in the database, so a second machine (own data dir) agrees."""
    for data_dir, expected in ((tmp_path / "one", True), (tmp_path / "two", False)):
        bot = MentorBot(services, data_dir=data_dir, sync_commands=False)
        async with bot:
            await bot.setup_hook()
            bot._connection.application_id = 42
            with patch.object(bot.tree, "sync", new=AsyncMock(return_value=[])):
                assert await bot.sync_commands_if_changed() is expected


@pytest.mark.parametrize(("ids", "syncs"), [(None, True), ({0, 1}, True), ({2, 3}, False)])
async def test_only_the_process_holding_shard_zero_syncs_commands(
    services: BotServices, tmp_path: Path, ids: set[int] | None, syncs: bool
) -> None:
    bot = MentorBot(services, data_dir=tmp_path, shard_count=4, shard_ids=ids)
    async with bot:
        bot._connection.application_id = 42
        with patch.object(bot.tree, "sync", new=AsyncMock(return_value=[])):
            await bot.setup_hook()
            assert (bot.command_sync is not None) is syncs
            if bot.command_sync is not None:
                await asyncio.wait_for(bot.command_sync, timeout=5)
    assert bot.shard_scope().ids == (ids if ids is not None else {0, 1, 2, 3})
    assert bot.shard_scope().count == 4


def test_create_bot_takes_the_shards_from_settings(
    services: BotServices, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MENTOR_SHARD_COUNT", "6")
    monkeypatch.setenv("MENTOR_SHARD_IDS", "3-5")
    bot = create_bot(Settings(_env_file=None, mentor_data_dir=tmp_path), services)  # type: ignore[call-arg]
    assert isinstance(bot, discord.AutoShardedClient)
    assert (bot.shard_count, sorted(bot.shard_ids or [])) == (6, [3, 4, 5])
    assert not bot.holds_shard_zero
    monkeypatch.delenv("MENTOR_SHARD_COUNT")
    monkeypatch.delenv("MENTOR_SHARD_IDS")
    default = create_bot(Settings(_env_file=None, mentor_data_dir=tmp_path), services)  # type: ignore[call-arg]
    assert (default.shard_count, default.shard_ids) == (None, None)  # discord.py recommends


def _shards(tmp_path: Path, count: int, ids: str) -> Settings:
    return Settings(  # type: ignore[call-arg]
        _env_file=None, mentor_data_dir=tmp_path, mentor_shard_count=count, mentor_shard_ids=ids
    )


def test_several_shard_processes_on_sqlite_are_refused(tmp_path: Path) -> None:
    split = _shards(tmp_path, 2, "1")
    with pytest.raises(BotStartupError, match="needs PostgreSQL"):
        check_shard_backend(split, "sqlite")
    check_shard_backend(split, "postgresql")
    whole = _shards(tmp_path, 2, "0-1")
    check_shard_backend(whole, "sqlite")  # one process holding every shard: fine


async def test_shard_connects_and_disconnects_are_logged(
    services: BotServices, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    bot = MentorBot(services, data_dir=tmp_path, shard_count=4, shard_ids={2, 3})
    with caplog.at_level(logging.INFO, "mentor.discord"):
        await bot.on_shard_connect(2)
        await bot.on_shard_disconnect(3)
        await bot.on_shard_resumed(3)
    assert "shard 2/4 connected" in caplog.text
    assert "shard 3/4 disconnected" in caplog.text
    assert "shard 3/4 resumed" in caplog.text
