"""Answer feedback and unanswered questions: the loop that tells admins what to write next.

Unanswered questions are grouped by a normalised key (case, punctuation and spacing
ignored) so "What is backprop?" and "what is backprop" count as one question.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.services.base import Service, check_guild, check_ids
from bot.services.errors import ValidationError
from bot.services.parsing import replace_surrogates
from storage.repositories import FeedbackRepository, MemberRepository

MAX_QUESTION = 2000
MAX_SECTION = 300
MAX_KEY = 300
_NON_WORD = re.compile(r"[^\w]+")


def question_key(question: str) -> str:
    """Normalise a question for grouping: NFKC, casefold, words only, single spaces."""
    text = unicodedata.normalize("NFKC", question).casefold()
    return _NON_WORD.sub(" ", text).strip()[:MAX_KEY]


def _clean_question(question: str) -> str:
    text = "".join(
        ch
        for ch in replace_surrogates(question or "")
        if unicodedata.category(ch) != "Cc" or ch == "\n"
    )
    text = text.strip()
    if not text or not question_key(text):
        raise ValidationError("The question is empty.", field="question")
    # Stored for admins to read; an overlong paste is truncated rather than rejected,
    # because this is recorded on the member's behalf, not typed as a command.
    return text[:MAX_QUESTION]


@dataclass(frozen=True, slots=True)
class UnansweredSummary:
    question: str  # one example wording
    count: int
    askers: int
    last_asked: datetime


@dataclass(frozen=True, slots=True)
class FeedbackSummary:
    helpful: int
    not_helpful: int


class FeedbackService(Service):
    async def record_feedback(
        self,
        guild_id: int,
        user_id: int,
        question: str,
        helpful: bool,
        cited_section: str | None = None,
    ) -> None:
        check_ids(guild_id, user_id)
        text = _clean_question(question)
        section = replace_surrogates(cited_section or "").replace("\x00", " ")
        section = section.strip()[:MAX_SECTION] or None
        now = self._now()
        async with self._write() as session:
            await MemberRepository(session).get_or_create(guild_id, user_id, now)
            feedback = FeedbackRepository(session)
            # One vote per member per answer: clicking again (or changing one's mind)
            # replaces the vote instead of skewing the helpful ratio.
            existing = await feedback.vote_on(
                guild_id=guild_id, user_id=user_id, question=text, cited_section=section
            )
            if existing is not None:
                existing.helpful = bool(helpful)
                existing.created_at = now
                return
            await feedback.add_feedback(
                guild_id=guild_id,
                user_id=user_id,
                question=text,
                cited_section=section,
                helpful=bool(helpful),
                created_at=now,
            )

    async def record_unanswered(
        self, guild_id: int, user_id: int, question: str, best_score: float | None = None
    ) -> None:
        """Remember a question the guide could not answer (`best_score`: retrieval score)."""
        check_ids(guild_id, user_id)
        text = _clean_question(question)
        now = self._now()
        async with self._write() as session:
            await MemberRepository(session).get_or_create(guild_id, user_id, now)
            await FeedbackRepository(session).add_unanswered(
                guild_id=guild_id,
                user_id=user_id,
                question=text,
                question_key=question_key(text),
                best_score=best_score,
                created_at=now,
            )

    async def top_unanswered(
        self, guild_id: int, limit: int = 10, *, days: int | None = None
    ) -> tuple[UnansweredSummary, ...]:
        """Most frequently asked unanswered questions (optionally in the last `days`)."""
        check_guild(guild_id)
        limit = max(1, min(int(limit), 100))
        since = self._now() - timedelta(days=days) if days else None
        async with self._read() as session:
            groups = await FeedbackRepository(session).top_unanswered(guild_id, limit, since)
        return tuple(UnansweredSummary(g.example, g.count, g.askers, g.last_asked) for g in groups)

    async def feedback_summary(self, guild_id: int) -> FeedbackSummary:
        check_guild(guild_id)
        async with self._read() as session:
            helpful, unhelpful = await FeedbackRepository(session).feedback_counts(guild_id)
        return FeedbackSummary(helpful, unhelpful)
