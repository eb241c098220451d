"""Queries behind weekly nudges and the server digest (planning reads, aggregates)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import String, and_, case, func, literal, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import DigestDelivery, GuildSettings, Member, NudgeDelivery, StudyLog
from storage.sharding import ALL, ShardScope


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


@dataclass(frozen=True, slots=True)
class DigestCandidate:
    guild_id: int
    timezone: str
    weekday: int
    hour: int
    channel_id: int
    leaderboard_enabled: bool
    latest_week: str | None


class NudgeRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def candidates(
        self, labels: Sequence[str], scope: ShardScope = ALL, slot_bound: int | None = None
    ) -> list[NudgeCandidate]:
        """Members with nudges on who have no delivery in the newest candidate week.

        Only guilds in `scope` (this process's shards): the filter is part of the query,
        so a process of N reads about 1/N of the members. With `slot_bound`, only members
        whose effective slot (`weekday * 24 + hour`, their own or the guild default) is at
        most that: the caller's conservative "cannot have passed yet" cut
        (`bot.services.nudges.slot_bound`), so later slots are not read every minute.

        `labels` are the ISO weeks any timezone can be in right now (at most two). The
        newest delivery among them comes from a correlated lookup on the unique
        (guild_id, user_id, iso_week) index; members already served in the newest week are
        filtered in SQL, so late in the week almost nothing comes back.
        """
        newest = max(labels)
        d = NudgeDelivery
        latest = (
            select(func.max(d.iso_week))
            .where(
                d.guild_id == Member.guild_id,
                d.user_id == Member.user_id,
                d.iso_week.in_(list(labels)),
            )
            .scalar_subquery()
            .label("latest")
        )
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
            )
            .select_from(Member)
            .outerjoin(GuildSettings, GuildSettings.guild_id == Member.guild_id)
            .where(Member.nudge_enabled.is_(True), scope.where(Member.guild_id))
        )
        if slot_bound is not None:
            slot = case(
                (
                    Member.nudge_custom.is_(True),
                    Member.nudge_weekday * 24 + Member.nudge_hour,
                ),
                else_=func.coalesce(GuildSettings.nudge_weekday, 0) * 24
                + func.coalesce(GuildSettings.nudge_hour, 18),
            )
            stmt = stmt.where(slot <= slot_bound)
        if len(set(labels)) == 1:
            # One week everywhere (most of the week): "no delivery this week" is a plain
            # NOT EXISTS, which PostgreSQL runs as one hash anti-join instead of a probe
            # per member; `latest` is then NULL for every row returned.
            served = (
                select(d.id)
                .where(
                    d.guild_id == Member.guild_id,
                    d.user_id == Member.user_id,
                    d.iso_week == newest,
                )
                .exists()
            )
            stmt = stmt.with_only_columns(
                *stmt.selected_columns[:-1], literal(None, String).label("latest")
            ).where(~served)
            outer = stmt
        else:
            sub = stmt.subquery()
            outer = select(sub).where(or_(sub.c.latest.is_(None), sub.c.latest < newest))
        out = []
        for row in (await self._session.execute(outer)).all():
            g, u, tz, custom, wd, hr, via, closed, gwd, ghr, channel, last = row
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
                )
            )
        return out

    async def digest_candidates(
        self, labels: Sequence[str], scope: ShardScope = ALL
    ) -> list[DigestCandidate]:
        """Guilds with a digest or nudge channel and no digest in the newest candidate week."""
        d = DigestDelivery
        g = GuildSettings
        latest = (
            select(func.max(d.iso_week))
            .where(d.guild_id == g.guild_id, d.iso_week.in_(list(labels)))
            .scalar_subquery()
        )
        channel = func.coalesce(g.digest_channel_id, g.nudge_channel_id)
        stmt = select(
            g.guild_id,
            g.timezone,
            g.nudge_weekday,
            g.nudge_hour,
            channel,
            g.leaderboard_enabled,
            latest,
        ).where(channel.is_not(None), scope.where(g.guild_id))
        return [
            DigestCandidate(int(a), tz, int(wd), int(hr), int(ch), bool(lb), last)
            for a, tz, wd, hr, ch, lb, last in (await self._session.execute(stmt)).all()
            if last is None or last < max(labels)
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
