"""The answer embed and its persistent buttons (👍 / 👎, mark a milestone learning/done).

The buttons are `DynamicItem`s: their custom_id carries everything the click needs (the
vote, or the milestone and state) and the question is read back from the embed they sit
under, so they keep working after a restart without any stored view state.
"""

from __future__ import annotations

import logging
import re
from typing import Any

import discord

from bot.discord.context import services_of
from bot.discord.errors import GuildOnly, report_interaction_error
from bot.discord.text import EMBED_FIELD_LIMIT, EMBED_TITLE_LIMIT, one_line, truncate
from bot.services.answers import milestone_for
from bot.services.formatting import phase_label
from bot.services.mentor import Answer, AnswerKind
from bot.services.mentor_text import clean_question
from knowledge.content import Guide

log = logging.getLogger("mentor.discord")

ANSWER_COLOUR = discord.Colour(0x5865F2)
UNSURE_COLOUR = discord.Colour(0x99AAB5)
_SOURCES_FIELD = "Sources"
_CLOSEST_FIELD = "Closest sections"


_PLAIN_SOURCES = re.compile(r"\n\nSources?: ")


def _body(answer: Answer) -> str:
    # MentorService appends "Source: …" or "Sources: …" (and a roadmap note) for plain-text
    # front-ends; the embed shows sources in a field and the note in the footer instead.
    return _PLAIN_SOURCES.split(answer.text, maxsplit=1)[0].strip()


def _footer(answer: Answer, asker_phase: int | None) -> str:
    parts = ["confident" if answer.confident else "low confidence"]
    if answer.phase is not None:
        parts.append(f"{phase_label(answer.phase)} material")
    if asker_phase is not None:
        parts.append(f"you: {phase_label(asker_phase)}")
    return " · ".join(parts)


def answer_embed(answer: Answer, *, asker_phase: int | None = None) -> discord.Embed:
    """The answer as an embed; the question (cleaned, ping-free) is its title."""
    if answer.kind in (AnswerKind.SMALL_TALK, AnswerKind.INVALID):
        return discord.Embed(description=answer.text, colour=ANSWER_COLOUR)
    title = one_line(clean_question(answer.question), EMBED_TITLE_LIMIT) or None
    covered = answer.kind == AnswerKind.ANSWER
    embed = discord.Embed(
        title=title,
        description=truncate(_body(answer), 4_000),
        colour=ANSWER_COLOUR if covered else UNSURE_COLOUR,
    )
    if answer.sources:
        lines = "\n".join(f"• {s.label}" for s in answer.sources)
        embed.add_field(
            name=_SOURCES_FIELD if covered else _CLOSEST_FIELD,
            value=truncate(lines, EMBED_FIELD_LIMIT),
            inline=False,
        )
    embed.set_footer(text=_footer(answer, asker_phase))
    return embed


def question_of(message: discord.Message | None) -> str | None:
    """The question an answer message answered (its embed title), for feedback/follow-ups."""
    if message is None or not message.embeds:
        return None
    return message.embeds[0].title or None


def cited_section_of(message: discord.Message | None) -> str | None:
    if message is None or not message.embeds:
        return None
    for embed_field in message.embeds[0].fields:
        if embed_field.name == _SOURCES_FIELD and embed_field.value:
            return embed_field.value.split("\n", 1)[0].removeprefix("• ").strip() or None
    return None


class FeedbackButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"mentor:fb:(?P<vote>[01])"
):
    """👍 (vote 1) or 👎 (vote 0) on an answer; stored via FeedbackService."""

    def __init__(self, helpful: bool) -> None:
        super().__init__(
            discord.ui.Button(
                emoji="👍" if helpful else "👎",
                style=discord.ButtonStyle.secondary,
                custom_id=f"mentor:fb:{int(helpful)}",
            )
        )
        self.helpful = helpful

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> FeedbackButton:
        return cls(match["vote"] == "1")

    async def callback(self, interaction: discord.Interaction) -> None:
        try:
            if interaction.guild_id is None:
                raise GuildOnly()
            question = question_of(interaction.message) or "(unknown question)"
            await services_of(interaction).progress.feedback.record_feedback(
                interaction.guild_id,
                interaction.user.id,
                question,
                self.helpful,
                cited_section_of(interaction.message),
            )
            thanks = (
                "Thanks, glad it helped!"
                if self.helpful
                else (
                    "Thanks for telling me. Admins see which answers miss, so the guide improves."
                )
            )
            await interaction.response.send_message(thanks, ephemeral=True)
        except Exception as error:
            await report_interaction_error(interaction, error)


class MilestoneButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"mentor:ms:(?P<state>learning|done):(?P<mid>[A-Za-z0-9._-]{1,80})",
):
    """ "Mark as learning / done" under an answer whose section is a roadmap milestone."""

    def __init__(self, state: str, milestone_id: str) -> None:
        label = "Mark as learning" if state == "learning" else "Mark as done"
        super().__init__(
            discord.ui.Button(
                label=label,
                style=discord.ButtonStyle.primary
                if state == "done"
                else discord.ButtonStyle.secondary,
                custom_id=f"mentor:ms:{state}:{milestone_id}",
            )
        )
        self.state = state
        self.milestone_id = milestone_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> MilestoneButton:
        return cls(match["state"], match["mid"])

    async def callback(self, interaction: discord.Interaction) -> None:
        try:
            if interaction.guild_id is None:
                raise GuildOnly()
            update = await services_of(interaction).progress.milestones.set_status(
                interaction.guild_id, interaction.user.id, self.milestone_id, self.state
            )
            await interaction.response.send_message(
                f"Marked **{update.item.title}** as {self.state}. "
                f"{update.phase_done}/{update.phase_total} milestones of that phase done.",
                ephemeral=True,
            )
        except Exception as error:
            await report_interaction_error(interaction, error)


def answer_view(answer: Answer, guide: Guide, *, in_guild: bool) -> discord.ui.View | None:
    """Buttons under an answer: feedback in servers, plus milestone marks when relevant."""
    if not in_guild or answer.kind not in (AnswerKind.ANSWER, AnswerKind.NOT_COVERED):
        return None
    view = discord.ui.View(timeout=None)
    view.add_item(FeedbackButton(True))
    view.add_item(FeedbackButton(False))
    milestone = milestone_for(answer, guide)
    if milestone is not None and len(milestone.id) <= 80:
        view.add_item(MilestoneButton("learning", milestone.id))
        view.add_item(MilestoneButton("done", milestone.id))
    return view
