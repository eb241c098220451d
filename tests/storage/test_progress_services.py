"""Phase, milestones and profile services against the guide's front matter."""

from __future__ import annotations

import pytest

from bot.services.errors import InvalidTimezone, UnknownMilestone, UnknownPhase, ValidationError
from tests.storage.support import ALICE, BOB, GUILD, OTHER_GUILD


async def test_phases_come_from_the_guide(services, guide) -> None:
    infos = services.phases.phases()
    assert [p.number for p in infos] == [p.number for p in guide.phases] == [0, 1, 2]
    assert infos[0].label == "Prerequisites"
    assert infos[1].title == "ML foundations"
    assert infos[1].milestone_count == 3


async def test_set_and_show_phase_per_guild(services) -> None:
    assert await services.phases.current(GUILD, ALICE) is None
    info = await services.phases.set_phase(GUILD, ALICE, 2)
    assert (info.number, info.title, info.duration) == (2, "ML engineering", "3 months")
    assert (await services.phases.current(GUILD, ALICE)).number == 2
    assert await services.phases.current(OTHER_GUILD, ALICE) is None
    await services.phases.set_phase(GUILD, ALICE, 0)
    assert (await services.phases.current(GUILD, ALICE)).label == "Prerequisites"


@pytest.mark.parametrize("bad", [3, -1, 99, 10**30, True])
async def test_unknown_phase_is_rejected(services, bad) -> None:
    with pytest.raises(UnknownPhase, match="Phases in the roadmap: 0, 1, 2"):
        await services.phases.set_phase(GUILD, ALICE, bad)
    assert await services.phases.current(GUILD, ALICE) is None


async def test_milestone_lifecycle_and_checklist(services, clock) -> None:
    update = await services.milestones.set_status(GUILD, ALICE, "p1-backprop", "learning")
    started = clock.now
    assert update.previous_status is None
    assert update.item.status == "learning"
    assert (update.phase_done, update.phase_total) == (0, 3)

    clock.advance(days=3)
    update = await services.milestones.set_status(GUILD, ALICE, " P1-Backprop ", "DONE")
    assert update.previous_status == "learning"
    assert update.item.started_at == started
    assert update.item.completed_at == clock.now
    assert (update.phase_done, update.phase_total) == (1, 3)
    await services.milestones.set_status(GUILD, ALICE, "p1-eval", "skipped")

    checklist = await services.milestones.checklist(GUILD, ALICE, 1)
    assert [i.id for i in checklist.items] == ["p1-backprop", "p1-sklearn", "p1-eval"]
    assert [i.status for i in checklist.items] == ["done", None, "skipped"]
    assert (checklist.done, checklist.total, checklist.skipped) == (1, 3, 1)
    assert (await services.milestones.checklist(GUILD, BOB, 1)).done == 0

    update = await services.milestones.set_status(GUILD, ALICE, "p1-backprop", "learning")
    assert update.item.completed_at is None
    assert update.item.started_at == started
    update = await services.milestones.set_status(GUILD, ALICE, "p1-backprop", "todo")
    assert update.item.status is None
    assert update.previous_status == "learning"


async def test_roadmap_overview(services) -> None:
    await services.phases.set_phase(GUILD, ALICE, 1)
    await services.milestones.set_status(GUILD, ALICE, "p0-python", "done")
    await services.milestones.set_status(GUILD, ALICE, "p1-sklearn", "done")
    overview = await services.milestones.overview(GUILD, ALICE)
    assert overview.current_phase == 1
    assert [(p.phase.number, p.done, p.total, p.current) for p in overview.phases] == [
        (0, 1, 2, False),
        (1, 1, 3, True),
        (2, 0, 1, False),
    ]


async def test_unknown_milestone_suggests_close_ids(services) -> None:
    with pytest.raises(UnknownMilestone) as caught:
        await services.milestones.set_status(GUILD, ALICE, "p1-backprp", "done")
    assert "p1-backprop" in caught.value.suggestions
    with pytest.raises(UnknownMilestone):
        await services.milestones.set_status(GUILD, ALICE, "x" * 10_000, "done")
    with pytest.raises(ValidationError, match="learning, done, skipped"):
        await services.milestones.set_status(GUILD, ALICE, "p1-backprop", "finished")
    with pytest.raises(UnknownPhase):
        await services.milestones.checklist(GUILD, ALICE, 7)


async def test_timezone_is_canonicalised_and_validated(services) -> None:
    profile = await services.profile.set_timezone(GUILD, ALICE, "europe/berlin")
    assert profile.timezone == "Europe/Berlin"
    with pytest.raises(InvalidTimezone) as caught:
        await services.profile.set_timezone(GUILD, ALICE, "Europe/Berlim")
    assert "Europe/Berlin" in caught.value.suggestions
    assert "Europe/Berlin" in str(caught.value)
    for bad in ["Mars/Olympus", "../../etc/passwd", "", "x" * 5000, "'; DROP TABLE members;--"]:
        with pytest.raises(InvalidTimezone):
            await services.profile.set_timezone(GUILD, ALICE, bad)
    assert (await services.profile.get(GUILD, ALICE)).timezone == "Europe/Berlin"


async def test_nudge_preferences(services) -> None:
    default = await services.profile.get(GUILD, BOB)
    assert (default.nudge_enabled, default.nudge_via, default.created_at) == (False, "dm", None)
    await services.nudges.set_preferences(
        GUILD, BOB, enabled=True, weekday=6, hour=9, via="channel"
    )
    profile = await services.profile.get(GUILD, BOB)
    assert (profile.nudge_enabled, profile.nudge_weekday_name, profile.nudge_hour) == (
        True,
        "Sunday",
        9,
    )
    profile = await services.profile.set_dm_closed(GUILD, BOB, True)
    assert profile.dm_closed
    assert profile.nudge_via == "channel"
    for kwargs in [{"weekday": 7}, {"hour": 24}, {"via": "email"}, {"hour": -1}]:
        with pytest.raises(ValidationError):
            await services.nudges.set_preferences(GUILD, BOB, **kwargs)
