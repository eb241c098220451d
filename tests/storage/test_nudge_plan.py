"""Planning from members.next_nudge_at on a real database (SQLite file and PostgreSQL).

What the stored bound must never do is hide a due member: after a send it moves to next
week's slot, planning moves a not-yet-due member to their slot and no further, and every
change a slot depends on (timezone, the member's slot, opting in, the guild default, the
guild's nudge channel) sends the member back to be worked out again. The clock is an
injected FakeClock; nothing sleeps.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import insert, select

from bot.services import nudge_plan
from bot.services.delivery import Pacing
from bot.services.guild_config import GuildConfigService
from bot.services.nudges import NudgeService
from bot.services.profile import ProfileService
from bot.services.scheduler import CommunityScheduler
from storage.models import NUDGE_RECHECK, Member
from storage.repositories.nudges import NextNudge, NudgeRepository
from storage.sharding import ShardScope, shard_of
from tests.storage.community_support import FakeSender
from tests.storage.support import ALICE, BOB, GUILD, OTHER_GUILD, FakeClock


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


MONDAY_18 = utc(2026, 3, 9, 18, 0)  # Monday of ISO week 2026-W11


class Rig:
    def __init__(self, sessionmaker, guide, clock: FakeClock) -> None:
        self.sessionmaker = sessionmaker
        self.clock = clock
        self.sender = FakeSender()
        self.nudges = NudgeService(sessionmaker, guide, clock)
        self.profile = ProfileService(sessionmaker, guide, clock)
        self.config = GuildConfigService(sessionmaker, guide, clock)
        self.scheduler = CommunityScheduler(
            sessionmaker,
            guide,
            self.sender,
            clock,
            pacing=Pacing(messages=1000, seconds=1),
            sleep=self._sleep,
            monotonic=lambda: 0.0,
        )

    async def _sleep(self, seconds: float) -> None:
        return None

    async def run_at(self, when: datetime) -> int:
        self.clock.set(when)
        return (await self.scheduler.run_due_work()).sent

    async def next_at(self, guild_id: int, user_id: int) -> datetime:
        async with self.sessionmaker() as session:
            member = await session.get(Member, (guild_id, user_id))
            assert member is not None
            return member.next_nudge_at


@pytest.fixture
def rig(sessionmaker, guide, clock) -> Rig:
    clock.set(utc(2026, 3, 1))
    return Rig(sessionmaker, guide, clock)


async def test_a_passed_slot_is_planned_once_and_next_due_moves_after_the_send(rig: Rig) -> None:
    await rig.nudges.set_preferences(GUILD, ALICE, enabled=True)  # Monday 18:00 UTC
    assert await rig.next_at(GUILD, ALICE) == NUDGE_RECHECK
    assert await rig.run_at(utc(2026, 3, 9, 12, 0)) == 0
    assert await rig.next_at(GUILD, ALICE) == MONDAY_18  # read once, parked at its slot
    assert await rig.run_at(MONDAY_18) == 1
    assert await rig.next_at(GUILD, ALICE) == utc(2026, 3, 16, 18, 0)
    assert await rig.run_at(utc(2026, 3, 10, 0, 0)) == 0
    assert await rig.run_at(utc(2026, 3, 15, 23, 59)) == 0
    assert await rig.run_at(utc(2026, 3, 16, 18, 0)) == 1
    assert [m.user_id for m in rig.sender.delivered] == [ALICE, ALICE]


async def test_planning_without_a_send_keeps_a_due_member_due(rig: Rig) -> None:
    await rig.nudges.set_preferences(GUILD, ALICE, enabled=True)
    for _ in range(2):  # planned, not claimed (e.g. the claim transaction failed)
        (due,) = await rig.nudges.due(MONDAY_18)
        assert (due.user_id, due.iso_week) == (ALICE, "2026-W11")
    assert await rig.next_at(GUILD, ALICE) == NUDGE_RECHECK


async def test_timezone_change_recomputes(rig: Rig) -> None:
    await rig.nudges.set_preferences(GUILD, ALICE, enabled=True)
    assert await rig.run_at(utc(2026, 3, 9, 12, 0)) == 0
    assert await rig.next_at(GUILD, ALICE) == MONDAY_18
    # Kolkata: Monday 18:00 IST is 12:30 UTC, already passed at 13:00 UTC.
    rig.clock.set(utc(2026, 3, 9, 12, 55))
    await rig.profile.set_timezone(GUILD, ALICE, "Asia/Kolkata")
    assert await rig.next_at(GUILD, ALICE) == NUDGE_RECHECK
    assert await rig.run_at(utc(2026, 3, 9, 13, 0)) == 1
    assert await rig.next_at(GUILD, ALICE) == utc(2026, 3, 16, 12, 30)


async def test_own_slot_guild_default_and_channel_changes_recompute(rig: Rig) -> None:
    await rig.nudges.set_preferences(GUILD, ALICE, enabled=True)  # guild default
    await rig.nudges.set_preferences(GUILD, BOB, enabled=True, weekday="fri", hour=9)
    assert await rig.run_at(utc(2026, 3, 9, 12, 0)) == 0
    assert await rig.next_at(GUILD, BOB) == utc(2026, 3, 13, 9, 0)
    await rig.nudges.set_guild_default(GUILD, "monday", 9)
    assert await rig.next_at(GUILD, ALICE) == NUDGE_RECHECK
    assert await rig.next_at(GUILD, BOB) == utc(2026, 3, 13, 9, 0)  # own slot: untouched
    assert await rig.run_at(utc(2026, 3, 9, 12, 1)) == 1  # ALICE, on the new default
    await rig.nudges.set_preferences(GUILD, BOB, weekday="mon")  # Monday 09:00, passed
    assert await rig.run_at(utc(2026, 3, 9, 12, 2)) == 1
    # DMs closed and a channel route without a channel: parked until next week...
    await rig.nudges.set_preferences(GUILD, ALICE, via="channel")
    await rig.profile.set_dm_closed(GUILD, ALICE, True)
    async with rig.sessionmaker.begin() as session:  # a new week's Monday 09:00 passed
        await session.execute(
            Member.__table__.update()
            .where(Member.user_id == ALICE)
            .values(next_nudge_at=NUDGE_RECHECK)
        )
    rig.clock.set(utc(2026, 3, 16, 12, 0))
    assert [d.user_id for d in await rig.nudges.due()] == [BOB]
    assert await rig.next_at(GUILD, ALICE) == utc(2026, 3, 23, 9, 0)
    # ...until the guild gets a nudge channel: due this week after all.
    await rig.config.set_nudge_channel(GUILD, 4242)
    routes = {d.user_id: (d.target, d.channel_id) for d in await rig.nudges.due()}
    assert routes == {ALICE: ("channel", 4242), BOB: ("dm", None)}


async def test_opting_out_and_back_in(rig: Rig) -> None:
    await rig.nudges.set_preferences(GUILD, ALICE, enabled=True)
    rig.clock.set(utc(2026, 3, 9, 12, 0))
    await rig.nudges.set_preferences(GUILD, ALICE, enabled=False)
    assert await rig.run_at(utc(2026, 3, 10, 9, 0)) == 0  # Monday's slot passed: off
    rig.clock.set(utc(2026, 3, 11, 9, 0))
    await rig.nudges.set_preferences(GUILD, ALICE, enabled=True)
    assert await rig.run_at(utc(2026, 3, 11, 9, 1)) == 1  # same week: caught up


async def test_a_member_joining_mid_week_with_a_passed_slot_is_caught_up(rig: Rig) -> None:
    rig.clock.set(utc(2026, 3, 12, 10, 0))  # Thursday; the Monday slot passed
    await rig.nudges.set_preferences(GUILD, BOB, enabled=True)
    assert await rig.run_at(utc(2026, 3, 12, 10, 1)) == 1
    assert await rig.next_at(GUILD, BOB) == utc(2026, 3, 16, 18, 0)


async def test_iso_week_boundary_two_weeks_live(rig: Rig) -> None:
    """Sunday 10:00 UTC is already Monday 00:00 in Kiritimati (UTC+14), and still Sunday
    in Honolulu (UTC-10): two ISO weeks are live and each member gets their own."""
    await rig.nudges.set_preferences(GUILD, ALICE, enabled=True, weekday="mon", hour=0)
    await rig.nudges.set_preferences(GUILD, BOB, enabled=True, weekday="sun", hour=20)
    await rig.profile.set_timezone(GUILD, ALICE, "Pacific/Kiritimati")
    await rig.profile.set_timezone(GUILD, BOB, "Pacific/Honolulu")
    assert await rig.run_at(utc(2026, 3, 9, 0, 0)) == 1  # ALICE, week 11 (caught up)
    assert await rig.run_at(utc(2026, 3, 9, 6, 0)) == 1  # BOB, Sunday 20:00, week 10
    assert await rig.run_at(utc(2026, 3, 15, 9, 59)) == 0
    assert await rig.run_at(utc(2026, 3, 15, 10, 0)) == 1  # ALICE, week 12
    assert await rig.run_at(utc(2026, 3, 16, 6, 0)) == 1  # BOB, Sunday 20:00, week 11
    assert [(m.user_id, m.key.rsplit(":", 1)[1]) for m in rig.sender.delivered] == [
        (ALICE, "2026-W11"),
        (BOB, "2026-W10"),
        (ALICE, "2026-W12"),
        (BOB, "2026-W11"),
    ]
    assert await rig.next_at(GUILD, ALICE) == utc(2026, 3, 22, 10, 0)
    assert await rig.next_at(GUILD, BOB) == utc(2026, 3, 23, 6, 0)


async def test_a_move_based_on_a_stale_read_is_refused(rig: Rig) -> None:
    await rig.nudges.set_preferences(GUILD, ALICE, enabled=True)
    async with rig.sessionmaker() as session:
        (read,) = await NudgeRepository(session).candidates(["2026-W11"], MONDAY_18)
    rig.clock.set(utc(2026, 3, 2))
    await rig.profile.set_timezone(GUILD, ALICE, "Asia/Tokyo")  # lands after the read
    async with rig.sessionmaker.begin() as session:
        stale = NextNudge(GUILD, ALICE, read.next_at, read.updated_at, utc(2026, 3, 16, 18))
        assert await NudgeRepository(session).move_next([stale]) == 0
    assert await rig.next_at(GUILD, ALICE) == NUDGE_RECHECK


async def test_a_process_reads_and_moves_only_its_own_guilds(rig: Rig) -> None:
    await rig.nudges.set_preferences(GUILD, ALICE, enabled=True, weekday="fri")
    await rig.nudges.set_preferences(OTHER_GUILD, ALICE, enabled=True, weekday="fri")
    assert shard_of(GUILD, 4) != shard_of(OTHER_GUILD, 4)
    mine = ShardScope.of(4, {shard_of(GUILD, 4)})
    assert await rig.nudges.due(MONDAY_18, scope=mine) == []
    assert await rig.next_at(GUILD, ALICE) == utc(2026, 3, 13, 18, 0)
    assert await rig.next_at(OTHER_GUILD, ALICE) == NUDGE_RECHECK


async def test_paging_through_a_backlog_finds_every_due_member(
    rig: Rig, monkeypatch: pytest.MonkeyPatch
) -> None:
    """More rows to read than one page, due and not due interleaved (as after a migration
    or a guild-wide change): with no limit every due member is found in one call."""
    monkeypatch.setattr(nudge_plan, "PLAN_PAGE", 3)
    now = utc(2026, 3, 1)
    rows = [
        {
            "guild_id": GUILD,
            "user_id": 700_000_000_000_000_000 + i,
            "timezone": "UTC",
            "nudge_enabled": True,
            "nudge_custom": True,
            "nudge_weekday": 0 if i % 3 else 4,  # Monday (due) or Friday (not yet)
            "nudge_hour": 18,
            "created_at": now,
            "updated_at": now,
        }
        for i in range(20)
    ]
    async with rig.sessionmaker.begin() as session:
        await session.execute(insert(Member), rows)  # next_nudge_at: the server default
    due = await rig.nudges.due(MONDAY_18)
    assert sorted(d.user_id for d in due) == [r["user_id"] for r in rows if r["nudge_weekday"] == 0]
    async with rig.sessionmaker() as session:
        parked = (
            await session.execute(select(Member.next_nudge_at).where(Member.nudge_weekday == 4))
        ).scalars()
        assert set(parked) == {utc(2026, 3, 13, 18, 0)}
