"""Initial schema: members, study logs, milestones, feedback, and the tables later
features need (challenges, nudge/digest deliveries, FAQ overrides).

Hand-tidied from autogenerate; it must stay equal to storage.models (a test diffs them).
Types are spelled out here rather than imported from the app so this file never changes
when the models evolve.

Revision ID: 0001_initial
Revises:
Create Date: 2026-11-22
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# Surrogate keys: BIGINT on PostgreSQL, INTEGER (the rowid alias) on SQLite.
_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_TS = sa.DateTime(timezone=True)


revision: str = "0001_initial"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "challenges",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("guild_id", sa.BigInteger(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.String(length=2000), nullable=True),
        sa.Column("topic", sa.String(length=100), nullable=True),
        sa.Column("goal_minutes", sa.Integer(), nullable=True),
        sa.Column("milestone_id", sa.String(length=100), nullable=True),
        sa.Column("starts_at", _TS, nullable=False),
        sa.Column("ends_at", _TS, nullable=False),
        sa.Column("created_by", sa.BigInteger(), nullable=True),
        sa.Column("created_at", _TS, nullable=False),
        sa.CheckConstraint("ends_at > starts_at", name=op.f("ck_challenges_window")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_challenges")),
    )
    op.create_index(
        op.f("ix_challenges_guild_id_ends_at"), "challenges", ["guild_id", "ends_at"], unique=False
    )

    op.create_table(
        "digest_deliveries",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("guild_id", sa.BigInteger(), nullable=False),
        sa.Column("iso_week", sa.String(length=8), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("channel_id", sa.BigInteger(), nullable=True),
        sa.Column("claimed_at", _TS, nullable=False),
        sa.Column("sent_at", _TS, nullable=True),
        sa.Column("error", sa.String(length=500), nullable=True),
        sa.CheckConstraint(
            "status IN ('claimed', 'sent', 'failed', 'skipped')",
            name=op.f("ck_digest_deliveries_status"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_digest_deliveries")),
        sa.UniqueConstraint(
            "guild_id", "iso_week", name=op.f("uq_digest_deliveries_guild_id_iso_week")
        ),
    )
    op.create_table(
        "guild_faq_overrides",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("guild_id", sa.BigInteger(), nullable=False),
        sa.Column("question_key", sa.String(length=300), nullable=False),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("answer", sa.Text(), nullable=False),
        sa.Column("created_by", sa.BigInteger(), nullable=True),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("updated_at", _TS, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_guild_faq_overrides")),
        sa.UniqueConstraint(
            "guild_id", "question_key", name=op.f("uq_guild_faq_overrides_guild_id_question_key")
        ),
    )
    op.create_table(
        "guild_settings",
        sa.Column("guild_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("digest_channel_id", sa.BigInteger(), nullable=True),
        sa.Column("nudge_channel_id", sa.BigInteger(), nullable=True),
        sa.Column("challenge_channel_id", sa.BigInteger(), nullable=True),
        sa.Column("admin_role_id", sa.BigInteger(), nullable=True),
        sa.Column("leaderboard_enabled", sa.Boolean(), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("updated_at", _TS, nullable=False),
        sa.PrimaryKeyConstraint("guild_id", name=op.f("pk_guild_settings")),
    )
    op.create_table(
        "members",
        sa.Column("guild_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("user_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("phase", sa.SmallInteger(), nullable=True),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("nudge_enabled", sa.Boolean(), nullable=False),
        sa.Column("nudge_weekday", sa.SmallInteger(), nullable=False),
        sa.Column("nudge_hour", sa.SmallInteger(), nullable=False),
        sa.Column("nudge_via", sa.String(length=16), nullable=False),
        sa.Column("dm_closed", sa.Boolean(), nullable=False),
        sa.Column("total_minutes", sa.Integer(), server_default="0", nullable=False),
        sa.Column("total_sessions", sa.Integer(), server_default="0", nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("updated_at", _TS, nullable=False),
        sa.CheckConstraint("nudge_via IN ('dm', 'channel')", name=op.f("ck_members_nudge_via")),
        sa.CheckConstraint(
            "total_minutes >= 0 AND total_sessions >= 0", name=op.f("ck_members_totals")
        ),
        sa.CheckConstraint(
            "nudge_hour >= 0 AND nudge_hour <= 23", name=op.f("ck_members_nudge_hour")
        ),
        sa.CheckConstraint(
            "nudge_weekday >= 0 AND nudge_weekday <= 6", name=op.f("ck_members_nudge_weekday")
        ),
        sa.CheckConstraint(
            "phase IS NULL OR (phase >= 0 AND phase <= 9)", name=op.f("ck_members_phase_range")
        ),
        sa.PrimaryKeyConstraint("guild_id", "user_id", name=op.f("pk_members")),
    )
    op.create_table(
        "answer_feedback",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("guild_id", sa.BigInteger(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("cited_section", sa.String(length=300), nullable=True),
        sa.Column("helpful", sa.Boolean(), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.ForeignKeyConstraint(
            ["guild_id", "user_id"],
            ["members.guild_id", "members.user_id"],
            name=op.f("fk_answer_feedback_guild_id_user_id_members"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_answer_feedback")),
    )
    op.create_index(
        op.f("ix_answer_feedback_guild_id_created_at"),
        "answer_feedback",
        ["guild_id", "created_at"],
        unique=False,
    )

    op.create_table(
        "challenge_participants",
        sa.Column("challenge_id", _ID, nullable=False),
        sa.Column("user_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("guild_id", sa.BigInteger(), nullable=False),
        sa.Column("joined_at", _TS, nullable=False),
        sa.Column("completed_at", _TS, nullable=True),
        sa.ForeignKeyConstraint(
            ["challenge_id"],
            ["challenges.id"],
            name=op.f("fk_challenge_participants_challenge_id_challenges"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["guild_id", "user_id"],
            ["members.guild_id", "members.user_id"],
            name=op.f("fk_challenge_participants_guild_id_user_id_members"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("challenge_id", "user_id", name=op.f("pk_challenge_participants")),
    )
    op.create_index(
        op.f("ix_challenge_participants_guild_id_user_id"),
        "challenge_participants",
        ["guild_id", "user_id"],
        unique=False,
    )

    op.create_table(
        "milestone_status",
        sa.Column("guild_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("user_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("milestone_id", sa.String(length=100), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("started_at", _TS, nullable=True),
        sa.Column("completed_at", _TS, nullable=True),
        sa.Column("updated_at", _TS, nullable=False),
        sa.CheckConstraint(
            "status IN ('learning', 'done', 'skipped')", name=op.f("ck_milestone_status_status")
        ),
        sa.ForeignKeyConstraint(
            ["guild_id", "user_id"],
            ["members.guild_id", "members.user_id"],
            name=op.f("fk_milestone_status_guild_id_user_id_members"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "guild_id", "user_id", "milestone_id", name=op.f("pk_milestone_status")
        ),
    )
    op.create_table(
        "nudge_deliveries",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("guild_id", sa.BigInteger(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("iso_week", sa.String(length=8), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("via", sa.String(length=16), nullable=True),
        sa.Column("claimed_at", _TS, nullable=False),
        sa.Column("sent_at", _TS, nullable=True),
        sa.Column("error", sa.String(length=500), nullable=True),
        sa.CheckConstraint(
            "status IN ('claimed', 'sent', 'failed', 'skipped')",
            name=op.f("ck_nudge_deliveries_status"),
        ),
        sa.ForeignKeyConstraint(
            ["guild_id", "user_id"],
            ["members.guild_id", "members.user_id"],
            name=op.f("fk_nudge_deliveries_guild_id_user_id_members"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_nudge_deliveries")),
        sa.UniqueConstraint(
            "guild_id",
            "user_id",
            "iso_week",
            name=op.f("uq_nudge_deliveries_guild_id_user_id_iso_week"),
        ),
    )
    op.create_index(
        op.f("ix_nudge_deliveries_status_claimed_at"),
        "nudge_deliveries",
        ["status", "claimed_at"],
        unique=False,
    )

    op.create_table(
        "study_logs",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("guild_id", sa.BigInteger(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("minutes", sa.Integer(), nullable=False),
        sa.Column("topic", sa.String(length=100), nullable=False),
        sa.Column("note", sa.String(length=1000), nullable=True),
        sa.Column("link", sa.String(length=2048), nullable=True),
        sa.Column("phase", sa.SmallInteger(), nullable=True),
        sa.Column("logged_at", _TS, nullable=False),
        sa.CheckConstraint(
            "minutes >= 1 AND minutes <= 1440", name=op.f("ck_study_logs_minutes_range")
        ),
        sa.ForeignKeyConstraint(
            ["guild_id", "user_id"],
            ["members.guild_id", "members.user_id"],
            name=op.f("fk_study_logs_guild_id_user_id_members"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_study_logs")),
    )
    op.create_index(
        op.f("ix_study_logs_guild_id_logged_at_user_id_minutes"),
        "study_logs",
        ["guild_id", "logged_at", "user_id", "minutes"],
        unique=False,
    )
    op.create_index(
        op.f("ix_study_logs_user_id_guild_id_logged_at_minutes"),
        "study_logs",
        ["user_id", "guild_id", "logged_at", "minutes"],
        unique=False,
    )

    op.create_table(
        "unanswered_questions",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("guild_id", sa.BigInteger(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("question_key", sa.String(length=300), nullable=False),
        sa.Column("best_score", sa.Float(), nullable=True),
        sa.Column("created_at", _TS, nullable=False),
        sa.ForeignKeyConstraint(
            ["guild_id", "user_id"],
            ["members.guild_id", "members.user_id"],
            name=op.f("fk_unanswered_questions_guild_id_user_id_members"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_unanswered_questions")),
    )
    op.create_index(
        op.f("ix_unanswered_questions_guild_id_question_key"),
        "unanswered_questions",
        ["guild_id", "question_key"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(
        op.f("ix_unanswered_questions_guild_id_question_key"), table_name="unanswered_questions"
    )

    op.drop_table("unanswered_questions")
    op.drop_index(op.f("ix_study_logs_user_id_guild_id_logged_at_minutes"), table_name="study_logs")
    op.drop_index(op.f("ix_study_logs_guild_id_logged_at_user_id_minutes"), table_name="study_logs")

    op.drop_table("study_logs")
    op.drop_index(op.f("ix_nudge_deliveries_status_claimed_at"), table_name="nudge_deliveries")

    op.drop_table("nudge_deliveries")
    op.drop_table("milestone_status")
    op.drop_index(
        op.f("ix_challenge_participants_guild_id_user_id"), table_name="challenge_participants"
    )

    op.drop_table("challenge_participants")
    op.drop_index(op.f("ix_answer_feedback_guild_id_created_at"), table_name="answer_feedback")

    op.drop_table("answer_feedback")
    op.drop_table("members")
    op.drop_table("guild_settings")
    op.drop_table("guild_faq_overrides")
    op.drop_table("digest_deliveries")
    op.drop_index(op.f("ix_challenges_guild_id_ends_at"), table_name="challenges")

    op.drop_table("challenges")
