"""Community glue: the once-a-minute scheduler loop, /nudge, /nudges and /challenge.

Glue only: the services decide (bot.services.nudges / challenges / scheduler); this cog
parses options, calls one service, renders. `DiscordSender` maps discord.py exceptions to
the scheduler's typed outcomes, so the exactly-once protocol never sees Discord types.

Rate limits: discord.py already waits out most 429s inside the HTTP client; whatever still
surfaces as HTTPException(429) becomes `rate_limited(retry_after)` for the scheduler.
"""

from __future__ import annotations

import asyncio
import logging

import aiohttp
import discord
from discord import app_commands
from discord.ext import commands, tasks

from bot.discord.cogs._common import NUDGE_VIA, WEEKDAYS, embed, require_guild
from bot.discord.context import BotServices
from bot.discord.errors import send_ephemeral
from bot.services.bundle import ProgressServices
from bot.services.challenges import METRIC_UNITS, ChallengeStatus, progress_bar
from bot.services.clock import WEEKDAY_NAMES
from bot.services.delivery import OutgoingMessage, SendOutcome
from bot.services.formatting import fmt_minutes
from bot.services.scheduler import CommunityScheduler

log = logging.getLogger("mentor.discord.community")
MAX_MESSAGE = 2000
METRICS = [
    app_commands.Choice(name="minutes studied", value="minutes"),
    app_commands.Choice(name="active days", value="active_days"),
    app_commands.Choice(name="milestones completed", value="milestones"),
]


def outcome_for(exc: BaseException) -> SendOutcome:
    """discord.py / transport exception -> typed outcome (see bot.services.delivery)."""
    if isinstance(exc, discord.Forbidden | discord.NotFound):
        return SendOutcome.forbidden(f"{type(exc).__name__}: {getattr(exc, 'text', '')}"[:200])
    if isinstance(exc, discord.HTTPException):
        if exc.status == 429:
            retry = getattr(exc, "retry_after", None)
            if retry is None:
                header = exc.response.headers.get("Retry-After") if exc.response else None
                retry = float(header) if header else 5.0
            return SendOutcome.rate_limited(float(retry))
        return SendOutcome.error(f"HTTP {exc.status}")
    if isinstance(exc, asyncio.TimeoutError | TimeoutError):
        return SendOutcome.unknown("timed out")
    return SendOutcome.error(type(exc).__name__)


class DiscordSender:
    """The Sender protocol over a discord.py client."""

    def __init__(self, client: discord.Client) -> None:
        self._client = client

    async def send(self, message: OutgoingMessage) -> SendOutcome:
        text = message.text[:MAX_MESSAGE]
        try:
            if message.target == "dm":
                if message.user_id is None:
                    return SendOutcome.forbidden("no recipient")
                user = self._client.get_user(message.user_id) or await self._client.fetch_user(
                    message.user_id
                )
                await user.send(text)
            else:
                if message.channel_id is None:
                    return SendOutcome.forbidden("no channel")
                channel = self._client.get_channel(message.channel_id)
                if channel is None:
                    channel = await self._client.fetch_channel(message.channel_id)
                if not isinstance(channel, discord.abc.Messageable):
                    return SendOutcome.forbidden("the channel cannot receive messages")
                if message.user_id is not None:
                    text = f"<@{message.user_id}> {text}"[:MAX_MESSAGE]
                await channel.send(
                    text, allowed_mentions=discord.AllowedMentions(users=True, roles=False)
                )
        except (discord.HTTPException, aiohttp.ClientError, TimeoutError, OSError) as exc:
            return outcome_for(exc)
        return SendOutcome.sent()

    async def grant_role(self, guild_id: int, user_id: int, role_id: int) -> SendOutcome:
        guild = self._client.get_guild(guild_id)
        role = guild.get_role(role_id) if guild else None
        if guild is None or role is None:
            return SendOutcome.forbidden("guild or role not found")
        try:
            member = guild.get_member(user_id) or await guild.fetch_member(user_id)
            await member.add_roles(role, reason="MLE Mentor: challenge completed")
        except (discord.HTTPException, aiohttp.ClientError, TimeoutError, OSError) as exc:
            return outcome_for(exc)
        return SendOutcome.sent()


def status_embed(status: ChallengeStatus, user_id: int) -> discord.Embed:
    c = status.challenge
    unit = METRIC_UNITS[c.metric]
    box = embed(f"Challenge: {c.name}", f"Goal: **{c.goal} {unit}** · {c.status}", public=False)
    if status.you is not None:
        you = status.you
        value = fmt_minutes(you.progress) if c.metric == "minutes" else str(you.progress)
        box.add_field(
            name="You",
            value=f"`{progress_bar(you.progress, c.goal)}` {value} / {c.goal} · #{you.rank}",
            inline=False,
        )
    for board in status.boards:
        lines = [
            f"`#{s.rank:<3}` <@{s.user_id}> {s.progress}{' ✓' if s.completed else ''}"
            for s in board.top
        ]
        if board.you is not None and board.you.rank > len(board.top):
            lines.append(f"…\n`#{board.you.rank:<3}` <@{user_id}> {board.you.progress}")
        name = "Standings" if board.league is None else f"League: phase {board.league}"
        box.add_field(name=name, value="\n".join(lines)[:1024] or "—", inline=False)
    return box


class CommunityCog(commands.Cog, name="Community"):
    """Owns the scheduler loop; /nudge, /nudges and /challenge are thin wrappers."""

    challenge = app_commands.Group(
        name="challenge", description="Server study challenges", guild_only=True
    )

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

    def _build_scheduler(self) -> CommunityScheduler:
        progress = self.services.progress
        self._scheduler_guide = progress.guide
        return CommunityScheduler(
            progress.sessionmaker,
            progress.guide,
            DiscordSender(self.bot),
            progress.clock,
            pacing=self.services.pacing,
        )

    @property
    def community(self) -> ProgressServices:
        """Read at call time: a guide reload swaps the services in place."""
        return self.services.progress

    async def cog_load(self) -> None:
        self.due_work.start()

    async def cog_unload(self) -> None:
        self.due_work.cancel()

    @tasks.loop(minutes=1)
    async def due_work(self) -> None:
        """Everything due is read from the database each minute (no in-memory timers)."""
        if self._own_scheduler and self.services.progress.guide is not self._scheduler_guide:
            # /admin reload swapped the guide: nudges must point at its milestones.
            self.scheduler = self._build_scheduler()
        try:
            report = await self.scheduler.run_due_work()
        except Exception:  # one bad minute must not stop the loop
            log.exception("scheduled community work failed; retrying next minute")
            return
        if report.sent or report.failed or report.skipped:
            log.info("community work: %s", report)

    @due_work.before_loop
    async def _wait_ready(self) -> None:
        await self.bot.wait_until_ready()

    @app_commands.command(name="nudge", description="Preview your next weekly nudge now")
    @app_commands.guild_only()
    async def nudge(self, interaction: discord.Interaction) -> None:
        guild_id = require_guild(interaction)
        preview = await self.community.nudges.preview(guild_id, interaction.user.id)
        p = preview.preferences
        when = (
            f"Next one: <t:{int(preview.next_at.timestamp())}:F> by {p.via}."
            if preview.next_at
            else "Nudges are off; turn them on with `/nudges`."
        )
        problem = await self.community.nudges.delivery_problem(guild_id, interaction.user.id)
        text = f"{preview.nudge.text}\n\n{when}" + (f"\n{problem}" if problem else "")
        await send_ephemeral(interaction, text)
        # Shown here already: the after-command notice must not repeat it.
        self.services.notices.mark_told(guild_id, interaction.user.id, problem)

    @app_commands.command(name="nudges", description="Turn weekly nudges on or off")
    @app_commands.describe(
        enabled="On or off",
        weekday="Which day (your timezone)",
        hour="Hour of the day, 0-23 (your timezone)",
        via="By DM or in the server's nudge channel",
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
            f"{prefs.hour:02d}:00 your time ({prefs.timezone}), by {prefs.via}.",
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

    @challenge.command(name="create", description="Create a study challenge (admins)")
    @app_commands.describe(
        name="Up to 100 characters",
        goal="Target per member (minutes, days or milestones)",
        start="First day, YYYY-MM-DD (server timezone)",
        end="Last day, YYYY-MM-DD (server timezone)",
        role="Role given to members who reach the goal",
        leagues="Rank members within their roadmap phase",
        count_before_join="Count study done in the window before a member joined",
    )
    @app_commands.choices(metric=METRICS)
    async def create(
        self,
        interaction: discord.Interaction,
        name: str,
        metric: str,
        goal: int,
        start: str,
        end: str,
        role: discord.Role | None = None,
        leagues: bool = False,
        count_before_join: bool = True,
    ) -> None:
        guild_id = require_guild(interaction)
        c = await self.community.challenges.create(
            guild_id,
            interaction.user.id,
            is_admin=interaction.permissions.manage_guild,
            name=name,
            metric=metric,
            goal=goal,
            start=start,
            end=end,
            completion_role_id=role.id if role else None,
            leagues=leagues,
            count_before_join=count_before_join,
        )
        counts = "from the start date" if c.count_before_join else "only after joining"
        await interaction.response.send_message(
            f"Created **{c.name}**: {c.goal} {METRIC_UNITS[c.metric]} between "
            f"<t:{int(c.starts_at.timestamp())}:D> and <t:{int(c.ends_at.timestamp())}:D>; "
            f"progress counts {counts}. Join with `/challenge join`.",
            allowed_mentions=discord.AllowedMentions.none(),
        )

    @challenge.command(name="join", description="Join a challenge")
    async def join(self, interaction: discord.Interaction, name: str | None = None) -> None:
        c = await self.community.challenges.join(
            require_guild(interaction), interaction.user.id, name
        )
        await send_ephemeral(interaction, f"You joined **{c.name}**. Good luck!")

    @challenge.command(name="leave", description="Leave a challenge")
    async def leave(self, interaction: discord.Interaction, name: str | None = None) -> None:
        c = await self.community.challenges.leave(
            require_guild(interaction), interaction.user.id, name
        )
        await send_ephemeral(interaction, f"You left **{c.name}**.")

    @challenge.command(name="status", description="Your progress, rank and the leaderboard")
    async def status(self, interaction: discord.Interaction, name: str | None = None) -> None:
        status = await self.community.challenges.status(
            require_guild(interaction), interaction.user.id, name
        )
        await interaction.response.send_message(
            embed=status_embed(status, interaction.user.id), ephemeral=True
        )

    @challenge.command(name="end", description="End a challenge now (admins)")
    async def end(self, interaction: discord.Interaction, name: str | None = None) -> None:
        c = await self.community.challenges.end(
            require_guild(interaction), name, is_admin=interaction.permissions.manage_guild
        )
        await send_ephemeral(interaction, f"**{c.name}** is over; final standings follow.")

    @challenge.command(name="cancel", description="Cancel a challenge (admins)")
    async def cancel(self, interaction: discord.Interaction, name: str | None = None) -> None:
        c = await self.community.challenges.cancel(
            require_guild(interaction), name, is_admin=interaction.permissions.manage_guild
        )
        await send_ephemeral(interaction, f"**{c.name}** is cancelled.")
