"""`run_due_work(now)`: the Discord-free heart of the weekly jobs, called every minute.

Every call reads what is due from the database (no in-memory timers), so a restart, a
second process or a missed minute changes nothing: whatever is due and unclaimed is
picked up on the next call. Order of work per call: re-examine stale or retry-due claims,
then new nudges (oldest slot first, at most what pacing lets through in one call), digests,
challenge announcements, completion roles. The claim -> intent -> send -> mark protocol
and its at-most-once window are documented in `bot.services.delivery`.

With several bot processes, each scheduler is given the `ShardScope` its process holds
and plans only those guilds' work (the filter is in the SQL). Ownership is an
optimisation, not the guard: the claim keys still make a delivery happen at most once
when two processes disagree about a guild (reshard, a shard range given twice).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Table
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.services.base import Service
from bot.services.clock import Clock, as_utc, utc_now
from bot.services.community_work import CommunityWork
from bot.services.delivery import (
    OutgoingMessage,
    Pacer,
    Pacing,
    Sender,
    SendOutcome,
    Sleep,
    send_with_retries,
)
from bot.services.nudges import NudgeService
from knowledge.content import Guide
from storage.models import GuildSettings
from storage.repositories.deliveries import ANNOUNCEMENTS, DIGESTS, NUDGES, DeliveryLedger
from storage.repositories.nudges import NudgeRepository
from storage.sharding import ALL, ShardScope

log = logging.getLogger(__name__)
UNKNOWN_OUTCOME = "outcome unknown: interrupted while sending; not resent (at-most-once)"
# Test hook: awaited after each committed step ("claimed", "sending", "sent").
StepHook = Callable[[str, tuple[Any, ...]], Awaitable[None]]


@dataclass
class WorkReport:
    sent: int = 0
    failed: int = 0
    skipped: int = 0
    retry_later: int = 0
    roles_granted: int = 0
    by_kind: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class _Job:
    table: Table
    row_id: int
    key: tuple[Any, ...]
    claimed_at: datetime
    attempts: int
    message: OutgoingMessage


class CommunityScheduler(Service):
    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        guide: Guide,
        sender: Sender,
        clock: Clock = utc_now,
        *,
        pacing: Pacing | None = None,
        stale_after: timedelta = timedelta(minutes=10),
        per_run: int | None = None,
        sleep: Sleep = asyncio.sleep,
        monotonic: Callable[[], float] = time.monotonic,
        on_step: StepHook | None = None,
        scope: ShardScope = ALL,
    ) -> None:
        super().__init__(sessionmaker, guide, clock)
        self._sender = sender
        self._pacing = pacing or Pacing()
        self._pacer = Pacer(self._pacing, sleep=sleep, monotonic=monotonic)
        self._sleep = sleep
        self._stale_after = stale_after
        # Default: what pacing lets through in ~50 s, so one call fits in its minute.
        rate = self._pacing.messages / self._pacing.seconds
        self._per_run = per_run or max(1, int(rate * 50))
        self._nudges = NudgeService(sessionmaker, guide, clock)
        self._work = CommunityWork(sessionmaker, guide, clock)
        self._on_step = on_step
        self.scope = scope

    async def _step(self, name: str, key: tuple[Any, ...]) -> None:
        if self._on_step is not None:
            await self._on_step(name, key)

    async def run_due_work(self, now: datetime | None = None) -> WorkReport:
        at = as_utc(now) if now is not None else self._now()
        report = WorkReport()
        budget = self._per_run
        for table in (NUDGES, DIGESTS, ANNOUNCEMENTS):
            budget -= await self._pending(table, at, report, budget)
        if budget > 0:
            budget -= await self._new_nudges(at, report, budget)
        if budget > 0:
            budget -= await self._new_digests(at, report, budget)
        if budget > 0:
            await self._new_announcements(at, report, budget)
        await self._roles(at, report)
        return report

    # -- claims --------------------------------------------------------------------------

    async def _claim(
        self, table: Table, rows: list[dict[str, Any]], now: datetime
    ) -> dict[tuple[Any, ...], int]:
        async with self._write() as session:
            return await DeliveryLedger(session, table).claim(rows, now)

    async def _new_nudges(self, now: datetime, report: WorkReport, budget: int) -> int:
        due = await self._nudges.due(now, budget, self.scope)
        rows = [
            {"guild_id": d.guild_id, "user_id": d.user_id, "iso_week": d.iso_week, "via": d.target}
            for d in due
        ]
        # The claim and the move of each member's next_nudge_at to next week's slot are
        # one transaction: a claimed member leaves the due range at once. A member whose
        # claim another process holds is moved too (the claim row exists either way).
        async with self._write() as session:
            claimed = await DeliveryLedger(session, NUDGES).claim(rows, now)
            await NudgeRepository(session).move_next([d.then for d in due if d.then])
        count = 0
        for d in due:
            row_id = claimed.get((d.guild_id, d.user_id, d.iso_week))
            if row_id is None:
                continue  # someone else holds it
            key = (d.guild_id, d.user_id, d.iso_week)
            await self._step("claimed", key)
            await self._build_and_deliver(NUDGES, row_id, key, now, 0, report)
            count += 1
        return count

    async def _new_digests(self, now: datetime, report: WorkReport, budget: int) -> int:
        due = (await self._work.due_digests(now, self.scope))[:budget]
        rows = [
            {"guild_id": d.guild_id, "iso_week": d.iso_week, "channel_id": d.channel_id}
            for d in due
        ]
        claimed = await self._claim(DIGESTS, rows, now)
        for d in due:
            row_id = claimed.get((d.guild_id, d.iso_week))
            if row_id is None:
                continue
            await self._step("claimed", (d.guild_id, d.iso_week))
            await self._build_and_deliver(DIGESTS, row_id, (d.guild_id, d.iso_week), now, 0, report)
        return len(claimed)

    async def _new_announcements(self, now: datetime, report: WorkReport, budget: int) -> None:
        due, superseded = await self._work.due_announcements(now, self.scope)
        due = due[:budget]
        async with self._write() as session:
            ledger = DeliveryLedger(session, ANNOUNCEMENTS)
            await ledger.skip(superseded, now, "superseded by a later announcement")
            rows = [
                {
                    "challenge_id": d.challenge_id,
                    "guild_id": d.guild_id,
                    "kind": d.kind,
                    "channel_id": d.channel_id,
                }
                for d in due
            ]
            claimed = await ledger.claim(rows, now)
        report.skipped += len(superseded)
        for d in due:
            row_id = claimed.get((d.challenge_id, d.kind))
            if row_id is None:
                continue
            await self._step("claimed", (d.challenge_id, d.kind))
            await self._build_and_deliver(
                ANNOUNCEMENTS, row_id, (d.challenge_id, d.kind), now, 0, report
            )

    # -- re-examination -------------------------------------------------------------------

    async def _pending(self, table: Table, now: datetime, report: WorkReport, budget: int) -> int:
        """Settle or take over stale claims and due retries, one locked batch at a time.

        The batch is read and settled in one write transaction with `FOR UPDATE SKIP
        LOCKED` (PostgreSQL), so a second scheduler on the same guilds takes other rows
        instead of waiting; the optimistic `reclaim` stays as the guard.
        """
        if budget <= 0:
            return 0
        retake: list[Any] = []
        async with self._write() as session:
            ledger = DeliveryLedger(session, table)
            rows = await ledger.pending(now, now - self._stale_after, budget, self.scope, lock=True)
            for row in rows:
                if row.sending:
                    log.warning("%s %s: %s", table.name, row.key, UNKNOWN_OUTCOME)
                    await ledger.finish(row.id, "skipped", now, UNKNOWN_OUTCOME)
                    report.skipped += 1
                elif row.attempts >= self._pacing.max_attempts:
                    reason = f"gave up after {row.attempts} attempts"
                    await ledger.finish(row.id, "failed", now, reason)
                    report.failed += 1
                elif table is NUDGES and not await self._nudges.enabled_in(session, *row.key[:2]):
                    reason = "nudges turned off before the retry"
                    await ledger.finish(row.id, "skipped", now, reason)
                    report.skipped += 1
                elif await ledger.reclaim(row.id, row.claimed_at, now):
                    retake.append(row)
        for row in retake:
            await self._build_and_deliver(table, row.id, row.key, now, row.attempts, report)
        return len(retake)

    async def _build_and_deliver(
        self,
        table: Table,
        row_id: int,
        key: tuple[Any, ...],
        now: datetime,
        attempts: int,
        report: WorkReport,
    ) -> None:
        """Compose the message for a claimed row, then deliver it.

        A composition bug must not block everyone else or loop forever: it counts as an
        attempt, is logged, and is retried later until `max_attempts`.
        """
        try:
            message = await self._rebuild(table, key, row_id, now)
        except Exception as exc:
            log.exception("could not compose %s %s", table.name, key)
            async with self._write() as session:
                ledger = DeliveryLedger(session, table)
                if attempts + 1 >= self._pacing.max_attempts:
                    await ledger.finish(row_id, "failed", now, f"could not compose: {exc!r}")
                    report.failed += 1
                else:
                    await ledger.retry_at(
                        row_id, now + self._stale_after, f"could not compose: {exc!r}", count=True
                    )
                    report.retry_later += 1
            return
        await self._deliver(_Job(table, row_id, key, now, attempts, message), report)

    async def _rebuild(
        self, table: Table, key: tuple[Any, ...], row_id: int, now: datetime
    ) -> OutgoingMessage:
        async with self._read() as session:
            row = (
                (await session.execute(table.select().where(table.c.id == row_id))).mappings().one()
            )
        if table is NUDGES:
            guild_id, user_id, week = key
            # Scheduled nudges are only ever delivered on Discord.
            text = (await self._nudges.compose(guild_id, user_id, now, front_end="discord")).text
            channel = None
            if row["via"] == "channel":
                async with self._read() as session:
                    settings = await session.get(GuildSettings, guild_id)
                    channel = settings.nudge_channel_id if settings else None
            target = "channel" if channel is not None else "dm"
            return OutgoingMessage(
                "nudge",
                guild_id,
                target,
                text,
                f"nudge:{guild_id}:{user_id}:{week}",
                user_id,
                channel,
            )
        if table is DIGESTS:
            guild_id, week = key
            text = await self._work.digest_text(guild_id, now)
            return OutgoingMessage(
                "digest",
                guild_id,
                "channel",
                text,
                f"digest:{guild_id}:{week}",
                None,
                row["channel_id"],
            )
        challenge_id, kind = key
        text = await self._work.announcement_text(challenge_id, row["guild_id"], kind)
        return OutgoingMessage(
            "announcement",
            row["guild_id"],
            "channel",
            text,
            f"challenge:{challenge_id}:{kind}",
            None,
            row["channel_id"],
        )

    # -- one delivery ---------------------------------------------------------------------

    async def _deliver(self, job: _Job, report: WorkReport) -> None:
        async with self._write() as session:
            started = await DeliveryLedger(session, job.table).start_sending(
                job.row_id, job.claimed_at, self._now()
            )
        if not started:
            return
        await self._step("sending", job.key)
        outcome = await send_with_retries(
            self._sender, job.message, self._pacer, self._pacing, self._sleep
        )
        await self._step("sent" if outcome.kind == "sent" else outcome.kind, job.key)
        await self._record(job, outcome, report)

    async def _record(self, job: _Job, outcome: SendOutcome, report: WorkReport) -> None:
        now = self._now()
        async with self._write() as session:
            ledger = DeliveryLedger(session, job.table)
            if outcome.kind == "sent":
                await ledger.finish(job.row_id, "sent", now)
                report.sent += 1
                report.by_kind[job.message.kind] = report.by_kind.get(job.message.kind, 0) + 1
            elif outcome.kind == "unknown":
                await ledger.finish(
                    job.row_id, "skipped", now, f"{UNKNOWN_OUTCOME} ({outcome.detail})"
                )
                report.skipped += 1
            elif outcome.kind == "forbidden":
                await ledger.finish(job.row_id, "failed", now, f"forbidden: {outcome.detail}")
                if (
                    job.message.kind == "nudge"
                    and job.message.target == "dm"
                    and job.message.user_id
                ):
                    await NudgeRepository(session).mark_dm_closed(
                        job.message.guild_id, job.message.user_id, now
                    )
                report.failed += 1
            elif job.attempts + 1 >= self._pacing.max_attempts:
                await ledger.finish(job.row_id, "failed", now, f"{outcome.kind}: {outcome.detail}")
                report.failed += 1
            else:
                wait = (
                    outcome.retry_after
                    if outcome.kind == "rate_limited"
                    else 60.0 * 2**job.attempts
                )
                await ledger.retry_at(
                    job.row_id,
                    now + timedelta(seconds=max(wait, 1.0)),
                    f"{outcome.kind}: {outcome.detail}",
                )
                report.retry_later += 1

    async def _roles(self, now: datetime, report: WorkReport) -> None:
        for grant in await self._work.role_grants(now, self.scope):
            outcome = await self._sender.grant_role(grant.guild_id, grant.user_id, grant.role_id)
            if outcome.kind == "sent":
                await self._work.record_role(grant, "granted")
                report.roles_granted += 1
            elif outcome.kind == "forbidden":
                await self._work.record_role(grant, "failed")
                report.failed += 1
            # rate-limited / transient: still pending, retried next call (granting is idempotent)
