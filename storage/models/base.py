"""The declarative base and what every model module shares.

- `Base` carries a naming convention, so every index and constraint gets a deterministic
  name: the migrations in `storage/migrations/versions` spell the same names, and a test
  compares them with Alembic's autogenerate diff.
- The allowed values of the status-like columns live here as tuples, so the CHECK
  constraints and the code that writes the columns (services, repositories) share one list.
- Members are keyed by the natural pair (guild_id, user_id). Member-owned tables carry the
  same two columns with `member_fk()`, a composite foreign key, so every per-guild query
  filters on columns that are already in the row (no joins for leaderboards), and "forget
  me" is a delete on (guild_id, user_id) in each table (see `member_scoped_tables`).
- Timestamps are `UTCDateTime` (storage.types): aware UTC in Python on both SQLite and
  PostgreSQL.

`member_fk` and `sql_in` are helpers for the model modules of this package only; they are
not re-exported by `storage.models`.
"""

from __future__ import annotations

from sqlalchemy import ForeignKeyConstraint, MetaData
from sqlalchemy.orm import DeclarativeBase

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

_MEMBER_FK = ("guild_id", "user_id")
_MEMBER_REF = ("members.guild_id", "members.user_id")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def member_fk() -> ForeignKeyConstraint:
    """Composite FK to members; cascades so a deleted member leaves no orphans."""
    return ForeignKeyConstraint(_MEMBER_FK, _MEMBER_REF, ondelete="CASCADE")


def sql_in(column: str, values: tuple[str, ...]) -> str:
    """A CHECK constraint's text: `column` holds one of `values`."""
    return f"{column} IN ({', '.join(repr(v) for v in values)})"
