"""The persistent 👍/👎 and milestone buttons, rebuilt from their custom_id as after a restart."""

from __future__ import annotations

from unittest.mock import MagicMock

import discord

from bot.discord.context import BotServices
from bot.discord.views.answer import FeedbackButton, MilestoneButton, cited_section_of, question_of
from tests.bot.helpers import ALICE, GUILD, make_interaction, sent_kwargs

QUESTION = "How do I serve a model with FastAPI?"


def _answer_message() -> MagicMock:
    embed = discord.Embed(title=QUESTION, description="Serve a model…")
    embed.add_field(name="Sources", value="• Phase 3: production › Deployment\n• other")
    message = MagicMock(spec_set=discord.Message)
    message.embeds = [embed]
    return message


async def _click(item_cls: type, custom_id: str, interaction: MagicMock) -> None:
    match = item_cls.__discord_ui_compiled_template__.fullmatch(custom_id)
    assert match is not None
    item = await item_cls.from_custom_id(interaction, MagicMock(), match)
    await item.callback(interaction)


async def test_thumbs_up_is_stored_with_question_and_section(
    services: BotServices, bot: MagicMock
) -> None:
    message = _answer_message()
    assert question_of(message) == QUESTION
    assert cited_section_of(message) == "Phase 3: production › Deployment"
    interaction = make_interaction(client=bot, message=message, custom_id="mentor:fb:1")
    await _click(FeedbackButton, "mentor:fb:1", interaction)
    down = make_interaction(client=bot, message=message, user_id=ALICE + 1)
    await _click(FeedbackButton, "mentor:fb:0", down)
    summary = await services.progress.feedback.feedback_summary(GUILD)
    assert (summary.helpful, summary.not_helpful) == (1, 1)
    reply = sent_kwargs(interaction.response.send_message)
    assert reply["ephemeral"] is True
    assert "glad" in str(reply["content"])
    exported = await services.progress.privacy.export(GUILD, ALICE)
    [row] = exported["tables"]["answer_feedback"]
    assert row["question"] == QUESTION
    assert row["cited_section"] == "Phase 3: production › Deployment"


async def test_feedback_in_a_dm_is_refused_clearly(bot: MagicMock) -> None:
    interaction = make_interaction(client=bot, guild_id=None, message=_answer_message())
    await _click(FeedbackButton, "mentor:fb:1", interaction)
    assert "inside a server" in str(sent_kwargs(interaction.response.send_message)["content"])


async def test_mark_as_done_links_the_answer_to_progress(
    services: BotServices, bot: MagicMock
) -> None:
    interaction = make_interaction(client=bot, message=_answer_message())
    await _click(MilestoneButton, "mentor:ms:done:p3-deploy", interaction)
    checklist = await services.progress.milestones.checklist(GUILD, ALICE, 3)
    assert [i.status for i in checklist.items] == ["done"]
    assert "1/1" in str(sent_kwargs(interaction.response.send_message)["content"])


async def test_unknown_milestone_in_a_stale_button_is_a_friendly_error(bot: MagicMock) -> None:
    interaction = make_interaction(client=bot, message=_answer_message())
    await _click(MilestoneButton, "mentor:ms:done:p9-gone", interaction)
    reply = sent_kwargs(interaction.response.send_message)
    assert reply["ephemeral"] is True
    assert "no milestone" in str(reply["content"])
