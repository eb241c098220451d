"""Weekly nudges: preferences, planning who is due, composing the message, previewing it.

A member is due when this local ISO week's slot (their weekday/hour, or the guild default)
has passed and no delivery row exists for (guild, member, that week). That rule is
evaluated here, in Python, every minute; it gives catch-up after downtime for free (a
missed slot is still "passed and undelivered" until the local week ends) and needs no
in-memory timers. Delivery itself lives in `bot.services.scheduler`.

Which members the rule is evaluated for comes from `members.next_nudge_at`, a stored lower
bound on when the member can next be due: planning reads only rows whose bound has come,
through an index, so one minute's planning costs what is due in it, not the membership.
The bound moves forward when a nudge is claimed (to the next week's slot) and when
planning reads a member who is not due (to the slot it is waiting for, or next week's when
this week's is served or cannot be delivered). Anything that can make a member due sooner
resets it to `NUDGE_RECHECK` (`MemberRepository.update`, `NudgeRepository.recheck_guild`).
Moving it is a compare-and-set on what was read, so a settings change that lands while a
planner is working is never overwritten by a bound computed from the old settings.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.base import Service, check_guild, check_ids
from bot.services.clock import WEEKDAY_NAMES
from bot.services.errors import ValidationError
from bot.services.formatting import phase_name
from bot.services.nudge_plan import DueNudge, cached_zone, plan_due
from bot.services.nudge_text import (
    FrontEnd,
    NextMilestone,
    Nudge,
    NudgeFacts,
    compose_nudge,
    next_slot,
)
from bot.services.parsing import is_whole_number, parse_whole_number
from bot.services.stats import streaks_from_days
from storage.models import NUDGE_CHANNELS
from storage.repositories import (
    GuildRepository,
    MemberRepository,
    MilestoneRepository,
    StudyLogRepository,
)
from storage.repositories.nudges import NudgeRepository
from storage.sharding import ALL, ShardScope

DM_CLOSED_NOTICE = (
    "I could not DM you your weekly nudge: your DMs from this server are closed. Allow "
    "direct messages from server members (Privacy Settings), then run `/nudges on dm`; or "
    "get it in the server's nudge channel with `/nudges on channel`."
)


def parse_weekday(value: int | str) -> int:
    """0-6 or a weekday name / 3-letter prefix; ValidationError otherwise."""
    if isinstance(value, int) and not isinstance(value, bool):
        if 0 <= value <= 6:
            return value
    elif isinstance(value, str):
        key = value.strip().lower()
        if is_whole_number(key, signed=False, max_digits=1) and int(key) <= 6:
            return int(key)
        for index, name in enumerate(WEEKDAY_NAMES):
            if len(key) >= 3 and name.startswith(key):
                return index
    shown = str(value)[:20]
    raise ValidationError(
        f"Unknown weekday {shown!r}: use a name (monday ... sunday) or 0 (Monday) to 6 (Sunday).",
        field="weekday",
    )


def parse_hour(value: int | str) -> int:
    message = "The hour must be a whole number from 0 to 23."
    if isinstance(value, bool):
        raise ValidationError(message, field="hour")
    hour = parse_whole_number(str(value), message=message, max_digits=3, field="hour")
    if not 0 <= hour <= 23:
        raise ValidationError(
            f"The hour must be from 0 to 23 (local time); got {hour}.", field="hour"
        )
    return hour


@dataclass(frozen=True, slots=True)
class NudgePreferences:
    enabled: bool
    weekday: int
    hour: int
    via: str
    custom: bool
    dm_closed: bool
    timezone: str


@dataclass(frozen=True, slots=True)
class NudgePreview:
    nudge: Nudge
    preferences: NudgePreferences
    next_at: datetime | None  # UTC; None when nudges are off


class ProblemNotices:
    """Decides when to tell a member about a delivery problem: once per problem.

    A refused DM marks the member `dm_closed` and stays that way until they pick a route
    again (`NudgeService.set_preferences` clears it), so "is there a problem" alone would
    repeat the notice after every command. What the member was last told is kept on their
    row (`members.notice_told`), not in memory: with several shard processes a member's
    commands all reach one process today, but a reshard or a restart moves them, and the
    notice must still be shown once. It is forgotten as soon as the service reports no
    problem, so a later refusal is told again. Stateless: it works through the
    `NudgeService` it is handed, so guide reloads (which rebuild it) change nothing.
    """

    async def due(self, nudges: NudgeService, guild_id: int, user_id: int) -> str | None:
        """The notice to show now, or None (no problem, or already told about this one)."""
        problem, told = await nudges.problem_and_told(guild_id, user_id)
        if problem is None:
            if told is not None:
                await nudges.set_notice_told(guild_id, user_id, None)
            return None
        return None if told == problem else problem

    async def mark_told(
        self, nudges: NudgeService, guild_id: int, user_id: int, problem: str | None
    ) -> None:
        """Record that the member has seen `problem` (call only once it was delivered)."""
        if problem is not None:
            await nudges.set_notice_told(guild_id, user_id, problem)


class NudgeService(Service):
    async def due(
        self, now: datetime | None = None, limit: int | None = None, scope: ShardScope = ALL
    ) -> list[DueNudge]:
        """Nudges due at `now` (default: the clock) and not yet claimed, oldest first;
        only for guilds in `scope` (the shards this process holds).

        One write transaction: reading the rows whose next_nudge_at has come also moves
        on those found not due (`bot.services.nudge_plan.plan_due`).
        """
        at = now or self._now()
        async with self._write() as session:
            return await plan_due(NudgeRepository(session), at, limit, scope)

    async def preferences(self, guild_id: int, user_id: int) -> NudgePreferences:
        check_ids(guild_id, user_id)
        async with self._read() as session:
            return await self._preferences(session, guild_id, user_id)

    async def enabled_in(self, session: AsyncSession, guild_id: int, user_id: int) -> bool:
        """Whether the member still wants nudges, read inside the caller's transaction
        (the scheduler checks it while holding the claim it may retry)."""
        return (await self._preferences(session, guild_id, user_id)).enabled

    async def _preferences(
        self, session: AsyncSession, guild_id: int, user_id: int
    ) -> NudgePreferences:
        member = await MemberRepository(session).get(guild_id, user_id)
        settings = await GuildRepository(session).get(guild_id)
        g_wd = settings.nudge_weekday if settings else 0
        g_hr = settings.nudge_hour if settings else 18
        if member is None:
            return NudgePreferences(False, g_wd, g_hr, "dm", False, False, "UTC")
        custom = member.nudge_custom
        return NudgePreferences(
            member.nudge_enabled,
            member.nudge_weekday if custom else g_wd,
            member.nudge_hour if custom else g_hr,
            member.nudge_via,
            custom,
            member.dm_closed,
            member.timezone,
        )

    async def set_preferences(
        self,
        guild_id: int,
        user_id: int,
        *,
        enabled: bool | None = None,
        weekday: int | str | None = None,
        hour: int | str | None = None,
        via: str | None = None,
    ) -> NudgePreferences:
        """Turn nudges on/off and/or choose a slot and dm/channel (None: unchanged).

        The one place nudge preferences change, for the console, /settings and /nudges.
        Choosing a weekday or hour pins the member's own slot (guild default no longer
        applies). Choosing a delivery route clears `dm_closed`: the member says it is fixed.
        """
        check_ids(guild_id, user_id)
        values: dict[str, object] = {}
        if enabled is not None:
            values["nudge_enabled"] = bool(enabled)
        if weekday is not None:
            values["nudge_weekday"] = parse_weekday(weekday)
            values["nudge_custom"] = True
        if hour is not None:
            values["nudge_hour"] = parse_hour(hour)
            values["nudge_custom"] = True
        if via is not None:
            route = via.strip().lower()
            if route not in NUDGE_CHANNELS:
                raise ValidationError("Nudges go by `dm` or `channel`.", field="via")
            values["nudge_via"] = route
            values["dm_closed"] = False
        now = self._now()
        async with self._write() as session:
            members = MemberRepository(session)
            member = await members.get_or_create(guild_id, user_id, now)
            if "nudge_custom" in values and not member.nudge_custom:
                # Pin the slot the member was on, then apply what they changed.
                settings = await GuildRepository(session).get(guild_id)
                values.setdefault("nudge_weekday", settings.nudge_weekday if settings else 0)
                values.setdefault("nudge_hour", settings.nudge_hour if settings else 18)
            await members.update(guild_id, user_id, now, **values)
            return await self._preferences(session, guild_id, user_id)

    async def set_guild_default(self, guild_id: int, weekday: int | str, hour: int | str) -> None:
        """The slot for members who did not choose one, and the digest's slot (guild time)."""
        check_guild(guild_id)
        wd, hr = parse_weekday(weekday), parse_hour(hour)
        now = self._now()
        async with self._write() as session:
            settings = await GuildRepository(session).get_or_create(guild_id, now)
            settings.nudge_weekday = wd
            settings.nudge_hour = hr
            settings.updated_at = now
            # Members on the default may now be due sooner: the planner works it out.
            await NudgeRepository(session).recheck_guild(guild_id, now, defaults_only=True)

    async def set_digest_opt_out(self, guild_id: int, user_id: int, opt_out: bool) -> None:
        check_ids(guild_id, user_id)
        now = self._now()
        async with self._write() as session:
            members = MemberRepository(session)
            await members.get_or_create(guild_id, user_id, now)
            await members.update(guild_id, user_id, now, digest_opt_out=bool(opt_out))

    async def delivery_problem(self, guild_id: int, user_id: int) -> str | None:
        """What to tell the member on their next command if their DMs refused a nudge."""
        prefs = await self.preferences(guild_id, user_id)
        if prefs.enabled and prefs.dm_closed and prefs.via == "dm":
            return DM_CLOSED_NOTICE
        return None

    async def problem_and_told(self, guild_id: int, user_id: int) -> tuple[str | None, str | None]:
        """(the delivery problem now, the notice the member was last shown), one read."""
        check_ids(guild_id, user_id)
        async with self._read() as session:
            prefs = await self._preferences(session, guild_id, user_id)
            member = await MemberRepository(session).get(guild_id, user_id)
        closed = prefs.enabled and prefs.dm_closed and prefs.via == "dm"
        problem = DM_CLOSED_NOTICE if closed else None
        return problem, member.notice_told if member is not None else None

    async def set_notice_told(self, guild_id: int, user_id: int, notice: str | None) -> None:
        """Remember (or forget, with None) the notice shown; a no-op for unknown members."""
        check_ids(guild_id, user_id)
        async with self._write() as session:
            if await MemberRepository(session).get(guild_id, user_id) is not None:
                await MemberRepository(session).update(
                    guild_id, user_id, self._now(), notice_told=notice
                )

    async def preview(
        self, guild_id: int, user_id: int, *, front_end: FrontEnd = "console"
    ) -> NudgePreview:
        """The member's next nudge, composed now, and when it is scheduled."""
        check_ids(guild_id, user_id)
        now = self._now()
        async with self._read() as session:
            prefs = await self._preferences(session, guild_id, user_id)
            facts = await self._facts(session, guild_id, user_id, now)
            nudge = compose_nudge(facts, front_end)
        next_at = (
            next_slot(now, prefs.weekday, prefs.hour, cached_zone(prefs.timezone))
            if prefs.enabled
            else None
        )
        return NudgePreview(nudge, prefs, next_at)

    async def compose(
        self,
        guild_id: int,
        user_id: int,
        now: datetime | None = None,
        *,
        front_end: FrontEnd = "console",
    ) -> Nudge:
        check_ids(guild_id, user_id)
        at = now or self._now()
        async with self._read() as session:
            return compose_nudge(await self._facts(session, guild_id, user_id, at), front_end)

    async def _facts(
        self, session: AsyncSession, guild_id: int, user_id: int, now: datetime
    ) -> NudgeFacts:
        member = await MemberRepository(session).get(guild_id, user_id)
        tz = cached_zone(member.timezone if member else "UTC")
        phase = self._guide.phase(member.phase) if member and member.phase is not None else None
        logs = StudyLogRepository(session)
        _, (last7, last14) = await logs.totals_since(
            guild_id, user_id, [now - timedelta(days=7), now - timedelta(days=14)]
        )
        stamps = await logs.timestamps(guild_id, user_id, since=now - timedelta(days=400))
        last = await logs.last(guild_id, user_id)
        days = sorted({s.astimezone(tz).date() for s in stamps})
        streak, _ = streaks_from_days(days, now.astimezone(tz).date())
        done = total = 0
        next_item: NextMilestone | None = None
        days_in_phase: int | None = None
        if phase is not None:
            ids = [m.id for m in phase.milestones]
            rows = await MilestoneRepository(session).statuses(guild_id, user_id, ids)
            total = len(ids)
            done = sum(1 for r in rows.values() if r.status == "done")
            for m in phase.milestones:
                if m.id not in rows or rows[m.id].status == "learning":
                    doc = self._guide.document(m.document)
                    next_item = NextMilestone(m.id, m.title, m.section, doc.title if doc else None)
                    break
            starts = [r.started_at for r in rows.values() if r.started_at is not None]
            first_log = await NudgeRepository(session).phase_started(
                guild_id, user_id, phase.number
            )
            starts += [first_log] if first_log else []
            if starts:
                days_in_phase = max(0, (now - min(starts)).days)
        created = member.created_at if member and member.created_at else now
        return NudgeFacts(
            phase_number=phase.number if phase else None,
            phase_name=phase_name(phase) if phase else None,
            phase_duration=phase.duration if phase else None,
            milestones_done=done,
            milestones_total=total,
            next_milestone=next_item,
            minutes_last_7=last7.minutes,
            minutes_prev_7=last14.minutes - last7.minutes,
            streak_days=streak,
            days_since_last_log=(now - last.logged_at).days if last else None,
            member_age_days=max(0, (now - created.astimezone(UTC)).days),
            days_in_phase=days_in_phase,
        )
