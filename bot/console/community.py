"""Community commands for the offline console: /nudge preview, /nudges, /challenge ...

Same shape as `bot.console.progress`: async handlers `(ctx, args) -> str`, a registry
with help texts, and `sync_community_commands` adapting them to the console's
synchronous table on the session's one event loop. The console user is the local
server's only member, so they are treated as its admin.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from bot.console.commands import bind_sync, guarded, split_args
from bot.console.commands import dispatch as dispatch_in
from bot.console.progress import LOCAL_GUILD_ID, LOCAL_USER_ID
from bot.services.bundle import ProgressServices
from bot.services.challenges import METRIC_UNITS, ChallengeStatus, fmt_progress, progress_bar
from bot.services.clock import WEEKDAY_NAMES
from bot.services.formatting import fmt_minutes, plural
from bot.services.nudges import parse_hour, parse_weekday
from bot.services.parsing import is_whole_number, parse_whole_number, shown

_BAR = 20


@dataclass
class CommunityContext:
    services: ProgressServices
    guild_id: int = LOCAL_GUILD_ID
    user_id: int = LOCAL_USER_ID
    is_admin: bool = True


Handler = Callable[[CommunityContext, str], Awaitable[str]]


async def cmd_nudge(ctx: CommunityContext, args: str) -> str:
    if args.strip().lower() not in ("", "preview"):
        return "Usage: /nudge preview"
    preview = await ctx.services.nudges.preview(ctx.guild_id, ctx.user_id)
    p = preview.preferences
    problem = await ctx.services.nudges.delivery_problem(ctx.guild_id, ctx.user_id)
    if preview.next_at is None:
        when = "Nudges are off; turn them on with `/nudges on`."
    else:
        when = (
            f"Next one: {WEEKDAY_NAMES[p.weekday].title()} {p.hour:02d}:00 ({p.timezone}), "
            f"{preview.next_at:%Y-%m-%d %H:%M} UTC, by {p.via}."
        )
    return f"{preview.nudge.text}\n\n{when}" + (f"\n{problem}" if problem else "")


async def cmd_nudges(ctx: CommunityContext, args: str) -> str:
    usage = (
        "Usage: /nudges on|off [weekday] [hour] [dm|channel], e.g. /nudges on friday 9 dm; "
        "admins: /nudges default WEEKDAY HOUR"
    )
    parts = split_args(args)
    if parts and parts[0].lower() == "default":
        if len(parts) != 3:
            return usage
        if not ctx.is_admin:
            return "Only server admins can change the server's default nudge time."
        await ctx.services.nudges.set_guild_default(ctx.guild_id, parts[1], parts[2])
        weekday_name = WEEKDAY_NAMES[parse_weekday(parts[1])].title()  # validated just above
        return (
            f"Server default: {weekday_name} at {parse_hour(parts[2]):02d}:00 in each member's own "
            "timezone (the weekly digest uses it in the server's timezone)."
        )
    if not parts or parts[0].lower() not in ("on", "off"):
        return usage
    weekday: str | None = None
    hour: str | None = None
    via: str | None = None
    numbers: list[str] = []
    for part in parts[1:]:
        word = part.lower()
        if word in ("dm", "channel"):
            via = word
        elif is_whole_number(word):
            numbers.append(word)
        else:
            weekday = word  # a name; the service validates it
    if len(numbers) > (1 if weekday is not None else 2):
        return usage
    if len(numbers) == 2:
        weekday, hour = numbers
    elif numbers:
        hour = numbers[0]
    prefs = await ctx.services.nudges.set_preferences(
        ctx.guild_id,
        ctx.user_id,
        enabled=parts[0].lower() == "on",
        weekday=weekday,
        hour=hour,
        via=via,
    )
    if not prefs.enabled:
        return "Weekly nudges are off."
    return (
        f"Weekly nudges are on: {WEEKDAY_NAMES[prefs.weekday].title()} at "
        f"{prefs.hour:02d}:00 your time ({prefs.timezone}), by {prefs.via}. "
        "See the next one with `/nudge preview`."
    )


def _status_text(status: ChallengeStatus, user_id: int) -> str:
    c = status.challenge
    unit = METRIC_UNITS[c.metric]
    lines = [
        f"{c.name} (#{c.id}): goal {c.goal} {unit}, from {c.first_day} to {c.last_day} "
        f"({c.timezone}; {c.status})"
    ]
    if status.you is not None:
        you = status.you
        if c.metric == "minutes":  # "1h / 10h", not "1h / 600"
            value, goal = fmt_minutes(you.progress), fmt_minutes(c.goal)
        else:
            value, goal = str(you.progress), f"{c.goal} {METRIC_UNITS[c.metric]}"
        lines.append(f"You: {progress_bar(you.progress, c.goal)} {value} / {goal}, #{you.rank}")
    elif not status.joined:
        lines.append("You have not joined; `/challenge join` to take part.")
    for board in status.boards:
        if board.league is not None:
            lines.append(f"League phase {board.league} ({plural(board.participants, 'member')}):")
        for s in board.top:
            who = "you" if s.user_id == user_id else f"member {s.user_id}"
            shown = fmt_progress(c.metric, s.progress)
            lines.append(f"  #{s.rank:<3} {who:<24} {shown}{' done' if s.completed else ''}")
        if board.you is not None and board.you.rank > len(board.top):
            lines.append(f"  ...\n  #{board.you.rank:<3} {'you':<24} {board.you.progress}")
    if not status.boards:
        lines.append("Nobody has joined yet.")
    return "\n".join(lines)


_CREATE_USAGE = (
    'Usage: /challenge create "NAME" minutes|active_days|milestones GOAL START END '
    "[role=ID] [leagues] [after-join], dates as 2026-03-02 (server timezone)"
)


async def cmd_challenge(ctx: CommunityContext, args: str) -> str:
    parts = split_args(args)
    if not parts:
        return "Usage: /challenge create|join|leave|status|end|cancel|list ..."
    action, rest = parts[0].lower(), parts[1:]
    ref = " ".join(rest) or None
    svc = ctx.services.challenges
    if action == "create":
        if len(rest) < 5:
            return _CREATE_USAGE
        name, metric, goal, start, end, *flags = rest
        role = None
        leagues = after_join = False
        for flag in flags:
            key, _, value = flag.lower().partition("=")
            if key == "role":
                role = parse_whole_number(
                    value,
                    message=f"role= takes a role id, e.g. role=123; got {shown(value)!r}.",
                    signed=False,
                    max_digits=20,
                )
            elif key == "leagues":
                leagues = True
            elif key == "after-join":
                after_join = True
            else:
                return f"Unknown option {flag[:30]!r}. {_CREATE_USAGE}"
        c = await svc.create(
            ctx.guild_id,
            ctx.user_id,
            is_admin=ctx.is_admin,
            name=name,
            metric=metric,
            goal=goal,
            start=start,
            end=end,
            completion_role_id=role,
            leagues=leagues,
            count_before_join=not after_join,
        )
        counts = "only after joining" if not c.count_before_join else "from the start date"
        return (
            f"Created {c.name} (#{c.id}): {c.goal} {METRIC_UNITS[c.metric]} from "
            f"{c.first_day} to {c.last_day} ({c.timezone}); progress "
            f"counts {counts}. Members join with `/challenge join`."
        )
    if action == "join":
        c = await svc.join(ctx.guild_id, ctx.user_id, ref)
        return f"You joined {c.name}. Check your place with `/challenge status`."
    if action == "leave":
        c = await svc.leave(ctx.guild_id, ctx.user_id, ref)
        return f"You left {c.name}."
    if action == "status":
        return _status_text(await svc.status(ctx.guild_id, ctx.user_id, ref), ctx.user_id)
    if action in ("end", "cancel"):
        close = svc.end if action == "end" else svc.cancel
        c = await close(ctx.guild_id, ref, is_admin=ctx.is_admin)
        return f"{c.name} is {'over' if action == 'end' else 'cancelled'}."
    if action == "list":
        open_ = await svc.list_open(ctx.guild_id)
        if not open_:
            return "No open challenges."
        return "\n".join(f"#{c.id} {c.name}: {c.goal} {METRIC_UNITS[c.metric]}" for c in open_)
    return "Usage: /challenge create|join|leave|status|end|cancel|list ..."


async def cmd_digest(ctx: CommunityContext, args: str) -> str:
    choice = args.strip().lower()
    if choice not in ("show", "hide"):
        return "Usage: /digest show|hide — whether the weekly digest may name you"
    await ctx.services.nudges.set_digest_opt_out(ctx.guild_id, ctx.user_id, choice == "hide")
    if choice == "hide":
        return "The weekly digest will not name you among the most active learners."
    return "The weekly digest may name you among the most active learners."


COMMUNITY_COMMANDS: dict[str, tuple[Handler, str]] = {
    "/nudge": (guarded(cmd_nudge), "/nudge preview — your next weekly nudge, now"),
    "/nudges": (
        guarded(cmd_nudges),
        "/nudges on|off [weekday] [hour] [dm|channel] — weekly nudge settings",
    ),
    "/digest": (guarded(cmd_digest), "/digest show|hide — may the weekly digest name you"),
    "/challenge": (
        guarded(cmd_challenge),
        "/challenge create|join|leave|status|end|cancel|list — study challenges",
    ),
}


async def dispatch(ctx: CommunityContext, line: str) -> str | None:
    """Run `line` if it is one of these commands; None if it is not."""
    return await dispatch_in(COMMUNITY_COMMANDS, ctx, line)


def sync_community_commands(
    ctx: CommunityContext, runner: asyncio.Runner
) -> dict[str, tuple[Callable[[str], str], str]]:
    """The table in the console's synchronous `(args) -> str` shape (one event loop)."""
    return bind_sync(COMMUNITY_COMMANDS, ctx, runner)
