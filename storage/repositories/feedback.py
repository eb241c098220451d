"""Answer feedback and unanswered questions (the signal for improving the guide)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import AnswerFeedback, UnansweredQuestion


@dataclass(frozen=True, slots=True)
class UnansweredGroup:
    question_key: str
    example: str
    count: int
    askers: int
    last_asked: datetime


class FeedbackRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add_feedback(
        self,
        *,
        guild_id: int,
        user_id: int,
        question: str,
        cited_section: str | None,
        helpful: bool,
        created_at: datetime,
    ) -> AnswerFeedback:
        row = AnswerFeedback(
            guild_id=guild_id,
            user_id=user_id,
            question=question,
            cited_section=cited_section,
            helpful=helpful,
            created_at=created_at,
        )
        self._session.add(row)
        await self._session.flush()
        return row

    async def vote_on(
        self, *, guild_id: int, user_id: int, question: str, cited_section: str | None
    ) -> AnswerFeedback | None:
        """The member's existing vote on this answer (same question and cited section)."""
        section = (
            AnswerFeedback.cited_section.is_(None)
            if cited_section is None
            else AnswerFeedback.cited_section == cited_section
        )
        stmt = (
            select(AnswerFeedback)
            .where(
                AnswerFeedback.guild_id == guild_id,
                AnswerFeedback.user_id == user_id,
                AnswerFeedback.question == question,
                section,
            )
            .order_by(AnswerFeedback.id.desc())
            .limit(1)
        )
        return (await self._session.execute(stmt)).scalar_one_or_none()

    async def add_unanswered(
        self,
        *,
        guild_id: int,
        user_id: int,
        question: str,
        question_key: str,
        best_score: float | None,
        created_at: datetime,
    ) -> UnansweredQuestion:
        row = UnansweredQuestion(
            guild_id=guild_id,
            user_id=user_id,
            question=question,
            question_key=question_key,
            best_score=best_score,
            created_at=created_at,
        )
        self._session.add(row)
        await self._session.flush()
        return row

    async def top_unanswered(
        self, guild_id: int, limit: int, since: datetime | None = None
    ) -> list[UnansweredGroup]:
        """Most frequent unanswered questions, grouped by normalised key, in SQL."""
        count = func.count(UnansweredQuestion.id)
        last = func.max(UnansweredQuestion.created_at)
        stmt = select(
            UnansweredQuestion.question_key,
            func.min(UnansweredQuestion.question),
            count,
            func.count(func.distinct(UnansweredQuestion.user_id)),
            last,
        ).where(UnansweredQuestion.guild_id == guild_id)
        if since is not None:
            stmt = stmt.where(UnansweredQuestion.created_at >= since)
        stmt = (
            stmt.group_by(UnansweredQuestion.question_key)
            .order_by(count.desc(), last.desc(), UnansweredQuestion.question_key)
            .limit(limit)
        )
        rows = (await self._session.execute(stmt)).all()
        return [
            UnansweredGroup(str(k), str(e), int(c), int(a), _aware(t)) for k, e, c, a, t in rows
        ]

    async def feedback_counts(self, guild_id: int) -> tuple[int, int]:
        """(helpful, not helpful) across the guild."""
        stmt = select(
            func.count(AnswerFeedback.id).filter(AnswerFeedback.helpful.is_(True)),
            func.count(AnswerFeedback.id).filter(AnswerFeedback.helpful.is_(False)),
        ).where(AnswerFeedback.guild_id == guild_id)
        helpful, unhelpful = (await self._session.execute(stmt)).one()
        return int(helpful), int(unhelpful)


def _aware(value: datetime | str) -> datetime:
    """Defensive: an aggregate over a SQLite text timestamp may come back as a string."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
