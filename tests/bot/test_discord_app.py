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

from bot.discord.app import MentorBot, build_bot_services, create_bot, dev_guild_id
from bot.discord.context import BotServices
from bot.services.guild_config import GuildConfigService
from bot.services.mentor import MentorService
from bot.settings import Settings
from storage.engine import make_sessionmaker

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
            assert (tmp_path / "commands-global.sha256").exists()
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
    assert (tmp_path / "commands-guild-77.sha256").exists()


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
            assert not (tmp_path / "commands-global.sha256").exists()
            release.set()
            assert await asyncio.wait_for(bot.command_sync, timeout=5) is True
        assert sync.await_count == 4
    assert delays == [5.0, 10.0, 12.0]
    assert (tmp_path / "commands-global.sha256").exists()
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
