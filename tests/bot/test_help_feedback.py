"""/help (who sees what) and 👍/👎 reactions counted as answer feedback (spec'd mocks)."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from unittest.mock import AsyncMock, MagicMock

import discord
import pytest
from discord import app_commands

from bot.discord.app import MentorBot
from bot.discord.cogs.help import ADMIN_HELP, MEMBER_HELP, HelpCog
from bot.discord.cogs.reactions import ReactionFeedbackCog, vote_of
from bot.discord.context import BotServices
from bot.discord.views.answer import answer_embed, answer_view
from bot.services.mentor import MentorService
from tests.bot.helpers import ALICE, BOB, BOT_ID, CHANNEL, GUILD, make_interaction, sent_kwargs

QUESTION = "How do I serve a model with FastAPI?"
ANSWER_ID = 123_123_123_123_123_123


# -- /help ---------------------------------------------------------------------------------


async def test_help_for_a_member_is_private_and_has_no_admin_part(
    bot: MagicMock, services: BotServices
) -> None:
    cog = HelpCog(bot, services)
    interaction = make_interaction(client=bot)
    await cog.help.callback(cog, interaction)
    sent = sent_kwargs(interaction.response.send_message)
    assert sent["ephemeral"] is True
    card = sent["embed"]
    assert isinstance(card, discord.Embed)
    assert "`/log`" in (card.description or "")
    assert card.fields == []


async def test_help_for_an_admin_adds_the_admin_commands(
    bot: MagicMock, services: BotServices
) -> None:
    cog = HelpCog(bot, services)
    interaction = make_interaction(client=bot, permissions=discord.Permissions(manage_guild=True))
    await cog.help.callback(cog, interaction)
    card = sent_kwargs(interaction.response.send_message)["embed"]
    [admin] = card.fields  # type: ignore[union-attr]
    assert "/challenge-admin create" in str(admin.value)


async def test_help_names_every_command_in_the_right_part(
    services: BotServices, tmp_path: Path
) -> None:
    """A command added later must be added to /help too; admin-only ones to its admin part."""
    bot = MentorBot(services, data_dir=tmp_path, sync_commands=False)
    async with bot:
        await bot.setup_hook()
        for command in bot.tree.get_commands():
            if command.name == "help":
                continue
            text = ADMIN_HELP if command.default_permissions else MEMBER_HELP
            assert f"/{command.name}" in text, command.name
            if isinstance(command, app_commands.Group):
                for sub in command.commands:
                    assert f"{sub.name}`" in text, f"{command.name} {sub.name}"


# -- reactions as feedback -----------------------------------------------------------------


@pytest.fixture
def answer(bot: MagicMock, mentor: MentorService) -> MagicMock:
    """The bot's answer message as discord.py would hold it (embed + 👍/👎 buttons)."""
    reply = mentor.ask(QUESTION)
    view = answer_view(reply, mentor.guide, in_guild=True)
    assert view is not None
    message = MagicMock(spec_set=discord.Message)
    message.id = ANSWER_ID
    message.author = bot.user
    message.embeds = [answer_embed(reply)]
    message.components = [discord.ActionRow(row) for row in view.to_components()]  # type: ignore[arg-type]
    return message


def reaction(emoji: str, *, user_id: int = ALICE, author_id: int | None = BOT_ID) -> Any:
    data: dict[str, Any] = {
        "message_id": ANSWER_ID,
        "channel_id": CHANNEL,
        "user_id": user_id,
        "guild_id": GUILD,
        "type": 0,
    }
    if author_id is not None:
        data["message_author_id"] = author_id
    return discord.RawReactionActionEvent(
        data,  # type: ignore[arg-type]
        discord.PartialEmoji.from_str(emoji),
        "REACTION_ADD",
    )


@pytest.fixture
def reactions(bot: MagicMock, services: BotServices, answer: MagicMock) -> ReactionFeedbackCog:
    bot.cached_messages = [answer]
    return ReactionFeedbackCog(bot, services)


async def test_thumbs_reactions_count_as_one_vote_per_member(
    reactions: ReactionFeedbackCog, services: BotServices
) -> None:
    feedback = services.progress.feedback
    await reactions.on_raw_reaction_add(reaction("👍"))
    assert (await feedback.feedback_summary(GUILD)).helpful == 1
    await reactions.on_raw_reaction_add(reaction("👎🏽"))  # changed her mind (skin tone too)
    await reactions.on_raw_reaction_add(reaction("👍", user_id=BOB))
    summary = await feedback.feedback_summary(GUILD)
    assert (summary.helpful, summary.not_helpful) == (1, 1)
    export = await services.progress.privacy.export(GUILD, BOB)
    [row] = export["tables"]["answer_feedback"]
    assert row["question"] == QUESTION
    assert row["cited_section"].endswith("Deployment")


async def test_other_reactions_and_messages_are_ignored(
    reactions: ReactionFeedbackCog, services: BotServices, answer: MagicMock
) -> None:
    await reactions.on_raw_reaction_add(reaction("🎉"))
    await reactions.on_raw_reaction_add(reaction("👍", user_id=BOT_ID))  # the bot itself
    await reactions.on_raw_reaction_add(reaction("👍", author_id=BOB))  # someone else's post
    answer.components = []  # small talk / no vote buttons
    await reactions.on_raw_reaction_add(reaction("👍"))
    summary = await services.progress.feedback.feedback_summary(GUILD)
    assert (summary.helpful, summary.not_helpful) == (0, 0)


async def test_an_answer_not_in_the_cache_is_fetched_once(
    bot: MagicMock, services: BotServices, answer: MagicMock
) -> None:
    bot.cached_messages = []
    channel = MagicMock(spec_set=discord.PartialMessageable)
    channel.fetch_message = AsyncMock(return_value=answer)
    bot.get_partial_messageable.return_value = channel
    cog = ReactionFeedbackCog(bot, services)
    await cog.on_raw_reaction_add(reaction("👎", author_id=None))
    channel.fetch_message.assert_awaited_once_with(ANSWER_ID)
    assert (await services.progress.feedback.feedback_summary(GUILD)).not_helpful == 1


def test_vote_of_reads_thumbs_only() -> None:
    assert vote_of(discord.PartialEmoji(name="👍")) is True
    assert vote_of(discord.PartialEmoji(name="👎🏿")) is False
    assert vote_of(discord.PartialEmoji(name="thumbsup", id=42)) is None
    assert vote_of(discord.PartialEmoji(name="❤️")) is None
