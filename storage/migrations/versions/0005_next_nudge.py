"""Per-member next-nudge time, so planning reads due rows through an index.

Revision ID: 0005_next_nudge
Revises: 0004_sharding
Create Date: 2026-12-02

- members.next_nudge_at: the earliest instant the member's weekly nudge can be due (UTC),
  kept by the scheduler; '2000-01-01' means "work it out at the next planning pass".
- ix_members_next_nudge_at_guild_id_user_id: (next_nudge_at, guild_id, user_id) over the
  members with nudges on, so "due by now" is an index range, not a scan of every member.

Backfill: every member with nudges on gets this week's slot in their timezone, or next
week's when this week's nudge is already claimed; the same value the planner would store.
Computed per (timezone, weekday, hour) in Python (a few hundred distinct combinations,
not one per member), then applied by one UPDATE, so a million members take seconds to a
minute of server time rather than a million round trips. Without the backfill nothing
would be wrong, only slow once: every member would start at the "work it out" value and
the first planning passes after the upgrade would read them all.

Self-contained on purpose (no imports from the app), like every migration here.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import sqlalchemy as sa
from alembic import op

revision: str = "0005_next_nudge"
down_revision: str | None = "0004_sharding"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TS = sa.DateTime(timezone=True)
_RECHECK_SQL = "'2000-01-01 00:00:00.000000'"
_INDEX = "ix_members_next_nudge_at_guild_id_user_id"
_SLOTS = "tmp_nudge_slots"


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def _slot(day: date, weekday: int, hour: int, tz: ZoneInfo) -> datetime:
    """UTC instant of `weekday` `hour`:00 local in the ISO week of `day` (as the app)."""
    monday = day - timedelta(days=day.weekday())
    local = datetime.combine(monday + timedelta(days=weekday), time(hour), tzinfo=tz)
    return local.astimezone(UTC)


def slots_at(
    now: datetime, timezone: str, weekday: int, hour: int
) -> tuple[str, datetime, datetime]:
    """(local ISO week label, this week's slot, next week's slot) for one combination."""
    tz = _zone(timezone)
    today = now.astimezone(tz).date()
    year, week, _ = today.isocalendar()
    return (
        f"{year}-W{week:02d}",
        _slot(today, weekday, hour, tz),
        _slot(today + timedelta(days=7), weekday, hour, tz),
    )


def backfill(connection: sa.Connection, now: datetime) -> None:
    """Set next_nudge_at for every member with nudges on, as of `now` (tests pass it)."""
    sqlite = connection.dialect.name == "sqlite"
    effective = """
        CASE WHEN m.nudge_custom THEN m.nudge_weekday ELSE COALESCE(g.nudge_weekday, 0) END,
        CASE WHEN m.nudge_custom THEN m.nudge_hour ELSE COALESCE(g.nudge_hour, 18) END"""
    combos = connection.execute(
        sa.text(
            f"SELECT DISTINCT m.timezone, {effective} FROM members m "
            "LEFT JOIN guild_settings g ON g.guild_id = m.guild_id WHERE m.nudge_enabled"
        )
    ).all()
    if not combos:
        return
    connection.execute(
        sa.text(
            f"CREATE TEMPORARY TABLE {_SLOTS} (timezone VARCHAR(64), weekday INTEGER, "
            "hour INTEGER, label VARCHAR(8), this_at "
            f"{'TIMESTAMP' if sqlite else 'TIMESTAMPTZ'}, next_at "
            f"{'TIMESTAMP' if sqlite else 'TIMESTAMPTZ'}, "
            "PRIMARY KEY (timezone, weekday, hour))"
        )
    )

    def stored(value: datetime) -> datetime | str:
        # SQLite keeps what SQLAlchemy's DateTime writes: naive UTC, microseconds shown.
        return value.strftime("%Y-%m-%d %H:%M:%S.%f") if sqlite else value

    rows = []
    for tz, weekday, hour in combos:
        label, this_at, next_at = slots_at(now, tz, int(weekday), int(hour))
        rows.append(
            {
                "tz": tz,
                "wd": weekday,
                "hr": hour,
                "label": label,
                "this_at": stored(this_at),
                "next_at": stored(next_at),
            }
        )
    connection.execute(
        sa.text(f"INSERT INTO {_SLOTS} VALUES (:tz, :wd, :hr, :label, :this_at, :next_at)"),
        rows,
    )
    connection.execute(
        sa.text(
            f"""UPDATE members SET next_nudge_at = (
                SELECT CASE WHEN EXISTS (
                    SELECT 1 FROM nudge_deliveries d WHERE d.guild_id = members.guild_id
                    AND d.user_id = members.user_id AND d.iso_week = s.label)
                    THEN s.next_at ELSE s.this_at END
                FROM {_SLOTS} s
                WHERE s.timezone = members.timezone
                AND s.weekday = CASE WHEN members.nudge_custom THEN members.nudge_weekday
                    ELSE COALESCE((SELECT g.nudge_weekday FROM guild_settings g
                                   WHERE g.guild_id = members.guild_id), 0) END
                AND s.hour = CASE WHEN members.nudge_custom THEN members.nudge_hour
                    ELSE COALESCE((SELECT g.nudge_hour FROM guild_settings g
                                   WHERE g.guild_id = members.guild_id), 18) END)
            WHERE nudge_enabled"""
        )
    )
    connection.execute(sa.text(f"DROP TABLE {_SLOTS}"))


def upgrade() -> None:
    # A plain ALTER TABLE ADD COLUMN (a constant default is allowed on SQLite too), not
    # batch mode: a batch copies and drops `members`, and with foreign keys on, SQLite's
    # DROP TABLE cascades to every member-owned row (logs, milestones, deliveries).
    op.add_column(
        "members",
        sa.Column("next_nudge_at", _TS, server_default=sa.text(_RECHECK_SQL), nullable=False),
    )
    backfill(op.get_bind(), datetime.now(UTC))
    op.create_index(
        _INDEX,
        "members",
        ["next_nudge_at", "guild_id", "user_id"],
        postgresql_where=sa.text("nudge_enabled = true"),
        sqlite_where=sa.text("nudge_enabled = 1"),
    )


def downgrade() -> None:
    op.drop_index(_INDEX, table_name="members")
    # ALTER TABLE DROP COLUMN (SQLite >= 3.35), not batch mode, for the reason above.
    op.drop_column("members", "next_nudge_at")
