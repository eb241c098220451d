"""A nudge refused by Discord (DMs closed) is explained on the member's next command, once.

The refusal goes through the production path (CommunityScheduler -> DiscordSender over a
spec'd client whose DM raises `discord.Forbidden`), then the bot's `app_command_completion`
listener runs after commands on spec'd interactions; real services on a real SQLite file.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from unittest.mock import AsyncMock, MagicMock

import discord
import pytest

from bot.discord.app import MentorBot
from bot.discord.cogs.community import CommunityCog, DiscordSender
from bot.discord.context import BotServices
from bot.services.nudges import DM_CLOSED_NOTICE
from bot.services.scheduler import CommunityScheduler
from tests.bot.helpers import ALICE, BOB, GUILD, make_interaction
from tests.storage.support import FakeClock


async def _no_sleep(_seconds: float) -> None:
    return None


def _refusing_client() -> MagicMock:
    """A client whose every DM is refused the way Discord refuses closed DMs (403)."""
    client = MagicMock(spec_set=discord.Client)
    user = MagicMock(spec_set=discord.User)
    response = MagicMock(status=403, reason="Forbidden")
    user.send = AsyncMock(side_effect=discord.Forbidden(response, "Cannot send messages"))
    client.get_user.return_value = user
    return client


@pytest.fixture
def mentor_bot(services: BotServices, tmp_path: Path) -> MentorBot:
    """The real bot class (never logged in): the listener under test is its method."""
    return MentorBot(services, data_dir=tmp_path, sync_commands=False)


async def _refuse_this_weeks_nudge(services: BotServices, clock: FakeClock, user_id: int) -> None:
    """Nudges on by DM (Monday 09:00), then the scheduler's DM is refused by Discord."""
    await services.progress.nudges.set_preferences(
        GUILD, user_id, enabled=True, weekday=0, hour=9, via="dm"
    )
    progress = services.progress
    scheduler = CommunityScheduler(
        progress.sessionmaker,
        progress.guide,
        DiscordSender(_refusing_client()),
        clock,
        sleep=_no_sleep,
    )
    report = await scheduler.run_due_work()
    assert report.failed == 1
    assert (await services.progress.nudges.preferences(GUILD, user_id)).dm_closed


async def _run_command(bot: MentorBot, user_id: int = ALICE, **kwargs: object) -> MagicMock:
    """A command that already replied, then what discord.py does after it completed."""
    interaction = make_interaction(client=bot, user_id=user_id, **kwargs)  # type: ignore[arg-type]
    await interaction.response.send_message("done", ephemeral=True)
    await bot.on_app_command_completion(
        interaction, MagicMock(spec_set=discord.app_commands.Command)
    )
    return interaction


def _notices(interaction: MagicMock) -> list[str]:
    return [
        str(call.args[0])
        for call in interaction.followup.send.call_args_list
        if call.kwargs.get("ephemeral") is True
    ]


async def test_told_once_after_the_next_command(
    mentor_bot: MentorBot, services: BotServices, clock: FakeClock
) -> None:
    await _refuse_this_weeks_nudge(services, clock, ALICE)
    first = await _run_command(mentor_bot)
    assert _notices(first) == [DM_CLOSED_NOTICE]
    assert "/nudges on channel" in DM_CLOSED_NOTICE
    second = await _run_command(mentor_bot)
    second.followup.send.assert_not_called()
    # Someone else in the same server has no problem and hears nothing.
    other = await _run_command(mentor_bot, user_id=BOB)
    other.followup.send.assert_not_called()


async def test_fixed_then_refused_again_is_told_again(
    mentor_bot: MentorBot, services: BotServices, clock: FakeClock
) -> None:
    await _refuse_this_weeks_nudge(services, clock, ALICE)
    assert _notices(await _run_command(mentor_bot)) == [DM_CLOSED_NOTICE]
    # The member says it is fixed (this clears dm_closed); the check after that command
    # finds no problem and forgets the earlier notice.
    await services.progress.nudges.set_preferences(GUILD, ALICE, via="dm")
    (await _run_command(mentor_bot)).followup.send.assert_not_called()
    clock.advance(days=7)  # next week's DM is refused again: a new problem
    await _refuse_this_weeks_nudge(services, clock, ALICE)
    assert _notices(await _run_command(mentor_bot)) == [DM_CLOSED_NOTICE]


async def test_nothing_outside_a_server_or_without_a_problem(
    mentor_bot: MentorBot, services: BotServices, clock: FakeClock
) -> None:
    await services.progress.nudges.set_preferences(GUILD, ALICE, enabled=True, via="dm")
    (await _run_command(mentor_bot)).followup.send.assert_not_called()
    await _refuse_this_weeks_nudge(services, clock, ALICE)
    (await _run_command(mentor_bot, guild_id=None)).followup.send.assert_not_called()
    # Channel delivery needs no DMs: no notice even though the flag is still set.
    await services.progress.nudges.set_preferences(GUILD, ALICE, via="channel")
    (await _run_command(mentor_bot)).followup.send.assert_not_called()


async def test_undelivered_notice_is_retried_on_the_next_command(
    mentor_bot: MentorBot, services: BotServices, clock: FakeClock
) -> None:
    await _refuse_this_weeks_nudge(services, clock, ALICE)
    # A command answered with a modal cannot take a follow-up: wait for the next one.
    modal = make_interaction(client=mentor_bot)
    modal.response.type = discord.InteractionResponseType.modal
    modal.response.is_done.side_effect = lambda: True
    await mentor_bot.on_app_command_completion(modal, MagicMock())
    modal.followup.send.assert_not_called()
    # Discord refusing the follow-up itself: not counted as told either.
    failing = make_interaction(client=mentor_bot)
    await failing.response.send_message("done")
    failing.followup.send.side_effect = discord.HTTPException(
        MagicMock(status=500, reason="x"), "boom"
    )
    await mentor_bot.on_app_command_completion(failing, MagicMock())
    assert _notices(await _run_command(mentor_bot)) == [DM_CLOSED_NOTICE]


async def test_unanswered_command_gets_the_notice_as_its_response(
    mentor_bot: MentorBot, services: BotServices, clock: FakeClock
) -> None:
    await _refuse_this_weeks_nudge(services, clock, ALICE)
    interaction = make_interaction(client=mentor_bot)
    await mentor_bot.on_app_command_completion(interaction, MagicMock())
    interaction.response.send_message.assert_awaited_once_with(DM_CLOSED_NOTICE, ephemeral=True)


async def test_nudge_preview_shows_it_and_the_listener_does_not_repeat_it(
    mentor_bot: MentorBot, services: BotServices, clock: FakeClock
) -> None:
    await _refuse_this_weeks_nudge(services, clock, ALICE)
    cog = CommunityCog(mentor_bot, services)
    preview = make_interaction(client=mentor_bot)
    await cog.nudge.callback(cog, preview)
    assert DM_CLOSED_NOTICE in str(preview.response.send_message.call_args.args[0])
    await mentor_bot.on_app_command_completion(preview, MagicMock())
    preview.followup.send.assert_not_called()


async def test_discord_dispatch_reaches_the_listener(
    mentor_bot: MentorBot, services: BotServices, clock: FakeClock
) -> None:
    """`app_command_completion` is the event name discord.py dispatches after a command."""
    await _refuse_this_weeks_nudge(services, clock, ALICE)
    interaction = make_interaction(client=mentor_bot)
    await interaction.response.send_message("done")
    async with mentor_bot:  # gives the client its loop (no login)
        mentor_bot.dispatch("app_command_completion", interaction, MagicMock())
        for _ in range(200):
            if interaction.followup.send.called:
                break
            await asyncio.sleep(0.01)
    assert _notices(interaction) == [DM_CLOSED_NOTICE]


async def test_a_guide_reload_does_not_forget_who_was_told(
    mentor_bot: MentorBot, services: BotServices, clock: FakeClock
) -> None:
    await _refuse_this_weeks_nudge(services, clock, ALICE)
    assert _notices(await _run_command(mentor_bot)) == [DM_CLOSED_NOTICE]
    assert services.reload is not None
    before = services.progress
    await services.reload()  # rebuilds the progress services, NudgeService included
    assert services.progress is not before
    (await _run_command(mentor_bot)).followup.send.assert_not_called()
