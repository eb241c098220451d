"""Per-guild configuration that admins change, and small facts shared by every bot process.

They are apart from `members.py` because none of these rows belongs to a member: forget-me
leaves them, only anonymising `GuildFaqOverride.created_by` (see `member_reference_columns`).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, SmallInteger, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base
from storage.types import BigIntPK, SnowflakeId, UTCDateTime


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


class BotState(Base):
    """Small facts shared by every bot process, by key (0004): e.g. the digest of the
    application commands last synced, so only one process syncs and only on change."""

    __tablename__ = "bot_state"

    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    value: Mapped[str] = mapped_column(String(500))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
