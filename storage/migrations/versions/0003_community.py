"""Community features: nudge slots, digest opt-out, challenge settings, delivery retries.

Revision ID: 0003_community
Revises: 0002_guild_config
Create Date: 2026-11-22

- guild_settings: the guild's default nudge weekday/hour.
- members: whether the member chose their own nudge slot, digest opt-out.
- challenges: metric, goal, timezone, completion role, leagues, early-logs rule, status.
- challenge_participants: league (phase at join) and completion-role state.
- nudge/digest deliveries: attempts, the send in flight, the next retry time.
- challenge_announcements: start / halfway / end, exactly once per challenge.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

_TS = sa.DateTime(timezone=True)
_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

revision: str = "0003_community"
down_revision: str | None = "0002_guild_config"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_DELIVERY_TABLES = ("nudge_deliveries", "digest_deliveries")


def _delivery_columns() -> list[sa.Column]:
    return [
        sa.Column("attempts", sa.SmallInteger(), server_default="0", nullable=False),
        sa.Column("sending_at", _TS, nullable=True),
        sa.Column("next_attempt_at", _TS, nullable=True),
    ]


def upgrade() -> None:
    with op.batch_alter_table("guild_settings") as batch:
        batch.add_column(
            sa.Column("nudge_weekday", sa.SmallInteger(), server_default="0", nullable=False)
        )
        batch.add_column(
            sa.Column("nudge_hour", sa.SmallInteger(), server_default="18", nullable=False)
        )
        batch.create_check_constraint(
            op.f("ck_guild_settings_nudge_weekday"), "nudge_weekday >= 0 AND nudge_weekday <= 6"
        )
        batch.create_check_constraint(
            op.f("ck_guild_settings_nudge_hour"), "nudge_hour >= 0 AND nudge_hour <= 23"
        )
    with op.batch_alter_table("members") as batch:
        batch.add_column(
            sa.Column("nudge_custom", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch.add_column(
            sa.Column("digest_opt_out", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    with op.batch_alter_table("challenges") as batch:
        batch.add_column(
            sa.Column("metric", sa.String(length=16), server_default="minutes", nullable=False)
        )
        batch.add_column(sa.Column("goal", sa.Integer(), nullable=True))
        batch.add_column(
            sa.Column("timezone", sa.String(length=64), server_default="UTC", nullable=False)
        )
        batch.add_column(sa.Column("completion_role_id", sa.BigInteger(), nullable=True))
        batch.add_column(
            sa.Column("leagues", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch.add_column(
            sa.Column("count_before_join", sa.Boolean(), server_default=sa.true(), nullable=False)
        )
        batch.add_column(
            sa.Column("status", sa.String(length=16), server_default="active", nullable=False)
        )
        batch.add_column(sa.Column("closed_at", _TS, nullable=True))
        batch.create_check_constraint(
            op.f("ck_challenges_metric"), "metric IN ('minutes', 'active_days', 'milestones')"
        )
        batch.create_check_constraint(
            op.f("ck_challenges_status"), "status IN ('active', 'ended', 'cancelled')"
        )
        batch.create_check_constraint(op.f("ck_challenges_goal"), "goal IS NULL OR goal > 0")
    with op.batch_alter_table("challenge_participants") as batch:
        batch.add_column(sa.Column("league", sa.SmallInteger(), nullable=True))
        batch.add_column(sa.Column("role_status", sa.String(length=16), nullable=True))
        batch.add_column(sa.Column("role_updated_at", _TS, nullable=True))
        batch.create_check_constraint(
            op.f("ck_challenge_participants_role"),
            "role_status IS NULL OR role_status IN ('granted', 'failed')",
        )
    for table in _DELIVERY_TABLES:
        with op.batch_alter_table(table) as batch:
            for column in _delivery_columns():
                batch.add_column(column)
    op.create_table(
        "challenge_announcements",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("challenge_id", _ID, nullable=False),
        sa.Column("guild_id", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("channel_id", sa.BigInteger(), nullable=True),
        sa.Column("claimed_at", _TS, nullable=False),
        sa.Column("sent_at", _TS, nullable=True),
        sa.Column("error", sa.String(length=500), nullable=True),
        *_delivery_columns(),
        sa.CheckConstraint(
            "kind IN ('start', 'halfway', 'end')", name=op.f("ck_challenge_announcements_kind")
        ),
        sa.CheckConstraint(
            "status IN ('claimed', 'sent', 'failed', 'skipped')",
            name=op.f("ck_challenge_announcements_status"),
        ),
        sa.ForeignKeyConstraint(
            ["challenge_id"],
            ["challenges.id"],
            name=op.f("fk_challenge_announcements_challenge_id_challenges"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_challenge_announcements")),
        sa.UniqueConstraint(
            "challenge_id", "kind", name=op.f("uq_challenge_announcements_challenge_id_kind")
        ),
    )


def downgrade() -> None:
    op.drop_table("challenge_announcements")
    for table in _DELIVERY_TABLES:
        with op.batch_alter_table(table) as batch:
            for name in ("next_attempt_at", "sending_at", "attempts"):
                batch.drop_column(name)
    with op.batch_alter_table("challenge_participants") as batch:
        batch.drop_constraint(op.f("ck_challenge_participants_role"), type_="check")
        for name in ("role_updated_at", "role_status", "league"):
            batch.drop_column(name)
    with op.batch_alter_table("challenges") as batch:
        for ck in ("ck_challenges_goal", "ck_challenges_status", "ck_challenges_metric"):
            batch.drop_constraint(op.f(ck), type_="check")
        for name in (
            "closed_at",
            "status",
            "count_before_join",
            "leagues",
            "completion_role_id",
            "timezone",
            "goal",
            "metric",
        ):
            batch.drop_column(name)
    with op.batch_alter_table("members") as batch:
        batch.drop_column("digest_opt_out")
        batch.drop_column("nudge_custom")
    with op.batch_alter_table("guild_settings") as batch:
        batch.drop_constraint(op.f("ck_guild_settings_nudge_hour"), type_="check")
        batch.drop_constraint(op.f("ck_guild_settings_nudge_weekday"), type_="check")
        batch.drop_column("nudge_hour")
        batch.drop_column("nudge_weekday")
