"""/settings (timezone, nudges) and /mydata export|forget: the member's own data, privately."""

from __future__ import annotations

import io
import json
from functools import cache
from typing import Any
from zoneinfo import available_timezones

import discord
from discord import app_commands
from discord.ext import commands

from bot.discord.cogs._common import (
    NUDGE_VIA,
    VIA_WORDS,
    WEEKDAYS,
    embed,
    filter_choices,
    require_guild,
)
from bot.discord.context import BotServices
from bot.discord.errors import report_interaction_error
from bot.services.profile import MemberProfile

FORGET_WARNING = (
    "This deletes **all** your data in this server (study logs, milestones, settings, "
    "feedback) and cannot be undone. Use `/mydata export` first to keep a copy."
)


@cache
def _timezone_names() -> tuple[str, ...]:
    names = {n for n in available_timezones() if not n.startswith(("posix/", "right/"))}
    return tuple(sorted(names | {"UTC"}))


def profile_embed(profile: MemberProfile) -> discord.Embed:
    card = embed("Your settings")
    card.add_field(name="Timezone", value=profile.timezone)
    if profile.nudge_enabled:
        via = VIA_WORDS.get(profile.nudge_via, profile.nudge_via)
        nudges = f"on: {profile.nudge_weekday_name}s at {profile.nudge_hour:02d}:00, {via}"
    else:
        nudges = "off"
    card.add_field(name="Weekly nudge", value=nudges)
    return card


class ForgetConfirmView(discord.ui.View):
    """Two buttons; only the member who asked can press them, and only within 2 minutes."""

    def __init__(self, services: BotServices, guild_id: int, user_id: int) -> None:
        super().__init__(timeout=120)
        self.services = services
        self.guild_id = guild_id
        self.user_id = user_id

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        return interaction.user.id == self.user_id

    @discord.ui.button(label="Delete everything", style=discord.ButtonStyle.danger)
    async def confirm(
        self, interaction: discord.Interaction, _button: discord.ui.Button[Any]
    ) -> None:
        result = await self.services.progress.privacy.forget(self.guild_id, self.user_id)
        self.stop()
        await interaction.response.edit_message(
            content=f"Done: deleted {result.total} rows. You're a fresh start here.", view=None
        )

    @discord.ui.button(label="Cancel", style=discord.ButtonStyle.secondary)
    async def cancel(
        self, interaction: discord.Interaction, _button: discord.ui.Button[Any]
    ) -> None:
        self.stop()
        await interaction.response.edit_message(
            content="Cancelled; nothing was deleted.", view=None
        )

    async def on_error(
        self, interaction: discord.Interaction, error: Exception, item: discord.ui.Item[Any], /
    ) -> None:
        await report_interaction_error(interaction, error)


class SettingsCog(commands.Cog, name="Settings"):
    mydata = app_commands.Group(
        name="mydata", description="Your data in this server", guild_only=True
    )

    def __init__(self, bot: commands.Bot, services: BotServices) -> None:
        self.bot = bot
        self.services = services

    async def timezone_autocomplete(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return filter_choices(current.replace(" ", "_"), _timezone_names())

    @app_commands.command(name="settings", description="Your timezone and weekly nudges")
    @app_commands.describe(
        timezone="Your IANA timezone, e.g. Europe/Berlin",
        nudges="Send me a weekly study nudge",
        weekday="Which day to nudge",
        hour="Which hour (your local time, 0-23)",
        via="Where to nudge you",
    )
    @app_commands.autocomplete(timezone=timezone_autocomplete)
    @app_commands.choices(weekday=WEEKDAYS, via=NUDGE_VIA)
    @app_commands.guild_only()
    async def settings(
        self,
        interaction: discord.Interaction,
        timezone: app_commands.Range[str, 1, 64] | None = None,
        nudges: bool | None = None,
        weekday: app_commands.Choice[int] | None = None,
        hour: app_commands.Range[int, 0, 23] | None = None,
        via: app_commands.Choice[str] | None = None,
    ) -> None:
        guild_id = require_guild(interaction)
        profiles = self.services.progress.profile
        user_id = interaction.user.id
        profile = None
        if timezone is not None:
            profile = await profiles.set_timezone(guild_id, user_id, timezone)
        nudge_change = nudges is not None or weekday or hour is not None or via
        if nudge_change:
            await self.services.progress.nudges.set_preferences(
                guild_id,
                user_id,
                enabled=nudges,
                weekday=weekday.value if weekday else None,
                hour=hour,
                via=via.value if via else None,
            )
        changed = profile is not None or bool(nudge_change)
        profile = await profiles.get(guild_id, user_id)
        card = profile_embed(profile)
        if changed:
            card.title = "Saved. Your settings"
        await interaction.response.send_message(embed=card, ephemeral=True)

    @mydata.command(name="export", description="Download everything I store about you here")
    async def export(self, interaction: discord.Interaction) -> None:
        guild_id = require_guild(interaction)
        data = await self.services.progress.privacy.export(guild_id, interaction.user.id)
        raw = json.dumps(data, indent=2, ensure_ascii=False, default=str).encode("utf-8")
        name = f"mle-mentor-{guild_id}-{interaction.user.id}.json"
        rows = sum(len(rows) for rows in data["tables"].values())
        await interaction.response.send_message(
            f"Here is all your data in this server ({rows} rows).",
            file=discord.File(io.BytesIO(raw), filename=name),
            ephemeral=True,
        )

    @mydata.command(name="forget", description="Delete everything I store about you here")
    async def forget(self, interaction: discord.Interaction) -> None:
        guild_id = require_guild(interaction)
        view = ForgetConfirmView(self.services, guild_id, interaction.user.id)
        await interaction.response.send_message(FORGET_WARNING, view=view, ephemeral=True)
