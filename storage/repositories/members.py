"""Members: created on first touch, race-free on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, func, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import NUDGE_RECHECK, Member, StudyLog
from storage.repositories._dialect import insert_for

MemberKey = tuple[int, int]  # (guild_id, user_id)
# Member columns a weekly nudge's timing or route depends on. Changing any of them sends
# the member back to the planner (next_nudge_at = NUDGE_RECHECK), which works out the new
# slot on its next pass; see bot.services.nudges.
NUDGE_INPUTS = frozenset(
    {
        "nudge_enabled",
        "nudge_weekday",
        "nudge_hour",
        "nudge_custom",
        "nudge_via",
        "dm_closed",
        "timezone",
    }
)


def _new_member(guild_id: int, user_id: int, now: datetime) -> dict[str, Any]:
    return {
        "guild_id": guild_id,
        "user_id": user_id,
        "timezone": "UTC",
        "nudge_enabled": False,
        "nudge_weekday": 0,
        "nudge_hour": 18,
        "nudge_via": "dm",
        "dm_closed": False,
        "total_minutes": 0,
        "total_sessions": 0,
        "created_at": now,
        "updated_at": now,
    }


class MemberRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def get_or_create(self, guild_id: int, user_id: int, now: datetime) -> Member:
        """Return the member, inserting it first if needed.

        The common case (member exists) is one SELECT. Otherwise INSERT ... ON CONFLICT
        DO NOTHING then SELECT: two concurrent first touches both succeed and see the
        same row, instead of one failing on the primary key.
        """
        members = await self.get_or_create_many([(guild_id, user_id)], now)
        return members[(guild_id, user_id)]

    async def get_or_create_many(
        self, keys: Iterable[MemberKey], now: datetime
    ) -> dict[MemberKey, Member]:
        """`get_or_create` for several members in at most three statements."""
        wanted = list(dict.fromkeys(keys))
        found = await self._get_many(wanted)
        missing = [key for key in wanted if key not in found]
        if missing:
            stmt = insert_for(self._session, Member).on_conflict_do_nothing(
                index_elements=["guild_id", "user_id"]
            )
            await self._session.execute(stmt, [_new_member(g, u, now) for g, u in missing])
            found.update(await self._get_many(missing))
        if len(found) != len(wanted):  # pragma: no cover - impossible after the insert
            raise RuntimeError("member rows vanished right after get-or-create")
        return found

    async def _get_many(self, keys: list[MemberKey]) -> dict[MemberKey, Member]:
        if len(keys) == 1:
            (guild_id, user_id), *_ = keys
            condition = (Member.guild_id == guild_id) & (Member.user_id == user_id)
        else:
            condition = tuple_(Member.guild_id, Member.user_id).in_(keys)
        result = await self._session.execute(
            select(Member).where(condition).execution_options(populate_existing=True)
        )
        return {(m.guild_id, m.user_id): m for m in result.scalars()}

    async def get(self, guild_id: int, user_id: int) -> Member | None:
        """Always re-read (populate_existing): `update()` bypasses the identity map."""
        return (await self._get_many([(guild_id, user_id)])).get((guild_id, user_id))

    async def add_to_totals(self, deltas: Mapping[MemberKey, tuple[int, int]]) -> None:
        """Add (minutes, sessions) to each member's all-time totals (negative to undo).

        `total = total + delta` is atomic per row on both databases, so concurrent
        transactions never lose an update.
        """
        if not deltas:
            return
        # A Core (table-level) UPDATE so a list of parameters runs as one executemany.
        members = Member.__table__.c
        stmt = (
            update(Member.__table__)
            .where(members.guild_id == bindparam("g"), members.user_id == bindparam("u"))
            .values(
                total_minutes=members.total_minutes + bindparam("m"),
                total_sessions=members.total_sessions + bindparam("n"),
            )
        )
        params = [{"g": g, "u": u, "m": m, "n": n} for (g, u), (m, n) in deltas.items()]
        await self._session.execute(stmt, params)

    async def recompute_totals(self, guild_id: int | None = None) -> None:
        """Rebuild the running totals from study_logs (after bulk imports or repairs)."""
        members = Member.__table__.c
        logs = StudyLog.__table__.c
        own = (logs.guild_id == members.guild_id) & (logs.user_id == members.user_id)
        stmt = update(Member.__table__).values(
            total_minutes=select(func.coalesce(func.sum(logs.minutes), 0))
            .where(own)
            .scalar_subquery(),
            total_sessions=select(func.count()).where(own).scalar_subquery(),
        )
        if guild_id is not None:
            stmt = stmt.where(members.guild_id == guild_id)
        await self._session.execute(stmt)

    async def update(self, guild_id: int, user_id: int, now: datetime, **values: Any) -> None:
        """Set columns on an existing member (callers get-or-create first).

        A change to a nudge input also resets next_nudge_at, here rather than in each
        caller, so no settings path (console, /settings, /nudges, a future one) can leave a
        member waiting on a slot computed from their old settings.
        """
        if NUDGE_INPUTS.intersection(values):
            values = {"next_nudge_at": NUDGE_RECHECK, **values}
        await self._session.execute(
            update(Member)
            .where(Member.guild_id == guild_id, Member.user_id == user_id)
            .values(updated_at=now, **values)
            .execution_options(synchronize_session=False)
        )
