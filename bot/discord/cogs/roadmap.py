"""/roadmap: the member's phase checklist with a select menu to mark milestones."""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from bot.discord.cogs._common import phase_choices, require_guild
from bot.discord.context import BotServices
from bot.discord.views.roadmap import RoadmapView, checklist_embed


class RoadmapCog(commands.Cog, name="Roadmap"):
    def __init__(self, bot: commands.Bot, services: BotServices) -> None:
        self.bot = bot
        self.services = services

    async def phase_autocomplete(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[int]]:
        return phase_choices(self.services.progress.phases.phases(), current)

    @app_commands.command(name="roadmap", description="Your phase checklist; tick milestones")
    @app_commands.describe(phase="Which phase to show (default: yours)")
    @app_commands.autocomplete(phase=phase_autocomplete)
    @app_commands.guild_only()
    async def roadmap(self, interaction: discord.Interaction, phase: int | None = None) -> None:
        guild_id = require_guild(interaction)
        progress = self.services.progress
        current = await progress.phases.current(guild_id, interaction.user.id)
        current_number = current.number if current else None
        if phase is None:
            phases = progress.phases.phases()
            phase = current_number if current_number is not None else phases[0].number
        checklist = await progress.milestones.checklist(guild_id, interaction.user.id, phase)
        card = checklist_embed(checklist, current_number)
        if current is None:
            card.description = (card.description or "") + "\n\nTip: set your phase with `/phase`."
        view = RoadmapView(self.services, guild_id, interaction.user.id, checklist, current_number)
        await interaction.response.send_message(embed=card, view=view, ephemeral=True)
