"""AdminCog: server-side permission re-check, configuration, insights, FAQ, reload."""

from __future__ import annotations

from unittest.mock import MagicMock

import discord
import pytest
from discord import app_commands

from bot.discord.cogs.admin import AdminCog
from bot.discord.context import BotServices
from bot.services.answers import AskRequest
from bot.services.errors import UnknownPhase
from tests.bot.helpers import ALICE, CHANNEL, GUILD, make_channel, make_interaction, sent_kwargs

ADMIN = discord.Permissions(manage_guild=True)


@pytest.fixture
def cog(bot: MagicMock, services: BotServices) -> AdminCog:
    return AdminCog(bot, services)


def admin_interaction(cog: AdminCog) -> MagicMock:
    return make_interaction(client=cog.bot, permissions=ADMIN)


async def test_non_admins_are_refused_server_side(cog: AdminCog) -> None:
    with pytest.raises(app_commands.MissingPermissions):
        await cog.interaction_check(make_interaction(permissions=discord.Permissions.none()))
    with pytest.raises(app_commands.NoPrivateMessage):
        await cog.interaction_check(make_interaction(guild_id=None, permissions=ADMIN))
    assert await cog.interaction_check(admin_interaction(cog))


def test_admin_commands_are_hidden_by_default_permissions(cog: AdminCog) -> None:
    group = cog.__cog_app_commands_group__
    assert group is not None
    assert group.default_permissions == discord.Permissions(manage_guild=True)
    assert group.guild_only is True


async def test_ask_channel_set_warns_about_missing_permissions(
    cog: AdminCog, services: BotServices
) -> None:
    channel = make_channel()
    channel.permissions_for.return_value = discord.Permissions(
        view_channel=True, send_messages=True
    )
    interaction = admin_interaction(cog)
    await cog.ask_channel.callback(cog, interaction, channel)
    text = str(sent_kwargs(interaction.response.send_message)["content"])
    assert f"Ask channel set to <#{CHANNEL}>" in text
    assert "embed links, read message history" in text
    assert services.config is not None
    assert await services.config.ask_channel(GUILD) == CHANNEL
    assert services.ask_channels[GUILD] == CHANNEL  # the listener sees it at once
    clear = admin_interaction(cog)
    await cog.ask_channel.callback(cog, clear, None)
    assert await services.config.ask_channel(GUILD) is None


async def test_phase_role_above_the_bot_is_explained_not_saved(
    cog: AdminCog, services: BotServices
) -> None:
    interaction = admin_interaction(cog)
    me = interaction.guild.me
    me.guild_permissions = discord.Permissions(manage_roles=True)
    top = MagicMock(spec_set=discord.Role)
    top.mention = "<@&10>"
    me.top_role = top
    role = MagicMock(spec_set=discord.Role)
    role.id, role.mention, role.managed = 20, "<@&20>", False
    role.is_default.return_value = False
    role.__ge__.return_value = True  # the role sits above the bot's top role
    await cog.phase_role.callback(cog, interaction, 1, role)
    text = str(sent_kwargs(interaction.response.send_message)["content"])
    assert text.startswith("Not saved")
    assert "Drag my role above" in text
    assert services.config is not None
    assert await services.config.phase_roles(GUILD) == {}
    role.__ge__.return_value = False
    ok = admin_interaction(cog)
    ok.guild.me.guild_permissions = discord.Permissions(manage_roles=True)
    ok.guild.me.top_role = top
    await cog.phase_role.callback(cog, ok, 1, role)
    assert await services.config.phase_roles(GUILD) == {1: 20}
    with pytest.raises(UnknownPhase):
        await cog.phase_role.callback(cog, admin_interaction(cog), 7, None)


async def test_insights_list_unanswered_and_feedback_ratio(
    cog: AdminCog, services: BotServices
) -> None:
    await services.progress.feedback.record_unanswered(GUILD, ALICE, "Best GPU for @everyone?")
    await services.progress.feedback.record_unanswered(GUILD, ALICE + 1, "best gpu for everyone")
    await services.progress.feedback.record_feedback(GUILD, ALICE, "q", True)
    await services.progress.feedback.record_feedback(GUILD, ALICE + 1, "q", True)
    await services.progress.feedback.record_feedback(GUILD, ALICE + 2, "q", False)
    interaction = admin_interaction(cog)
    await cog.insights.callback(cog, interaction)
    embed = sent_kwargs(interaction.response.send_message)["embed"]
    assert (embed.description or "").startswith("**2×** (2 members)")  # type: ignore[union-attr]
    assert embed.fields[0].value == "👍 2 · 👎 1 (67% helpful)"  # type: ignore[union-attr]


async def test_faq_set_is_used_for_this_guild_then_removed(
    cog: AdminCog, services: BotServices
) -> None:
    interaction = admin_interaction(cog)
    await cog.faq_set.callback(cog, interaction, "When is the study call?", "Fridays 18:00 UTC.")
    assert "Added" in str(sent_kwargs(interaction.response.send_message)["content"])
    reply = await services.ask.ask(AskRequest("when is the study call", GUILD, ALICE))
    assert reply.answer.text.startswith("Fridays 18:00 UTC.")
    choices = await cog.faq_autocomplete(admin_interaction(cog), "study")
    assert [c.value for c in choices] == ["When is the study call?"]
    remove = admin_interaction(cog)
    await cog.faq_remove.callback(cog, remove, "When is the study call?")
    assert "Removed" in str(sent_kwargs(remove.response.send_message)["content"])
    again = await services.ask.ask(AskRequest("when is the study call", GUILD, ALICE))
    assert "Fridays 18:00 UTC." not in again.answer.text


async def test_reload_swaps_services_and_reports(cog: AdminCog, services: BotServices) -> None:
    before = services.progress
    interaction = admin_interaction(cog)
    await cog.reload.callback(cog, interaction)
    interaction.response.defer.assert_awaited_once_with(ephemeral=True, thinking=True)
    text = str(sent_kwargs(interaction.followup.send)["content"])
    assert text.startswith("Reloaded the guide: 3 documents, 2 phases, 2 milestones")
    assert services.progress is not before


async def test_nudge_default_moves_members_without_their_own_slot(
    cog: AdminCog, services: BotServices
) -> None:
    nudges = services.progress.nudges
    await nudges.set_preferences(GUILD, ALICE, enabled=True)  # no slot of her own
    await nudges.set_preferences(GUILD, ALICE + 1, enabled=True, weekday=2, hour=7)
    interaction = admin_interaction(cog)
    await cog.nudge_default.callback(cog, interaction, 4, 9)
    reply = sent_kwargs(interaction.response.send_message)
    assert reply["ephemeral"] is True
    assert "Friday at 09:00" in str(reply["content"])
    alice = await nudges.preferences(GUILD, ALICE)
    assert (alice.weekday, alice.hour) == (4, 9)
    own = await nudges.preferences(GUILD, ALICE + 1)
    assert (own.weekday, own.hour) == (2, 7)  # a member's own choice wins
