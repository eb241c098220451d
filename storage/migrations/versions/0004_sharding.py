"""Shared state for several bot processes (sharding).

Revision ID: 0004_sharding
Revises: 0003_community
Create Date: 2026-12-02

- bot_state: key/value facts every process shares, e.g. the hash of the application
  commands last synced (was a file in each machine's data directory).
- members.notice_told: the delivery-problem notice the member was last shown (was in one
  process's memory, so another shard process or a restart told them again).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

_TS = sa.DateTime(timezone=True)

revision: str = "0004_sharding"
down_revision: str | None = "0003_community"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "bot_state",
        sa.Column("key", sa.String(100), nullable=False),
        sa.Column("value", sa.String(500), nullable=False),
        sa.Column("updated_at", _TS, nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_bot_state")),
    )
    with op.batch_alter_table("members") as batch:
        batch.add_column(sa.Column("notice_told", sa.String(500), nullable=True))


def downgrade() -> None:
    # ALTER TABLE DROP COLUMN (SQLite >= 3.35), not batch mode: batch mode copies `members`
    # and drops the original, which with foreign keys on cascade-deletes every row that
    # points at a member (deliveries, logs, milestones).
    op.drop_column("members", "notice_told")
    op.drop_table("bot_state")
