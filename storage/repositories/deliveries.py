"""The claim -> send -> mark ledger shared by nudges, digests and challenge announcements.

Each delivery is one row under a UNIQUE business key (member + ISO week, guild + ISO week,
challenge + kind). The row's columns encode where a delivery stands:

    status='claimed', sending_at NULL       claimed, no send started: safe to (re)send
    status='claimed', sending_at set        a send is in flight (or its process died)
    status='claimed', next_attempt_at set   the last send was refused (429 / transient
                                            error, so not delivered); retry at that time
    status='sent' | 'failed' | 'skipped'    final

`sending_at` is committed *before* the sender is called, so after a crash the code can
tell "never tried" (re-send, no skip) from "may have gone out" (not re-sent: at-most-once,
recorded as 'skipped' with the reason). See `bot.services.delivery` for the whole protocol.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Table, and_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import ChallengeAnnouncement, DigestDelivery, NudgeDelivery
from storage.repositories._dialect import insert_for
from storage.sharding import ALL, ShardScope

NUDGES: Table = NudgeDelivery.__table__  # type: ignore[assignment]
DIGESTS: Table = DigestDelivery.__table__  # type: ignore[assignment]
ANNOUNCEMENTS: Table = ChallengeAnnouncement.__table__  # type: ignore[assignment]

CLAIM_CHUNK = 1_000  # rows per INSERT
_KEYS: dict[str, tuple[str, ...]] = {
    NUDGES.name: ("guild_id", "user_id", "iso_week"),
    DIGESTS.name: ("guild_id", "iso_week"),
    ANNOUNCEMENTS.name: ("challenge_id", "kind"),
}


@dataclass(frozen=True, slots=True)
class PendingRow:
    """A claimed row that needs attention again (stale claim or a due retry)."""

    id: int
    key: tuple[Any, ...]
    claimed_at: datetime
    sending: bool  # True: a send was started and never recorded (outcome unknown)
    attempts: int


class DeliveryLedger:
    """Row-level operations on one delivery table; never commits (services do)."""

    def __init__(self, session: AsyncSession, table: Table) -> None:
        self._session = session
        self._table = table
        self._keys = _KEYS[table.name]

    async def existing_keys(self, where: Any) -> set[tuple[Any, ...]]:
        """Business keys of rows matching `where` (any status): those are never re-claimed."""
        cols = [self._table.c[k] for k in self._keys]
        rows = (await self._session.execute(select(*cols).where(where))).all()
        return {tuple(r) for r in rows}

    async def claim(
        self, rows: Sequence[Mapping[str, Any]], now: datetime
    ) -> dict[tuple[Any, ...], int]:
        """Insert claims; returns {key: id} for the rows *this* call inserted.

        INSERT ... ON CONFLICT DO NOTHING on the unique key is the idempotency point: a
        row another scheduler (or an earlier run) already holds is silently not ours.
        """
        if not rows:
            return {}
        values = [{**r, "status": "claimed", "claimed_at": now, "attempts": 0} for r in rows]
        cols = [self._table.c[k] for k in self._keys]
        claimed: dict[tuple[Any, ...], int] = {}
        # Chunked: asyncpg allows at most 32,767 bind parameters in one statement.
        for start in range(0, len(values), CLAIM_CHUNK):
            stmt = (
                insert_for(self._session, self._table)
                .values(values[start : start + CLAIM_CHUNK])
                .on_conflict_do_nothing(index_elements=list(self._keys))
                .returning(self._table.c.id, *cols)
            )
            result = await self._session.execute(stmt)
            claimed.update({tuple(r[1:]): int(r[0]) for r in result.all()})
        return claimed

    async def skip(self, rows: Sequence[Mapping[str, Any]], now: datetime, reason: str) -> None:
        """Record deliveries that will deliberately never be sent (e.g. superseded)."""
        if not rows:
            return
        values = [
            {**r, "status": "skipped", "claimed_at": now, "attempts": 0, "error": reason[:500]}
            for r in rows
        ]
        await self._session.execute(
            insert_for(self._session, self._table)
            .values(values)
            .on_conflict_do_nothing(index_elements=list(self._keys))
        )

    async def pending(
        self,
        now: datetime,
        stale_before: datetime,
        limit: int,
        scope: ShardScope = ALL,
        *,
        lock: bool = False,
    ) -> list[PendingRow]:
        """Claimed rows to re-examine: stale claims, stale sends, and retries now due.

        Only rows of `scope`'s guilds. `lock=True` (inside a write transaction) takes the
        rows with `FOR UPDATE SKIP LOCKED` on PostgreSQL: a second scheduler looking at the
        same rows (two processes given one shard range by mistake, or during a reshard)
        skips the ones this transaction holds instead of waiting for it. SQLite has no
        row locks and ignores the clause; its write transaction already excludes others.
        """
        t = self._table
        claimed = t.c.status == "claimed"
        idle = t.c.sending_at.is_(None)
        due = or_(
            and_(idle, t.c.next_attempt_at.is_(None), t.c.claimed_at < stale_before),
            and_(idle, t.c.next_attempt_at <= now),
            and_(t.c.sending_at.is_not(None), t.c.sending_at < stale_before),
        )
        cols = [t.c[k] for k in self._keys]
        stmt = (
            select(t.c.id, t.c.claimed_at, t.c.sending_at, t.c.attempts, *cols)
            .where(claimed, due, scope.where(t.c.guild_id))
            .order_by(t.c.claimed_at, t.c.id)
            .limit(limit)
        )
        if lock:
            stmt = stmt.with_for_update(skip_locked=True)
        return [
            PendingRow(int(r[0]), tuple(r[4:]), r[1], r[2] is not None, int(r[3]))
            for r in (await self._session.execute(stmt)).all()
        ]

    async def reclaim(self, row_id: int, expected_claimed_at: datetime, now: datetime) -> bool:
        """Take over an idle claimed row; optimistic on claimed_at so only one taker wins."""
        t = self._table
        result = await self._session.execute(
            update(t)
            .where(
                t.c.id == row_id,
                t.c.status == "claimed",
                t.c.sending_at.is_(None),
                t.c.claimed_at == expected_claimed_at,
            )
            .values(claimed_at=now, next_attempt_at=None)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def start_sending(self, row_id: int, claimed_at: datetime, now: datetime) -> bool:
        """Record the send intent (committed before calling the sender); False if lost."""
        t = self._table
        result = await self._session.execute(
            update(t)
            .where(
                t.c.id == row_id,
                t.c.status == "claimed",
                t.c.sending_at.is_(None),
                t.c.claimed_at == claimed_at,
            )
            .values(sending_at=now, attempts=t.c.attempts + 1, next_attempt_at=None)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def finish(
        self, row_id: int, status: str, now: datetime, error: str | None = None, **extra: Any
    ) -> None:
        """Final state: 'sent' (stamps sent_at), 'failed' or 'skipped' (with the reason)."""
        values: dict[str, Any] = {"status": status, "sending_at": None, "error": error, **extra}
        if status == "sent":
            values["sent_at"] = now
        if error is not None:
            values["error"] = error[:500]
        await self._session.execute(
            update(self._table).where(self._table.c.id == row_id).values(**values)
        )

    async def retry_at(self, row_id: int, when: datetime, error: str, count: bool = False) -> None:
        """Not delivered (refused, or never sent): keep the claim, try again at `when`.

        `count` adds an attempt when no send was started (e.g. composing failed), so a
        delivery that can never be built still ends as 'failed' after max attempts.
        """
        t = self._table
        values: dict[str, Any] = {"sending_at": None, "next_attempt_at": when, "error": error[:500]}
        if count:
            values["attempts"] = t.c.attempts + 1
        await self._session.execute(update(t).where(t.c.id == row_id).values(**values))
