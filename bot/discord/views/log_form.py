"""The /log form: a modal for members who prefer typing into fields over slash options.

Every form gets its own `custom_id`: discord.py keeps open modals in one store keyed by
that id, so with a fixed id a second member opening the form replaced the first one's,
and one of the two submits was dropped without a response (the entry was lost).
"""

from __future__ import annotations

import uuid
from typing import Any

import discord

from bot.discord.context import BotServices
from bot.discord.errors import GuildOnly, report_interaction_error, send_ephemeral
from bot.services.formatting import fmt_minutes
from bot.services.parsing import parse_whole_number, shown
from bot.services.study import MAX_NOTE, MAX_TOPIC

FORM_PREFIX = "mentor:log-form:"
# An abandoned form (closed without submitting) is never reported by Discord; it is
# forgotten after this long so the store does not grow. Long enough for a slow typist.
FORM_TIMEOUT = 60 * 60.0


def parse_minutes(text: str) -> int:
    """'45', '45m', ' 90 min ' -> int; anything else is a friendly ValidationError."""
    cleaned = text.strip().lower().removesuffix("min").removesuffix("m")
    message = f"Minutes must be a whole number like 45; got {shown(text)!r}."
    return parse_whole_number(cleaned, message=message, signed=False, max_digits=5)


class LogModal(discord.ui.Modal, title="Log study time"):
    minutes: discord.ui.TextInput[Any] = discord.ui.TextInput(
        label="Minutes", placeholder="45", max_length=5
    )
    topic: discord.ui.TextInput[Any] = discord.ui.TextInput(
        label="Topic", placeholder="backprop", max_length=MAX_TOPIC
    )
    note: discord.ui.TextInput[Any] = discord.ui.TextInput(
        label="Note (optional)",
        style=discord.TextStyle.paragraph,
        required=False,
        max_length=MAX_NOTE,
    )
    link: discord.ui.TextInput[Any] = discord.ui.TextInput(
        label="Link (optional)", required=False, max_length=500
    )

    def __init__(
        self,
        services: BotServices,
        *,
        minutes: int | None = None,
        topic: str | None = None,
        note: str | None = None,
    ) -> None:
        super().__init__(custom_id=f"{FORM_PREFIX}{uuid.uuid4().hex}", timeout=FORM_TIMEOUT)
        self.services = services
        if minutes is not None:
            self.minutes.default = str(minutes)
        if topic:
            self.topic.default = topic
        if note:
            self.note.default = note

    @staticmethod
    async def record(
        services: BotServices,
        guild_id: int,
        user_id: int,
        minutes: int,
        topic: str,
        note: str | None,
        link: str | None,
    ) -> str:
        """Store one log and return the confirmation (shared by /log and the form)."""
        result = await services.progress.study.log(guild_id, user_id, minutes, topic, note, link)
        entry = result.log
        return (
            f"Logged **{fmt_minutes(entry.minutes)}** of "
            f"{discord.utils.escape_markdown(entry.topic)}. This week: "
            f"{fmt_minutes(result.week_minutes)}. Made a mistake? `/undo`."
        )

    async def on_submit(self, interaction: discord.Interaction) -> None:
        if interaction.guild_id is None:
            raise GuildOnly()
        text = await self.record(
            self.services,
            interaction.guild_id,
            interaction.user.id,
            parse_minutes(self.minutes.value),
            self.topic.value,
            self.note.value or None,
            self.link.value or None,
        )
        await send_ephemeral(interaction, text)

    async def on_error(self, interaction: discord.Interaction, error: Exception, /) -> None:
        await report_interaction_error(interaction, error)
