"""Study challenges: create / end / cancel (admins), join / leave / status (members).

Dates are calendar days in the server's timezone: a challenge "from 2026-03-02 to
2026-03-08" runs from local midnight on the 2nd to local midnight after the 8th (the end
day is included). Every input is validated before the transaction opens, so a rejected
command stores nothing. Progress is counted from the logs / milestone completions inside
the window (see `storage.repositories.challenges`); with `count_before_join=False` only
what a member did after joining counts.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from bot.services.base import Service, check_guild, check_ids
from bot.services.clock import local_midnight
from bot.services.errors import MentorError, NotFound, ValidationError
from bot.services.formatting import fmt_minutes, plural
from bot.services.parsing import is_whole_number, parse_whole_number, replace_surrogates
from bot.services.timezones import zone
from storage.models import Challenge
from storage.repositories import GuildRepository, MemberRepository
from storage.repositories.challenges import ChallengeRepository, StandingRow, window_end

MAX_NAME = 100
MAX_GOAL = 1_000_000
MAX_DAYS = 366
TOP = 10
METRICS = {
    "minutes": "minutes",
    "time": "minutes",
    "active_days": "active_days",
    "days": "active_days",
    "active-days": "active_days",
    "milestones": "milestones",
}
METRIC_UNITS = {"minutes": "minutes", "active_days": "active days", "milestones": "milestones"}


class NotAllowed(MentorError):
    """The member lacks the permission this command needs."""


class AlreadyJoined(MentorError):
    pass


class NotJoined(MentorError):
    pass


@dataclass(frozen=True, slots=True)
class ChallengeInfo:
    id: int
    guild_id: int
    name: str
    metric: str
    goal: int
    starts_at: datetime
    ends_at: datetime  # when counting stops (earlier if ended early)
    timezone: str
    completion_role_id: int | None
    leagues: bool
    count_before_join: bool
    status: str  # active | ended | cancelled

    @property
    def first_day(self) -> date:
        """The first day counted, in the challenge's timezone (as the admin entered it)."""
        return self.starts_at.astimezone(zone(self.timezone)).date()

    @property
    def last_day(self) -> date:
        """The last day members can study for it, in the challenge's timezone.

        `ends_at` is the local midnight after the end day the admin entered (or the moment
        an admin ended it early), so the last day is the one just before that instant:
        "end 2026-12-15" reads 2026-12-15, never "2026-12-16 00:00".
        """
        return (self.ends_at - timedelta(microseconds=1)).astimezone(zone(self.timezone)).date()

    def state(self, now: datetime) -> str:
        """'upcoming', 'running', 'finished' or 'cancelled' at `now`."""
        if self.status == "cancelled":
            return "cancelled"
        if self.status == "ended" or now >= self.ends_at:
            return "finished"
        return "running" if now >= self.starts_at else "upcoming"


@dataclass(frozen=True, slots=True)
class Standing:
    rank: int
    user_id: int
    progress: int
    completed: bool


@dataclass(frozen=True, slots=True)
class LeagueBoard:
    league: int | None  # the phase, when leagues are on
    top: tuple[Standing, ...]
    you: Standing | None  # the asking member, when in this league
    participants: int


@dataclass(frozen=True, slots=True)
class ChallengeStatus:
    challenge: ChallengeInfo
    boards: tuple[LeagueBoard, ...]
    you: Standing | None
    joined: bool


def info(row: Challenge) -> ChallengeInfo:
    return ChallengeInfo(
        row.id,
        row.guild_id,
        row.title,
        row.metric,
        int(row.goal or 0),
        row.starts_at,
        window_end(row),
        row.timezone,
        row.completion_role_id,
        row.leagues,
        row.count_before_join,
        row.status,
    )


def validate_name(name: str) -> str:
    clean = " ".join(
        "".join(
            " " if unicodedata.category(c) == "Cc" else c for c in replace_surrogates(name or "")
        ).split()
    )
    if not clean:
        raise ValidationError("Give the challenge a name.", field="name")
    if len(clean) > MAX_NAME:
        raise ValidationError(
            f"The name is {len(clean):,} characters; keep it to {MAX_NAME}.", field="name"
        )
    if clean.isdigit():
        raise ValidationError("The name needs at least one letter.", field="name")
    return clean


def parse_metric(metric: str) -> str:
    key = (metric or "").strip().lower()
    if key not in METRICS:
        raise ValidationError(
            "The metric must be `minutes`, `active_days` or `milestones`.", field="metric"
        )
    return METRICS[key]


def parse_goal(goal: int | str) -> int:
    message = "The goal must be a whole number above 0."
    if isinstance(goal, bool):
        raise ValidationError(message, field="goal")
    value = parse_whole_number(str(goal), message=message, field="goal")
    if value <= 0:
        raise ValidationError(f"The goal must be above 0; got {value}.", field="goal")
    if value > MAX_GOAL:
        raise ValidationError(f"The goal can be at most {MAX_GOAL:,}.", field="goal")
    return value


def parse_day(value: date | str, what: str) -> date:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError as exc:
        raise ValidationError(
            f"The {what} date must look like 2026-03-02; got {str(value)[:20]!r}.", field=what
        ) from exc


def _standing(row: StandingRow, goal: int) -> Standing:
    return Standing(row.rank, row.user_id, row.progress, row.progress >= goal)


def boards_from(
    rows: list[StandingRow], goal: int, user_id: int | None, top: int
) -> tuple[LeagueBoard, ...]:
    leagues: dict[int | None, list[StandingRow]] = {}
    for row in rows:
        leagues.setdefault(row.league, []).append(row)
    out = []
    for league, members in leagues.items():
        mine = next((r for r in members if r.user_id == user_id), None)
        out.append(
            LeagueBoard(
                league,
                tuple(_standing(r, goal) for r in members if r.rank <= top),
                _standing(mine, goal) if mine else None,
                members[0].participants,
            )
        )
    return tuple(out)


class ChallengeService(Service):
    async def _resolve(
        self,
        repo: ChallengeRepository,
        guild_id: int,
        ref: str | int | None,
        now: datetime,
        finished_ok: bool = False,
    ) -> Challenge:
        """By id, by name, or (no ref) the one open challenge / the latest one for status."""
        if ref is None or (isinstance(ref, str) and not ref.strip()):
            running = await repo.listing(guild_id, now)
            if len(running) == 1:
                return running[0]
            latest = await repo.latest(guild_id) if not running and finished_ok else None
            if latest is not None:
                return latest
            if not running:
                raise NotFound("There is no challenge running in this server right now.")
            names = ", ".join(f"{c.title} (#{c.id})" for c in running[:5])
            raise ValidationError(f"Several challenges are open; say which one: {names}.")
        text = str(ref).strip().lstrip("#")
        if is_whole_number(text, signed=False, max_digits=18):
            row = await repo.get(guild_id, int(text))
            if row is not None:
                return row
        rows = await repo.by_name(guild_id, text[: MAX_NAME + 1])
        if not rows:
            raise NotFound(f"No challenge called {text[:60]!r} in this server.")
        return rows[0]

    async def create(
        self,
        guild_id: int,
        user_id: int,
        *,
        is_admin: bool,
        name: str,
        metric: str,
        goal: int | str,
        start: date | str,
        end: date | str,
        completion_role_id: int | None = None,
        leagues: bool = False,
        count_before_join: bool = True,
    ) -> ChallengeInfo:
        check_ids(guild_id, user_id)
        if not is_admin:
            raise NotAllowed("Only server admins can create challenges.")
        title = validate_name(name)
        chosen = parse_metric(metric)
        target = parse_goal(goal)
        first, last = parse_day(start, "start"), parse_day(end, "end")
        if last <= first:
            raise ValidationError(
                f"The end date ({last}) must be after the start date ({first}).", field="end"
            )
        if (last - first).days > MAX_DAYS:
            raise ValidationError(f"A challenge can last at most {MAX_DAYS} days.", field="end")
        if completion_role_id is not None:
            check_ids(guild_id, completion_role_id)
        now = self._now()
        async with self._write() as session:
            tz_name = await GuildRepository(session).timezone(guild_id)
            tz = zone(tz_name)
            starts, ends = local_midnight(first, tz), local_midnight(last + timedelta(days=1), tz)
            if ends <= now:
                raise ValidationError("That challenge would already be over.", field="end")
            row = await ChallengeRepository(session).add(
                guild_id=guild_id,
                title=title,
                metric=chosen,
                goal=target,
                starts_at=starts,
                ends_at=ends,
                timezone=tz_name,
                completion_role_id=completion_role_id,
                leagues=bool(leagues),
                count_before_join=bool(count_before_join),
                status="active",
                created_by=user_id,
                created_at=now,
            )
            return info(row)

    async def _close(
        self, guild_id: int, ref: str | int | None, is_admin: bool, status: str
    ) -> ChallengeInfo:
        check_guild(guild_id)
        if not is_admin:
            raise NotAllowed(
                f"Only server admins can {'end' if status == 'ended' else 'cancel'} challenges."
            )
        now = self._now()
        async with self._write() as session:
            repo = ChallengeRepository(session)
            row = await self._resolve(repo, guild_id, ref, now)
            if row.status != "active" or (status == "ended" and window_end(row) <= now):
                raise ValidationError(f"{row.title} is already over.")
            row.status = status
            row.closed_at = now
            await session.flush()
            return info(row)

    async def end(self, guild_id: int, ref: str | int | None, *, is_admin: bool) -> ChallengeInfo:
        """Stop counting now; the end announcement with final standings follows."""
        return await self._close(guild_id, ref, is_admin, "ended")

    async def cancel(
        self, guild_id: int, ref: str | int | None, *, is_admin: bool
    ) -> ChallengeInfo:
        """Call it off: no further announcements, no roles."""
        return await self._close(guild_id, ref, is_admin, "cancelled")

    async def list_open(self, guild_id: int) -> tuple[ChallengeInfo, ...]:
        check_guild(guild_id)
        now = self._now()
        async with self._read() as session:
            return tuple(info(r) for r in await ChallengeRepository(session).listing(guild_id, now))

    async def join(
        self, guild_id: int, user_id: int, ref: str | int | None = None
    ) -> ChallengeInfo:
        check_ids(guild_id, user_id)
        now = self._now()
        async with self._write() as session:
            repo = ChallengeRepository(session)
            row = await self._resolve(repo, guild_id, ref, now)
            if info(row).state(now) in ("finished", "cancelled"):
                raise ValidationError(f"{row.title} is over; it can no longer be joined.")
            if await repo.participant(row.id, user_id) is not None:
                raise AlreadyJoined(f"You already joined {row.title}.")
            member = await MemberRepository(session).get_or_create(guild_id, user_id, now)
            await repo.join(row, user_id, member.phase if row.leagues else None, now)
            return info(row)

    async def leave(
        self, guild_id: int, user_id: int, ref: str | int | None = None
    ) -> ChallengeInfo:
        check_ids(guild_id, user_id)
        now = self._now()
        async with self._write() as session:
            repo = ChallengeRepository(session)
            row = await self._resolve(repo, guild_id, ref, now)
            if not await repo.leave(row.id, user_id):
                raise NotJoined(f"You are not in {row.title}, so there is nothing to leave.")
            return info(row)

    async def status(
        self, guild_id: int, user_id: int, ref: str | int | None = None
    ) -> ChallengeStatus:
        """Progress toward the goal, rank, the top 10 and the member's place, per league."""
        check_ids(guild_id, user_id)
        now = self._now()
        async with self._read() as session:
            repo = ChallengeRepository(session)
            row = await self._resolve(repo, guild_id, ref, now, finished_ok=True)
            rows = await repo.standings(row, TOP, user_id)
            joined = await repo.participant(row.id, user_id) is not None
        challenge = info(row)
        boards = boards_from(rows, challenge.goal, user_id, TOP)
        you = next((b.you for b in boards if b.you is not None), None)
        return ChallengeStatus(challenge, boards, you, joined)


def fmt_progress(metric: str, value: int) -> str:
    """A challenge figure with its unit: '45m', '1 active day', '2 milestones'.

    Every line that shows progress (the member's own, standings, digests, announcements)
    says what is counted, so "45" never stands alone.
    """
    if metric == "minutes":
        return fmt_minutes(value)
    if metric == "active_days":
        return plural(value, "active day")
    return plural(value, "milestone")


def progress_bar(value: int, goal: int, width: int = 20) -> str:
    """A plain-text bar toward a challenge goal, shared by the console and Discord."""
    filled = min(width, round(width * value / goal)) if goal > 0 else 0
    return "[" + "#" * filled + "-" * (width - filled) + "]"
