"""Planning weekly nudges: who is due this minute, and when the others are next read.

Pure rules (`plan`) plus the paging loop over the repository (`plan_due`), kept apart from
`bot.services.nudges` (preferences, composing) so the rule the scheduler relies on reads
in one place. The rule, and why `members.next_nudge_at` exists, are described in
`bot.services.nudges`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from bot.services.nudge_text import current_slot, iso_week_of, next_slot
from bot.services.timezones import zone
from storage.repositories.nudges import NextNudge, NudgeCandidate, NudgeRepository, PlanCursor
from storage.sharding import ALL, ShardScope

_MAX_OFFSET = timedelta(hours=14)  # UTC-12 .. UTC+14 covers every IANA zone
# Planning reads due rows a page at a time, and at most PLAN_READ_CAP per call: after a
# guild-wide change puts many members back to "work it out", that work is spread over a
# few minutes instead of one long transaction (each row read is moved on, so it is done
# once).
PLAN_PAGE = 2_000
PLAN_READ_CAP = 20_000


def candidate_weeks(now: datetime) -> tuple[str, ...]:
    """The ISO weeks some timezone is in at `now` (one, or two around Monday 00:00)."""
    labels = {iso_week_of((now - _MAX_OFFSET).date()), iso_week_of((now + _MAX_OFFSET).date())}
    return tuple(sorted(labels))


@lru_cache(maxsize=4096)
def cached_zone(name: str) -> ZoneInfo:
    return zone(name)


@dataclass(frozen=True, slots=True)
class DueNudge:
    guild_id: int
    user_id: int
    iso_week: str
    due_at: datetime
    target: str  # "dm" | "channel"
    channel_id: int | None
    # Where next_nudge_at goes once this nudge is claimed (the following week's slot),
    # compare-and-set on the row as planning read it.
    then: NextNudge | None = field(default=None, compare=False)


@dataclass(frozen=True, slots=True)
class Plan:
    """One planning page: the nudges due now, and members whose next_nudge_at moves on."""

    due: list[DueNudge]
    moves: list[NextNudge]


def plan(candidates: list[NudgeCandidate], now: datetime) -> Plan:
    """Pure: which candidates are due at `now`, and the next_nudge_at of the others.

    A member read but not due is moved to the instant they can next be due: this week's
    slot when it is still ahead; otherwise (served this week, or the nudge cannot be
    delivered: DMs closed and no channel route) the following week's slot. A due member
    keeps their value until the claim moves it (`DueNudge.then`), so a failed claim
    transaction leaves them due.
    """
    slots: dict[tuple[str, int, int], tuple[str, datetime, datetime]] = {}
    due: list[DueNudge] = []
    moves: list[NextNudge] = []
    for c in candidates:
        key = (c.timezone, c.weekday, c.hour)
        slot = slots.get(key)
        if slot is None:
            tz = cached_zone(c.timezone)
            label, instant = current_slot(now, c.weekday, c.hour, tz)
            slot = slots[key] = (label, instant, next_slot(instant, c.weekday, c.hour, tz))
        label, instant, following = slot

        def move(to: datetime, c: NudgeCandidate = c) -> NextNudge:
            return NextNudge(c.guild_id, c.user_id, c.next_at, c.updated_at, to)

        if instant > now:
            moves.append(move(instant))
        elif c.latest_week == label:
            moves.append(move(following))
        elif c.via == "channel" and c.nudge_channel_id is not None:
            due.append(
                DueNudge(
                    c.guild_id,
                    c.user_id,
                    label,
                    instant,
                    "channel",
                    c.nudge_channel_id,
                    move(following),
                )
            )
        elif not c.dm_closed:
            due.append(DueNudge(c.guild_id, c.user_id, label, instant, "dm", None, move(following)))
        else:
            moves.append(move(following))
    return Plan(due, moves)


async def plan_due(
    repo: NudgeRepository, now: datetime, limit: int | None, scope: ShardScope = ALL
) -> list[DueNudge]:
    """The nudges due at `now` in `scope`, oldest slot first; moves on the rows not due.

    Pages through the rows whose next_nudge_at has come (in that order) until `limit`
    nudges are found or PLAN_READ_CAP rows were read; with `limit` None, through all of
    them (tests, benchmarks). Runs inside the caller's write transaction.
    """
    labels = candidate_weeks(now)
    page_size = PLAN_PAGE if limit is None else min(PLAN_PAGE, max(4 * limit, 100))
    due: list[DueNudge] = []
    after: PlanCursor | None = None
    read = 0
    while True:
        page = await repo.candidates(labels, now, scope, after, page_size)
        result = plan(page, now)
        await repo.move_next(result.moves)
        due += result.due
        read += len(page)
        if len(page) < page_size:
            break
        if limit is not None and (len(due) >= limit or read >= PLAN_READ_CAP):
            break
        last = page[-1]
        after = (last.next_at, last.guild_id, last.user_id)
    due.sort(key=lambda d: (d.due_at, d.guild_id, d.user_id))
    return due if limit is None else due[:limit]
