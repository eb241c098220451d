"""Community challenges: the challenge, who joined it, and its announcements.

Rows are the guild's, not a member's: a participant row goes with its member on forget-me
(it carries `member_fk()`), while a challenge only has its `created_by` nulled (see
`member_reference_columns`). Participants and announcements cascade with their challenge.
Announcements use the same claim -> send -> mark protocol as the deliveries in
`deliveries.py`, with the same statuses.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.sql.expression import false, true

from storage.models.base import (
    ANNOUNCEMENT_KINDS,
    CHALLENGE_METRICS,
    CHALLENGE_STATES,
    DELIVERY_STATUSES,
    ROLE_STATES,
    Base,
    member_fk,
    sql_in,
)
from storage.types import BigIntPK, SnowflakeId, UTCDateTime


class Challenge(Base):
    """A time-boxed community challenge (e.g. '300 minutes of linear algebra this week')."""

    __tablename__ = "challenges"
    __table_args__ = (
        Index(None, "guild_id", "ends_at"),
        CheckConstraint("ends_at > starts_at", name="window"),
        CheckConstraint(sql_in("metric", CHALLENGE_METRICS), name="metric"),
        CheckConstraint(sql_in("status", CHALLENGE_STATES), name="status"),
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
        member_fk(),
        Index(None, "guild_id", "user_id"),
        CheckConstraint(
            f"role_status IS NULL OR {sql_in('role_status', ROLE_STATES)}", name="role"
        ),
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


class ChallengeAnnouncement(Base):
    """One announcement (start / halfway / end) per challenge, claim -> send -> mark (0003)."""

    __tablename__ = "challenge_announcements"
    __table_args__ = (
        UniqueConstraint("challenge_id", "kind"),
        CheckConstraint(sql_in("kind", ANNOUNCEMENT_KINDS), name="kind"),
        CheckConstraint(sql_in("status", DELIVERY_STATUSES), name="status"),
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
