"""Community glue: the once-a-minute scheduler loop, /nudge, /nudges and /digest.

Glue only: the services decide (bot.services.nudges / scheduler); this cog parses options,
calls one service, renders. What reaches Discord, and whom it may ping, is
`bot.discord.sender.DiscordSender`'s job; /challenge lives in `bot.discord.cogs.challenges`.
"""

from __future__ import annotations

import asyncio
import logging

import discord
from discord import app_commands
from discord.ext import commands, tasks

from bot.discord.cogs._common import NUDGE_VIA, VIA_WORDS, WEEKDAYS, require_guild
from bot.discord.context import BotServices
from bot.discord.errors import send_ephemeral
from bot.discord.sender import DiscordSender
from bot.services.bundle import ProgressServices
from bot.services.clock import WEEKDAY_NAMES
from bot.services.scheduler import CommunityScheduler
from storage.sharding import ALL, ShardScope

log = logging.getLogger("mentor.discord.community")
# How long a stop (SIGTERM) waits for the delivery in hand; `docker stop` allows 10 s and
# the whole shutdown must take under 5.
SHUTDOWN_GRACE = 3.0


class CommunityCog(commands.Cog, name="Community"):
    """Owns the scheduler loop; /nudge, /nudges and /digest are thin wrappers."""

    def __init__(
        self,
        bot: commands.Bot,
        services: BotServices,
        scheduler: CommunityScheduler | None = None,
    ) -> None:
        self.bot = bot
        self.services = services
        self._own_scheduler = scheduler is None
        self._scheduler_guide = services.progress.guide
        self.scheduler = scheduler or self._build_scheduler()
        # Clear while a minute's work is in hand: shutdown waits for it (briefly).
        self._idle = asyncio.Event()
        self._idle.set()

    def _build_scheduler(self) -> CommunityScheduler:
        progress = self.services.progress
        self._scheduler_guide = progress.guide
        return CommunityScheduler(
            progress.sessionmaker,
            progress.guide,
            DiscordSender(self.bot),
            progress.clock,
            pacing=self.services.pacing,
            scope=self._scope(),
        )

    def _scope(self) -> ShardScope:
        """The guilds this process plans work for: those on the shards it holds. Before
        the bot has connected the count may be unknown; the loop does not run until then
        (`_wait_ready`), and the scope is set again at that point."""
        shard_scope = getattr(self.bot, "shard_scope", None)
        return shard_scope() if callable(shard_scope) else ALL

    @property
    def community(self) -> ProgressServices:
        """Read at call time: a guide reload swaps the services in place."""
        return self.services.progress

    async def cog_load(self) -> None:
        self.due_work.start()

    async def cog_unload(self) -> None:
        """Let the minute's work in hand finish (a delivery between "sending" and its
        result is recorded rather than cut), for at most SHUTDOWN_GRACE seconds; then
        cancel. A claim cut before sending is retried after the stale-claim delay."""
        if not self._idle.is_set():
            try:
                await asyncio.wait_for(self._idle.wait(), SHUTDOWN_GRACE)
            except TimeoutError:
                log.warning("scheduled work still running after %.0f s; cancelling", SHUTDOWN_GRACE)
        self.due_work.cancel()

    @tasks.loop(minutes=1)
    async def due_work(self) -> None:
        """Everything due is read from the database each minute (no in-memory timers)."""
        if self._own_scheduler and self.services.progress.guide is not self._scheduler_guide:
            # /admin reload swapped the guide: nudges must point at its milestones.
            self.scheduler = self._build_scheduler()
        self._idle.clear()
        try:
            report = await self.scheduler.run_due_work()
        except Exception:  # one bad minute must not stop the loop
            log.exception("scheduled community work failed; retrying next minute")
            return
        finally:
            self._idle.set()
        if report.sent or report.failed or report.skipped:
            log.info("community work: %s", report)

    @due_work.before_loop
    async def _wait_ready(self) -> None:
        """Start only once connected: only then is the shard count known (discord.py asks
        Discord for it when MENTOR_SHARD_COUNT is unset), and with it which guilds are ours."""
        await self.bot.wait_until_ready()
        self.scheduler.scope = self._scope()
        log.info("scheduled work for %s", self.scheduler.scope.describe())

    @app_commands.command(name="nudge", description="Preview your next weekly nudge now")
    @app_commands.guild_only()
    async def nudge(self, interaction: discord.Interaction) -> None:
        guild_id = require_guild(interaction)
        preview = await self.community.nudges.preview(
            guild_id, interaction.user.id, front_end="discord"
        )
        p = preview.preferences
        when = (
            f"Next one: <t:{int(preview.next_at.timestamp())}:F> {VIA_WORDS[p.via]}."
            if preview.next_at
            else "Nudges are off; turn them on with `/nudges`."
        )
        problem = await self.community.nudges.delivery_problem(guild_id, interaction.user.id)
        text = f"{preview.nudge.text}\n\n{when}" + (f"\n{problem}" if problem else "")
        await send_ephemeral(interaction, text)
        # Shown here already: the after-command notice must not repeat it.
        await self.services.notices.mark_told(
            self.community.nudges, guild_id, interaction.user.id, problem
        )

    @app_commands.command(name="nudges", description="Turn weekly nudges on or off")
    @app_commands.describe(
        enabled="On or off",
        weekday="Which day (your timezone)",
        hour="Hour of the day, 0-23 (your timezone)",
        via="By direct message or in the server's nudge channel",
    )
    @app_commands.choices(
        weekday=WEEKDAYS,
        via=NUDGE_VIA,
    )
    @app_commands.guild_only()
    async def nudges(
        self,
        interaction: discord.Interaction,
        enabled: bool,
        weekday: int | None = None,
        hour: int | None = None,
        via: str | None = None,
    ) -> None:
        guild_id = require_guild(interaction)
        prefs = await self.community.nudges.set_preferences(
            guild_id, interaction.user.id, enabled=enabled, weekday=weekday, hour=hour, via=via
        )
        if not prefs.enabled:
            await send_ephemeral(interaction, "Weekly nudges are off.")
            return
        await send_ephemeral(
            interaction,
            f"Weekly nudges are on: {WEEKDAY_NAMES[prefs.weekday].title()} at "
            f"{prefs.hour:02d}:00 your time ({prefs.timezone}), {VIA_WORDS[prefs.via]}.",
        )

    @app_commands.command(name="digest", description="May the weekly digest name you?")
    @app_commands.describe(visible="Show you among the most active learners, or keep you out")
    @app_commands.choices(
        visible=[
            app_commands.Choice(name="show me", value="show"),
            app_commands.Choice(name="hide me", value="hide"),
        ]
    )
    @app_commands.guild_only()
    async def digest(self, interaction: discord.Interaction, visible: str) -> None:
        guild_id = require_guild(interaction)
        hide = visible == "hide"
        await self.community.nudges.set_digest_opt_out(guild_id, interaction.user.id, hide)
        await send_ephemeral(
            interaction,
            "The weekly digest will not name you."
            if hide
            else "The weekly digest may name you among the most active learners.",
        )
