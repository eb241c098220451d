"""Repository-level behaviour on real databases: get-or-create, no commits, types."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from storage.engine import transaction
from storage.models import Member, StudyLog
from storage.repositories import MemberRepository, StudyLogRepository
from tests.storage.support import ALICE, BOB, GUILD, OTHER_GUILD

NOW = datetime(2026, 3, 4, 12, 0, tzinfo=UTC)


async def _count(sessionmaker, model) -> int:
    async with sessionmaker() as session:
        return (await session.execute(select(func.count()).select_from(model))).scalar_one()


async def test_get_or_create_is_idempotent_and_keeps_64_bit_ids(sessionmaker) -> None:
    async with transaction(sessionmaker, write=True) as session:
        first = await MemberRepository(session).get_or_create(GUILD, ALICE, NOW)
    async with transaction(sessionmaker, write=True) as session:
        again = await MemberRepository(session).get_or_create(GUILD, ALICE, NOW)
        await MemberRepository(session).get_or_create(OTHER_GUILD, ALICE, NOW)
    assert (first.guild_id, first.user_id) == (again.guild_id, again.user_id) == (GUILD, ALICE)
    assert await _count(sessionmaker, Member) == 2


async def test_concurrent_first_touch_creates_one_member(sessionmaker) -> None:
    async def touch() -> None:
        async with transaction(sessionmaker, write=True) as session:
            await MemberRepository(session).get_or_create(GUILD, BOB, NOW)

    await asyncio.gather(*(touch() for _ in range(20)))
    assert await _count(sessionmaker, Member) == 1


async def test_repositories_do_not_commit(sessionmaker) -> None:
    """A failure after repository calls rolls everything back: the service owns commit."""

    class Boom(Exception):
        pass

    async def write_then_fail() -> None:
        async with transaction(sessionmaker, write=True) as session:
            await MemberRepository(session).get_or_create(GUILD, ALICE, NOW)
            await StudyLogRepository(session).add(
                guild_id=GUILD,
                user_id=ALICE,
                minutes=30,
                topic="x",
                note=None,
                link=None,
                phase=None,
                logged_at=NOW,
            )
            raise Boom

    with pytest.raises(Boom):
        await write_then_fail()
    assert await _count(sessionmaker, Member) == 0
    assert await _count(sessionmaker, StudyLog) == 0


async def test_timestamps_round_trip_as_aware_utc(sessionmaker) -> None:
    plus_five = timezone(timedelta(hours=5))
    local = datetime(2026, 3, 4, 17, 30, 15, 123456, tzinfo=plus_five)
    async with transaction(sessionmaker, write=True) as session:
        await MemberRepository(session).get_or_create(GUILD, ALICE, NOW)
        await StudyLogRepository(session).add(
            guild_id=GUILD,
            user_id=ALICE,
            minutes=5,
            topic="t",
            note=None,
            link=None,
            phase=1,
            logged_at=local,
        )
    async with transaction(sessionmaker, write=False) as session:
        (stamp,) = await StudyLogRepository(session).timestamps(GUILD, ALICE)
    assert stamp.tzinfo is not None
    assert stamp.utcoffset() == timedelta(0)
    assert stamp == local


async def test_naive_datetimes_are_rejected(sessionmaker) -> None:
    with pytest.raises(Exception, match="naive"):
        async with transaction(sessionmaker, write=True) as session:
            await MemberRepository(session).get_or_create(GUILD, ALICE, datetime(2026, 1, 1))


async def test_schema_constraints_are_a_second_line_of_defence(sessionmaker) -> None:
    """Even bypassing the services, the database rejects out-of-range minutes and orphans."""

    async def insert(user: int, minutes: int, create_member: bool) -> None:
        async with transaction(sessionmaker, write=True) as session:
            if create_member:
                await MemberRepository(session).get_or_create(GUILD, user, NOW)
            session.add(
                StudyLog(guild_id=GUILD, user_id=user, minutes=minutes, topic="t", logged_at=NOW)
            )

    with pytest.raises(IntegrityError):  # CHECK (minutes >= 1 AND minutes <= 1440)
        await insert(ALICE, 0, create_member=True)
    with pytest.raises(IntegrityError):  # no member row: the foreign key refuses it
        await insert(BOB, 5, create_member=False)
    assert await _count(sessionmaker, StudyLog) == 0


async def test_running_totals_can_be_recomputed_from_the_logs(sessionmaker) -> None:
    """Bulk imports bypass the services; recompute_totals rebuilds members' totals."""
    async with transaction(sessionmaker, write=True) as session:
        members = MemberRepository(session)
        await members.get_or_create_many([(GUILD, ALICE), (GUILD, BOB), (OTHER_GUILD, ALICE)], NOW)
        for guild, user, minutes in [
            (GUILD, ALICE, 10),
            (GUILD, ALICE, 15),
            (OTHER_GUILD, ALICE, 7),
        ]:
            session.add(
                StudyLog(guild_id=guild, user_id=user, minutes=minutes, topic="t", logged_at=NOW)
            )
        await session.flush()
        await members.recompute_totals(GUILD)
    async with transaction(sessionmaker, write=False) as session:
        found = await MemberRepository(session).get_or_create_many(
            [(GUILD, ALICE), (GUILD, BOB), (OTHER_GUILD, ALICE)], NOW
        )
    totals = {k: (m.total_minutes, m.total_sessions) for k, m in found.items()}
    assert totals == {(GUILD, ALICE): (25, 2), (GUILD, BOB): (0, 0), (OTHER_GUILD, ALICE): (0, 0)}


async def test_digest_candidates_leave_out_guilds_whose_digest_for_the_week_is_out(
    sessionmaker,
) -> None:
    from storage.models import DigestDelivery, GuildSettings
    from storage.repositories.nudges import NudgeRepository

    third = OTHER_GUILD + 1
    async with transaction(sessionmaker, write=True) as session:
        for guild in (GUILD, OTHER_GUILD, third):
            session.add(
                GuildSettings(
                    guild_id=guild, digest_channel_id=guild + 7, created_at=NOW, updated_at=NOW
                )
            )
        session.add(GuildSettings(guild_id=third + 1, created_at=NOW, updated_at=NOW))
        for guild, week in ((GUILD, "2026-W10"), (OTHER_GUILD, "2026-W09")):
            session.add(DigestDelivery(guild_id=guild, iso_week=week, claimed_at=NOW))
    async with transaction(sessionmaker, write=False) as session:
        found = await NudgeRepository(session).digest_candidates(("2026-W09", "2026-W10"))
    # GUILD's digest for the newest week is out; OTHER_GUILD has only last week's; the third
    # has none; the fourth has no channel to post in.
    assert sorted((c.guild_id, c.latest_week) for c in found) == [
        (OTHER_GUILD, "2026-W09"),
        (third, None),
    ]
