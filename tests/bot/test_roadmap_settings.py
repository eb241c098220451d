"""RoadmapCog (checklist + select) and SettingsCog (/settings, /mydata)."""

from __future__ import annotations

import json
from unittest.mock import MagicMock

import discord
import pytest

from bot.discord.cogs.roadmap import RoadmapCog
from bot.discord.cogs.settings import SettingsCog
from bot.discord.context import BotServices
from bot.discord.views.roadmap import MilestoneSelect, RoadmapView
from bot.services.errors import InvalidTimezone
from tests.bot.helpers import ALICE, BOB, GUILD, make_interaction, sent_kwargs


@pytest.fixture
def roadmap(bot: MagicMock, services: BotServices) -> RoadmapCog:
    return RoadmapCog(bot, services)


@pytest.fixture
def settings(bot: MagicMock, services: BotServices) -> SettingsCog:
    return SettingsCog(bot, services)


def _select(view: RoadmapView) -> MilestoneSelect:
    [item] = view.children
    assert isinstance(item, MilestoneSelect)
    return item


async def test_roadmap_shows_the_members_phase_with_a_select(
    roadmap: RoadmapCog, services: BotServices
) -> None:
    await services.progress.phases.set_phase(GUILD, ALICE, 3)
    interaction = make_interaction(client=roadmap.bot)
    await roadmap.roadmap.callback(roadmap, interaction, None)
    sent = sent_kwargs(interaction.response.send_message)
    assert sent["ephemeral"] is True
    assert sent["embed"].title == "Phase 3: production (your phase)"  # type: ignore[union-attr]
    select = _select(sent["view"])  # type: ignore[arg-type]
    assert [o.value for o in select.options] == ["p3-deploy"]


async def test_roadmap_select_marks_and_unmarks_done(
    roadmap: RoadmapCog, services: BotServices
) -> None:
    interaction = make_interaction(client=roadmap.bot)
    await roadmap.roadmap.callback(roadmap, interaction, 1)
    view: RoadmapView = sent_kwargs(interaction.response.send_message)["view"]  # type: ignore[assignment]
    pick = make_interaction(client=roadmap.bot)
    await view.apply(pick, {"p1-supervised"})
    checklist = await services.progress.milestones.checklist(GUILD, ALICE, 1)
    assert [i.status for i in checklist.items] == ["done"]
    edited = sent_kwargs(pick.response.edit_message)
    assert "1/1 done" in edited["embed"].footer.text  # type: ignore[union-attr]
    fresh: RoadmapView = edited["view"]  # type: ignore[assignment]
    assert _select(fresh).options[0].default is True
    await fresh.apply(make_interaction(client=roadmap.bot), set())
    checklist = await services.progress.milestones.checklist(GUILD, ALICE, 1)
    assert [i.status for i in checklist.items] == [None]


async def test_roadmap_view_only_answers_its_owner(
    roadmap: RoadmapCog, services: BotServices
) -> None:
    checklist = await services.progress.milestones.checklist(GUILD, ALICE, 1)
    view = RoadmapView(services, GUILD, ALICE, checklist, None)
    assert await view.interaction_check(make_interaction(user_id=ALICE))
    assert not await view.interaction_check(make_interaction(user_id=BOB))


async def test_settings_show_and_change(settings: SettingsCog, services: BotServices) -> None:
    show = make_interaction()
    await settings.settings.callback(settings, show, None, None, None, None, None)
    card = sent_kwargs(show.response.send_message)["embed"]
    assert card.fields[0].value == "UTC"
    assert card.fields[1].value == "off"
    change = make_interaction()
    weekday = discord.app_commands.Choice(name="Friday", value=4)
    via = discord.app_commands.Choice(name="channel", value="channel")
    await settings.settings.callback(settings, change, "europe/berlin", True, weekday, 9, via)
    profile = await services.progress.profile.get(GUILD, ALICE)
    assert (profile.timezone, profile.nudge_enabled, profile.nudge_weekday) == (
        "Europe/Berlin",
        True,
        4,
    )
    assert (profile.nudge_hour, profile.nudge_via) == (9, "channel")


async def test_settings_unknown_timezone_typed_by_hand(settings: SettingsCog) -> None:
    with pytest.raises(InvalidTimezone, match="Europe/Berlin"):
        await settings.settings.callback(
            settings, make_interaction(), "Europe/Berlim", None, None, None, None
        )


async def test_timezone_autocomplete(settings: SettingsCog) -> None:
    choices = await settings.timezone_autocomplete(make_interaction(), "new york")
    assert [c.value for c in choices] == ["America/New_York"]
    assert len(await settings.timezone_autocomplete(make_interaction(), "")) == 25


async def test_mydata_export_is_a_json_attachment(
    settings: SettingsCog, services: BotServices
) -> None:
    await services.progress.study.log(GUILD, ALICE, 30, "numpy")
    interaction = make_interaction()
    await settings.export.callback(settings, interaction)
    sent = sent_kwargs(interaction.response.send_message)
    assert sent["ephemeral"] is True
    data = json.loads(sent["file"].fp.read())  # type: ignore[union-attr]
    assert data["user_id"] == ALICE
    assert [row["topic"] for row in data["tables"]["study_logs"]] == ["numpy"]


async def test_mydata_forget_needs_confirmation(
    settings: SettingsCog, services: BotServices
) -> None:
    await services.progress.study.log(GUILD, ALICE, 30, "numpy")
    interaction = make_interaction()
    await settings.forget.callback(settings, interaction)
    view = sent_kwargs(interaction.response.send_message)["view"]
    assert (await services.progress.stats.summary(GUILD, ALICE)).all_time.minutes == 30
    cancel = make_interaction()
    await view.cancel.callback(cancel)  # type: ignore[union-attr]
    assert (await services.progress.stats.summary(GUILD, ALICE)).all_time.minutes == 30
    again = make_interaction()
    await settings.forget.callback(settings, again)
    view = sent_kwargs(again.response.send_message)["view"]
    confirm = make_interaction()
    await view.confirm.callback(confirm)  # type: ignore[union-attr]
    assert "deleted" in str(sent_kwargs(confirm.response.edit_message)["content"])
    assert (await services.progress.stats.summary(GUILD, ALICE)).all_time.minutes == 0
