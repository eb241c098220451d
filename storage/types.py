"""Column types shared by the models.

SQLite has no timezone-aware timestamp type: SQLAlchemy stores the wall-clock digits and
hands back naive datetimes. `UTCDateTime` normalises every value to UTC on the way in and
re-attaches UTC on the way out, so the rest of the code only ever sees aware UTC datetimes
on both SQLite and PostgreSQL, and string comparison in SQLite stays chronological.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import BigInteger, DateTime, Integer
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

# Discord snowflakes are 64-bit. Surrogate primary keys are BIGINT on PostgreSQL, but on
# SQLite only an INTEGER PRIMARY KEY is an alias of the rowid (and so autoincrements).
SnowflakeId = BigInteger
BigIntPK = BigInteger().with_variant(Integer(), "sqlite")


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp that is always stored and returned as an aware UTC datetime."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value!r} given; storage only accepts aware UTC")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)
