"""Roadmap progress: which phase a member is in, and their milestone checklist.

Phases and milestones come from the guide's front matter (`knowledge.content.Guide`); the
database stores only the member's phase number and per-milestone status, so editing the
guide never needs a migration.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from bot.services.base import Service, check_ids
from bot.services.errors import UnknownMilestone, UnknownPhase, ValidationError
from knowledge.content import Milestone, Phase
from storage.models import MilestoneStatus
from storage.repositories import MemberRepository, MilestoneRepository

MilestoneState = Literal["learning", "done", "skipped"]
MILESTONE_STATES: tuple[str, ...] = ("learning", "done", "skipped")
# "todo" clears the member's status (an escape hatch for a mis-click).
CLEAR_STATE = "todo"


@dataclass(frozen=True, slots=True)
class PhaseInfo:
    number: int
    label: str
    title: str
    duration: str | None
    milestone_count: int


@dataclass(frozen=True, slots=True)
class MilestoneItem:
    id: str
    title: str
    phase: int
    section: str | None
    status: str | None  # None: not started
    started_at: datetime | None
    completed_at: datetime | None


@dataclass(frozen=True, slots=True)
class Checklist:
    phase: PhaseInfo
    items: tuple[MilestoneItem, ...]

    @property
    def total(self) -> int:
        return len(self.items)

    @property
    def done(self) -> int:
        return sum(1 for i in self.items if i.status == "done")

    @property
    def learning(self) -> int:
        return sum(1 for i in self.items if i.status == "learning")

    @property
    def skipped(self) -> int:
        return sum(1 for i in self.items if i.status == "skipped")


@dataclass(frozen=True, slots=True)
class PhaseProgress:
    phase: PhaseInfo
    done: int
    total: int
    current: bool


@dataclass(frozen=True, slots=True)
class RoadmapOverview:
    current_phase: int | None
    phases: tuple[PhaseProgress, ...]


@dataclass(frozen=True, slots=True)
class MilestoneUpdate:
    item: MilestoneItem
    previous_status: str | None
    phase_done: int
    phase_total: int


def _phase_info(phase: Phase) -> PhaseInfo:
    return PhaseInfo(phase.number, phase.label, phase.title, phase.duration, len(phase.milestones))


def _item(m: Milestone, row: MilestoneStatus | None) -> MilestoneItem:
    return MilestoneItem(
        id=m.id,
        title=m.title,
        phase=m.phase,
        section=m.section,
        status=row.status if row else None,
        started_at=row.started_at if row else None,
        completed_at=row.completed_at if row else None,
    )


class PhaseService(Service):
    """Set and show a member's roadmap phase."""

    def phases(self) -> tuple[PhaseInfo, ...]:
        """The roadmap's phases, from the guide (no database access)."""
        return tuple(_phase_info(p) for p in self._guide.phases)

    def phase_info(self, number: int) -> PhaseInfo:
        phase = self._guide.phase(number) if isinstance(number, int) else None
        if phase is None or isinstance(number, bool):
            raise UnknownPhase(number, [p.number for p in self._guide.phases])
        return _phase_info(phase)

    async def current(self, guild_id: int, user_id: int) -> PhaseInfo | None:
        """The member's phase, or None if they have not picked one (read-only)."""
        check_ids(guild_id, user_id)
        async with self._read() as session:
            member = await MemberRepository(session).get(guild_id, user_id)
        if member is None or member.phase is None:
            return None
        phase = self._guide.phase(member.phase)
        return _phase_info(phase) if phase else None

    async def set_phase(self, guild_id: int, user_id: int, number: int) -> PhaseInfo:
        check_ids(guild_id, user_id)
        info = self.phase_info(number)  # validates before any write
        now = self._now()
        async with self._write() as session:
            members = MemberRepository(session)
            await members.get_or_create(guild_id, user_id, now)
            await members.update(guild_id, user_id, now, phase=info.number)
        return info


class MilestoneService(Service):
    """Mark milestones learning/done/skipped and show per-phase checklists."""

    def _resolve(self, milestone_id: str) -> Milestone:
        key = (milestone_id or "").strip().lower()
        milestone = self._guide.milestone(key) if len(key) <= 100 else None
        if milestone is None:
            ids = [m.id for m in self._guide.milestones]
            suggestions = difflib.get_close_matches(key[:100], ids, n=3, cutoff=0.5)
            raise UnknownMilestone(milestone_id.strip(), suggestions)
        return milestone

    def _phase(self, number: int) -> Phase:
        phase = self._guide.phase(number) if not isinstance(number, bool) else None
        if phase is None:
            raise UnknownPhase(number, [p.number for p in self._guide.phases])
        return phase

    async def set_status(
        self, guild_id: int, user_id: int, milestone_id: str, status: str
    ) -> MilestoneUpdate:
        """Record the member's status on a milestone ("todo" clears it)."""
        check_ids(guild_id, user_id)
        state = (status or "").strip().lower()
        if state not in (*MILESTONE_STATES, CLEAR_STATE):
            raise ValidationError(
                f"Status must be one of {', '.join(MILESTONE_STATES)} (or {CLEAR_STATE} to "
                "clear it).",
                field="status",
            )
        milestone = self._resolve(milestone_id)
        phase = self._phase(milestone.phase)
        ids = [m.id for m in phase.milestones]
        now = self._now()
        async with self._write() as session:
            await MemberRepository(session).get_or_create(guild_id, user_id, now)
            repo = MilestoneRepository(session)
            before = await repo.statuses(guild_id, user_id, ids)
            mid = milestone.id
            previous = before[mid].status if mid in before else None
            if state == CLEAR_STATE:
                await repo.clear(guild_id, user_id, mid)
                row = None
            else:
                row = await repo.set_status(guild_id, user_id, mid, state, now)
            after = {**before, mid: row} if row else {k: v for k, v in before.items() if k != mid}
        done = sum(1 for r in after.values() if r.status == "done")
        return MilestoneUpdate(_item(milestone, row), previous, done, len(ids))

    async def checklist(self, guild_id: int, user_id: int, phase_number: int) -> Checklist:
        check_ids(guild_id, user_id)
        phase = self._phase(phase_number)
        async with self._read() as session:
            rows = await MilestoneRepository(session).statuses(
                guild_id, user_id, [m.id for m in phase.milestones]
            )
        items = tuple(_item(m, rows.get(m.id)) for m in phase.milestones)
        return Checklist(_phase_info(phase), items)

    async def overview(self, guild_id: int, user_id: int) -> RoadmapOverview:
        """Every phase with done/total for the member, and which one is theirs."""
        check_ids(guild_id, user_id)
        async with self._read() as session:
            member = await MemberRepository(session).get(guild_id, user_id)
            rows = await MilestoneRepository(session).statuses(guild_id, user_id)
        current = member.phase if member else None
        phases = tuple(
            PhaseProgress(
                _phase_info(p),
                sum(1 for m in p.milestones if m.id in rows and rows[m.id].status == "done"),
                len(p.milestones),
                p.number == current,
            )
            for p in self._guide.phases
        )
        return RoadmapOverview(current, phases)
