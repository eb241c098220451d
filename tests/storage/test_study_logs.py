"""Study log service: validation, nothing half-stored, undo, hostile input."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from bot.services.errors import MentorError, NothingToUndo, ValidationError
from storage.models import Member, StudyLog
from tests.storage.support import ALICE, BOB, GUILD, OTHER_GUILD


async def _rows(sessionmaker, model) -> int:
    async with sessionmaker() as session:
        return (await session.execute(select(func.count()).select_from(model))).scalar_one()


async def test_log_stores_the_session_with_phase_and_week_total(services, clock) -> None:
    await services.phases.set_phase(GUILD, ALICE, 1)
    first = await services.study.log(GUILD, ALICE, 45, "  backprop  ", "did the exercises")
    second = await services.study.log(
        GUILD, ALICE, 30, "linear   algebra", None, "https://example.com/notes?x=1"
    )
    assert first.log.topic == "backprop"
    assert first.log.note == "did the exercises"
    assert first.log.phase == 1
    assert first.log.logged_at == clock.now
    assert second.log.topic == "linear algebra"
    assert second.log.link == "https://example.com/notes?x=1"
    assert second.week_minutes == 75


@pytest.mark.parametrize(
    ("minutes", "topic", "note", "link", "field"),
    [
        (0, "t", None, None, "minutes"),
        (-5, "t", None, None, "minutes"),
        (1441, "t", None, None, "minutes"),
        (10**18, "t", None, None, "minutes"),
        (True, "t", None, None, "minutes"),
        ("45", "t", None, None, "minutes"),
        (30, "", None, None, None),
        (30, "   \n\t ", None, None, None),
        (30, "x" * 101, None, None, "topic"),
        (30, "t", "n" * 10_000, None, "note"),
        (30, "t", None, "ftp://example.com/file", "link"),
        (30, "t", None, "javascript:alert(1)", "link"),
        (30, "t", None, "example.com", "link"),
        (30, "t", None, "https://", "link"),
        (30, "t", None, "https://exa mple.com", "link"),
    ],
)
async def test_invalid_logs_store_nothing(
    services, sessionmaker, minutes, topic, note, link, field
) -> None:
    with pytest.raises(ValidationError) as caught:
        await services.study.log(GUILD, ALICE, minutes, topic, note, link)
    assert caught.value.field == field
    assert str(caught.value)  # a message a person can read
    assert await _rows(sessionmaker, StudyLog) == 0
    assert await _rows(sessionmaker, Member) == 0  # not even the member row


async def test_boundaries_are_accepted(services) -> None:
    await services.study.log(GUILD, ALICE, 1, "t" * 100, "n" * 1000, "http://a.b")
    result = await services.study.log(GUILD, ALICE, 1440, "t")
    assert result.week_minutes == 1441


async def test_sql_looking_and_odd_text_is_stored_verbatim(services, sessionmaker) -> None:
    topic = "'; DROP TABLE study_logs; --"
    note = "Robert'); DELETE FROM members WHERE 1=1; -- \u00e9\u4e2d\U0001f600\x00end"
    await services.study.log(GUILD, ALICE, 10, topic, note)
    stats = await services.stats.summary(GUILD, ALICE)
    assert stats.topics[0].topic == topic.lower()
    data = await services.privacy.export(GUILD, ALICE)
    (row,) = data["tables"]["study_logs"]
    assert row["topic"] == topic
    assert row["note"] == note.replace("\x00", " ")  # NUL is dropped (PostgreSQL rejects it)
    assert await _rows(sessionmaker, StudyLog) == 1


async def test_undo_removes_only_the_latest_log_of_that_member(services, clock) -> None:
    await services.study.log(GUILD, ALICE, 10, "first")
    clock.advance(minutes=5)
    await services.study.log(GUILD, ALICE, 20, "second")
    await services.study.log(GUILD, BOB, 30, "bob's")
    await services.study.log(OTHER_GUILD, ALICE, 40, "elsewhere")

    removed = await services.study.undo_last(GUILD, ALICE)
    assert (removed.minutes, removed.topic) == (20, "second")
    removed = await services.study.undo_last(GUILD, ALICE)
    assert removed.topic == "first"
    with pytest.raises(NothingToUndo):
        await services.study.undo_last(GUILD, ALICE)
    assert (await services.stats.summary(GUILD, BOB)).all_time.minutes == 30
    assert (await services.stats.summary(OTHER_GUILD, ALICE)).all_time.minutes == 40
    board = await services.leaderboard.leaderboard(GUILD, "all", user_id=ALICE)
    assert [(e.user_id, e.minutes, e.sessions) for e in board.entries] == [(BOB, 30, 1)]
    assert board.you is None


async def test_undo_with_same_timestamp_removes_the_later_insert(services) -> None:
    await services.study.log(GUILD, ALICE, 10, "a")
    await services.study.log(GUILD, ALICE, 20, "b")  # clock did not move
    assert (await services.study.undo_last(GUILD, ALICE)).topic == "b"


async def test_invalid_ids_are_rejected(services) -> None:
    for guild, user in [(0, ALICE), (GUILD, -1), (GUILD, 2**63), (True, ALICE)]:
        with pytest.raises(MentorError):
            await services.study.log(guild, user, 10, "t")
