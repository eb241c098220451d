"""ProgressCog: /phase, /log (+ form), /undo, /progress, /streak, /leaderboard."""

from __future__ import annotations

from unittest.mock import MagicMock

import discord
import pytest

from bot.discord.cogs.progress import ROLE_HIERARCHY_HINT, ProgressCog
from bot.discord.context import BotServices
from bot.discord.views.log_form import LogModal, parse_minutes
from bot.services.errors import UnknownPhase, ValidationError
from tests.bot.helpers import ALICE, BOB, GUILD, make_interaction, sent_kwargs

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def cog(bot: MagicMock, services: BotServices) -> ProgressCog:
    return ProgressCog(bot, services)


def fill(modal: LogModal, interaction: MagicMock, **values: str) -> None:
    """What discord.py does with a submitted form: refresh each input from the payload."""
    for name, value in values.items():
        getattr(modal, name)._refresh_state(interaction, {"value": value})


async def test_phase_set_then_show(cog: ProgressCog, services: BotServices) -> None:
    interaction = make_interaction(client=cog.bot)
    await cog.phase.callback(cog, interaction, 3)
    sent = sent_kwargs(interaction.response.send_message)
    assert sent["ephemeral"] is True
    assert "Phase 3" in str(sent["content"])
    assert (await services.progress.phases.current(GUILD, ALICE)).number == 3  # type: ignore[union-attr]
    show = make_interaction(client=cog.bot)
    await cog.phase.callback(cog, show, None)
    assert "You are in **Phase 3" in str(sent_kwargs(show.response.send_message)["content"])


async def test_phase_typed_by_hand_that_does_not_exist(cog: ProgressCog) -> None:
    with pytest.raises(UnknownPhase, match="no phase 7"):
        await cog.phase.callback(cog, make_interaction(client=cog.bot), 7)


async def test_phase_autocomplete_offers_guide_phases(cog: ProgressCog) -> None:
    choices = await cog.phase_autocomplete(make_interaction(), "prod")
    assert [(c.name, c.value) for c in choices] == [("Phase 3: production", 3)]


async def test_phase_role_is_swapped_and_refusal_explained(
    cog: ProgressCog, services: BotServices
) -> None:
    assert services.config is not None
    await services.config.set_phase_role(GUILD, 1, 501)
    await services.config.set_phase_role(GUILD, 3, 503)
    interaction = make_interaction(client=cog.bot)
    old, new = MagicMock(spec_set=discord.Role), MagicMock(spec_set=discord.Role)
    old.id, new.id = 501, 503
    interaction.user.roles = [old]
    interaction.guild.get_role.side_effect = {501: old, 503: new}.get
    await cog.phase.callback(cog, interaction, 3)
    interaction.user.remove_roles.assert_awaited_once_with(old, reason="MLE Mentor: phase changed")
    interaction.user.add_roles.assert_awaited_once_with(new, reason="MLE Mentor: phase changed")
    refused = make_interaction(client=cog.bot)
    refused.guild.get_role.side_effect = {501: old, 503: new}.get
    refused.user.add_roles.side_effect = discord.Forbidden(MagicMock(status=403), "hierarchy")
    await cog.phase.callback(cog, refused, 3)
    assert ROLE_HIERARCHY_HINT in str(sent_kwargs(refused.response.send_message)["content"])


async def test_log_then_undo(cog: ProgressCog, services: BotServices) -> None:
    interaction = make_interaction(client=cog.bot)
    await cog.log_time.callback(cog, interaction, 45, "backprop", "chain rule", None)
    sent = sent_kwargs(interaction.response.send_message)
    assert sent["ephemeral"] is True
    assert "45m" in str(sent["content"])
    stats = await services.progress.stats.summary(GUILD, ALICE)
    assert stats.all_time.minutes == 45
    undo = make_interaction(client=cog.bot)
    await cog.undo.callback(cog, undo)
    assert "Removed your last log: 45m of backprop" in str(
        sent_kwargs(undo.response.send_message)["content"]
    )
    assert (await services.progress.stats.summary(GUILD, ALICE)).all_time.minutes == 0


async def test_log_over_long_note_is_refused_and_nothing_stored(
    cog: ProgressCog, services: BotServices
) -> None:
    with pytest.raises(ValidationError, match="1,000"):
        await cog.log_time.callback(cog, make_interaction(), 30, "numpy", "x" * 1500, None)
    assert (await services.progress.stats.summary(GUILD, ALICE)).all_time.sessions == 0


async def test_log_without_minutes_opens_the_form_which_stores(
    cog: ProgressCog, services: BotServices
) -> None:
    interaction = make_interaction(client=cog.bot)
    await cog.log_time.callback(cog, interaction, None, "pandas", None, None)
    modal = interaction.response.send_modal.call_args.args[0]
    assert isinstance(modal, LogModal)
    assert modal.topic.default == "pandas"
    submit = make_interaction(client=cog.bot)
    fill(modal, submit, minutes="50m", topic="pandas", note="groupby", link="")
    await modal.on_submit(submit)
    assert "50m" in str(sent_kwargs(submit.response.send_message)["content"])
    assert (await services.progress.stats.summary(GUILD, ALICE)).all_time.minutes == 50


async def test_form_with_bad_minutes_reports_a_friendly_error(cog: ProgressCog) -> None:
    modal = LogModal(cog.services)
    submit = make_interaction(client=cog.bot)
    fill(modal, submit, minutes="lots", topic="x")
    with pytest.raises(ValidationError, match="whole number"):
        await modal.on_submit(submit)
    await modal.on_error(submit, ValidationError("Minutes must be a whole number like 45"))
    assert sent_kwargs(submit.response.send_message)["ephemeral"] is True
    assert parse_minutes(" 90 min ") == 90


async def test_topic_autocomplete_mixes_history_and_guide(cog: ProgressCog) -> None:
    await cog.services.progress.study.log(GUILD, ALICE, 20, "einsum tricks")
    names = [c.value for c in await cog.topic_autocomplete(make_interaction(), "")]
    assert names[0] == "einsum tricks"
    assert "mlops" in names
    assert "Deploy a model" in names
    filtered = [c.value for c in await cog.topic_autocomplete(make_interaction(), "DEPLOY")]
    assert filtered == ["Deploy a model"]


async def test_progress_sends_totals_and_a_png_chart(cog: ProgressCog) -> None:
    await cog.services.progress.study.log(GUILD, ALICE, 90, "numpy")
    interaction = make_interaction(client=cog.bot)
    await cog.progress.callback(cog, interaction)
    interaction.response.defer.assert_awaited_once_with(ephemeral=True, thinking=True)
    sent = sent_kwargs(interaction.followup.send)
    embed, chart = sent["embed"], sent["file"]
    assert sent["ephemeral"] is True
    assert embed.fields[0].value.startswith("1h 30m")  # type: ignore[union-attr]
    assert embed.fields[-1].name == "By phase"  # type: ignore[union-attr]
    assert embed.fields[-1].value == "No phase: 1h 30m"  # type: ignore[union-attr]
    assert embed.image.url == "attachment://progress.png"  # type: ignore[union-attr]
    assert chart.filename == "progress.png"  # type: ignore[union-attr]
    assert chart.fp.read(8) == PNG_MAGIC  # type: ignore[union-attr]


async def test_streak(cog: ProgressCog) -> None:
    empty = make_interaction()
    await cog.streak.callback(cog, empty)
    assert "No study logs yet" in str(sent_kwargs(empty.response.send_message)["content"])
    await cog.services.progress.study.log(GUILD, ALICE, 20, "numpy")
    one = make_interaction()
    await cog.streak.callback(cog, one)
    assert "**1 day**" in str(sent_kwargs(one.response.send_message)["content"])


async def test_leaderboard_is_public_and_never_pings(cog: ProgressCog) -> None:
    await cog.services.progress.study.log(GUILD, ALICE, 30, "numpy")
    await cog.services.progress.study.log(GUILD, BOB, 60, "pandas")
    interaction = make_interaction()
    await cog.leaderboard.callback(cog, interaction, None)
    sent = sent_kwargs(interaction.response.send_message)
    assert "ephemeral" not in sent
    lines = sent["embed"].description.splitlines()  # type: ignore[union-attr]
    assert lines == [f"**#1** <@{BOB}> · 1h", f"**#2** <@{ALICE}> · 30m"]


async def test_guild_only_commands_refuse_dms_clearly(cog: ProgressCog) -> None:
    with pytest.raises(Exception, match="inside a server"):
        await cog.streak.callback(cog, make_interaction(guild_id=None))
