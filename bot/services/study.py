"""Study logs: record a session, undo the last one.

All validation happens before the transaction opens, so a rejected log stores nothing
(not even the member row). Limits mirror the schema's CHECK constraints and column sizes,
which stay as a second line of defence.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.services.base import Service, check_ids
from bot.services.batching import GroupCommit
from bot.services.clock import Clock, utc_now, week_start
from bot.services.errors import NothingToUndo, ValidationError
from bot.services.parsing import replace_surrogates
from bot.services.timezones import zone
from knowledge.content import Guide
from storage.models import StudyLog
from storage.repositories import MemberRepository, StudyLogRepository

MIN_MINUTES = 1
MAX_MINUTES = 1440
MAX_TOPIC = 100
MAX_NOTE = 1000
MAX_LINK = 2048
_SPACES = re.compile(r"\s+")


@dataclass(frozen=True, slots=True)
class LoggedSession:
    id: int
    minutes: int
    topic: str
    note: str | None
    link: str | None
    phase: int | None
    logged_at: datetime


@dataclass(frozen=True, slots=True)
class LogResult:
    log: LoggedSession
    week_minutes: int  # the member's total this (local) week, including this log


def _strip_controls(text: str, keep_newlines: bool) -> str:
    """Drop control characters (NUL breaks PostgreSQL text; others garble Discord)."""
    allowed = {"\n", "\t"} if keep_newlines else set()
    text = replace_surrogates(text)
    return "".join(ch if ch in allowed or unicodedata.category(ch) != "Cc" else " " for ch in text)


def validate_minutes(minutes: object) -> int:
    if isinstance(minutes, bool) or not isinstance(minutes, int):
        raise ValidationError(
            f"Minutes must be a whole number from {MIN_MINUTES} to {MAX_MINUTES}.",
            field="minutes",
        )
    if not MIN_MINUTES <= minutes <= MAX_MINUTES:
        raise ValidationError(
            f"Minutes must be between {MIN_MINUTES} and {MAX_MINUTES} (24 hours); got {minutes:,}.",
            field="minutes",
        )
    return minutes


def validate_topic(topic: str) -> str:
    clean = _SPACES.sub(" ", _strip_controls(topic or "", keep_newlines=False)).strip()
    if not clean:
        raise ValidationError("Say what you studied, e.g. `backprop` or `linear algebra`.")
    if len(clean) > MAX_TOPIC:
        raise ValidationError(
            f"The topic is {len(clean)} characters; keep it to {MAX_TOPIC} and put details "
            "in the note.",
            field="topic",
        )
    return clean


def validate_note(note: str | None) -> str | None:
    if note is None:
        return None
    clean = _strip_controls(note, keep_newlines=True).strip()
    if len(clean) > MAX_NOTE:
        raise ValidationError(
            f"The note is {len(clean):,} characters; the limit is {MAX_NOTE:,}.", field="note"
        )
    return clean or None


def validate_link(link: str | None) -> str | None:
    if link is None or not link.strip():
        return None
    clean = replace_surrogates(link.strip())
    message = "The link must be a full http(s) URL, e.g. https://example.com/notes."
    if len(clean) > MAX_LINK or any(ch.isspace() or ord(ch) < 32 for ch in clean):
        raise ValidationError(message, field="link")
    try:
        parts = urlsplit(clean)
    except ValueError as exc:
        raise ValidationError(message, field="link") from exc
    if parts.scheme.lower() not in {"http", "https"} or not parts.hostname:
        raise ValidationError(message, field="link")
    return clean


def _as_logged(row: StudyLog) -> LoggedSession:
    return LoggedSession(
        row.id, row.minutes, row.topic, row.note, row.link, row.phase, row.logged_at
    )


@dataclass(frozen=True, slots=True)
class _PendingLog:
    guild_id: int
    user_id: int
    minutes: int
    topic: str
    note: str | None
    link: str | None
    logged_at: datetime


class StudyLogService(Service):
    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        guide: Guide,
        clock: Clock = utc_now,
    ) -> None:
        super().__init__(sessionmaker, guide, clock)
        # Concurrent `log` calls share transactions (see bot.services.batching).
        self._writer: GroupCommit[_PendingLog, LogResult] = GroupCommit(self._write_batch)

    async def log(
        self,
        guild_id: int,
        user_id: int,
        minutes: int,
        topic: str,
        note: str | None = None,
        link: str | None = None,
    ) -> LogResult:
        """Validate, then store one session stamped with the member's current phase.

        Validation happens here, before queueing, so a rejected log stores nothing and
        never affects other members' logs written in the same transaction.
        """
        check_ids(guild_id, user_id)
        pending = _PendingLog(
            guild_id,
            user_id,
            validate_minutes(minutes),
            validate_topic(topic),
            validate_note(note),
            validate_link(link),
            self._now(),
        )
        return await self._writer.submit(pending)

    async def _write_batch(self, batch: Sequence[_PendingLog]) -> list[LogResult]:
        """One transaction for the whole batch: members, logs, running totals, week totals."""
        keys = [(p.guild_id, p.user_id) for p in batch]
        async with self._write() as session:
            members = await MemberRepository(session).get_or_create_many(keys, batch[0].logged_at)
            logs = StudyLogRepository(session)
            rows = [
                {
                    "guild_id": p.guild_id,
                    "user_id": p.user_id,
                    "minutes": p.minutes,
                    "topic": p.topic,
                    "note": p.note,
                    "link": p.link,
                    "phase": members[key].phase,
                    "logged_at": p.logged_at,
                }
                for p, key in zip(batch, keys, strict=True)
            ]
            ids = await logs.add_many(rows)
            deltas: dict[tuple[int, int], tuple[int, int]] = {}
            for p, key in zip(batch, keys, strict=True):
                minutes, sessions = deltas.get(key, (0, 0))
                deltas[key] = (minutes + p.minutes, sessions + 1)
            await MemberRepository(session).add_to_totals(deltas)
            windows = {
                key: week_start(p.logged_at, zone(members[key].timezone))
                for p, key in zip(batch, keys, strict=True)
            }
            week = await logs.minutes_since_many(windows)
        return [
            LogResult(
                LoggedSession(
                    log_id, p.minutes, p.topic, p.note, p.link, members[key].phase, p.logged_at
                ),
                week[key],
            )
            for p, key, log_id in zip(batch, keys, ids, strict=True)
        ]

    async def undo_last(self, guild_id: int, user_id: int) -> LoggedSession:
        """Delete the member's most recent log and return what was removed."""
        check_ids(guild_id, user_id)
        async with self._write() as session:
            logs = StudyLogRepository(session)
            last = await logs.last(guild_id, user_id)
            if last is None:
                raise NothingToUndo()
            removed = _as_logged(last)
            await logs.delete(last.id)
            key = (guild_id, user_id)
            await MemberRepository(session).add_to_totals({key: (-last.minutes, -1)})
        return removed
