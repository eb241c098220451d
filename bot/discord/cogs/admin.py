"""/admin: ask channel, nudge channel, phase roles, insights, server FAQ, reload.

Hidden from non-admins by `default_permissions(manage_guild)`, and checked again on every
call (`interaction_check`): server owners can change who sees a command, and the client is
never trusted. Configuration problems Discord would hit later (the bot cannot post in the
chosen channel, or cannot assign a role above its own) are explained to the admin now.
"""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from bot.discord.cogs._common import WEEKDAYS, embed, filter_choices, phase_choices, require_guild
from bot.discord.context import BotServices
from bot.discord.text import one_line, truncate
from bot.services.clock import WEEKDAY_NAMES
from bot.services.formatting import plural
from bot.services.guild_config import GuildConfigService

NEEDED_IN_CHANNEL = ("view_channel", "send_messages", "embed_links", "read_message_history")
Postable = discord.TextChannel | discord.ForumChannel


def _plain(text: str, limit: int) -> str:
    """Member-written text shown to admins: one line, no Markdown surprises."""
    return discord.utils.escape_markdown(one_line(text, limit))


def missing_channel_permissions(channel: discord.abc.GuildChannel, me: discord.Member) -> list[str]:
    permissions = channel.permissions_for(me)
    return [p.replace("_", " ") for p in NEEDED_IN_CHANNEL if not getattr(permissions, p)]


def role_problem(role: discord.Role, me: discord.Member) -> str | None:
    """Why the bot could not hand out `role`, in words an admin can act on."""
    if role.is_default() or role.managed:
        return f"{role.mention} is managed by Discord or an integration; pick a normal role."
    if not me.guild_permissions.manage_roles:
        return "I need the **Manage Roles** permission to give phase roles."
    if role >= me.top_role:
        return (
            f"{role.mention} is above (or equal to) my highest role {me.top_role.mention}. "
            "Drag my role above the phase roles in Server Settings → Roles."
        )
    return None


@app_commands.default_permissions(manage_guild=True)
@app_commands.guild_only()
class AdminCog(commands.GroupCog, group_name="admin", group_description="Server admin tools"):
    def __init__(self, bot: commands.Bot, services: BotServices) -> None:
        self.bot = bot
        self.services = services
        super().__init__()

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        """Re-check Manage Server on the server side for every admin subcommand."""
        if interaction.guild_id is None:
            raise app_commands.NoPrivateMessage()
        if not interaction.permissions.manage_guild:
            raise app_commands.MissingPermissions(["manage_guild"])
        return True

    def _config(self) -> GuildConfigService:
        if self.services.config is None:
            raise RuntimeError("guild configuration service not wired")
        return self.services.config

    async def _channel_reply(
        self, interaction: discord.Interaction, what: str, channel: Postable | None
    ) -> str:
        if channel is None:
            return f"{what} cleared."
        text = f"{what} set to {channel.mention}."
        me = interaction.guild.me if interaction.guild else None
        if me is not None:
            missing = missing_channel_permissions(channel, me)
            if missing:
                text += (
                    f"\n⚠️ I can't work there yet: I'm missing **{', '.join(missing)}** in "
                    f"{channel.mention}. Please grant them to my role."
                )
        return text

    @app_commands.command(name="ask-channel", description="Answer questions there unprompted")
    @app_commands.describe(channel="The channel (leave empty to turn the ask channel off)")
    async def ask_channel(
        self, interaction: discord.Interaction, channel: discord.TextChannel | None = None
    ) -> None:
        guild_id = require_guild(interaction)
        await self._config().set_ask_channel(guild_id, channel.id if channel else None)
        self.services.ask_channels[guild_id] = channel.id if channel else None
        text = await self._channel_reply(interaction, "Ask channel", channel)
        await interaction.response.send_message(text, ephemeral=True)

    @app_commands.command(
        name="nudge-default", description="Default weekly nudge slot and digest time"
    )
    @app_commands.describe(
        weekday="Day for members who did not pick one (their own timezone)",
        hour="Hour, 0-23 (members' timezone; the weekly digest uses the server's)",
    )
    @app_commands.choices(weekday=WEEKDAYS)
    async def nudge_default(
        self, interaction: discord.Interaction, weekday: int, hour: app_commands.Range[int, 0, 23]
    ) -> None:
        guild_id = require_guild(interaction)
        await self.services.progress.nudges.set_guild_default(guild_id, weekday, hour)
        await interaction.response.send_message(
            f"Default nudge slot: {WEEKDAY_NAMES[weekday].title()} at {hour:02d}:00 in each "
            "member's timezone; the weekly digest goes out then in the server's timezone.",
            ephemeral=True,
        )

    @app_commands.command(name="nudge-channel", description="Where channel nudges are posted")
    @app_commands.describe(channel="The channel (leave empty to clear)")
    async def nudge_channel(
        self, interaction: discord.Interaction, channel: discord.TextChannel | None = None
    ) -> None:
        guild_id = require_guild(interaction)
        await self._config().set_nudge_channel(guild_id, channel.id if channel else None)
        text = await self._channel_reply(interaction, "Nudge channel", channel)
        await interaction.response.send_message(text, ephemeral=True)

    async def phase_autocomplete(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[int]]:
        return phase_choices(self.services.progress.phases.phases(), current)

    @app_commands.command(name="phase-role", description="Give members a role for their phase")
    @app_commands.describe(phase="The roadmap phase", role="The role (empty: stop mapping)")
    @app_commands.autocomplete(phase=phase_autocomplete)
    async def phase_role(
        self, interaction: discord.Interaction, phase: int, role: discord.Role | None = None
    ) -> None:
        guild_id = require_guild(interaction)
        info = self.services.progress.phases.phase_info(phase)  # UnknownPhase if typed wrong
        me = interaction.guild.me if interaction.guild else None
        if role is not None and me is not None and (problem := role_problem(role, me)):
            await interaction.response.send_message(f"Not saved: {problem}", ephemeral=True)
            return
        await self._config().set_phase_role(guild_id, info.number, role.id if role else None)
        text = (
            f"Members who pick {info.label} now get {role.mention}."
            if role
            else f"{info.label} no longer has a role."
        )
        await interaction.response.send_message(text, ephemeral=True)

    @app_commands.command(name="insights", description="Unanswered questions and feedback")
    async def insights(self, interaction: discord.Interaction) -> None:
        guild_id = require_guild(interaction)
        feedback = self.services.progress.feedback
        top = await feedback.top_unanswered(guild_id, 10)
        summary = await feedback.feedback_summary(guild_id)
        card = embed("What members ask that the guide misses")
        lines = [
            f"**{q.count}×** ({plural(q.askers, 'member')}) {_plain(q.question, 150)}" for q in top
        ]
        card.description = truncate("\n".join(lines), 4_000) or "No unanswered questions yet."
        votes = summary.helpful + summary.not_helpful
        ratio = f"{summary.helpful / votes:.0%} helpful" if votes else "no votes yet"
        card.add_field(
            name="Answer feedback",
            value=f"👍 {summary.helpful} · 👎 {summary.not_helpful} ({ratio})",
        )
        card.set_footer(text="Write a server answer with /admin faq-set")
        await interaction.response.send_message(embed=card, ephemeral=True)

    @app_commands.command(name="faq-set", description="Add or override an answer for this server")
    @app_commands.describe(question="The question as members ask it", answer="Your answer")
    async def faq_set(
        self,
        interaction: discord.Interaction,
        question: app_commands.Range[str, 3, 300],
        answer: app_commands.Range[str, 1, 1500],
    ) -> None:
        guild_id = require_guild(interaction)
        created = await self._config().set_faq(guild_id, interaction.user.id, question, answer)
        verb = "Added" if created else "Updated"
        await interaction.response.send_message(
            f"{verb} the server answer for “{_plain(question, 200)}”. "
            "Members asking it here now get your answer instead of the guide's.",
            ephemeral=True,
        )

    async def faq_autocomplete(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        if interaction.guild_id is None or self.services.config is None:
            return []
        entries = await self.services.config.list_faqs(interaction.guild_id)
        return filter_choices(current, [e.question for e in entries])

    @app_commands.command(name="faq-remove", description="Remove a server answer")
    @app_commands.autocomplete(question=faq_autocomplete)
    async def faq_remove(self, interaction: discord.Interaction, question: str) -> None:
        guild_id = require_guild(interaction)
        removed = await self._config().remove_faq(guild_id, question)
        text = (
            "Removed; the guide answers it again." if removed else "No server answer matches that."
        )
        await interaction.response.send_message(text, ephemeral=True)

    @app_commands.command(name="reload", description="Reload the guide and rebuild the index")
    async def reload(self, interaction: discord.Interaction) -> None:
        require_guild(interaction)
        if self.services.reload is None:
            await interaction.response.send_message("Reloading is not available.", ephemeral=True)
            return
        await interaction.response.defer(ephemeral=True, thinking=True)
        summary = await self.services.reload()
        await interaction.followup.send(summary, ephemeral=True)
