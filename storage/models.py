"""Typed SQLAlchemy models: the whole schema, every row scoped by Discord guild id.

Design notes (why it looks like this):
- Members are keyed by the natural pair (guild_id, user_id). Member-owned tables carry the
  same two columns with a composite foreign key, so every per-guild query filters on
  columns that are already in the row (no joins for leaderboards), and "forget me" is a
  delete on (guild_id, user_id) in each table (see `member_scoped_tables`).
- Timestamps are `UTCDateTime`: aware UTC in Python on both SQLite and PostgreSQL.
- Tables for later features (challenges, nudge and digest deliveries, FAQ overrides) are
  here from the first migration so those issues only add code, not risky schema changes.
- The migrations in `storage/migrations/versions` must match this module; a test compares
  them with Alembic's autogenerate diff.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Float,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.sql.expression import false, true

from storage.types import BigIntPK, SnowflakeId, UTCDateTime

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

MILESTONE_STATUSES = ("learning", "done", "skipped")
DELIVERY_STATUSES = ("claimed", "sent", "failed", "skipped")
NUDGE_CHANNELS = ("dm", "channel")
CHALLENGE_METRICS = ("minutes", "active_days", "milestones")
CHALLENGE_STATES = ("active", "ended", "cancelled")
ANNOUNCEMENT_KINDS = ("start", "halfway", "end")
ROLE_STATES = ("granted", "failed")
# `members.next_nudge_at` for "work it out at the next planning pass": fixed, not "now", so
# a writer whose clock runs ahead cannot hide a member from a planner whose clock lags. The
# server default is spelled as SQLAlchemy stores it on SQLite, so a value read back equals
# what is bound (the planner's compare-and-set relies on it).
NUDGE_RECHECK = datetime(2000, 1, 1, tzinfo=UTC)
_NUDGE_RECHECK_SQL = "'2000-01-01 00:00:00.000000'"

_MEMBER_FK = ("guild_id", "user_id")
_MEMBER_REF = ("members.guild_id", "members.user_id")


def _member_fk() -> ForeignKeyConstraint:
    """Composite FK to members; cascades so a deleted member leaves no orphans."""
    return ForeignKeyConstraint(_MEMBER_FK, _MEMBER_REF, ondelete="CASCADE")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class GuildSettings(Base):
    """Per-server configuration that admins change (channels, the guild's timezone)."""

    __tablename__ = "guild_settings"
    __table_args__ = (
        CheckConstraint("nudge_weekday >= 0 AND nudge_weekday <= 6", name="nudge_weekday"),
        CheckConstraint("nudge_hour >= 0 AND nudge_hour <= 23", name="nudge_hour"),
    )

    guild_id: Mapped[int] = mapped_column(SnowflakeId, primary_key=True, autoincrement=False)
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    digest_channel_id: Mapped[int | None] = mapped_column(SnowflakeId)
    nudge_channel_id: Mapped[int | None] = mapped_column(SnowflakeId)
    # Where the bot answers question-like messages unprompted (migration 0002).
    ask_channel_id: Mapped[int | None] = mapped_column(SnowflakeId)
    challenge_channel_id: Mapped[int | None] = mapped_column(SnowflakeId)
    admin_role_id: Mapped[int | None] = mapped_column(SnowflakeId)
    leaderboard_enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    # The guild's default weekly nudge slot (local to each member) and digest slot (local
    # to the guild), migration 0003. Members who never chose their own slot follow it.
    nudge_weekday: Mapped[int] = mapped_column(SmallInteger, default=0, server_default="0")
    nudge_hour: Mapped[int] = mapped_column(SmallInteger, default=18, server_default="18")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Member(Base):
    """One person in one guild: roadmap phase, timezone and nudge preferences."""

    __tablename__ = "members"
    __table_args__ = (
        CheckConstraint("phase IS NULL OR (phase >= 0 AND phase <= 9)", name="phase_range"),
        CheckConstraint("nudge_weekday >= 0 AND nudge_weekday <= 6", name="nudge_weekday"),
        CheckConstraint("nudge_hour >= 0 AND nudge_hour <= 23", name="nudge_hour"),
        CheckConstraint(_in("nudge_via", NUDGE_CHANNELS), name="nudge_via"),
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
        _member_fk(),
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
        _member_fk(),
        CheckConstraint(_in("status", MILESTONE_STATUSES), name="status"),
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
    __table_args__ = (_member_fk(), Index(None, "guild_id", "created_at"))

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
    __table_args__ = (_member_fk(), Index(None, "guild_id", "question_key"))

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    guild_id: Mapped[int] = mapped_column(SnowflakeId)
    user_id: Mapped[int] = mapped_column(SnowflakeId)
    question: Mapped[str] = mapped_column(Text)
    question_key: Mapped[str] = mapped_column(String(300))
    best_score: Mapped[float | None] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Challenge(Base):
    """A time-boxed community challenge (e.g. '300 minutes of linear algebra this week')."""

    __tablename__ = "challenges"
    __table_args__ = (
        Index(None, "guild_id", "ends_at"),
        CheckConstraint("ends_at > starts_at", name="window"),
        CheckConstraint(_in("metric", CHALLENGE_METRICS), name="metric"),
        CheckConstraint(_in("status", CHALLENGE_STATES), name="status"),
        CheckConstraint("goal IS NULL OR goal > 0", name="goal"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    guild_id: Mapped[int] = mapped_column(SnowflakeId)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(String(2000))
    topic: Mapped[str | None] = mapped_column(String(100))
    goal_minutes: Mapped[int | None] = mapped_column(Integer)
    milestone_id: Mapped[str | None] = mapped_column(String(100))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Nulled (not deleted) when the creator asks to be forgotten: the challenge is the guild's.
    created_by: Mapped[int | None] = mapped_column(SnowflakeId)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Migration 0003: what is counted, toward what goal, and how the challenge ended.
    metric: Mapped[str] = mapped_column(String(16), default="minutes", server_default="minutes")
    goal: Mapped[int | None] = mapped_column(Integer)
    timezone: Mapped[str] = mapped_column(String(64), default="UTC", server_default="UTC")
    completion_role_id: Mapped[int | None] = mapped_column(SnowflakeId)
    leagues: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    count_before_join: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    status: Mapped[str] = mapped_column(String(16), default="active", server_default="active")
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ChallengeParticipant(Base):
    """A member who joined a challenge, and when they completed it."""

    __tablename__ = "challenge_participants"
    __table_args__ = (
        _member_fk(),
        Index(None, "guild_id", "user_id"),
        CheckConstraint(f"role_status IS NULL OR {_in('role_status', ROLE_STATES)}", name="role"),
    )

    challenge_id: Mapped[int] = mapped_column(
        BigIntPK, ForeignKey("challenges.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(SnowflakeId, primary_key=True, autoincrement=False)
    guild_id: Mapped[int] = mapped_column(SnowflakeId)
    joined_at: Mapped[datetime] = mapped_column(UTCDateTime)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Migration 0003: the member's phase when they joined (their league, if leagues are on)
    # and whether the completion role was handed out (NULL: not yet).
    league: Mapped[int | None] = mapped_column(SmallInteger)
    role_status: Mapped[str | None] = mapped_column(String(16))
    role_updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class NudgeDelivery(Base):
    """At most one weekly nudge per member: claim (insert) -> send -> mark sent.

    The UNIQUE key makes the claim the idempotency point: two schedulers racing, or a
    restart mid-send, can never nudge the same member twice in one ISO week.
    """

    __tablename__ = "nudge_deliveries"
    __table_args__ = (
        _member_fk(),
        UniqueConstraint("guild_id", "user_id", "iso_week"),
        CheckConstraint(_in("status", DELIVERY_STATUSES), name="status"),
        Index(None, "status", "claimed_at"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    guild_id: Mapped[int] = mapped_column(SnowflakeId)
    user_id: Mapped[int] = mapped_column(SnowflakeId)
    iso_week: Mapped[str] = mapped_column(String(8))  # e.g. "2026-W07"
    status: Mapped[str] = mapped_column(String(16), default="claimed")
    via: Mapped[str | None] = mapped_column(String(16))
    claimed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    error: Mapped[str | None] = mapped_column(String(500))
    # Migration 0003 (see bot.services.delivery): sends started, the send in flight, and
    # when a rate-limited / transiently failed delivery may be tried again.
    attempts: Mapped[int] = mapped_column(SmallInteger, default=0, server_default="0")
    sending_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class DigestDelivery(Base):
    """At most one weekly digest per guild, with the same claim -> send -> mark protocol."""

    __tablename__ = "digest_deliveries"
    __table_args__ = (
        UniqueConstraint("guild_id", "iso_week"),
        CheckConstraint(_in("status", DELIVERY_STATUSES), name="status"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    guild_id: Mapped[int] = mapped_column(SnowflakeId)
    iso_week: Mapped[str] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(16), default="claimed")
    channel_id: Mapped[int | None] = mapped_column(SnowflakeId)
    claimed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    error: Mapped[str | None] = mapped_column(String(500))
    attempts: Mapped[int] = mapped_column(SmallInteger, default=0, server_default="0")
    sending_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ChallengeAnnouncement(Base):
    """One announcement (start / halfway / end) per challenge, claim -> send -> mark (0003)."""

    __tablename__ = "challenge_announcements"
    __table_args__ = (
        UniqueConstraint("challenge_id", "kind"),
        CheckConstraint(_in("kind", ANNOUNCEMENT_KINDS), name="kind"),
        CheckConstraint(_in("status", DELIVERY_STATUSES), name="status"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    challenge_id: Mapped[int] = mapped_column(
        BigIntPK, ForeignKey("challenges.id", ondelete="CASCADE")
    )
    guild_id: Mapped[int] = mapped_column(SnowflakeId)
    kind: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default="claimed")
    channel_id: Mapped[int | None] = mapped_column(SnowflakeId)
    claimed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    error: Mapped[str | None] = mapped_column(String(500))
    attempts: Mapped[int] = mapped_column(SmallInteger, default=0, server_default="0")
    sending_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class BotState(Base):
    """Small facts shared by every bot process, by key (0004): e.g. the digest of the
    application commands last synced, so only one process syncs and only on change."""

    __tablename__ = "bot_state"

    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    value: Mapped[str] = mapped_column(String(500))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class GuildFaqOverride(Base):
    """An admin-written answer that replaces the guide's answer for one question in a guild."""

    __tablename__ = "guild_faq_overrides"
    __table_args__ = (UniqueConstraint("guild_id", "question_key"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    guild_id: Mapped[int] = mapped_column(SnowflakeId)
    question_key: Mapped[str] = mapped_column(String(300))
    question: Mapped[str] = mapped_column(Text)
    answer: Mapped[str] = mapped_column(Text)
    created_by: Mapped[int | None] = mapped_column(SnowflakeId)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class GuildPhaseRole(Base):
    """The Discord role a guild gives members in a roadmap phase (one role per phase)."""

    __tablename__ = "guild_phase_roles"
    __table_args__ = (CheckConstraint("phase >= 0 AND phase <= 9", name="phase_range"),)

    guild_id: Mapped[int] = mapped_column(SnowflakeId, primary_key=True, autoincrement=False)
    phase: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    role_id: Mapped[int] = mapped_column(SnowflakeId)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


def member_scoped_tables() -> tuple[Table, ...]:
    """Every table whose rows belong to one member (has both guild_id and user_id).

    Privacy export and forget-me iterate over this instead of a hand-kept list, so a table
    added later is covered automatically; a test asserts nothing is left behind.
    """
    return tuple(
        t
        for t in Base.metadata.sorted_tables
        if "guild_id" in t.c and "user_id" in t.c and t.name != Member.__tablename__
    )


def member_reference_columns() -> tuple[tuple[Table, str], ...]:
    """Nullable columns that merely *mention* a member (anonymised, not deleted, on forget)."""
    return (
        (Challenge.__table__, "created_by"),  # type: ignore[arg-type]
        (GuildFaqOverride.__table__, "created_by"),  # type: ignore[arg-type]
    )
