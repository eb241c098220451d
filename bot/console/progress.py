"""Progress commands for the offline console chat: /phase, /log, /progress, /streak, ...

Each handler takes a `ProgressContext` (the services plus the local guild and member) and
the argument string after the command, and returns the text to show. They never print or
read input, so the REPL, tests and (later) other front-ends reuse them as they are.
Handlers are async because the services are; `sync_progress_commands` adapts them to the
console's synchronous `(args) -> str` command table on one long-lived event loop.

Domain errors (`MentorError`) become their friendly message; nothing is half-stored,
because every service call is a single transaction that validates before writing.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.console.commands import bind_sync, guarded, split_args
from bot.console.commands import dispatch as dispatch_in
from bot.services.bundle import ProgressServices
from bot.services.errors import ValidationError
from bot.services.formatting import fmt_minutes, phase_name, plural
from bot.services.leaderboard import parse_period
from bot.services.parsing import is_whole_number, parse_whole_number, shown
from bot.services.progress import Checklist

LOCAL_GUILD_ID = 1
LOCAL_USER_ID = 1
_STATUS_MARK = {"done": "[x]", "learning": "[~]", "skipped": "[-]", None: "[ ]"}
_CHART_WIDTH = 24


@dataclass
class ProgressContext:
    """Who is typing: the console is one local member in one local guild."""

    services: ProgressServices
    guild_id: int = LOCAL_GUILD_ID
    user_id: int = LOCAL_USER_ID
    export_dir: Path = field(default_factory=Path.cwd)


Handler = Callable[[ProgressContext, str], Awaitable[str]]


def _parse_int(text: str, what: str, example: str) -> int:
    cleaned = text.strip()
    if len(cleaned) > 12 and is_whole_number(cleaned, max_digits=len(cleaned)):
        raise ValidationError(f"{what} {cleaned[:12]}... is far out of range.")
    message = f"{what} must be a whole number, e.g. `{example}`; got {shown(cleaned)!r}."
    return parse_whole_number(cleaned, message=message)


def _checklist_text(checklist: Checklist) -> str:
    phase = checklist.phase
    head = phase_name(phase)
    if phase.duration:
        head += f" ({phase.duration})"
    lines = [head, f"{checklist.done}/{checklist.total} milestones done"]
    for item in checklist.items:
        lines.append(f"  {_STATUS_MARK.get(item.status, '[?]')} {item.id}  {item.title}")
    if not checklist.items:
        lines.append("  (this phase has no milestones in the guide)")
    lines.append("Mark one with `/milestone ID done|learning|skipped`.")
    return "\n".join(lines)


async def cmd_phase(ctx: ProgressContext, args: str) -> str:
    phases = ctx.services.phases
    if not args.strip():
        current = await phases.current(ctx.guild_id, ctx.user_id)
        listing = "\n".join(f"  /phase {p.number}  {phase_name(p)}" for p in phases.phases())
        mine = f"You are in {phase_name(current)}." if current else "No phase set yet."
        return f"{mine}\nPick yours:\n{listing}"
    number = _parse_int(args, "The phase", "/phase 1")
    info = await phases.set_phase(ctx.guild_id, ctx.user_id, number)
    return (
        f"You're now in {phase_name(info)}. "
        f"It has {plural(info.milestone_count, 'milestone')}; see `/roadmap {info.number}`."
    )


async def cmd_log(ctx: ProgressContext, args: str) -> str:
    usage = 'Usage: /log MINUTES TOPIC ["note"] [link], e.g. /log 45 backprop "did the exercises"'
    parts = split_args(args)
    if len(parts) < 2:
        return usage
    minutes = _parse_int(parts[0].removesuffix("min").removesuffix("m"), "Minutes", "/log 45 topic")
    topic, rest = parts[1], parts[2:]
    link = rest.pop() if rest and "://" in rest[-1] else None
    note = " ".join(rest) or None
    result = await ctx.services.study.log(ctx.guild_id, ctx.user_id, minutes, topic, note, link)
    log = result.log
    return (
        f"Logged {fmt_minutes(log.minutes)} of {log.topic}. "
        f"This week: {fmt_minutes(result.week_minutes)}. Undo with /undo."
    )


async def cmd_undo(ctx: ProgressContext, args: str) -> str:
    removed = await ctx.services.study.undo_last(ctx.guild_id, ctx.user_id)
    when = removed.logged_at.strftime("%Y-%m-%d %H:%M UTC")
    return f"Removed your last log: {fmt_minutes(removed.minutes)} of {removed.topic} ({when})."


async def cmd_progress(ctx: ProgressContext, args: str) -> str:
    s = await ctx.services.stats.summary(ctx.guild_id, ctx.user_id)
    periods = (
        ("This week: ", s.this_week),
        ("This month:", s.this_month),
        ("All time:  ", s.all_time),
    )
    lines = [
        f"{name} {fmt_minutes(t.minutes)} in {plural(t.sessions, 'session')}" for name, t in periods
    ]
    if s.topics:
        lines.append("Top topics:")
        lines += [f"  {t.topic}: {fmt_minutes(t.minutes)}" for t in s.topics[:5]]
    if s.phases:
        labels = {p.number: p.label for p in ctx.services.phases.phases()}  # e.g. "Phase 1"
        lines.append("By phase:")
        lines += [
            f"  {labels.get(p.phase, 'No phase') if p.phase is not None else 'No phase'}: "
            f"{fmt_minutes(p.minutes)}"
            for p in s.phases
        ]
    peak = max((w.minutes for w in s.weekly), default=0)
    lines.append(f"Last {len(s.weekly)} weeks ({s.timezone}):")
    for week in s.weekly:
        bar = "#" * (round(week.minutes / peak * _CHART_WIDTH) if peak else 0)
        lines.append(f"  {week.week_start:%b %d} {bar:<{_CHART_WIDTH}} {fmt_minutes(week.minutes)}")
    current = await ctx.services.phases.current(ctx.guild_id, ctx.user_id)
    if current is not None:
        checklist = await ctx.services.milestones.checklist(
            ctx.guild_id, ctx.user_id, current.number
        )
        lines.append(f"{current.label}: {checklist.done}/{checklist.total} milestones done")
    return "\n".join(lines)


async def cmd_streak(ctx: ProgressContext, args: str) -> str:
    streak = await ctx.services.stats.streak(ctx.guild_id, ctx.user_id)
    if streak.longest == 0:
        return "No study logs yet. Start a streak with `/log 25 something`."
    today = "" if streak.studied_today else " Log something today to keep it going."
    days = "day" if streak.current == 1 else "days"
    return (
        f"Current streak: {streak.current} {days}; longest: {streak.longest} "
        f"(days in {streak.timezone}).{today if streak.current else ''}"
    )


async def cmd_roadmap(ctx: ProgressContext, args: str) -> str:
    if args.strip():
        number = _parse_int(args, "The phase", "/roadmap 1")
        return _checklist_text(
            await ctx.services.milestones.checklist(ctx.guild_id, ctx.user_id, number)
        )
    overview = await ctx.services.milestones.overview(ctx.guild_id, ctx.user_id)
    lines = ["Roadmap:"]
    for p in overview.phases:
        marker = "->" if p.current else "  "
        lines.append(f"{marker} {phase_name(p.phase)}  {p.done}/{p.total} done")
    lines.append("See a phase's milestones with `/roadmap N`.")
    return "\n".join(lines)


async def cmd_milestone(ctx: ProgressContext, args: str) -> str:
    parts = split_args(args)
    if len(parts) != 2:
        return "Usage: /milestone ID done|learning|skipped (ids are listed by /roadmap N)."
    update = await ctx.services.milestones.set_status(ctx.guild_id, ctx.user_id, *parts)
    item = update.item
    state = item.status or "not started"
    return (
        f"{item.title} ({item.id}): {state}. "
        f"Phase {item.phase}: {update.phase_done}/{update.phase_total} done."
    )


async def cmd_leaderboard(ctx: ProgressContext, args: str) -> str:
    period = parse_period(args.strip() or "week")
    board = await ctx.services.leaderboard.leaderboard(
        ctx.guild_id, period, limit=10, user_id=ctx.user_id
    )
    title = {"week": "This week", "month": "This month", "all": "All time"}[period]
    if not board.entries:
        return f"{title}: nobody has logged study time yet."
    lines = [
        f"{title} ({fmt_minutes(board.total_minutes)} by {plural(board.active_members, 'member')}):"
    ]
    for e in board.entries:
        who = "you" if e.user_id == ctx.user_id else f"member {e.user_id}"
        lines.append(f"  #{e.rank:<3} {who:<24} {fmt_minutes(e.minutes)}")
    if board.you is not None and board.you.rank > len(board.entries):
        lines.append(f"  ...\n  #{board.you.rank:<3} {'you':<24} {fmt_minutes(board.you.minutes)}")
    return "\n".join(lines)


async def cmd_timezone(ctx: ProgressContext, args: str) -> str:
    profile = ctx.services.profile
    if not args.strip():
        current = await profile.get(ctx.guild_id, ctx.user_id)
        return f"Your timezone is {current.timezone}. Change it with `/timezone Europe/Berlin`."
    updated = await profile.set_timezone(ctx.guild_id, ctx.user_id, args.strip())
    return f"Timezone set to {updated.timezone}; days and weeks now follow it."


def _write_export(raw_target: str, default_dir: Path, name: str, data: dict[str, Any]) -> Path:
    """Resolve the target (a directory gets the default file name) and write the JSON."""
    target = Path(raw_target).expanduser() if raw_target else default_dir / name
    if target.is_dir():
        target = target / name
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", "utf-8")
    return target


async def cmd_export(ctx: ProgressContext, args: str) -> str:
    data = await ctx.services.privacy.export(ctx.guild_id, ctx.user_id)
    name = f"mle-mentor-export-{ctx.guild_id}-{ctx.user_id}.json"
    try:
        target = await asyncio.to_thread(_write_export, args.strip(), ctx.export_dir, name, data)
    except OSError as exc:
        return f"Could not write the export to {args.strip() or name}: {exc.strerror or exc}."
    except ValueError:  # e.g. a NUL byte, which no file system accepts in a path
        return f"Could not write the export to {args.strip()!r}: that is not a valid path."
    rows = sum(len(v) for v in data["tables"].values())
    return f"Exported {rows} rows of your data to {target}."


async def cmd_forget(ctx: ProgressContext, args: str) -> str:
    if args.strip().lower() != "yes":
        return (
            "This deletes ALL your data in this server (logs, milestones, settings) and "
            "cannot be undone. Type `/forget yes` to confirm; `/export` first to keep a copy."
        )
    result = await ctx.services.privacy.forget(ctx.guild_id, ctx.user_id)
    return f"Done: deleted {result.total} rows. You're a fresh start here."


PROGRESS_COMMANDS: dict[str, tuple[Handler, str]] = {
    "/phase": (guarded(cmd_phase), "/phase [N] — show the phases or set yours"),
    "/log": (
        guarded(cmd_log),
        '/log MINUTES TOPIC ["note"] [link] — record study time, e.g. /log 45 backprop',
    ),
    "/undo": (guarded(cmd_undo), "/undo — remove your last study log"),
    "/progress": (guarded(cmd_progress), "/progress — your totals, topics and 12-week chart"),
    "/streak": (guarded(cmd_streak), "/streak — your current and longest streak"),
    "/roadmap": (guarded(cmd_roadmap), "/roadmap [N] — the phases, or phase N's milestones"),
    "/milestone": (
        guarded(cmd_milestone),
        "/milestone ID done|learning|skipped — update a milestone",
    ),
    "/leaderboard": (guarded(cmd_leaderboard), "/leaderboard [week|month|all] — top members"),
    "/timezone": (guarded(cmd_timezone), "/timezone [NAME] — show or set your IANA timezone"),
    "/export": (guarded(cmd_export), "/export [path] — write all your data as JSON"),
    "/forget": (guarded(cmd_forget), "/forget yes — delete all your data here"),
}


async def dispatch(ctx: ProgressContext, line: str) -> str | None:
    """Run `line` if it is one of these commands; None if it is not."""
    return await dispatch_in(PROGRESS_COMMANDS, ctx, line)


def sync_progress_commands(
    ctx: ProgressContext, runner: asyncio.Runner
) -> dict[str, tuple[Callable[[str], str], str]]:
    """The table in the console's synchronous `(args) -> str` shape (one event loop)."""
    return bind_sync(PROGRESS_COMMANDS, ctx, runner)
