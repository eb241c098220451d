"""AskCog with spec'd discord mocks and the real services underneath."""

from __future__ import annotations

import logging
from unittest.mock import MagicMock

import discord
import pytest

from bot.discord.cogs.ask import DM_COMMAND_HINT, NOTICE_SECONDS, AskCog
from bot.discord.context import BotServices
from bot.discord.views.answer import FeedbackButton, MilestoneButton
from bot.services.answers import Cooldown, EngineHolder, SlowDown
from bot.services.mentor import MentorService
from tests.bot.helpers import (
    ALICE,
    BOB,
    BOT_ID,
    CHANNEL,
    GUILD,
    make_channel,
    make_interaction,
    make_message,
    make_user,
    sent_kwargs,
)

QUESTION = "How do I serve a model with FastAPI?"


@pytest.fixture
def cog(bot: MagicMock, services: BotServices) -> AskCog:
    return AskCog(bot, services)


def _buttons(view: discord.ui.View) -> list[str]:
    return [item.custom_id for item in view.children]  # type: ignore[attr-defined]


async def test_slash_ask_defers_then_follows_up_with_a_cited_embed(
    cog: AskCog, services: BotServices
) -> None:
    await services.progress.phases.set_phase(GUILD, ALICE, 1)
    interaction = make_interaction(client=cog.bot)
    await cog.ask.callback(cog, interaction, QUESTION)
    interaction.response.defer.assert_awaited_once_with(thinking=True, ephemeral=False)
    sent = sent_kwargs(interaction.followup.send)
    embed = sent["embed"]
    assert isinstance(embed, discord.Embed)
    assert embed.title == QUESTION
    assert "FastAPI" in (embed.description or "")
    assert embed.fields[0].name == "Sources"
    assert "Deployment" in embed.fields[0].value
    assert "confident" in (embed.footer.text or "")
    assert "you: Phase 1" in embed.footer.text
    assert _buttons(sent["view"]) == [  # type: ignore[arg-type]
        "mentor:fb:1",
        "mentor:fb:0",
        "mentor:ms:learning:p3-deploy",
        "mentor:ms:done:p3-deploy",
    ]


async def test_slash_ask_while_warming_up_answers_privately_without_deferring(
    cog: AskCog, services: BotServices, mentor: MentorService
) -> None:
    services.ask.engine = EngineHolder(lambda: mentor)
    interaction = make_interaction(client=cog.bot)
    with pytest.raises(Exception, match="warming up"):
        await cog.ask.callback(cog, interaction, QUESTION)
    interaction.response.defer.assert_not_awaited()


async def test_mention_is_answered_with_citations_and_milestone_buttons(cog: AskCog) -> None:
    message = make_message(
        f"<@{BOT_ID}> supervised learning regression and classification?",
        mentions=[cog.bot.user],
    )
    await cog.on_message(message)
    sent = sent_kwargs(message.reply)
    assert sent["mention_author"] is False
    assert "Supervised learning" in sent["embed"].fields[0].value  # type: ignore[union-attr]
    assert _buttons(sent["view"]) == [  # type: ignore[arg-type]
        "mentor:fb:1",
        "mentor:fb:0",
        "mentor:ms:learning:p1-supervised",
        "mentor:ms:done:p1-supervised",
    ]


async def test_everyone_and_role_pings_are_never_echoed(cog: AskCog) -> None:
    message = make_message(
        f"<@{BOT_ID}> @everyone <@&123456> @here how do I serve a model with FastAPI?",
        mentions=[cog.bot.user],
    )
    await cog.on_message(message)
    embed = sent_kwargs(message.reply)["embed"]
    rendered = f"{embed.title} {embed.description}"  # type: ignore[union-attr]
    assert "@everyone" not in rendered
    assert "@here" not in rendered
    assert "<@&" not in rendered


async def test_plain_chat_is_ignored(cog: AskCog) -> None:
    message = make_message("how do I serve a model with FastAPI?")
    await cog.on_message(message)
    message.reply.assert_not_awaited()


async def test_bots_are_ignored(cog: AskCog) -> None:
    message = make_message(f"<@{BOT_ID}> what?", author_bot=True, mentions=[cog.bot.user])
    await cog.on_message(message)
    message.reply.assert_not_awaited()


async def test_reply_to_an_answer_is_a_follow_up_with_context(cog: AskCog) -> None:
    cog.remember(777, QUESTION)
    reference = discord.MessageReference(message_id=777, channel_id=CHANNEL, guild_id=GUILD)
    message = make_message("and then?", reference=reference)
    await cog.on_message(message)
    embed = sent_kwargs(message.reply)["embed"]
    assert embed.title == "and then?"  # type: ignore[union-attr]
    assert "Deployment" in embed.fields[0].value  # type: ignore[union-attr]


async def test_follow_up_after_restart_reads_the_question_from_the_answer_embed(
    cog: AskCog,
) -> None:
    answer = MagicMock(spec_set=discord.Message)
    answer.author = cog.bot.user
    answer.embeds = [discord.Embed(title=QUESTION)]
    reference = discord.MessageReference(message_id=778, channel_id=CHANNEL, guild_id=GUILD)
    reference.resolved = answer
    message = make_message("and then?", reference=reference)
    request = await cog.question_in(message)
    assert request is not None
    assert request.previous_question == QUESTION


async def test_message_in_a_thread_on_an_answer_is_a_follow_up(cog: AskCog) -> None:
    thread = make_channel(999, cls=discord.Thread)
    cog.remember(999, QUESTION)
    request = await cog.question_in(make_message("and then?", channel=thread))
    assert request is not None
    assert request.previous_question == QUESTION


def answer_by(author: object) -> MagicMock:
    """A message whose embed answered QUESTION, sent by `author`."""
    message = MagicMock(spec_set=discord.Message)
    message.author = author
    message.embeds = [discord.Embed(title=QUESTION)]
    return message


def thread_on(thread_id: int, starter: object | None = None) -> MagicMock:
    """A thread whose starter message is not cached; its parent serves `starter`."""
    thread = make_channel(thread_id, cls=discord.Thread)
    thread.starter_message = None
    thread.parent = make_channel()
    thread.parent.fetch_message.return_value = starter
    return thread


async def test_thread_on_an_answer_from_before_a_restart_uses_the_starter_message(
    cog: AskCog,
) -> None:
    thread = make_channel(1001, cls=discord.Thread)
    thread.starter_message = answer_by(cog.bot.user)
    request = await cog.question_in(make_message("and then?", channel=thread))
    assert request is not None
    assert request.previous_question == QUESTION
    other = thread_on(1002)
    other.parent.fetch_message.side_effect = discord.NotFound(
        MagicMock(status=404, reason="Not Found"), "Unknown Message"
    )
    assert await cog.question_in(make_message("and then?", channel=other)) is None
    assert await cog.question_in(make_message("still there?", channel=other)) is None
    other.parent.fetch_message.assert_awaited_once_with(1002)  # the outcome is remembered


async def test_thread_whose_starter_is_not_cached_fetches_it_once(cog: AskCog) -> None:
    thread = thread_on(1003, answer_by(cog.bot.user))
    for text in ("and then?", "and after that?"):
        request = await cog.question_in(make_message(text, channel=thread))
        assert request is not None
        assert request.previous_question == QUESTION
    thread.parent.fetch_message.assert_awaited_once_with(1003)


async def test_thread_on_someone_elses_message_is_not_a_follow_up(cog: AskCog) -> None:
    thread = thread_on(1004, answer_by(make_user(BOB)))
    assert await cog.question_in(make_message("and then?", channel=thread)) is None


async def test_thread_starter_fetch_failing_transiently_is_retried(cog: AskCog) -> None:
    thread = thread_on(1005)
    thread.parent.fetch_message.side_effect = discord.HTTPException(
        MagicMock(status=503, reason="Unavailable"), "try later"
    )
    assert await cog.question_in(make_message("and then?", channel=thread)) is None
    assert await cog.question_in(make_message("and then?", channel=thread)) is None
    assert thread.parent.fetch_message.await_count == 2


async def test_dm_questions_are_answered_without_feedback_buttons(cog: AskCog) -> None:
    message = make_message(QUESTION, guild_id=None)
    await cog.on_message(message)
    sent = sent_kwargs(message.reply)
    assert "Deployment" in sent["embed"].fields[0].value  # type: ignore[union-attr]
    assert "view" not in sent


async def test_dm_slash_text_explains_guild_only_commands(cog: AskCog) -> None:
    message = make_message("/log 30 numpy", guild_id=None)
    await cog.on_message(message)
    assert sent_kwargs(message.reply)["content"] == DM_COMMAND_HINT


async def test_ask_channel_answers_questions_but_not_chatter(
    cog: AskCog, services: BotServices
) -> None:
    assert services.config is not None
    await services.config.set_ask_channel(GUILD, CHANNEL)
    chatter = make_message("I deployed my first model today")
    await cog.on_message(chatter)
    chatter.reply.assert_not_awaited()
    question = make_message(QUESTION)
    await cog.on_message(question)
    question.reply.assert_awaited_once()
    elsewhere = make_message(QUESTION, channel=make_channel(CHANNEL + 5))
    await cog.on_message(elsewhere)
    elsewhere.reply.assert_not_awaited()


async def test_cooldown_notice_is_a_reply_that_deletes_itself(cog: AskCog) -> None:
    replies = []
    for _ in range(4):
        message = make_message(f"<@{BOT_ID}> {QUESTION}", mentions=[cog.bot.user])
        await cog.on_message(message)
        replies.append(sent_kwargs(message.reply))
    assert "embed" in replies[2]
    assert "delete_after" not in replies[2]  # answers stay
    assert "one question at a time" in str(replies[3]["content"])
    assert replies[3]["delete_after"] == NOTICE_SECONDS
    assert replies[3]["mention_author"] is False


async def test_thanks_after_three_questions_is_not_throttled_nor_counted(
    cog: AskCog, services: BotServices
) -> None:
    for _ in range(3):
        await cog.on_message(make_message(f"<@{BOT_ID}> {QUESTION}", mentions=[cog.bot.user]))
    thanks = make_message(f"<@{BOT_ID}> thanks!", mentions=[cog.bot.user])
    await cog.on_message(thanks)
    sent = sent_kwargs(thanks.reply)
    assert "welcome" in (sent["embed"].description or "")  # type: ignore[union-attr]
    assert "delete_after" not in sent
    invalid = make_message(f"<@{BOT_ID}> ???", mentions=[cog.bot.user])
    await cog.on_message(invalid)
    assert "didn't find a question" in str(sent_kwargs(invalid.reply)["content"])

    # Neither used up the allowance: after two questions, small talk and an invalid
    # message, the third question of the window is still answered.
    services.ask.cooldown = Cooldown()
    for text in (QUESTION, QUESTION, "thank you so much", "!!!", QUESTION):
        message = make_message(f"<@{BOT_ID}> {text}", mentions=[cog.bot.user])
        await cog.on_message(message)
    assert "embed" in sent_kwargs(message.reply)


async def test_follow_ups_have_their_own_looser_limit(cog: AskCog, services: BotServices) -> None:
    for _ in range(3):
        await cog.on_message(make_message(f"<@{BOT_ID}> {QUESTION}", mentions=[cog.bot.user]))
    cog.remember(777, QUESTION)
    reference = discord.MessageReference(message_id=777, channel_id=CHANNEL, guild_id=GUILD)
    answered = 0
    for _ in range(services.ask.follow_up_cooldown.rate + 1):
        follow_up = make_message("and how long does that take?", reference=reference)
        await cog.on_message(follow_up)
        sent = sent_kwargs(follow_up.reply)
        if "embed" in sent:
            answered += 1
        else:
            assert "one question at a time" in str(sent["content"])
    assert answered == services.ask.follow_up_cooldown.rate > services.ask.cooldown.rate


async def test_over_long_question_gets_a_clear_self_deleting_message(cog: AskCog) -> None:
    message = make_message(f"<@{BOT_ID}> " + "why " * 600, mentions=[cog.bot.user])
    await cog.on_message(message)
    sent = sent_kwargs(message.reply)
    assert "1,000 characters" in str(sent["content"])
    assert sent["delete_after"] == NOTICE_SECONDS
    assert "embed" not in sent


async def test_notice_in_a_dm_is_a_plain_private_reply(cog: AskCog) -> None:
    message = make_message("???", guild_id=None)
    await cog.on_message(message)
    sent = sent_kwargs(message.reply)
    assert "didn't find a question" in str(sent["content"])
    assert "delete_after" not in sent


async def test_slash_ask_without_a_question_answers_privately(cog: AskCog) -> None:
    interaction = make_interaction(client=cog.bot)
    await cog.ask.callback(cog, interaction, "???")
    interaction.response.defer.assert_awaited_once_with(thinking=True, ephemeral=True)
    sent = sent_kwargs(interaction.followup.send)
    assert "didn't find a question" in str(sent["content"])
    assert sent["ephemeral"] is True


async def test_slash_ask_cooldown_is_private(cog: AskCog) -> None:
    for _ in range(3):
        await cog.ask.callback(cog, make_interaction(client=cog.bot), QUESTION)
    interaction = make_interaction(client=cog.bot)
    with pytest.raises(SlowDown):  # the tree's error handler answers it ephemerally
        await cog.ask.callback(cog, interaction, QUESTION)
    interaction.response.defer.assert_not_awaited()


async def test_missing_channel_permission_is_logged_and_owner_told(
    cog: AskCog, caplog: pytest.LogCaptureFixture
) -> None:
    message = make_message(f"<@{BOT_ID}> {QUESTION}", mentions=[cog.bot.user])
    response = MagicMock(status=403, reason="Forbidden")
    message.reply.side_effect = discord.Forbidden(response, "Missing Permissions")
    with caplog.at_level(logging.WARNING, "mentor.discord.ask"):
        await cog.on_message(message)
    assert "cannot answer in channel" in caplog.text
    owner = message.guild.owner
    owner.send.assert_awaited_once()
    assert "missing Send Messages" in owner.send.call_args.args[0]
    await cog.on_message(message)  # the owner is told once per channel, not per message
    owner.send.assert_awaited_once()


def test_answer_buttons_are_persistent_dynamic_items() -> None:
    assert FeedbackButton.__discord_ui_compiled_template__.fullmatch("mentor:fb:1")
    assert MilestoneButton.__discord_ui_compiled_template__.fullmatch("mentor:ms:done:p1-x")
    assert not MilestoneButton.__discord_ui_compiled_template__.fullmatch("mentor:ms:bad:p1")


async def test_mention_before_the_engine_is_ready_gets_a_warming_up_reply(
    cog: AskCog, services: BotServices, mentor: MentorService
) -> None:
    services.ask.engine = EngineHolder(lambda: mentor)
    message = make_message(f"<@{BOT_ID}> {QUESTION}", mentions=[cog.bot.user])
    await cog.on_message(message)
    assert "warming up" in str(sent_kwargs(message.reply)["content"])


async def test_a_dm_soon_after_an_answer_is_a_follow_up(cog: AskCog, monkeypatch) -> None:
    import bot.discord.cogs.ask as ask_module

    clock = [1_000.0]
    monkeypatch.setattr(ask_module.time, "monotonic", lambda: clock[0])
    first = make_message(QUESTION, guild_id=None)
    await cog.on_message(first)
    channel = first.channel
    clock[0] += 60
    request = await cog.question_in(make_message("and then?", guild_id=None, channel=channel))
    assert request is not None
    assert request.previous_question == QUESTION
    clock[0] += ask_module.DM_FOLLOW_UP_SECONDS + 1
    later = await cog.question_in(make_message("and then?", guild_id=None, channel=channel))
    assert later is not None
    assert later.previous_question is None
