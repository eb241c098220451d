"""Weekly nudge and digest deliveries: one row per message the scheduler means to send.

Both follow claim (insert) -> send -> mark: a UNIQUE key on the week makes the claim the
idempotency point, so racing schedulers or a restart mid-send never send twice, and the
retry columns (migration 0003, see bot.services.delivery) let a rate-limited or transiently
failed send be tried again later. Challenge announcements use the same protocol and live
with the challenges (`challenges.py`).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, Index, SmallInteger, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import DELIVERY_STATUSES, Base, member_fk, sql_in
from storage.types import BigIntPK, SnowflakeId, UTCDateTime


class NudgeDelivery(Base):
    """At most one weekly nudge per member: claim (insert) -> send -> mark sent.

    The UNIQUE key makes the claim the idempotency point: two schedulers racing, or a
    restart mid-send, can never nudge the same member twice in one ISO week.
    """

    __tablename__ = "nudge_deliveries"
    __table_args__ = (
        member_fk(),
        UniqueConstraint("guild_id", "user_id", "iso_week"),
        CheckConstraint(sql_in("status", DELIVERY_STATUSES), name="status"),
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
        CheckConstraint(sql_in("status", DELIVERY_STATUSES), name="status"),
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
