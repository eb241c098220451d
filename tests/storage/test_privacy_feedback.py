"""Export and forget-me cover every member table; feedback and unanswered questions."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from bot.services.errors import ValidationError
from storage.engine import transaction
from storage.models import (
    Challenge,
    ChallengeParticipant,
    GuildFaqOverride,
    Member,
    NudgeDelivery,
    member_scoped_tables,
)
from tests.storage.support import ALICE, BOB, GUILD, OTHER_GUILD

NOW = datetime(2026, 3, 4, 12, tzinfo=UTC)


async def _everything_for(services, sessionmaker, guild: int, user: int) -> None:
    """Put a row for (guild, user) in every member-scoped table."""
    await services.phases.set_phase(guild, user, 1)
    await services.study.log(guild, user, 30, "backprop", "note", "https://example.com")
    await services.milestones.set_status(guild, user, "p1-backprop", "done")
    await services.feedback.record_feedback(guild, user, "What is backprop?", True, "Backprop")
    await services.feedback.record_unanswered(guild, user, "How do I get a job?", 0.2)
    async with transaction(sessionmaker, write=True) as session:
        challenge = Challenge(
            guild_id=guild,
            title="300 minutes of maths",
            starts_at=NOW,
            ends_at=NOW + timedelta(days=7),
            created_by=user,
            created_at=NOW,
        )
        session.add(challenge)
        await session.flush()
        session.add(
            ChallengeParticipant(
                challenge_id=challenge.id, user_id=user, guild_id=guild, joined_at=NOW
            )
        )
        session.add(
            NudgeDelivery(
                guild_id=guild, user_id=user, iso_week="2026-W10", status="sent", claimed_at=NOW
            )
        )
        session.add(
            GuildFaqOverride(
                guild_id=guild,
                question_key=f"faq {user}",
                question="q",
                answer="a",
                created_by=user,
                created_at=NOW,
                updated_at=NOW,
            )
        )


async def _member_rows(sessionmaker, guild: int, user: int) -> dict[str, int]:
    counts = {}
    async with sessionmaker() as session:
        for table in (Member.__table__, *member_scoped_tables()):
            stmt = select(func.count()).where(table.c.guild_id == guild, table.c.user_id == user)
            counts[table.name] = (await session.execute(stmt)).scalar_one()
    return counts


async def test_export_then_forget_everything_in_one_guild_only(services, sessionmaker) -> None:
    for guild, user in [(GUILD, ALICE), (GUILD, BOB), (OTHER_GUILD, ALICE)]:
        await _everything_for(services, sessionmaker, guild, user)
    assert set((await _member_rows(sessionmaker, GUILD, ALICE)).values()) == {1}

    data = await services.privacy.export(GUILD, ALICE)
    json.dumps(data)  # JSON-serialisable as-is
    tables = data["tables"]
    assert data["guild_id"] == GUILD
    assert data["user_id"] == ALICE
    for table in ("members", *(t.name for t in member_scoped_tables())):
        assert len(tables[table]) == 1, table
        assert all(r["guild_id"] == GUILD and r["user_id"] == ALICE for r in tables[table])
    assert tables["study_logs"][0]["logged_at"] == services.study._clock().isoformat()
    assert len(tables["challenges.created_by"]) == 1

    result = await services.privacy.forget(GUILD, ALICE)
    assert result.deleted["members"] == 1
    assert result.deleted["study_logs"] == 1
    assert result.deleted["challenges.created_by"] == 1
    assert set((await _member_rows(sessionmaker, GUILD, ALICE)).values()) == {0}
    assert set((await _member_rows(sessionmaker, GUILD, BOB)).values()) == {1}
    assert set((await _member_rows(sessionmaker, OTHER_GUILD, ALICE)).values()) == {1}
    async with sessionmaker() as session:
        creators = (
            await session.execute(select(Challenge.created_by).where(Challenge.guild_id == GUILD))
        ).scalars()
        assert sorted(c or 0 for c in creators) == [0, BOB]  # the guild keeps the challenge
    again = await services.privacy.forget(GUILD, ALICE)
    assert again.total == 0
    empty = await services.privacy.export(GUILD, ALICE)
    assert all(rows == [] for rows in empty["tables"].values())


async def test_top_unanswered_groups_similar_questions(services, clock) -> None:
    asks = [
        (ALICE, "How do I get my first ML job?"),
        (BOB, "how do i get my first ml job"),
        (BOB, "  How do I get my FIRST ML job?!  "),
        (ALICE, "What GPU should I buy?"),
        (ALICE, "What GPU should I buy?"),
        (BOB, "Is Rust good for ML?"),
    ]
    for user, question in asks:
        clock.advance(minutes=1)
        await services.feedback.record_unanswered(GUILD, user, question)
    await services.feedback.record_unanswered(OTHER_GUILD, ALICE, "Is Rust good for ML?")

    top = await services.feedback.top_unanswered(GUILD, limit=2)
    assert [(t.count, t.askers) for t in top] == [(3, 2), (2, 1)]
    assert "first ml job" in top[0].question.lower()
    assert top[0].last_asked.tzinfo is not None
    assert len(await services.feedback.top_unanswered(GUILD)) == 3
    clock.advance(days=30)
    assert await services.feedback.top_unanswered(GUILD, days=7) == ()


async def test_feedback_is_recorded_and_validated(services) -> None:
    await services.feedback.record_feedback(GUILD, ALICE, "What is a tensor?", True, "Tensors")
    await services.feedback.record_feedback(GUILD, BOB, "What is a tensor?", False)
    await services.feedback.record_feedback(GUILD, BOB, "x" * 50_000, False)  # truncated
    summary = await services.feedback.feedback_summary(GUILD)
    assert (summary.helpful, summary.not_helpful) == (1, 2)
    for bad in ["", "   ", "?!?"]:
        with pytest.raises(ValidationError):
            await services.feedback.record_unanswered(GUILD, ALICE, bad)
    export = await services.privacy.export(GUILD, BOB)
    assert max(len(r["question"]) for r in export["tables"]["answer_feedback"]) == 2000


async def test_a_member_has_one_vote_per_answer(services) -> None:
    vote = services.feedback.record_feedback
    await vote(GUILD, ALICE, "What is a tensor?", True, "Tensors")
    await vote(GUILD, ALICE, "What is a tensor?", True, "Tensors")  # a double click
    await vote(GUILD, BOB, "What is a tensor?", True, "Tensors")
    summary = await services.feedback.feedback_summary(GUILD)
    assert (summary.helpful, summary.not_helpful) == (2, 0)
    await vote(GUILD, ALICE, "What is a tensor?", False, "Tensors")  # changed her mind
    summary = await services.feedback.feedback_summary(GUILD)
    assert (summary.helpful, summary.not_helpful) == (1, 1)
    await vote(GUILD, ALICE, "What is a tensor?", True, None)  # another answer, another vote
    summary = await services.feedback.feedback_summary(GUILD)
    assert (summary.helpful, summary.not_helpful) == (2, 1)
