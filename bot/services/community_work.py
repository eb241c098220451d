"""What is due besides member nudges: server digests, challenge announcements, roles.

Read-side helpers for `bot.services.scheduler`; each method is one transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.services.base import Service
from bot.services.challenges import METRIC_UNITS, boards_from, fmt_progress, info
from bot.services.formatting import fmt_minutes, plural
from bot.services.nudge_plan import cached_zone, candidate_weeks
from bot.services.nudge_text import current_slot
from storage.models import GuildSettings
from storage.repositories.challenges import ChallengeRepository, window_end
from storage.repositories.deliveries import ANNOUNCEMENTS, DeliveryLedger
from storage.repositories.nudges import NudgeRepository
from storage.sharding import ALL, ShardScope

DIGEST_TOP = 5
ANNOUNCE_TOP = 5
ROLE_GRACE = timedelta(days=1)  # keep checking completions this long after the end


@dataclass(frozen=True, slots=True)
class DueDigest:
    guild_id: int
    iso_week: str
    due_at: datetime
    channel_id: int


@dataclass(frozen=True, slots=True)
class DueAnnouncement:
    challenge_id: int
    guild_id: int
    kind: str  # start | halfway | end
    channel_id: int


@dataclass(frozen=True, slots=True)
class RoleGrant:
    challenge_id: int
    guild_id: int
    user_id: int
    role_id: int


def _due_kinds(starts: datetime, ends: datetime, closed_early: bool, now: datetime) -> list[str]:
    kinds = []
    if now >= starts:
        kinds.append("start")
    if now >= starts + (ends - starts) / 2 and not closed_early:
        kinds.append("halfway")
    if now >= ends:
        kinds.append("end")
    return kinds


class CommunityWork(Service):
    async def due_digests(self, now: datetime, scope: ShardScope = ALL) -> list[DueDigest]:
        async with self._read() as session:
            repo = NudgeRepository(session)
            candidates = await repo.digest_candidates(candidate_weeks(now), scope)
        due = []
        for c in candidates:
            label, instant = current_slot(now, c.weekday, c.hour, cached_zone(c.timezone))
            if instant <= now and c.latest_week != label:
                due.append(DueDigest(c.guild_id, label, instant, c.channel_id))
        return sorted(due, key=lambda d: (d.due_at, d.guild_id))

    async def digest_text(self, guild_id: int, now: datetime) -> str:
        since = now - timedelta(days=7)
        async with self._read() as session:
            repo = NudgeRepository(session)
            settings = await session.get(GuildSettings, guild_id)
            minutes, members = await repo.guild_minutes(guild_id, since, now)
            show_top = settings is None or settings.leaderboard_enabled
            top = await repo.top_learners(guild_id, since, now, DIGEST_TOP) if show_top else []
            phases = await repo.phase_distribution(guild_id)
            running = await ChallengeRepository(session).listing(guild_id, now)
            challenges = [c for c in running if c.starts_at <= now]
            standings = [
                (c, await ChallengeRepository(session).standings(c, 3)) for c in challenges[:3]
            ]
        lines = [
            "**Weekly study digest**",
            f"This server studied {fmt_minutes(minutes)} in the last 7 days "
            f"({plural(members, 'member')} logged time).",
        ]
        if top:
            lines.append("Most active learners:")
            lines += [f"  {i}. <@{u}>: {fmt_minutes(m)}" for i, (u, m) in enumerate(top, 1)]
        if phases:
            labels = {p.number: p.label for p in self._guide.phases}
            parts = [
                f"{labels.get(p, f'Phase {p}') if p is not None else 'no phase yet'}: {n}"
                for p, n in sorted(phases.items(), key=lambda kv: (kv[0] is not None, kv[0] or 0))
            ]
            lines.append("Where members are: " + ", ".join(parts) + ".")
        for challenge, rows in standings:
            unit = METRIC_UNITS[challenge.metric]
            metric = challenge.metric
            leaders = ", ".join(f"<@{r.user_id}> {fmt_progress(metric, r.progress)}" for r in rows)
            leaders = leaders or "nobody yet"
            lines.append(f"Challenge {challenge.title} ({challenge.goal} {unit}): {leaders}.")
        return "\n".join(lines)

    async def due_announcements(
        self, now: datetime, scope: ShardScope = ALL
    ) -> tuple[list[DueAnnouncement], list[dict[str, object]]]:
        """(announcements to send, superseded ones to record as skipped).

        After downtime several may be due at once; only the latest is posted (a "starts
        now" after the end would mislead) and the earlier ones are recorded as skipped.
        """
        async with self._read() as session:
            rows = await ChallengeRepository(session).open_for_work(
                now, now - ROLE_GRACE * 30, scope
            )
            t = ANNOUNCEMENTS
            ids = [r.id for r in rows]
            done = (
                await DeliveryLedger(session, t).existing_keys(t.c.challenge_id.in_(ids))
                if ids
                else set()
            )
            channels = {}
            for r in rows:
                if r.guild_id not in channels:
                    s = await session.get(GuildSettings, r.guild_id)
                    channels[r.guild_id] = (
                        (s.challenge_channel_id or s.nudge_channel_id) if s else None
                    )
        send: list[DueAnnouncement] = []
        skip: list[dict[str, object]] = []
        for r in rows:
            channel = channels.get(r.guild_id)
            kinds = [
                k
                for k in _due_kinds(r.starts_at, window_end(r), r.closed_at is not None, now)
                if (r.id, k) not in done
            ]
            if not kinds or channel is None:
                continue
            *older, latest = kinds
            skip += [{"challenge_id": r.id, "guild_id": r.guild_id, "kind": k} for k in older]
            send.append(DueAnnouncement(r.id, r.guild_id, latest, channel))
        return send, skip

    async def announcement_text(self, challenge_id: int, guild_id: int, kind: str) -> str:
        async with self._read() as session:
            repo = ChallengeRepository(session)
            row = await repo.get(guild_id, challenge_id)
            if row is None:
                return ""
            rows = await repo.standings(row, ANNOUNCE_TOP)
        c = info(row)
        unit = METRIC_UNITS[c.metric]
        if kind == "start":
            head = (
                f"**Challenge {c.name} starts now!** Goal: {c.goal} {unit} by the end of "
                f"{c.last_day.isoformat()} ({c.timezone}). Join with `/challenge join`."
            )
        elif kind == "halfway":
            head = f"**Challenge {c.name} is halfway through.** Current standings:"
        else:
            head = f"**Challenge {c.name} is over.** Final standings:"
        lines = [head]
        for board in boards_from(rows, c.goal, None, ANNOUNCE_TOP):
            if board.league is not None:
                lines.append(f"League: phase {board.league}")
            for s in board.top:
                mark = " ✓" if s.completed else ""
                lines.append(
                    f"  {s.rank}. <@{s.user_id}>: {fmt_progress(c.metric, s.progress)}{mark}"
                )
        return "\n".join(lines)

    async def role_grants(self, now: datetime, scope: ShardScope = ALL) -> list[RoleGrant]:
        """Record newly completed participants (in `scope`'s guilds) and list the roles
        still to hand out."""
        grants: list[RoleGrant] = []
        async with self._write() as session:
            repo = ChallengeRepository(session)
            for row in await repo.open_for_work(now, now - ROLE_GRACE, scope):
                rows = await repo.standings(row, None)
                reached = [r.user_id for r in rows if r.progress >= int(row.goal or 0)]
                await repo.mark_completed(row.id, reached, now)
                if row.completion_role_id is not None:
                    grants += [
                        RoleGrant(row.id, row.guild_id, u, row.completion_role_id)
                        for u in await repo.role_pending(row.id)
                    ]
        return grants

    async def record_role(self, grant: RoleGrant, status: str) -> None:
        async with self._write() as session:
            await ChallengeRepository(session).set_role_status(
                grant.challenge_id, grant.user_id, status, self._now()
            )
