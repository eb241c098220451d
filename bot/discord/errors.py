"""The one error handler of the Discord layer.

Every failure of a slash command, a button, a select or a modal ends up in
`report_interaction_error`: domain errors (`MentorError`), Discord's own check failures and
the database refusing (locked, read-only, full) become a friendly ephemeral message;
anything else is a bug, logged with who/where/what and answered with a generic apology. A
traceback never reaches the chat.
"""

from __future__ import annotations

import logging

import discord
from discord import app_commands

from bot.discord.text import split_message
from bot.services.errors import MentorError
from storage.errors import describe_database_fault

log = logging.getLogger("mentor.discord")

GENERIC_FAILURE = "Sorry, something went wrong on my side. It has been logged; please try again."


class GuildOnly(MentorError):
    """A command that needs a server (progress is per server) was used in a DM."""

    def __init__(self) -> None:
        super().__init__(
            "That command works inside a server, because your progress is kept per server. "
            "In DMs I can still answer questions: just type one."
        )


class NotAdmin(MentorError):
    def __init__(self) -> None:
        super().__init__("Only members with the **Manage Server** permission can do that.")


def _unwrap(error: BaseException) -> BaseException:
    while isinstance(error, app_commands.CommandInvokeError | app_commands.TransformerError):
        if error.__cause__ is None:
            break
        error = error.__cause__
    if isinstance(error, app_commands.CommandInvokeError):
        return error.original
    return error


def friendly_message(error: BaseException) -> str | None:
    """The message to show for an expected failure, or None for a bug."""
    if isinstance(error, MentorError):
        return error.message
    if isinstance(error, app_commands.NoPrivateMessage):
        return GuildOnly().message
    if isinstance(error, app_commands.MissingPermissions):
        return NotAdmin().message
    if isinstance(error, app_commands.CommandOnCooldown):
        return f"Slow down a little: try again in {max(1, round(error.retry_after))} seconds."
    if isinstance(error, app_commands.BotMissingPermissions):
        missing = ", ".join(p.replace("_", " ") for p in error.missing_permissions)
        return f"I'm missing permissions here: {missing}. Ask an admin to grant them."
    if isinstance(error, discord.Forbidden):
        return (
            "Discord refused that action: I'm missing a permission in this channel or server. "
            "An admin can fix my role's permissions."
        )
    if isinstance(error, app_commands.CheckFailure):
        return "You can't use that command here."
    return None


def describe(interaction: discord.Interaction) -> str:
    """Who/where/what for log lines (ids only: no message content, no personal data)."""
    command = interaction.command.qualified_name if interaction.command else None
    custom_id = interaction.data.get("custom_id") if interaction.data else None
    return (
        f"command={command} custom_id={custom_id} guild={interaction.guild_id} "
        f"channel={interaction.channel_id} user={interaction.user.id}"
    )


async def send_ephemeral(interaction: discord.Interaction, content: str) -> None:
    """Reply privately whether or not the interaction was already answered or deferred.

    Text over Discord's 2,000-character limit goes out as several messages, split on
    paragraph boundaries.
    """
    try:
        for chunk in split_message(content) or ["(empty)"]:
            if interaction.response.is_done():
                await interaction.followup.send(chunk, ephemeral=True)
            else:
                await interaction.response.send_message(chunk, ephemeral=True)
    except discord.HTTPException:
        log.warning("could not deliver an error message (%s)", describe(interaction))


async def report_interaction_error(interaction: discord.Interaction, error: BaseException) -> None:
    """Tell the member what went wrong, and log it when it is not an expected failure."""
    cause = _unwrap(error)
    # The database refused (locked, read-only, full): not a bug and not the member's doing.
    fault = describe_database_fault(cause)
    message = fault or friendly_message(cause)
    if message is None:
        log.error("unhandled error (%s)", describe(interaction), exc_info=cause)
        message = GENERIC_FAILURE
    elif fault is not None:
        log.warning("database refused (%s): %s", describe(interaction), cause)
    elif isinstance(cause, discord.Forbidden):
        log.warning("forbidden (%s): %s", describe(interaction), cause.text)
    await send_ephemeral(interaction, message)
