"""Progress commands: /phase, /log (and its form), /undo, /progress, /streak, /leaderboard.

Glue only: parse → one service call → render. Personal data is answered ephemerally;
the leaderboard is public (it is the point of a leaderboard).
"""

from __future__ import annotations

import asyncio
import io
import logging

import discord
from discord import app_commands
from discord.ext import commands

from bot.discord.cogs._common import embed, filter_choices, phase_choices, require_guild
from bot.discord.context import BotServices
from bot.discord.errors import send_ephemeral
from bot.discord.views.log_form import LogModal
from bot.services.charts import weekly_chart_png
from bot.services.formatting import fmt_minutes, phase_name, plural
from bot.services.study import MAX_NOTE, MAX_TOPIC

log = logging.getLogger("mentor.discord.progress")

PERIODS = [
    app_commands.Choice(name="this week", value="week"),
    app_commands.Choice(name="this month", value="month"),
    app_commands.Choice(name="all time", value="all"),
]
ROLE_HIERARCHY_HINT = (
    "Your phase is saved, but I couldn't swap your phase role: Discord refused. An admin "
    "needs to give me **Manage Roles** and drag my role above the phase roles."
)


class ProgressCog(commands.Cog, name="Progress"):
    def __init__(self, bot: commands.Bot, services: BotServices) -> None:
        self.bot = bot
        self.services = services

    # -- autocomplete ---------------------------------------------------------------

    async def phase_autocomplete(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[int]]:
        return phase_choices(self.services.progress.phases.phases(), current)

    async def topic_autocomplete(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        guide = self.services.progress.guide
        history: list[str] = []
        if interaction.guild_id is not None:
            summary = await self.services.progress.stats.summary(
                interaction.guild_id, interaction.user.id
            )
            history = [t.topic for t in summary.topics]
        tags = sorted({tag for doc in guide.documents for tag in doc.tags})
        titles = [m.title for m in guide.milestones]
        return filter_choices(current, [*history, *tags, *titles])

    # -- commands -------------------------------------------------------------------

    @app_commands.command(name="phase", description="Show your roadmap phase, or set it")
    @app_commands.describe(number="The phase you are in now")
    @app_commands.autocomplete(number=phase_autocomplete)
    @app_commands.guild_only()
    async def phase(self, interaction: discord.Interaction, number: int | None = None) -> None:
        guild_id = require_guild(interaction)
        phases = self.services.progress.phases
        if number is None:
            current = await phases.current(guild_id, interaction.user.id)
            listing = "\n".join(f"`{p.number}` {phase_name(p)}" for p in phases.phases())
            mine = f"You are in **{phase_name(current)}**." if current else "No phase set yet."
            await send_ephemeral(interaction, f"{mine}\nSet it with `/phase`:\n{listing}")
            return
        info = await phases.set_phase(guild_id, interaction.user.id, number)
        text = (
            f"You're now in **{phase_name(info)}** ({plural(info.milestone_count, 'milestone')}; "
            f"see `/roadmap`)."
        )
        if not await self._swap_phase_role(interaction, info.number):
            text += "\n" + ROLE_HIERARCHY_HINT
        await send_ephemeral(interaction, text)

    async def _swap_phase_role(self, interaction: discord.Interaction, phase: int) -> bool:
        """Give the member the role mapped to `phase` and drop the other phase roles.

        Returns False when Discord refused (role hierarchy or missing Manage Roles).
        """
        config = self.services.config
        member = interaction.user
        if config is None or interaction.guild is None or not isinstance(member, discord.Member):
            return True
        mapping: dict[int, int] = await config.phase_roles(interaction.guild.id)
        if not mapping:
            return True
        guild = interaction.guild
        wanted = guild.get_role(mapping.get(phase, 0))
        stale = [r for r in member.roles if r.id in mapping.values() and r != wanted]
        try:
            if stale:
                await member.remove_roles(*stale, reason="MLE Mentor: phase changed")
            if wanted is not None and wanted not in member.roles:
                await member.add_roles(wanted, reason="MLE Mentor: phase changed")
        except discord.Forbidden:
            log.warning("phase role swap refused in guild %s (hierarchy/permissions)", guild.id)
            return False
        return True

    @app_commands.command(name="log", description="Record study time (no options: open a form)")
    @app_commands.describe(
        minutes="How long you studied, in minutes",
        topic="What you studied (pick a suggestion or type your own)",
        note="Optional: what you did or learned",
        link="Optional: a link to your notes or the material",
    )
    @app_commands.autocomplete(topic=topic_autocomplete)
    @app_commands.guild_only()
    async def log_time(
        self,
        interaction: discord.Interaction,
        minutes: app_commands.Range[int, 1, 1440] | None = None,
        topic: app_commands.Range[str, 1, MAX_TOPIC] | None = None,
        note: app_commands.Range[str, 1, MAX_NOTE] | None = None,
        link: str | None = None,
    ) -> None:
        guild_id = require_guild(interaction)
        if minutes is None or topic is None:
            await interaction.response.send_modal(
                LogModal(self.services, minutes=minutes, topic=topic, note=note)
            )
            return
        text = await LogModal.record(
            self.services, guild_id, interaction.user.id, minutes, topic, note, link
        )
        await send_ephemeral(interaction, text)

    @app_commands.command(name="undo", description="Remove your most recent study log")
    @app_commands.guild_only()
    async def undo(self, interaction: discord.Interaction) -> None:
        guild_id = require_guild(interaction)
        removed = await self.services.progress.study.undo_last(guild_id, interaction.user.id)
        when = discord.utils.format_dt(removed.logged_at, "f")
        await send_ephemeral(
            interaction,
            f"Removed your last log: {fmt_minutes(removed.minutes)} of "
            f"{discord.utils.escape_markdown(removed.topic)} ({when}).",
        )

    @app_commands.command(name="progress", description="Your study totals, topics and chart")
    @app_commands.guild_only()
    async def progress(self, interaction: discord.Interaction) -> None:
        guild_id = require_guild(interaction)
        await interaction.response.defer(ephemeral=True, thinking=True)
        s = await self.services.progress.stats.summary(guild_id, interaction.user.id)
        card = embed("Your progress")
        for name, totals in (
            ("This week", s.this_week),
            ("This month", s.this_month),
            ("All time", s.all_time),
        ):
            card.add_field(
                name=name,
                value=f"{fmt_minutes(totals.minutes)} · {plural(totals.sessions, 'session')}",
            )
        if s.topics:
            topics = "\n".join(
                f"{discord.utils.escape_markdown(t.topic)}: {fmt_minutes(t.minutes)}"
                for t in s.topics[:8]
            )
            card.add_field(name="Top topics", value=topics[:1024], inline=False)
        if s.phases:
            labels = {p.number: p.label for p in self.services.progress.phases.phases()}
            by_phase = "\n".join(
                f"{labels.get(p.phase, 'No phase') if p.phase is not None else 'No phase'}: "
                f"{fmt_minutes(p.minutes)}"
                for p in s.phases
            )
            card.add_field(name="By phase", value=by_phase[:1024], inline=False)
        card.set_footer(text=f"Weeks and days in {s.timezone} · change with /settings")
        png = await asyncio.to_thread(weekly_chart_png, s.weekly)
        card.set_image(url="attachment://progress.png")
        chart = discord.File(io.BytesIO(png), filename="progress.png")
        await interaction.followup.send(embed=card, file=chart, ephemeral=True)

    @app_commands.command(name="streak", description="Your current and longest study streak")
    @app_commands.guild_only()
    async def streak(self, interaction: discord.Interaction) -> None:
        guild_id = require_guild(interaction)
        streak = await self.services.progress.stats.streak(guild_id, interaction.user.id)
        if streak.longest == 0:
            text = "No study logs yet. Start a streak with `/log`."
        else:
            days = "day" if streak.current == 1 else "days"
            text = f"🔥 Current streak: **{streak.current} {days}** · longest: {streak.longest}"
            if streak.current and not streak.studied_today:
                text += "\nLog something today to keep it going."
        await send_ephemeral(interaction, text)

    @app_commands.command(name="leaderboard", description="Who studied most (public)")
    @app_commands.describe(period="Which period (default: this week)")
    @app_commands.choices(period=PERIODS)
    @app_commands.guild_only()
    async def leaderboard(
        self, interaction: discord.Interaction, period: app_commands.Choice[str] | None = None
    ) -> None:
        guild_id = require_guild(interaction)
        chosen = period.value if period else "week"
        board = await self.services.progress.leaderboard.leaderboard(
            guild_id, chosen, limit=10, user_id=interaction.user.id
        )
        title = {"week": "This week", "month": "This month", "all": "All time"}[board.period]
        card = embed(f"🏆 Leaderboard: {title.lower()}", public=True)
        if not board.entries:
            card.description = "Nobody has logged study time yet. Be the first with `/log`!"
        else:
            lines = [
                f"**#{e.rank}** <@{e.user_id}> · {fmt_minutes(e.minutes)}" for e in board.entries
            ]
            if board.you is not None and board.you.rank > len(board.entries):
                lines.append(f"…\n**#{board.you.rank}** you · {fmt_minutes(board.you.minutes)}")
            card.description = "\n".join(lines)
            card.set_footer(
                text=f"{fmt_minutes(board.total_minutes)} by "
                f"{plural(board.active_members, 'member')} · {board.timezone}"
            )
        # Public, but the user mentions inside never ping (AllowedMentions.none() default).
        await interaction.response.send_message(embed=card)
