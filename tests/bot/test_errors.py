"""The single error handler: friendly messages for expected failures, logs for bugs."""

from __future__ import annotations

import logging
import sqlite3
from unittest.mock import MagicMock

import discord
import pytest
from discord import app_commands
from sqlalchemy.exc import OperationalError

from bot.discord.errors import GENERIC_FAILURE, report_interaction_error, send_ephemeral
from bot.services.errors import NothingToUndo
from tests.bot.helpers import make_interaction, sent_kwargs


def _invoke_error(original: Exception) -> app_commands.CommandInvokeError:
    async def callback(interaction: discord.Interaction) -> None: ...

    command = app_commands.Command(name="demo", description="demo", callback=callback)
    return app_commands.CommandInvokeError(command, original)


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (_invoke_error(NothingToUndo()), "no study logs to undo"),
        (app_commands.MissingPermissions(["manage_guild"]), "Manage Server"),
        (app_commands.NoPrivateMessage(), "inside a server"),
        (app_commands.BotMissingPermissions(["embed_links"]), "embed links"),
        (
            _invoke_error(discord.Forbidden(MagicMock(status=403, reason="x"), "Missing Access")),
            "missing a permission",
        ),
        (
            _invoke_error(
                OperationalError("UPDATE", {}, sqlite3.OperationalError("database is locked"))
            ),
            "locked by another program",
        ),
    ],
)
async def test_expected_failures_become_friendly_ephemeral_messages(
    error: Exception, expected: str
) -> None:
    interaction = make_interaction()
    await report_interaction_error(interaction, error)
    sent = sent_kwargs(interaction.response.send_message)
    assert expected in str(sent["content"])
    assert sent["ephemeral"] is True


async def test_bugs_are_logged_with_context_and_never_shown(
    caplog: pytest.LogCaptureFixture,
) -> None:
    interaction = make_interaction(custom_id="mentor:fb:1")
    with caplog.at_level(logging.ERROR, "mentor.discord"):
        await report_interaction_error(interaction, _invoke_error(KeyError("secret detail")))
    sent = sent_kwargs(interaction.response.send_message)
    assert sent["content"] == GENERIC_FAILURE
    assert "secret detail" not in str(sent["content"])
    assert "custom_id=mentor:fb:1" in caplog.text
    assert "KeyError" in caplog.text


async def test_a_refusing_database_is_a_warning_not_a_bug(
    caplog: pytest.LogCaptureFixture,
) -> None:
    interaction = make_interaction()
    locked = OperationalError("UPDATE", {}, sqlite3.OperationalError("database is locked"))
    with caplog.at_level(logging.WARNING, "mentor.discord"):
        await report_interaction_error(interaction, _invoke_error(locked))
    assert [r.levelno for r in caplog.records] == [logging.WARNING]
    assert "database refused" in caplog.text


async def test_after_a_defer_the_message_goes_to_the_followup() -> None:
    interaction = make_interaction()
    await interaction.response.defer(thinking=True)
    await report_interaction_error(interaction, _invoke_error(NothingToUndo()))
    interaction.response.send_message.assert_not_awaited()
    assert sent_kwargs(interaction.followup.send)["ephemeral"] is True


async def test_long_text_is_split_across_messages() -> None:
    interaction = make_interaction()
    text = "\n\n".join(["p" * 1500, "q" * 1500, "r" * 100])
    await send_ephemeral(interaction, text)
    first = sent_kwargs(interaction.response.send_message)
    assert first["content"] == "p" * 1500
    rest = [call.args[0] for call in interaction.followup.send.call_args_list]
    assert rest == ["q" * 1500 + "\n\n" + "r" * 100]  # paragraphs packed while they fit
    assert all(call.kwargs["ephemeral"] for call in interaction.followup.send.call_args_list)
