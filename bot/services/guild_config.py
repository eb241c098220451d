"""Per-guild configuration set by admins: ask channel, nudge channel, phase roles, FAQ.

Server FAQ answers override the guide for one guild only: the engine receives the guild's
entries and matches a question to them by meaning (`MentorService.ask(overrides=...)`).
Entries are keyed by the same normalised form as unanswered questions
(`feedback.question_key`), so an admin can answer exactly what `/admin insights` lists.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.services.base import Service, check_ids
from bot.services.errors import ValidationError
from bot.services.feedback import question_key
from bot.services.parsing import replace_surrogates
from storage.repositories import GuildConfigRepository, GuildRepository
from storage.repositories.nudges import NudgeRepository

MIN_FAQ_QUESTION = 3
MAX_FAQ_QUESTION = 300
MAX_FAQ_ANSWER = 1_500


@dataclass(frozen=True, slots=True)
class FaqEntry:
    question: str
    answer: str
    created_by: int | None
    updated_at: datetime


def _check_channel(channel_id: int | None) -> None:
    if channel_id is not None:
        check_ids(channel_id, 1)


class GuildConfigService(Service):
    async def ask_channel(self, guild_id: int) -> int | None:
        check_ids(guild_id, 1)
        async with self._read() as session:
            return await GuildConfigRepository(session).ask_channel(guild_id)

    async def _set_channel(self, guild_id: int, column: str, channel_id: int | None) -> None:
        check_ids(guild_id, 1)
        _check_channel(channel_id)
        now = self._now()
        async with self._write() as session:
            settings = await GuildRepository(session).get_or_create(guild_id, now)
            setattr(settings, column, channel_id)
            settings.updated_at = now

    async def set_ask_channel(self, guild_id: int, channel_id: int | None) -> None:
        """Answer question-like messages in this channel unprompted (None: turn off)."""
        await self._set_channel(guild_id, "ask_channel_id", channel_id)

    async def set_nudge_channel(self, guild_id: int, channel_id: int | None) -> None:
        """Where channel-route nudges go (None: they fall back to DMs).

        A new channel can make a member deliverable who was not (DMs closed, channel
        route), so the guild's members go back to the planner in the same transaction.
        """
        check_ids(guild_id, 1)
        _check_channel(channel_id)
        now = self._now()
        async with self._write() as session:
            settings = await GuildRepository(session).get_or_create(guild_id, now)
            settings.nudge_channel_id = channel_id
            settings.updated_at = now
            await NudgeRepository(session).recheck_guild(guild_id, now, defaults_only=False)

    async def nudge_channel(self, guild_id: int) -> int | None:
        check_ids(guild_id, 1)
        async with self._read() as session:
            settings = await GuildRepository(session).get(guild_id)
        return settings.nudge_channel_id if settings else None

    async def phase_roles(self, guild_id: int) -> dict[int, int]:
        """phase number -> role id, for the phases an admin mapped."""
        check_ids(guild_id, 1)
        async with self._read() as session:
            return await GuildConfigRepository(session).phase_roles(guild_id)

    async def set_phase_role(self, guild_id: int, phase: int, role_id: int | None) -> None:
        check_ids(guild_id, 1)
        if self._guide.phase(phase) is None or isinstance(phase, bool):
            raise ValidationError(f"There is no phase {phase} in the roadmap.", field="phase")
        _check_channel(role_id)
        now = self._now()
        async with self._write() as session:
            await GuildConfigRepository(session).set_phase_role(guild_id, phase, role_id, now)

    @staticmethod
    def _faq_key(question: str) -> str:
        text = " ".join((question or "").split())
        key = question_key(text)
        if len(text) < MIN_FAQ_QUESTION or not key:
            raise ValidationError("Write the question as members would ask it.", field="question")
        if len(text) > MAX_FAQ_QUESTION:
            raise ValidationError(
                f"Keep the question under {MAX_FAQ_QUESTION} characters.", field="question"
            )
        return key

    async def set_faq(self, guild_id: int, user_id: int, question: str, answer: str) -> bool:
        """Add or replace this guild's answer to `question`; True when it is new."""
        check_ids(guild_id, user_id)
        # Stored text: no lone surrogates (unencodable) and no NUL (PostgreSQL refuses it).
        question = replace_surrogates(question or "").replace("\x00", " ")
        key = self._faq_key(question)
        text = replace_surrogates(answer or "").replace("\x00", " ").strip()
        if not text:
            raise ValidationError("The answer is empty.", field="answer")
        if len(text) > MAX_FAQ_ANSWER:
            raise ValidationError(
                f"The answer is {len(text):,} characters; keep it to {MAX_FAQ_ANSWER:,}.",
                field="answer",
            )
        now = self._now()
        async with self._write() as session:
            return await GuildConfigRepository(session).upsert_faq(
                guild_id=guild_id,
                question_key=key,
                question=" ".join(question.split()),
                answer=text,
                created_by=user_id,
                now=now,
            )

    async def remove_faq(self, guild_id: int, question: str) -> bool:
        check_ids(guild_id, 1)
        key = question_key(question or "")
        if not key:
            return False
        async with self._write() as session:
            return await GuildConfigRepository(session).delete_faq(guild_id, key)

    async def list_faqs(self, guild_id: int) -> tuple[FaqEntry, ...]:
        check_ids(guild_id, 1)
        async with self._read() as session:
            rows = await GuildConfigRepository(session).faqs(guild_id)
        return tuple(FaqEntry(r.question, r.answer, r.created_by, r.updated_at) for r in rows)
