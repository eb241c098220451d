"""The services against the real bundled guide: its phases and milestones fit the schema."""

from __future__ import annotations

import pytest

from bot.services.bundle import build_progress_services
from knowledge.content import Guide, load_guide
from storage.models import MilestoneStatus
from tests.storage.support import ALICE, GUILD


@pytest.fixture(scope="module")
def real_guide() -> Guide:
    return load_guide()


def test_guide_ids_fit_the_schema(real_guide: Guide) -> None:
    assert real_guide.phases, "the bundled guide defines no roadmap phases"
    width = MilestoneStatus.__table__.c.milestone_id.type.length
    assert all(len(m.id) <= width for m in real_guide.milestones)
    assert all(0 <= p.number <= 9 for p in real_guide.phases)  # ck_members_phase_range


async def test_every_phase_and_milestone_can_be_tracked(sessionmaker, clock, real_guide) -> None:
    services = build_progress_services(sessionmaker, real_guide, clock)
    for phase in real_guide.phases:
        info = await services.phases.set_phase(GUILD, ALICE, phase.number)
        assert info.milestone_count == len(phase.milestones)
        for milestone in phase.milestones[:1]:
            await services.milestones.set_status(GUILD, ALICE, milestone.id, "done")
    overview = await services.milestones.overview(GUILD, ALICE)
    assert [(p.phase.number, p.done, p.total) for p in overview.phases] == [
        (p.number, min(1, len(p.milestones)), len(p.milestones)) for p in real_guide.phases
    ]
    assert overview.current_phase == real_guide.phases[-1].number
