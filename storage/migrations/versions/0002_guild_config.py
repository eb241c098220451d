"""Guild configuration for the Discord layer: the ask channel and phase roles.

Revision ID: 0002_guild_config
Revises: 0001_initial
Create Date: 2026-11-22
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

_TS = sa.DateTime(timezone=True)

revision: str = "0002_guild_config"
down_revision: str | None = "0001_initial"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("guild_settings") as batch:
        batch.add_column(sa.Column("ask_channel_id", sa.BigInteger(), nullable=True))
    op.create_table(
        "guild_phase_roles",
        sa.Column("guild_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("phase", sa.SmallInteger(), autoincrement=False, nullable=False),
        sa.Column("role_id", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", _TS, nullable=False),
        sa.CheckConstraint(
            "phase >= 0 AND phase <= 9", name=op.f("ck_guild_phase_roles_phase_range")
        ),
        sa.PrimaryKeyConstraint("guild_id", "phase", name=op.f("pk_guild_phase_roles")),
    )


def downgrade() -> None:
    op.drop_table("guild_phase_roles")
    with op.batch_alter_table("guild_settings") as batch:
        batch.drop_column("ask_channel_id")
