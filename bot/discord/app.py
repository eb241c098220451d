"""The Discord bot, `MentorBot` (its wiring and `run_bot` live in `bot.discord.runner`).

Nothing happens at import. Inside `setup_hook` the bot loads one cog per
feature, registers the persistent answer buttons, starts loading the answer engine in a
worker thread (so the gateway heartbeat never stalls) and syncs application commands only
when their definition changed (a hash of the payload is kept in the database, table
`bot_state`; Discord rate-limits syncs and global ones take time to propagate).

The bot is an `AutoShardedBot`: `MENTOR_SHARD_COUNT` / `MENTOR_SHARD_IDS` pick the shards
this process runs (default: all of discord.py's recommended count in one process). Only
the process holding shard 0 syncs commands (they are per application, not per shard).

The sync runs in the background and a failure does not stop the bot: on a Discord outage
(5xx) or a network error it is logged and retried with exponential backoff, while the
commands Discord already has keep working; a refusal (4xx) is logged once, not retried.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
from collections.abc import Awaitable, Callable, Iterable
from pathlib import Path
from typing import Any

import aiohttp
import discord
from discord import app_commands
from discord.ext import commands

from bot.discord.cogs.admin import AdminCog
from bot.discord.cogs.ask import AskCog
from bot.discord.cogs.challenges import ChallengeCog
from bot.discord.cogs.community import CommunityCog
from bot.discord.cogs.help import HelpCog
from bot.discord.cogs.progress import ProgressCog
from bot.discord.cogs.reactions import ReactionFeedbackCog
from bot.discord.cogs.roadmap import RoadmapCog
from bot.discord.cogs.settings import SettingsCog
from bot.discord.context import BotServices
from bot.discord.errors import describe, report_interaction_error
from bot.discord.heartbeat import HeartbeatWriter, attach_heartbeat
from bot.discord.views.answer import FeedbackButton, MilestoneButton
from storage.engine import transaction
from storage.repositories.bot_state import BotStateRepository
from storage.sharding import ShardScope

log = logging.getLogger("mentor.discord")

COGS = (
    AskCog,
    ReactionFeedbackCog,
    ProgressCog,
    RoadmapCog,
    SettingsCog,
    AdminCog,
    CommunityCog,
    ChallengeCog,
    HelpCog,
)
SYNC_FIRST_DELAY = 5.0  # seconds before the first retry of a failed command sync
SYNC_MAX_DELAY = 300.0  # backoff doubles up to this
Sleep = Callable[[float], Awaitable[None]]


def _transient(error: BaseException) -> bool:
    """Worth retrying: Discord's side failed (5xx) or the network did."""
    if isinstance(error, discord.HTTPException):
        return error.status >= 500
    return isinstance(error, aiohttp.ClientError | TimeoutError | OSError)


def bot_intents() -> discord.Intents:
    """Default intents plus message content (privileged): needed to read @mention questions,
    replies to answers, DMs and the ask channel. Members/presences are not needed."""
    intents = discord.Intents.default()
    intents.message_content = True
    return intents


class MentorBot(commands.AutoShardedBot):
    def __init__(
        self,
        services: BotServices,
        *,
        data_dir: Path,
        dev_guild_id: int | None = None,
        sync_commands: bool = True,
        sync_delays: tuple[float, float] | None = None,
        sleep: Sleep = asyncio.sleep,
        shard_count: int | None = None,
        shard_ids: Iterable[int] | None = None,
        **options: object,
    ) -> None:
        super().__init__(
            command_prefix=commands.when_mentioned,
            help_command=None,
            intents=bot_intents(),
            allowed_mentions=discord.AllowedMentions.none(),
            shard_count=shard_count,
            shard_ids=sorted(shard_ids) if shard_ids is not None else None,
            **options,  # type: ignore[arg-type]
        )
        self.services = services
        self.data_dir = data_dir
        self.dev_guild_id = dev_guild_id
        self.sync_commands = sync_commands
        # (first retry delay, longest delay) in seconds; read at start so tests can tune it.
        self.sync_delays = sync_delays or (SYNC_FIRST_DELAY, SYNC_MAX_DELAY)
        self._sleep = sleep
        # The background command sync started by setup_hook (None when disabled).
        self.command_sync: asyncio.Task[bool] | None = None
        # Writes the heartbeat `mentor health` reads; started by setup_hook.
        self.heartbeat: HeartbeatWriter | None = None
        self.tree.on_error = self._on_tree_error  # type: ignore[method-assign]

    async def setup_hook(self) -> None:
        for cog in COGS:
            await self.add_cog(cog(self, self.services))
        # Persistent answer buttons: rebuilt from their custom_id, so they survive restarts.
        self.add_dynamic_items(FeedbackButton, MilestoneButton)
        if not self.services.engine.ready:
            self.services.engine.start_loading()
        self.heartbeat = attach_heartbeat(self, self.services, self.data_dir)
        if self.sync_commands and self.holds_shard_zero:
            self.command_sync = asyncio.create_task(
                self.sync_commands_until_done(), name="mentor-command-sync"
            )

    @property
    def holds_shard_zero(self) -> bool:
        """Application commands belong to the application, not a shard: one process syncs."""
        return self.shard_ids is None or 0 in self.shard_ids

    def shard_scope(self) -> ShardScope:
        """The guilds whose scheduled work is this process's; meaningful once connected
        (with no `MENTOR_SHARD_COUNT`, discord.py learns the count from Discord then)."""
        return ShardScope.of(self.shard_count or 1, self.shard_ids)

    def shard_status(self) -> dict[int, bool]:
        """Whether each shard this process runs is connected (for the health check)."""
        return {shard_id: not shard.is_closed() for shard_id, shard in self.shards.items()}

    async def on_shard_connect(self, shard_id: int) -> None:
        log.info("shard %d/%s connected", shard_id, self.shard_count)

    async def on_shard_ready(self, shard_id: int) -> None:
        guilds = sum(1 for g in self.guilds if g.shard_id == shard_id)
        log.info("shard %d/%s ready with %d guilds", shard_id, self.shard_count, guilds)

    async def on_shard_disconnect(self, shard_id: int) -> None:
        log.warning("shard %d/%s disconnected; discord.py reconnects", shard_id, self.shard_count)

    async def on_shard_resumed(self, shard_id: int) -> None:
        log.info("shard %d/%s resumed", shard_id, self.shard_count)

    async def close(self) -> None:
        if self.command_sync is not None and not self.command_sync.done():
            self.command_sync.cancel()
            # Wait for it: it may be inside a database read, which must not outlive the loop.
            await asyncio.gather(self.command_sync, return_exceptions=True)
        await super().close()
        if self.heartbeat is not None:
            await self.heartbeat.stop()  # after the gateway closed: the last beat says so

    async def on_message(self, message: discord.Message) -> None:
        """No prefix commands: questions are handled by AskCog's listener."""

    async def on_app_command_completion(
        self,
        interaction: discord.Interaction,
        command: app_commands.Command[Any, ..., Any] | app_commands.ContextMenu,
    ) -> None:
        """After any successful slash command in a server: tell the member, once, that a
        nudge could not reach them (DMs closed) and how to fix it.

        The one place this happens: discord.py dispatches `app_command_completion` only
        when a command finished without error, after its reply was sent, so the notice is
        an extra ephemeral follow-up and never replaces the answer. It is marked as told
        only once it was delivered; a command answered with a modal cannot take a
        follow-up, so the member is told on the next one instead.
        """
        if interaction.guild_id is None:
            return
        if interaction.response.type is discord.InteractionResponseType.modal:
            return
        notices = self.services.notices
        guild_id, user_id = interaction.guild_id, interaction.user.id
        try:
            problem = await notices.due(self.services.progress.nudges, guild_id, user_id)
            if problem is None:
                return
            if interaction.response.is_done():
                await interaction.followup.send(problem, ephemeral=True)
            else:
                await interaction.response.send_message(problem, ephemeral=True)
        except discord.HTTPException:
            log.warning("could not deliver the DM-closed notice (%s)", describe(interaction))
            return
        except Exception:
            log.exception("delivery-problem check failed (%s)", describe(interaction))
            return
        try:
            await notices.mark_told(self.services.progress.nudges, guild_id, user_id, problem)
        except Exception:
            log.exception("could not record the DM-closed notice (%s)", describe(interaction))

    async def _on_tree_error(
        self, interaction: discord.Interaction, error: app_commands.AppCommandError
    ) -> None:
        await report_interaction_error(interaction, error)

    async def on_command_error(
        self, context: commands.Context[commands.Bot], exception: commands.CommandError, /
    ) -> None:
        if isinstance(exception, commands.CommandNotFound):
            return
        log.error("prefix command failed: %s", context.message.id, exc_info=exception)

    def _sync_scope(self) -> discord.Object | None:
        return discord.Object(self.dev_guild_id) if self.dev_guild_id else None

    def command_digest(self) -> str:
        """A hash of exactly what `tree.sync` would send, plus the application id."""
        guild = self._sync_scope()
        if guild is not None:
            self.tree.copy_global_to(guild=guild)
        payload = [c.to_dict(self.tree) for c in self.tree.get_commands(guild=guild)]
        raw = json.dumps([self.application_id, payload], sort_keys=True, default=str)
        return hashlib.sha256(raw.encode("utf-8")).hexdigest()

    async def sync_commands_until_done(self) -> bool:
        """`sync_commands_if_changed`, retried with backoff while Discord or the network
        fails; True once synced, False when unchanged or refused for good (4xx).

        Never raises (except on cancellation): the bot keeps serving either way.
        """
        delay, longest = self.sync_delays
        attempt = 1
        while True:
            try:
                return await self.sync_commands_if_changed()
            except Exception as error:
                if not _transient(error):
                    log.error(
                        "Discord refused the application command sync; not retrying: %s",
                        error,
                        exc_info=not isinstance(error, discord.HTTPException),
                    )
                    return False
                log.warning(
                    "application command sync failed (attempt %d: %s); the bot keeps "
                    "serving and retries in %.0f s",
                    attempt,
                    error,
                    delay,
                )
            await self._sleep(delay)
            delay, attempt = min(delay * 2, longest), attempt + 1

    async def sync_commands_if_changed(self) -> bool:
        """Sync application commands when their payload changed since the last sync.

        The digest of the last sync lives in the database (`bot_state`), shared by every
        process and machine, so a new machine or a wiped data directory does not resync.
        """
        guild = self._sync_scope()
        key = f"commands:{f'guild-{guild.id}' if guild else 'global'}"
        digest = self.command_digest()
        sessionmaker = self.services.progress.sessionmaker
        async with transaction(sessionmaker, write=False) as session:
            if await BotStateRepository(session).get(key) == digest:
                log.info("application commands unchanged (%s); not syncing", key)
                return False
        synced = await self.tree.sync(guild=guild)
        log.info("synced %d application commands (%s)", len(synced), key)
        async with transaction(sessionmaker, write=True) as session:
            await BotStateRepository(session).put(key, digest, discord.utils.utcnow())
        return True
