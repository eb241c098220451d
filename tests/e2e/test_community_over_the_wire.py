"""Study challenges, scheduler channel posts and the DM-closed notice over the wire.

The real bot against discord-digital-twin, as in test_over_the_wire.py. The scheduler's
once-a-minute loop is paused for this module and `run_due_work` is driven with chose
instants instead: the loop would otherwise run on the wall clock and race the assertions
(the claim protocol makes that harmless for delivery, but not for "nothing yet at 11:59").
Every instant is today (UTC), the day the test runs, so the ISO week matches the wall
clock and the loop finds nothing left to do when it resumes.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import suppress
from datetime import UTC, datetime, time, timedelta
from typing import Any

import pytest
import pytest_asyncio
from sqlalchemy import delete

from bot.discord.cogs.community import CommunityCog
from bot.services.nudges import DM_CLOSED_NOTICE
from bot.services.scheduler import CommunityScheduler
from storage.models import DigestDelivery
from tests.e2e.conftest import RunningBot, Twin

pytestmark = pytest.mark.asyncio(loop_scope="package")

# Application command option types (Discord API).
SUB_COMMAND, STRING, INTEGER, BOOLEAN, CHANNEL = 1, 3, 4, 5, 7
EPHEMERAL = 64
TODAY = datetime.now(UTC).date()


def opt(name: str, kind: int, value: Any) -> dict[str, Any]:
    return {"name": name, "type": kind, "value": value}


def sub(name: str, *options: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"name": name, "type": SUB_COMMAND, "options": list(options)}]


def at(hour: int, minute: int) -> datetime:
    return datetime.combine(TODAY, time(hour, minute), tzinfo=UTC)


async def wait_for(
    twin: Twin, channel: str, after: str, match: Callable[[dict[str, Any]], bool]
) -> dict[str, Any]:
    """The first bot message in `channel` after `after` that matches (polls the twin)."""
    for _ in range(150):
        for message in await twin.messages_by_bot(channel, after):
            if match(message):
                return message
        await asyncio.sleep(0.05)
    raise AssertionError(f"no matching bot message in #{channel}")


async def channel_posts(
    twin: Twin, match: Callable[[str], bool], after_seq: int = -1
) -> list[dict[str, Any]]:
    """The JSON bodies of the channel posts discord.py sent whose content matches, read
    from the HTTP requests themselves (the twin drops fields such as `allowed_mentions`)."""
    posts = await twin.sent_requests("POST", r"^/api/v10/channels/\d+/messages$", after_seq)
    return [p["body"] for p in posts if match(p["body"].get("content", ""))]


@pytest_asyncio.fixture(scope="module", loop_scope="package")
async def scheduler(running: RunningBot) -> AsyncIterator[CommunityScheduler]:
    """The running bot's own scheduler, with its minute loop paused (resumed afterwards)."""
    cog = running.bot.get_cog("Community")
    assert isinstance(cog, CommunityCog)
    task = cog.due_work.get_task()
    cog.due_work.cancel()
    if task is not None:
        with suppress(asyncio.CancelledError):
            await task
    try:
        yield cog.scheduler
    finally:
        guild = running.twin.guild_id
        assert running.services.config is not None
        await running.services.config.set_nudge_channel(guild, None)
        cog.due_work.start()


async def create_challenge(twin: Twin, name: str, goal: int = 120) -> dict[str, Any]:
    created = await twin.slash(
        "admin",
        "challenge-admin",
        sub(
            "create",
            opt("name", STRING, name),
            opt("metric", STRING, "minutes"),
            opt("goal", INTEGER, goal),
            opt("start", STRING, TODAY.isoformat()),
            opt("end", STRING, (TODAY + timedelta(days=13)).isoformat()),
        ),
    )
    [reply] = await twin.bot_messages(created)
    return reply


@pytest_asyncio.fixture(scope="module", loop_scope="package")
async def study_logs(running: RunningBot) -> dict[str, int]:
    """Carol logs 50 minutes and Dave 20, once per module: the challenge standings and the
    digest count them, so every test that reads them asks for this (and runs alone too)."""
    minutes_by_member = {"carol": 50, "dave": 20}
    for member, minutes in minutes_by_member.items():
        logged = await running.twin.slash(
            member, "log", [opt("minutes", INTEGER, minutes), opt("topic", STRING, "backprop")]
        )
        [confirmation] = await running.twin.bot_messages(logged)
        assert f"Logged **{minutes}m**" in confirmation["content"]
    return minutes_by_member


async def test_challenge_create_join_log_and_status(
    running: RunningBot, study_logs: dict[str, int]
) -> None:
    twin = running.twin
    reply = await create_challenge(twin, "Sprint")
    assert reply["content"].startswith("Created **Sprint**: 120 minutes")
    assert not reply.get("flags", 0) & EPHEMERAL  # the server sees the new challenge
    for member in study_logs:
        joined = await twin.slash(member, "challenge", sub("join", opt("name", STRING, "Sprint")))
        [ok] = await twin.bot_messages(joined)
        assert ok["content"] == "You joined **Sprint**. Good luck!"
    asked = await twin.slash("dave", "challenge", sub("status", opt("name", STRING, "Sprint")))
    [status] = await twin.bot_messages(asked)
    assert status["flags"] & EPHEMERAL
    box = status["embeds"][0]
    assert box["title"] == "Challenge: Sprint"
    fields = {f["name"]: f["value"] for f in box["fields"]}
    assert fields["You"].endswith("20m / 2h · #2")  # units on every line
    carol, dave = twin.user("carol"), twin.user("dave")
    lines = fields["Standings"].splitlines()
    assert lines[0].startswith("`#1")
    assert lines[0].endswith(f"<@{carol}> 50m")
    assert lines[1].startswith("`#2")
    assert lines[1].endswith(f"<@{dave}> 20m")
    # A second join is refused clearly and changes nothing.
    again = await twin.slash("dave", "challenge", sub("join", opt("name", STRING, "Sprint")))
    [refused] = await twin.bot_messages(again)
    assert "already" in refused["content"].lower()


async def test_scheduler_posts_in_the_nudge_channel(
    running: RunningBot, scheduler: CommunityScheduler, study_logs: dict[str, int]
) -> None:
    twin = running.twin
    nudges = twin.channel("nudges")
    configured = await twin.slash(
        "admin", "admin", sub("nudge-channel", opt("channel", CHANNEL, nudges)), channels=[nudges]
    )
    [ok] = await twin.bot_messages(configured)
    assert f"<#{nudges}>" in ok["content"]
    assert running.services.config is not None
    assert await running.services.config.nudge_channel(twin.guild_id) == int(nudges)
    chose = await twin.slash(
        "carol",
        "nudges",
        [
            opt("enabled", BOOLEAN, True),
            opt("weekday", INTEGER, TODAY.weekday()),
            opt("hour", INTEGER, 12),
            opt("via", STRING, "channel"),
        ],
    )
    [on] = await twin.bot_messages(chose)
    assert on["content"].endswith("in the server's nudge channel.")
    reply = await create_challenge(twin, "Kickoff", goal=60)
    assert "Kickoff" in reply["content"]
    last_day = (TODAY + timedelta(days=13)).isoformat()
    assert f"to {last_day} (UTC)" in reply["content"]  # the last day, as entered
    joined = await twin.slash("carol", "challenge", sub("join", opt("name", STRING, "Kickoff")))
    await twin.bot_messages(joined)
    carol = twin.user("carol")
    seq = await twin.last_seq()

    def is_nudge(message: dict[str, Any]) -> bool:
        return message["content"].startswith(f"<@{carol}> ")

    before = await scheduler.run_due_work(at(11, 59))  # the challenges started at 00:00
    assert "nudge" not in before.by_kind
    start = await wait_for(twin, "nudges", chose, lambda m: "Kickoff starts now!" in m["content"])
    assert f"Goal: 60 minutes by the end of {last_day} (UTC)." in start["content"]
    assert f"<@{carol}>: 50m" in start["content"]  # named in the standings ...
    [sent] = await channel_posts(twin, lambda text: "Kickoff starts now!" in text, seq)
    assert sent["allowed_mentions"] == {"parse": []}  # ... and not pinged
    assert not any(is_nudge(m) for m in await twin.messages_by_bot("nudges", chose))

    due = await scheduler.run_due_work(at(12, 1))  # carol's slot has passed
    assert due.by_kind.get("nudge") == 1
    nudge = await wait_for(twin, "nudges", chose, is_nudge)
    assert len(nudge["content"]) > len(f"<@{carol}> ")
    # The nudge she chose to get in the channel pings her, and only her.
    [sent] = await channel_posts(twin, lambda text: text.startswith(f"<@{carol}> "), seq)
    assert sent["allowed_mentions"] == {"parse": [], "users": [int(carol)]}
    later = await scheduler.run_due_work(at(12, 30))
    assert later.sent == 0
    posted = await twin.messages_by_bot("nudges", chose)
    assert sum(is_nudge(m) for m in posted) == 1  # exactly once this week
    assert sum("Kickoff starts now!" in m["content"] for m in posted) == 1


async def test_refused_dm_is_explained_on_the_next_command(
    running: RunningBot, scheduler: CommunityScheduler
) -> None:
    """The twin has no DM channel endpoint: `POST /users/@me/channels` answers 404, which
    the production sender maps to `forbidden` exactly as it maps Discord's 403 for closed
    DMs, so the refusal path runs for real up to the member's next command."""
    twin = running.twin
    chose = await twin.slash(
        "dave",
        "nudges",
        [
            opt("enabled", BOOLEAN, True),
            opt("weekday", INTEGER, TODAY.weekday()),
            opt("hour", INTEGER, 13),
            opt("via", STRING, "dm"),
        ],
    )
    [on] = await twin.bot_messages(chose)  # the preference is saved once the bot replied
    assert "Weekly nudges are on" in on["content"]
    report = await scheduler.run_due_work(at(13, 1))
    assert report.failed == 1
    prefs = await running.services.progress.nudges.preferences(
        twin.guild_id, int(twin.user("dave"))
    )
    assert prefs.dm_closed
    first = await twin.slash("dave", "streak")
    reply, notice = await twin.bot_messages(first, count=2)
    assert notice["content"] == DM_CLOSED_NOTICE
    assert notice["flags"] & EPHEMERAL
    assert reply["content"] != DM_CLOSED_NOTICE
    second = await twin.slash("dave", "streak")
    [only] = await twin.bot_messages(second)
    await asyncio.sleep(0.3)  # a notice would follow the reply within milliseconds
    assert [m["content"] for m in await twin.messages_by_bot("general", second)] == [
        only["content"]
    ]
    assert only["content"] != DM_CLOSED_NOTICE


async def test_weekly_digest_names_learners_without_pinging_them(
    running: RunningBot, scheduler: CommunityScheduler, study_logs: dict[str, int]
) -> None:
    """The digest goes once per week at the server's slot. This week's may have gone out in
    this module's earlier runs (the default slot, Monday 18:00, may have passed), at instants
    that can precede the members' logs, which carry the wall clock's time: such a digest
    counted none of them. So that delivery is forgotten, the slot moved to 00:00 today, and
    the digest made at an instant after the logs. It goes to the nudge channel, which the
    scheduler test sets over the wire; it is set here too, so that this test runs alone."""
    twin = running.twin
    assert running.services.config is not None
    await running.services.config.set_nudge_channel(twin.guild_id, int(twin.channel("nudges")))
    async with running.database.begin() as connection:
        await connection.execute(
            delete(DigestDelivery).where(DigestDelivery.guild_id == twin.guild_id)
        )
    await running.services.progress.nudges.set_guild_default(twin.guild_id, TODAY.weekday(), 0)
    seq = await twin.last_seq()
    await scheduler.run_due_work(max(at(14, 1), datetime.now(UTC) + timedelta(seconds=1)))
    [digest] = await channel_posts(twin, lambda text: "Weekly study digest" in text, seq)
    assert "Most active learners:" in digest["content"]
    assert f"<@{twin.user('carol')}>: 50m" in digest["content"]  # named ...
    assert digest["allowed_mentions"] == {"parse": []}  # ... but nobody is notified
