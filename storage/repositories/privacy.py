"""Everything one member has in one guild: export it, or delete it.

Both walk `member_scoped_tables()` (every table with guild_id and user_id) rather than a
hand-kept list, so a table added by a later feature is exported and forgotten too.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Table, delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Member, member_reference_columns, member_scoped_tables


def _json_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def _where_member(table: Table, guild_id: int, user_id: int) -> Any:
    return (table.c.guild_id == guild_id) & (table.c.user_id == user_id)


class PrivacyRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def _rows(self, table: Table, condition: Any) -> list[dict[str, Any]]:
        order = list(table.primary_key.columns)
        result = await self._session.execute(select(table).where(condition).order_by(*order))
        return [{k: _json_value(v) for k, v in row.items()} for row in result.mappings()]

    async def export(self, guild_id: int, user_id: int) -> dict[str, list[dict[str, Any]]]:
        """Rows per table name, JSON-serialisable (timestamps as ISO 8601 strings)."""
        members: Table = Member.__table__  # type: ignore[assignment]
        data = {members.name: await self._rows(members, _where_member(members, guild_id, user_id))}
        for table in member_scoped_tables():
            data[table.name] = await self._rows(table, _where_member(table, guild_id, user_id))
        for table, column in member_reference_columns():
            condition = (table.c.guild_id == guild_id) & (table.c[column] == user_id)
            key = f"{table.name}.{column}"
            data[key] = await self._rows(table, condition)
        return data

    async def forget(self, guild_id: int, user_id: int) -> dict[str, int]:
        """Delete every row of the member in the guild; returns rows affected per table.

        Explicit deletes (children first) rather than relying on ON DELETE CASCADE, so the
        counts are exact and nothing depends on SQLite's foreign_keys pragma being on.
        Columns that only mention the member (e.g. who created a challenge) are nulled.
        """
        counts: dict[str, int] = {}
        for table in reversed(member_scoped_tables()):
            result = await self._session.execute(
                delete(table).where(_where_member(table, guild_id, user_id))
            )
            counts[table.name] = int(result.rowcount)  # type: ignore[attr-defined]
        for table, column in member_reference_columns():
            result = await self._session.execute(
                update(table)
                .where((table.c.guild_id == guild_id) & (table.c[column] == user_id))
                .values({column: None})
            )
            counts[f"{table.name}.{column}"] = int(result.rowcount)  # type: ignore[attr-defined]
        members: Table = Member.__table__  # type: ignore[assignment]
        result = await self._session.execute(
            delete(members).where(_where_member(members, guild_id, user_id))
        )
        counts[members.name] = int(result.rowcount)  # type: ignore[attr-defined]
        return counts
