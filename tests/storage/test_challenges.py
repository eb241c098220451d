"""Study challenges on a real database: validation, membership, standings, announcements."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import time_machine
from sqlalchemy import func, select

from bot.services.challenges import AlreadyJoined, ChallengeService, NotAllowed, NotJoined
from bot.services.errors import NotFound, ValidationError
from bot.services.guild_config import GuildConfigService
from bot.services.profile import GuildSettingsService
from bot.services.progress import MilestoneService, PhaseService
from bot.services.scheduler import CommunityScheduler
from bot.services.study import StudyLogService
from storage.models import Challenge, ChallengeAnnouncement, ChallengeParticipant
from tests.storage.community_support import FakeSender
from tests.storage.support import ALICE, BOB, CAROL, GUILD


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


START = "2026-03-02"
END = "2026-03-08"


@pytest.fixture
def svc(sessionmaker, guide) -> ChallengeService:
    return ChallengeService(sessionmaker, guide)


async def create(svc: ChallengeService, **overrides):
    args = {
        "is_admin": True,
        "name": "March minutes",
        "metric": "minutes",
        "goal": 100,
        "start": START,
        "end": END,
    }
    args.update(overrides)
    with time_machine.travel(utc(2026, 3, 1), tick=False):
        return await svc.create(GUILD, ALICE, **args)


async def count(sessionmaker, model) -> int:
    async with sessionmaker() as session:
        return (await session.execute(select(func.count()).select_from(model))).scalar_one()


@pytest.mark.parametrize(
    ("overrides", "field", "fragment"),
    [
        ({"end": "2026-03-01"}, "end", "must be after the start"),
        ({"end": START}, "end", "must be after the start"),
        ({"goal": 0}, "goal", "above 0"),
        ({"goal": -5}, "goal", "above 0"),
        ({"goal": "lots"}, "goal", "whole number"),
        ({"name": "x" * 500}, "name", "500 characters"),
        ({"name": "   "}, "name", "Give the challenge a name"),
        ({"metric": "pushups"}, "metric", "minutes"),
        ({"start": "next monday"}, "start", "2026-03-02"),
    ],
)
async def test_bad_input_creates_nothing(svc, sessionmaker, overrides, field, fragment) -> None:
    with pytest.raises(ValidationError) as info:
        await create(svc, **overrides)
    assert info.value.field == field
    assert fragment in str(info.value)
    assert await count(sessionmaker, Challenge) == 0


async def test_non_admin_cannot_create_end_or_cancel(svc, sessionmaker) -> None:
    with pytest.raises(NotAllowed, match="Only server admins"):
        await create(svc, is_admin=False)
    assert await count(sessionmaker, Challenge) == 0
    await create(svc)
    with pytest.raises(NotAllowed):
        await svc.end(GUILD, None, is_admin=False)
    with pytest.raises(NotAllowed):
        await svc.cancel(GUILD, None, is_admin=False)


async def test_dates_follow_the_server_timezone(svc, sessionmaker, guide) -> None:
    with time_machine.travel(utc(2026, 2, 1), tick=False):
        await GuildSettingsService(sessionmaker, guide).set_timezone(GUILD, "America/New_York")
    c = await create(svc, start="2026-03-07", end="2026-03-09")  # spans the DST switch
    assert c.starts_at == utc(2026, 3, 7, 5, 0)  # local midnight EST
    assert c.ends_at == utc(2026, 3, 10, 4, 0)  # midnight after the end day, EDT
    assert c.timezone == "America/New_York"
    # Shown to members as entered: the last day they can study, not the midnight after.
    assert (c.first_day.isoformat(), c.last_day.isoformat()) == ("2026-03-07", "2026-03-09")


async def test_join_twice_and_leave_unjoined(svc, sessionmaker) -> None:
    await create(svc)
    with time_machine.travel(utc(2026, 3, 3), tick=False):
        with pytest.raises(NotJoined, match="not in March minutes"):
            await svc.leave(GUILD, BOB)
        await svc.join(GUILD, BOB, "march minutes")
        with pytest.raises(AlreadyJoined, match="already joined"):
            await svc.join(GUILD, BOB)
        assert await count(sessionmaker, ChallengeParticipant) == 1
        await svc.leave(GUILD, BOB)
        assert await count(sessionmaker, ChallengeParticipant) == 0
        with pytest.raises(NotFound):
            await svc.join(GUILD, BOB, "no such challenge")


async def test_minutes_standings_window_and_join_rule(svc, sessionmaker, guide) -> None:
    study = StudyLogService(sessionmaker, guide)
    c = await create(svc, count_before_join=False, goal=60)
    with time_machine.travel(utc(2026, 3, 1, 12), tick=False):  # before the window
        await study.log(GUILD, ALICE, 500, "early")
    with time_machine.travel(utc(2026, 3, 2, 10), tick=False):
        await svc.join(GUILD, ALICE, c.id)
        await study.log(GUILD, BOB, 50, "before bob joined")
    with time_machine.travel(utc(2026, 3, 3, 10), tick=False):
        await svc.join(GUILD, BOB, c.id)
        await svc.join(GUILD, CAROL, c.id)
        await study.log(GUILD, ALICE, 70, "sql")
        await study.log(GUILD, BOB, 40, "sql")
    with time_machine.travel(utc(2026, 3, 9, 1), tick=False):  # after the window
        await study.log(GUILD, BOB, 999, "late")
        status = await svc.status(GUILD, BOB)
    (board,) = status.boards
    assert [(s.user_id, s.progress, s.completed) for s in board.top] == [
        (ALICE, 70, True),
        (BOB, 40, False),  # his 50 minutes before joining do not count
        (CAROL, 0, False),
    ]
    assert status.you is not None
    assert (status.you.rank, status.you.progress) == (2, 40)
    assert board.participants == 3


async def test_active_days_in_local_days_and_milestones(svc, sessionmaker, guide) -> None:
    with time_machine.travel(utc(2026, 2, 1), tick=False):
        await GuildSettingsService(sessionmaker, guide).set_timezone(GUILD, "Asia/Kolkata")
    days = await create(svc, name="Days", metric="active_days", goal=2)
    miles = await create(svc, name="Miles", metric="milestones", goal=1)
    study = StudyLogService(sessionmaker, guide)
    with time_machine.travel(utc(2026, 3, 2), tick=False):
        await svc.join(GUILD, ALICE, days.id)
        await svc.join(GUILD, ALICE, miles.id)
    # 18:00 and 19:00 UTC on the 3rd are 23:30 on the 3rd and 00:30 on the 4th in Kolkata.
    for when in (utc(2026, 3, 3, 18), utc(2026, 3, 3, 19), utc(2026, 3, 3, 19, 30)):
        with time_machine.travel(when, tick=False):
            await study.log(GUILD, ALICE, 10, "x")
    with time_machine.travel(utc(2026, 3, 4, 12), tick=False):
        await MilestoneService(sessionmaker, guide).set_status(GUILD, ALICE, "p1-eval", "done")
        day_status = await svc.status(GUILD, ALICE, days.id)
        mile_status = await svc.status(GUILD, ALICE, "Miles")
    assert day_status.you is not None
    assert day_status.you.progress == 2
    assert day_status.you.completed
    assert mile_status.you is not None
    assert mile_status.you.progress == 1


async def test_leagues_rank_within_phase(svc, sessionmaker, guide) -> None:
    phases = PhaseService(sessionmaker, guide)
    study = StudyLogService(sessionmaker, guide)
    c = await create(svc, leagues=True)
    with time_machine.travel(utc(2026, 3, 2, 9), tick=False):
        await phases.set_phase(GUILD, ALICE, 0)
        await phases.set_phase(GUILD, BOB, 1)
        await phases.set_phase(GUILD, CAROL, 1)
        for user, minutes in ((ALICE, 10), (BOB, 20), (CAROL, 30)):
            await svc.join(GUILD, user, c.id)
            await study.log(GUILD, user, minutes, "x")
        status = await svc.status(GUILD, BOB, c.id)
    leagues = {b.league: [(s.rank, s.user_id) for s in b.top] for b in status.boards}
    assert leagues == {0: [(1, ALICE)], 1: [(1, CAROL), (2, BOB)]}
    assert status.you is not None
    assert status.you.rank == 2


async def test_end_and_cancel(svc) -> None:
    c = await create(svc)
    with time_machine.travel(utc(2026, 3, 4), tick=False):
        ended = await svc.end(GUILD, c.id, is_admin=True)
        assert ended.state(utc(2026, 3, 4, 1)) == "finished"
        with pytest.raises(ValidationError, match="already over"):
            await svc.cancel(GUILD, c.id, is_admin=True)
        with pytest.raises(ValidationError, match="can no longer be joined"):
            await svc.join(GUILD, BOB, c.id)
    await create(svc, name="Other")
    with time_machine.travel(utc(2026, 3, 4), tick=False):
        assert (await svc.cancel(GUILD, "other", is_admin=True)).status == "cancelled"


async def test_announcements_exactly_once_and_roles(svc, sessionmaker, guide) -> None:
    with time_machine.travel(utc(2026, 2, 1), tick=False):
        await GuildConfigService(sessionmaker, guide).set_nudge_channel(GUILD, 777)
    c = await create(svc, goal=30, completion_role_id=555)
    sender = FakeSender()
    study = StudyLogService(sessionmaker, guide)

    async def run(when: datetime) -> None:
        with time_machine.travel(when, tick=False):
            await CommunityScheduler(sessionmaker, guide, sender).run_due_work()

    await run(utc(2026, 3, 1, 23))  # not started
    assert [m for m in sender.delivered if m.kind == "announcement"] == []
    await run(utc(2026, 3, 2, 0, 1))
    await run(utc(2026, 3, 2, 0, 2))
    with time_machine.travel(utc(2026, 3, 2, 1), tick=False):
        await svc.join(GUILD, BOB, c.id)
        await study.log(GUILD, BOB, 45, "x")
    await run(utc(2026, 3, 2, 1, 1))
    assert sender.roles == [(GUILD, BOB, 555)]
    await run(utc(2026, 3, 5, 12, 1))  # halfway (3.5 days in)
    await run(utc(2026, 3, 9, 0, 1))  # end
    await run(utc(2026, 3, 9, 0, 2))
    posts = [m for m in sender.delivered if m.kind == "announcement"]
    assert [m.key.rsplit(":", 1)[1] for m in posts] == ["start", "halfway", "end"]
    assert all(m.channel_id == 777 for m in posts)
    assert "Goal: 30 minutes by the end of 2026-03-08 (UTC)." in posts[0].text
    assert "2026-03-09" not in posts[0].text
    assert "Final standings" in posts[-1].text
    assert f"<@{BOB}>: 45m ✓" in posts[-1].text
    assert sender.roles == [(GUILD, BOB, 555)]  # granted once


async def test_downtime_skips_stale_announcements_visibly(svc, sessionmaker, guide) -> None:
    with time_machine.travel(utc(2026, 2, 1), tick=False):
        await GuildConfigService(sessionmaker, guide).set_nudge_channel(GUILD, 777)
    await create(svc)
    sender = FakeSender()
    with time_machine.travel(utc(2026, 3, 10), tick=False):  # down all challenge long
        await CommunityScheduler(sessionmaker, guide, sender).run_due_work()
    posts = [m for m in sender.delivered if m.kind == "announcement"]
    assert [m.key.rsplit(":", 1)[1] for m in posts] == ["end"]
    async with sessionmaker() as session:
        rows = (await session.execute(select(ChallengeAnnouncement))).scalars().all()
    assert {(r.kind, r.status) for r in rows} == {
        ("start", "skipped"),
        ("halfway", "skipped"),
        ("end", "sent"),
    }


async def test_weekly_digest_once_with_opt_out(svc, sessionmaker, guide) -> None:
    from bot.services.nudges import NudgeService

    study = StudyLogService(sessionmaker, guide)
    with time_machine.travel(utc(2026, 3, 5), tick=False):
        await GuildConfigService(sessionmaker, guide).set_nudge_channel(GUILD, 777)
        await study.log(GUILD, ALICE, 60, "x")
        await study.log(GUILD, BOB, 30, "x")
        await NudgeService(sessionmaker, guide).set_digest_opt_out(GUILD, ALICE, True)
    sender = FakeSender()
    for when in (utc(2026, 3, 9, 17, 59), utc(2026, 3, 9, 18), utc(2026, 3, 9, 18, 1)):
        with time_machine.travel(when, tick=False):
            await CommunityScheduler(sessionmaker, guide, sender).run_due_work()
    (digest,) = sender.delivered
    assert digest.kind == "digest"
    assert digest.channel_id == 777
    assert "1h 30m" in digest.text
    assert f"<@{BOB}>" in digest.text
    assert f"<@{ALICE}>" not in digest.text  # opted out
