"""Study challenges: /challenge join|leave|status for everyone, /challenge-admin for admins.

The admin commands are their own top-level group because Discord applies
`default_member_permissions` to top-level commands only: with them inside /challenge,
every member saw "create", "end" and "cancel". The group is hidden from members without
Manage Server, and the service still checks the permission on every call (server owners
can change who sees a command; the client is never trusted).

Glue only: parse options, call one `ChallengeService` method, render.
"""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from bot.discord.cogs._common import embed, require_guild
from bot.discord.context import BotServices
from bot.discord.errors import send_ephemeral
from bot.services.bundle import ProgressServices
from bot.services.challenges import (
    METRIC_UNITS,
    ChallengeInfo,
    ChallengeStatus,
    fmt_progress,
    progress_bar,
)

METRICS = [
    app_commands.Choice(name="minutes studied", value="minutes"),
    app_commands.Choice(name="active days", value="active_days"),
    app_commands.Choice(name="milestones completed", value="milestones"),
]


def window(c: ChallengeInfo) -> str:
    """'2026-12-01 to 2026-12-15 (Europe/Paris)': the days as the admin entered them."""
    return f"{c.first_day.isoformat()} to {c.last_day.isoformat()} ({c.timezone})"


def status_embed(status: ChallengeStatus, user_id: int) -> discord.Embed:
    """The member's progress and the standings; every figure carries its unit."""
    c = status.challenge
    unit = METRIC_UNITS[c.metric]
    box = embed(
        f"Challenge: {c.name}",
        f"Goal: **{c.goal} {unit}** · {window(c)} · {c.status}",
        public=False,
    )
    if status.you is not None:
        you = status.you
        box.add_field(
            name="You",
            value=f"`{progress_bar(you.progress, c.goal)}` {fmt_progress(c.metric, you.progress)}"
            f" / {fmt_progress(c.metric, c.goal)} · #{you.rank}",
            inline=False,
        )
    for board in status.boards:
        lines = [
            f"`#{s.rank:<3}` <@{s.user_id}> {fmt_progress(c.metric, s.progress)}"
            f"{' ✓' if s.completed else ''}"
            for s in board.top
        ]
        mine = board.you
        if mine is not None and mine.rank > len(board.top):
            lines.append(
                f"…\n`#{mine.rank:<3}` <@{user_id}> {fmt_progress(c.metric, mine.progress)}"
            )
        name = "Standings" if board.league is None else f"League: phase {board.league}"
        box.add_field(name=name, value="\n".join(lines)[:1024] or "—", inline=False)
    return box


class ChallengeCog(commands.Cog, name="Challenges"):
    challenge = app_commands.Group(
        name="challenge", description="Server study challenges", guild_only=True
    )
    challenge_admin = app_commands.Group(
        name="challenge-admin",
        description="Create, end or cancel study challenges (Manage Server)",
        guild_only=True,
        default_permissions=discord.Permissions(manage_guild=True),
    )

    def __init__(self, bot: commands.Bot, services: BotServices) -> None:
        self.bot = bot
        self.services = services

    @property
    def community(self) -> ProgressServices:
        """Read at call time: a guide reload swaps the services in place."""
        return self.services.progress

    @challenge_admin.command(name="create", description="Create a study challenge")
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
            f"Created **{c.name}**: {c.goal} {METRIC_UNITS[c.metric]} from {window(c)}; "
            f"progress counts {counts}. Join with `/challenge join`.",
            allowed_mentions=discord.AllowedMentions.none(),
        )

    @challenge_admin.command(name="end", description="End a challenge now")
    async def end(self, interaction: discord.Interaction, name: str | None = None) -> None:
        c = await self.community.challenges.end(
            require_guild(interaction), name, is_admin=interaction.permissions.manage_guild
        )
        await send_ephemeral(interaction, f"**{c.name}** is over; final standings follow.")

    @challenge_admin.command(name="cancel", description="Cancel a challenge")
    async def cancel(self, interaction: discord.Interaction, name: str | None = None) -> None:
        c = await self.community.challenges.cancel(
            require_guild(interaction), name, is_admin=interaction.permissions.manage_guild
        )
        await send_ephemeral(interaction, f"**{c.name}** is cancelled.")

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
