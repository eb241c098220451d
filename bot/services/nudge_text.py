"""Pure nudge and slot logic: what to say to a member, and when their weekly slot falls.

No database, no clock: the service gathers `NudgeFacts` in one read transaction and this
module turns them into text, so every variant is unit-testable with plain values.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Literal

from bot.services.formatting import fmt_minutes, plural

NudgeKind = Literal["weekly", "stall", "blocked"]
# Which front end will show the nudge: the way to tick a milestone differs (the console
# has `/milestone ID done`; Discord has the `/roadmap` checklist and no such command).
FrontEnd = Literal["console", "discord"]
STALL_DAYS = 7
# "Well past" the guide's estimate: 50% beyond its upper figure.
OVERDUE_FACTOR = 1.5
DAYS_PER_MONTH = 30.44
_DURATION = re.compile(
    r"(\d+(?:\.\d+)?)(?:\s*(?:[-–—]|to)\s*(\d+(?:\.\d+)?))?\s*(months?|weeks?)", re.IGNORECASE
)


def upper_months(duration: str | None) -> float | None:
    """The largest month figure in a guide `duration` ("2–4 months ...; 4–6 months" -> 6).

    The guide quotes both sources' estimates, so the generous (largest) upper bound is
    the one a member must be well past before we ask what is blocking them. Weeks count
    as 7/30.44 of a month. None when the text names no duration.
    """
    if not duration:
        return None
    best: float | None = None
    for low, high, unit in _DURATION.findall(duration):
        value = float(high or low)
        if unit.lower().startswith("week"):
            value = value * 7 / DAYS_PER_MONTH
        best = value if best is None else max(best, value)
    return best


def slot_instant(day_in_week: date, weekday: int, hour: int, tz: tzinfo) -> datetime:
    """UTC instant of `weekday` at `hour`:00 local, in the ISO week containing `day_in_week`.

    zoneinfo resolves DST edges: an hour skipped in spring (02:00 in New York) maps to the
    same instant as 03:00 local; an hour repeated in autumn fires on its first occurrence.
    """
    monday = day_in_week - timedelta(days=day_in_week.weekday())
    local = datetime.combine(monday + timedelta(days=weekday), time(hour), tzinfo=tz)
    return local.astimezone(UTC)


def iso_week_of(day: date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def current_slot(now: datetime, weekday: int, hour: int, tz: tzinfo) -> tuple[str, datetime]:
    """(local ISO week label, UTC instant of this week's slot) for `now` in `tz`."""
    today = now.astimezone(tz).date()
    return iso_week_of(today), slot_instant(today, weekday, hour, tz)


def next_slot(now: datetime, weekday: int, hour: int, tz: tzinfo) -> datetime:
    """The first slot instant strictly after `now` (for "your next nudge is ...")."""
    _, this_week = current_slot(now, weekday, hour, tz)
    if this_week > now:
        return this_week
    return slot_instant(now.astimezone(tz).date() + timedelta(days=7), weekday, hour, tz)


@dataclass(frozen=True, slots=True)
class NextMilestone:
    id: str
    title: str
    section: str | None
    document_title: str | None


@dataclass(frozen=True, slots=True)
class NudgeFacts:
    """Everything a nudge may mention, gathered at one instant."""

    phase_number: int | None
    phase_name: str | None
    phase_duration: str | None
    milestones_done: int
    milestones_total: int
    next_milestone: NextMilestone | None
    minutes_last_7: int
    minutes_prev_7: int
    streak_days: int
    days_since_last_log: int | None  # None: never logged
    member_age_days: int
    days_in_phase: int | None  # since the first sign of activity in the current phase


@dataclass(frozen=True, slots=True)
class Nudge:
    kind: NudgeKind
    text: str


def nudge_kind(facts: NudgeFacts) -> NudgeKind:
    stalled = (
        facts.days_since_last_log >= STALL_DAYS
        if facts.days_since_last_log is not None
        else facts.member_age_days >= STALL_DAYS
    )
    if stalled:
        return "stall"
    months = upper_months(facts.phase_duration)
    if (
        months is not None
        and facts.days_in_phase is not None
        and facts.milestones_done < facts.milestones_total
        and facts.days_in_phase > months * DAYS_PER_MONTH * OVERDUE_FACTOR
    ):
        return "blocked"
    return "weekly"


def _pointer(m: NextMilestone) -> str:
    where = f"the guide's section “{m.section}”" if m.section else "the guide"
    if m.document_title:
        where += f" in “{m.document_title}”"
    return f"Next milestone: **{m.title}** (`{m.id}`). It is covered in {where}."


def _trend(facts: NudgeFacts) -> str:
    last, prev = facts.minutes_last_7, facts.minutes_prev_7
    head = f"Last 7 days: {fmt_minutes(last)} (the 7 before: {fmt_minutes(prev)})"
    if last > prev:
        return head + ", up. Nice."
    if last < prev:
        return head + ", down a little; a steady rhythm beats big weeks."
    return head + "."


def _tick_hint(milestone: NextMilestone, front_end: FrontEnd) -> str:
    if front_end == "discord":
        return "tick it in `/roadmap` when it feels solid."
    return f"tick it with `/milestone {milestone.id} done` when it feels solid."


def _suggestion(facts: NudgeFacts, front_end: FrontEnd) -> str:
    if facts.phase_number is None:
        return (
            "Suggestion: pick your phase with `/phase` so I can point you at the right milestones."
        )
    if facts.next_milestone is None:
        return (
            "Suggestion: you have ticked every milestone of this phase; read the next "
            "phase's overview and move on with `/phase`."
        )
    target = max(90, min(600, round(max(facts.minutes_last_7, facts.minutes_prev_7) * 1.1)))
    sessions = max(2, min(5, target // 45))
    return (
        f"Suggestion for this week: {plural(sessions, 'session')}, "
        f"about {fmt_minutes(target)} in total, "
        f"on “{facts.next_milestone.title}”; {_tick_hint(facts.next_milestone, front_end)}"
    )


def compose_nudge(facts: NudgeFacts, front_end: FrontEnd = "console") -> Nudge:
    """The weekly message for one member: weekly, stall or 'what is blocking you?'.

    `front_end` picks the commands the text tells the member to run.
    """
    kind = nudge_kind(facts)
    lines: list[str] = []
    if kind == "stall":
        gap = facts.days_since_last_log
        lines.append(
            f"It has been {plural(gap, 'day')} since your last study log. "
            "No guilt: restarting small works."
            if gap is not None
            else "You have not logged any study time yet. The first session is the hardest."
        )
        log_it = "`/log 25 topic`" if front_end == "console" else "`/log` (25 minutes)"
        if facts.next_milestone is not None:
            lines.append(
                f"Try one 25-minute session on **{facts.next_milestone.title}** this week "
                f"and log it with {log_it}."
            )
        else:
            lines.append(f"Try one 25-minute session this week and log it with {log_it}.")
        return Nudge(kind, "\n".join(lines))
    if facts.phase_name is not None:
        lines.append(
            f"You are in {facts.phase_name}: {facts.milestones_done}/{facts.milestones_total} "
            "milestones done."
        )
    if kind == "blocked":
        months = upper_months(facts.phase_duration)
        lines.append(
            f"You have been in this phase for about {plural(facts.days_in_phase, 'day')}; "
            "the guide "
            f"estimates up to {months:g} months. That is fine, everyone's pace differs, but "
            "what is blocking you? Ask me about it (`/ask`) or share it with the server."
        )
    lines.append(_trend(facts))
    if facts.streak_days:
        lines.append(f"Streak: {plural(facts.streak_days, 'day')}.")
    if facts.next_milestone is not None:
        lines.append(_pointer(facts.next_milestone))
    lines.append(_suggestion(facts, front_end))
    return Nudge(kind, "\n".join(lines))
