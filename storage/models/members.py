"""The member and the rows a member owns: study logs, milestone states, answer feedback and
unanswered questions.

A member is one person in one guild, keyed by (guild_id, user_id). Every other table here
carries the same pair with `member_fk()` (cascading), so per-guild queries need no joins and
forget-me is a delete on (guild_id, user_id) per table (see `member_scoped_tables`).
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Float,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.sql.expression import false

from storage.models.base import MILESTONE_STATUSES, NUDGE_CHANNELS, Base, member_fk, sql_in
from storage.types import BigIntPK, SnowflakeId, UTCDateTime

# `members.next_nudge_at` for "work it out at the next planning pass": fixed, not "now", so
# a writer whose clock runs ahead cannot hide a member from a planner whose clock lags. The
# server default is spelled as SQLAlchemy stores it on SQLite, so a value read back equals
# what is bound (the planner's compare-and-set relies on it).
NUDGE_RECHECK = datetime(2000, 1, 1, tzinfo=UTC)
_NUDGE_RECHECK_SQL = "'2000-01-01 00:00:00.000000'"


class Member(Base):
    """One person in one guild: roadmap phase, timezone and nudge preferences."""

    __tablename__ = "members"
    __table_args__ = (
        CheckConstraint("phase IS NULL OR (phase >= 0 AND phase <= 9)", name="phase_range"),
        CheckConstraint("nudge_weekday >= 0 AND nudge_weekday <= 6", name="nudge_weekday"),
        CheckConstraint("nudge_hour >= 0 AND nudge_hour <= 23", name="nudge_hour"),
        CheckConstraint(sql_in("nudge_via", NUDGE_CHANNELS), name="nudge_via"),
        CheckConstraint("total_minutes >= 0 AND total_sessions >= 0", name="totals"),
        # Planning reads "nudges on and next_nudge_at <= now" in this order (0005): a range
        # over the due rows only. guild_id, user_id make the order total (keyset paging).
        Index(
            None,
            "next_nudge_at",
            "guild_id",
            "user_id",
            postgresql_where=text("nudge_enabled = true"),
            sqlite_where=text("nudge_enabled = 1"),
        ),
    )

    guild_id: Mapped[int] = mapped_column(SnowflakeId, primary_key=True, autoincrement=False)
    user_id: Mapped[int] = mapped_column(SnowflakeId, primary_key=True, autoincrement=False)
    phase: Mapped[int | None] = mapped_column(SmallInteger)
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    nudge_enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    nudge_weekday: Mapped[int] = mapped_column(SmallInteger, default=0)
    nudge_hour: Mapped[int] = mapped_column(SmallInteger, default=18)
    nudge_via: Mapped[str] = mapped_column(String(16), default="dm")
    dm_closed: Mapped[bool] = mapped_column(Boolean, default=False)
    # False: nudge_weekday/nudge_hour are unset and the guild's default slot applies (0003).
    nudge_custom: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # True: never named in the weekly digest's "most active learners" (0003).
    digest_opt_out: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # The delivery-problem notice this member was last shown (0004). In the database, not
    # in one process's memory, so every shard process and a restart agree on it.
    notice_told: Mapped[str | None] = mapped_column(String(500))
    # All-time totals, kept in step with study_logs by the service that writes logs (same
    # transaction), so the all-time leaderboard reads one row per member instead of
    # summing every log in the guild. `StudyLogRepository.recompute_totals` repairs them.
    total_minutes: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    total_sessions: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # The earliest instant this member's weekly nudge can be due (0005), kept by the
    # scheduler and reset to NUDGE_RECHECK when a slot input changes; see bot.services.nudges.
    next_nudge_at: Mapped[datetime] = mapped_column(
        UTCDateTime, default=NUDGE_RECHECK, server_default=text(_NUDGE_RECHECK_SQL)
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class StudyLog(Base):
    """One study session. `phase` is the member's phase when logged (for per-phase stats)."""

    __tablename__ = "study_logs"
    __table_args__ = (
        member_fk(),
        CheckConstraint("minutes >= 1 AND minutes <= 1440", name="minutes_range"),
        # Leaderboards for a window: range on logged_at, group by user, sum minutes; covering.
        Index(None, "guild_id", "logged_at", "user_id", "minutes"),
        # One member's logs (stats, streaks, undo-last, recomputing totals). user_id leads
        # on purpose: with guild_id first, SQLite's planner prefers this index for the
        # leaderboard's GROUP BY user_id and scans the guild's whole history instead of
        # the window (measured: 13 ms vs 3 ms for a week of 100k logs).
        Index(None, "user_id", "guild_id", "logged_at", "minutes"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    guild_id: Mapped[int] = mapped_column(SnowflakeId)
    user_id: Mapped[int] = mapped_column(SnowflakeId)
    minutes: Mapped[int] = mapped_column(Integer)
    topic: Mapped[str] = mapped_column(String(100))
    note: Mapped[str | None] = mapped_column(String(1000))
    link: Mapped[str | None] = mapped_column(String(2048))
    phase: Mapped[int | None] = mapped_column(SmallInteger)
    logged_at: Mapped[datetime] = mapped_column(UTCDateTime)


class MilestoneStatus(Base):
    """A member's state on one guide milestone (ids come from the guide's front matter)."""

    __tablename__ = "milestone_status"
    __table_args__ = (
        member_fk(),
        CheckConstraint(sql_in("status", MILESTONE_STATUSES), name="status"),
    )

    guild_id: Mapped[int] = mapped_column(SnowflakeId, primary_key=True, autoincrement=False)
    user_id: Mapped[int] = mapped_column(SnowflakeId, primary_key=True, autoincrement=False)
    milestone_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    status: Mapped[str] = mapped_column(String(16))
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class AnswerFeedback(Base):
    """A member's thumbs up/down on one answer, with the section the answer cited."""

    __tablename__ = "answer_feedback"
    __table_args__ = (member_fk(), Index(None, "guild_id", "created_at"))

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    guild_id: Mapped[int] = mapped_column(SnowflakeId)
    user_id: Mapped[int] = mapped_column(SnowflakeId)
    question: Mapped[str] = mapped_column(Text)
    cited_section: Mapped[str | None] = mapped_column(String(300))
    helpful: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class UnansweredQuestion(Base):
    """A question the guide could not answer; `question_key` groups near-identical ones."""

    __tablename__ = "unanswered_questions"
    __table_args__ = (member_fk(), Index(None, "guild_id", "question_key"))

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    guild_id: Mapped[int] = mapped_column(SnowflakeId)
    user_id: Mapped[int] = mapped_column(SnowflakeId)
    question: Mapped[str] = mapped_column(Text)
    question_key: Mapped[str] = mapped_column(String(300))
    best_score: Mapped[float | None] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
