"""The /roadmap checklist: an embed of one phase's milestones and a select to mark them.

The select is the checklist itself: its options are the phase's milestones, pre-selected
when done. Selecting marks done; unselecting a done milestone clears it. Milestones being
learned or skipped keep their state unless the member selects them.
"""

from __future__ import annotations

from typing import Any

import discord

from bot.discord.cogs._common import embed
from bot.discord.context import BotServices
from bot.discord.errors import report_interaction_error
from bot.discord.text import one_line
from bot.services.formatting import phase_name
from bot.services.progress import CLEAR_STATE, Checklist

MARKS = {"done": "✅", "learning": "📖", "skipped": "⏭️", None: "⬜"}
MAX_OPTIONS = 25


def checklist_embed(checklist: Checklist, current_phase: int | None) -> discord.Embed:
    phase = checklist.phase
    title = phase_name(phase) + (" (your phase)" if phase.number == current_phase else "")
    card = embed(title)
    lines = [
        f"{MARKS.get(i.status, '⬜')} {discord.utils.escape_markdown(i.title)}"
        for i in checklist.items
    ]
    card.description = "\n".join(lines) or "This phase has no milestones in the guide."
    duration = f" · typically {phase.duration}" if phase.duration else ""
    card.set_footer(text=f"{checklist.done}/{checklist.total} done{duration}")
    return card


class MilestoneSelect(discord.ui.Select[Any]):
    def __init__(self, checklist: Checklist) -> None:
        items = checklist.items[:MAX_OPTIONS]
        options = [
            discord.SelectOption(
                label=one_line(i.title, 100),
                value=i.id,
                description=one_line(f"{i.id} · {i.status or 'not started'}", 100),
                default=i.status == "done",
            )
            for i in items
        ]
        super().__init__(
            placeholder="Tick the milestones you have done",
            min_values=0,
            max_values=max(1, len(options)),
            options=options or [discord.SelectOption(label="(none)", value="-")],
            disabled=not options,
            custom_id="mentor:roadmap-select",
        )
        self.checklist = checklist

    async def callback(self, interaction: discord.Interaction) -> None:
        view: RoadmapView = self.view  # type: ignore[assignment]
        await view.apply(interaction, set(self.values))


class RoadmapView(discord.ui.View):
    def __init__(
        self,
        services: BotServices,
        guild_id: int,
        user_id: int,
        checklist: Checklist,
        current_phase: int | None,
    ) -> None:
        super().__init__(timeout=900)
        self.services = services
        self.guild_id = guild_id
        self.user_id = user_id
        self.current_phase = current_phase
        self.add_item(MilestoneSelect(checklist))
        self.checklist = checklist

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        return interaction.user.id == self.user_id

    async def apply(self, interaction: discord.Interaction, selected: set[str]) -> None:
        milestones = self.services.progress.milestones
        for item in self.checklist.items[:MAX_OPTIONS]:
            if item.id in selected and item.status != "done":
                await milestones.set_status(self.guild_id, self.user_id, item.id, "done")
            elif item.id not in selected and item.status == "done":
                await milestones.set_status(self.guild_id, self.user_id, item.id, CLEAR_STATE)
        checklist = await milestones.checklist(
            self.guild_id, self.user_id, self.checklist.phase.number
        )
        fresh = RoadmapView(
            self.services, self.guild_id, self.user_id, checklist, self.current_phase
        )
        await interaction.response.edit_message(
            embed=checklist_embed(checklist, self.current_phase), view=fresh
        )
        self.stop()

    async def on_error(
        self, interaction: discord.Interaction, error: Exception, item: discord.ui.Item[Any], /
    ) -> None:
        await report_interaction_error(interaction, error)
