"""Queries behind weekly nudges and the server digest (planning reads, aggregates)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import (
    BigInteger,
    and_,
    bindparam,
    false,
    func,
    literal,
    or_,
    select,
    true,
    tuple_,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import (
    NUDGE_RECHECK,
    DigestDelivery,
    GuildSettings,
    Member,
    NudgeDelivery,
    StudyLog,
)
from storage.sharding import ALL, ShardScope
from storage.types import UTCDateTime


@dataclass(frozen=True, slots=True)
class NudgeCandidate:
    guild_id: int
    user_id: int
    timezone: str
    weekday: int  # effective: the member's own slot, or the guild default
    hour: int
    via: str
    dm_closed: bool
    nudge_channel_id: int | None
    latest_week: str | None  # newest delivery week among the candidate labels
    next_at: datetime  # members.next_nudge_at as read (the planner's compare-and-set)
    updated_at: datetime  # members.updated_at as read (likewise)


@dataclass(frozen=True, slots=True)
class NextNudge:
    """Move a member's next_nudge_at from what was read to `to`, unless the row changed."""

    guild_id: int
    user_id: int
    seen_next: datetime
    seen_updated: datetime
    to: datetime


@dataclass(frozen=True, slots=True)
class DigestCandidate:
    guild_id: int
    timezone: str
    weekday: int
    hour: int
    channel_id: int
    leaderboard_enabled: bool
    latest_week: str | None


# Keyset position in the planning order: (next_nudge_at, guild_id, user_id).
PlanCursor = tuple[datetime, int, int]


class NudgeRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def candidates(
        self,
        labels: Sequence[str],
        now: datetime,
        scope: ShardScope = ALL,
        after: PlanCursor | None = None,
        limit: int = 1_000,
    ) -> list[NudgeCandidate]:
        """Members with nudges on whose `next_nudge_at` has come, in that order.

        A range of the partial index (next_nudge_at, guild_id, user_id) over members with
        nudges on: the rows read are the due ones plus any the planner has to re-examine
        (`NUDGE_RECHECK`), never the whole membership. `scope` (this process's shards) is
        applied to those rows. `after` continues from the last row of a previous page.

        `labels` are the ISO weeks any timezone can be in right now (at most two); the
        newest delivery among them comes from a lookup on the unique
        (guild_id, user_id, iso_week) index, for the rows read only.
        """
        d = NudgeDelivery
        latest = (
            select(func.max(d.iso_week))
            .where(
                d.guild_id == Member.guild_id,
                d.user_id == Member.user_id,
                d.iso_week.in_(list(labels)),
            )
            .scalar_subquery()
        )
        order = (Member.next_nudge_at, Member.guild_id, Member.user_id)
        stmt = (
            select(
                Member.guild_id,
                Member.user_id,
                Member.timezone,
                Member.nudge_custom,
                Member.nudge_weekday,
                Member.nudge_hour,
                Member.nudge_via,
                Member.dm_closed,
                GuildSettings.nudge_weekday,
                GuildSettings.nudge_hour,
                GuildSettings.nudge_channel_id,
                latest,
                Member.next_nudge_at,
                Member.updated_at,
            )
            .select_from(Member)
            .outerjoin(GuildSettings, GuildSettings.guild_id == Member.guild_id)
            # `== true()` (not IS TRUE) so both databases match the partial index's WHERE.
            .where(
                Member.nudge_enabled == true(),
                Member.next_nudge_at <= now,
                scope.where(Member.guild_id),
            )
            .order_by(*order)
            .limit(limit)
        )
        if after is not None:
            at, guild_id, user_id = after
            position = tuple_(
                literal(at, UTCDateTime()),
                literal(guild_id, BigInteger()),
                literal(user_id, BigInteger()),
            )
            stmt = stmt.where(tuple_(*order) > position)
        out = []
        for row in (await self._session.execute(stmt)).all():
            g, u, tz, custom, wd, hr, via, closed, gwd, ghr, channel, last, nxt, upd = row
            out.append(
                NudgeCandidate(
                    int(g),
                    int(u),
                    tz,
                    int(wd if custom else (gwd if gwd is not None else 0)),
                    int(hr if custom else (ghr if ghr is not None else 18)),
                    via,
                    bool(closed),
                    channel,
                    last,
                    _aware(nxt) or NUDGE_RECHECK,
                    _aware(upd) or NUDGE_RECHECK,
                )
            )
        return out

    async def move_next(self, moves: Sequence[NextNudge]) -> int:
        """Store each member's next nudge time, compare-and-set on what was read.

        A row whose next_nudge_at or updated_at changed since the planner read it (its
        settings changed, or another process moved it) is left alone: the newer write wins
        and the planner looks again when that value comes. Returns the rows moved.
        """
        if not moves:
            return 0
        m = Member.__table__.c
        stmt = (
            update(Member.__table__)
            .where(
                m.guild_id == bindparam("g"),
                m.user_id == bindparam("u"),
                m.next_nudge_at == bindparam("seen_next", type_=UTCDateTime),
                m.updated_at == bindparam("seen_updated", type_=UTCDateTime),
            )
            .values(next_nudge_at=bindparam("to", type_=UTCDateTime))
        )
        params = [
            {
                "g": x.guild_id,
                "u": x.user_id,
                "seen_next": x.seen_next,
                "seen_updated": x.seen_updated,
                "to": x.to,
            }
            for x in moves
        ]
        result = await self._session.execute(stmt, params)
        return int(result.rowcount or 0)  # type: ignore[attr-defined]

    async def recheck_guild(self, guild_id: int, now: datetime, *, defaults_only: bool) -> None:
        """Make the planner re-examine a guild's members after a guild-wide change.

        The guild's default slot (`defaults_only`: members who did not pick their own) or
        its nudge channel changed, so a member's next nudge may now come sooner. Sets
        `NUDGE_RECHECK` and bumps updated_at, so a planner's compare-and-set based on the
        old settings fails instead of pushing the member past the new slot.
        """
        stmt = (
            update(Member)
            .where(Member.guild_id == guild_id, Member.nudge_enabled == true())
            .values(next_nudge_at=NUDGE_RECHECK, updated_at=now)
            .execution_options(synchronize_session=False)
        )
        if defaults_only:
            stmt = stmt.where(Member.nudge_custom == false())
        await self._session.execute(stmt)

    async def digest_candidates(
        self, labels: Sequence[str], scope: ShardScope = ALL
    ) -> list[DigestCandidate]:
        """Guilds with a digest or nudge channel and no digest in the newest candidate week.

        The week test is in SQL: once a guild's digest for the week is out, the guild is not
        read again until the week turns (the planner runs every minute over every guild).
        """
        d = DigestDelivery
        g = GuildSettings
        newest = max(labels)
        # Each guild's latest digest week among the candidates, joined once (a correlated
        # subquery would be evaluated twice: in the result and in the week test).
        latest = (
            select(d.guild_id, func.max(d.iso_week).label("week"))
            .where(d.iso_week.in_(list(labels)))
            .group_by(d.guild_id)
            .subquery()
        )
        channel = func.coalesce(g.digest_channel_id, g.nudge_channel_id)
        stmt = (
            select(
                g.guild_id,
                g.timezone,
                g.nudge_weekday,
                g.nudge_hour,
                channel,
                g.leaderboard_enabled,
                latest.c.week,
            )
            .outerjoin(latest, latest.c.guild_id == g.guild_id)
            .where(
                channel.is_not(None),
                scope.where(g.guild_id),
                or_(latest.c.week.is_(None), latest.c.week < newest),
            )
        )
        return [
            DigestCandidate(int(a), tz, int(wd), int(hr), int(ch), bool(lb), last)
            for a, tz, wd, hr, ch, lb, last in (await self._session.execute(stmt)).all()
        ]

    async def phase_started(self, guild_id: int, user_id: int, phase: int) -> datetime | None:
        """First study log stamped with `phase`: the best record of when the phase began."""
        stmt = select(func.min(StudyLog.logged_at)).where(
            StudyLog.guild_id == guild_id, StudyLog.user_id == user_id, StudyLog.phase == phase
        )
        value = (await self._session.execute(stmt)).scalar_one_or_none()
        return _aware(value)

    async def mark_dm_closed(self, guild_id: int, user_id: int, now: datetime) -> None:
        await self._session.execute(
            update(Member)
            .where(Member.guild_id == guild_id, Member.user_id == user_id)
            .values(dm_closed=True, updated_at=now)
            .execution_options(synchronize_session=False)
        )

    async def guild_minutes(
        self, guild_id: int, since: datetime, until: datetime
    ) -> tuple[int, int]:
        """(minutes, distinct members) logged in the guild in [since, until)."""
        stmt = select(
            func.coalesce(func.sum(StudyLog.minutes), 0),
            func.count(func.distinct(StudyLog.user_id)),
        ).where(
            StudyLog.guild_id == guild_id, StudyLog.logged_at >= since, StudyLog.logged_at < until
        )
        minutes, members = (await self._session.execute(stmt)).one()
        return int(minutes), int(members)

    async def top_learners(
        self, guild_id: int, since: datetime, until: datetime, limit: int
    ) -> list[tuple[int, int]]:
        """(user_id, minutes) of the most active members who did not opt out of the digest."""
        minutes = func.sum(StudyLog.minutes)
        stmt = (
            select(StudyLog.user_id, minutes)
            .join(
                Member,
                and_(Member.guild_id == StudyLog.guild_id, Member.user_id == StudyLog.user_id),
            )
            .where(
                StudyLog.guild_id == guild_id,
                StudyLog.logged_at >= since,
                StudyLog.logged_at < until,
                Member.digest_opt_out.is_(False),
            )
            .group_by(StudyLog.user_id)
            .order_by(minutes.desc(), StudyLog.user_id)
            .limit(limit)
        )
        return [(int(u), int(m)) for u, m in (await self._session.execute(stmt)).all()]

    async def phase_distribution(self, guild_id: int) -> dict[int | None, int]:
        stmt = (
            select(Member.phase, func.count())
            .where(Member.guild_id == guild_id)
            .group_by(Member.phase)
        )
        return {p: int(n) for p, n in (await self._session.execute(stmt)).all()}


def _aware(value: datetime | str | None) -> datetime | None:
    """An aggregate over a SQLite timestamp can come back naive or as text."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
