"""Console community commands (/nudge, /nudges, /challenge) on a real database."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
import time_machine
from sqlalchemy import func, select

from bot.console.community import (
    COMMUNITY_COMMANDS,
    CommunityContext,
    dispatch,
    sync_community_commands,
)
from bot.services.bundle import build_progress_services
from storage.models import Challenge


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.fixture
def ctx(sessionmaker, guide) -> CommunityContext:
    return CommunityContext(build_progress_services(sessionmaker, guide))


NOW = utc(2026, 3, 3, 12)


async def run(ctx: CommunityContext, line: str, when: datetime = NOW) -> str:
    with time_machine.travel(when, tick=False):
        reply = await dispatch(ctx, line)
    assert reply is not None
    return reply


def test_registry_help() -> None:
    assert set(COMMUNITY_COMMANDS) == {"/nudge", "/nudges", "/challenge", "/digest"}
    assert all(text.startswith(name) for name, (_, text) in COMMUNITY_COMMANDS.items())


async def test_nudge_settings_and_preview(ctx) -> None:
    assert "Nudges are off" in await run(ctx, "/nudge preview")
    reply = await run(ctx, "/nudges on friday 9 channel")
    assert "Friday at 09:00" in reply
    assert "by channel" in reply
    assert "Monday at 18:00" in await run(ctx, "/nudges on 0 18 dm")
    reply = await run(ctx, "/nudges on")
    assert "Monday at 18:00" in reply  # a pinned slot stays pinned
    assert "Next one: Monday 18:00 (UTC), 2026-03-09 18:00 UTC" in await run(ctx, "/nudge preview")
    assert "0 to 23" in await run(ctx, "/nudges on monday 24")
    assert "Unknown weekday 'someday'" in await run(ctx, "/nudges on someday 9")
    assert "Usage" in await run(ctx, "/nudges maybe")
    assert await run(ctx, "/nudges off") == "Weekly nudges are off."
    assert "Server default: Wednesday at 07:00" in await run(ctx, "/nudges default wednesday 7")
    assert "Monday at 18:00" in await run(ctx, "/nudges on")  # pinned earlier: kept
    newcomer = CommunityContext(ctx.services, user_id=2)
    assert "Wednesday at 07:00" in await run(newcomer, "/nudges on")  # follows the default
    assert "0 to 23" in await run(ctx, "/nudges default monday 30")
    assert "will not name you" in await run(ctx, "/digest hide")
    assert "Usage" in await run(ctx, "/digest maybe")


async def test_challenge_lifecycle(ctx, sessionmaker) -> None:
    bad = await run(ctx, '/challenge create "x" minutes 0 2026-03-02 2026-03-08')
    assert "above 0" in bad
    bad = await run(ctx, '/challenge create "x" minutes 10 2026-03-08 2026-03-02')
    assert "must be after the start" in bad
    long_name = "n" * 500
    assert "500 characters" in await run(
        ctx, f"/challenge create {long_name} minutes 10 2026-03-02 2026-03-08"
    )
    async with sessionmaker() as session:
        assert (await session.execute(select(func.count()).select_from(Challenge))).scalar() == 0
    created = await run(
        ctx, '/challenge create "Sprint" minutes 60 2026-03-02 2026-03-08 after-join'
    )
    assert created.startswith("Created Sprint (#1)")
    assert "only after joining" in created
    assert "from 2026-03-02 to 2026-03-08" in created  # the last day as entered
    assert "You joined Sprint" in await run(ctx, "/challenge join")
    assert "already joined" in await run(ctx, "/challenge join sprint")
    status = await run(ctx, "/challenge status")
    assert "You: [--------------------] 0m / 1h, #1" in status
    assert "you                      0m" in status  # standings carry their unit
    assert "to 2026-03-08" in status
    assert "You left Sprint" in await run(ctx, "/challenge leave")
    assert "not in Sprint" in await run(ctx, "/challenge leave")
    assert "Sprint is cancelled" in await run(ctx, "/challenge cancel 1")
    assert "Only server admins" in await run(
        CommunityContext(ctx.services, is_admin=False),
        '/challenge create "Y" minutes 5 2026-03-02 2026-03-08',
    )


def test_sync_adapter_runs_on_one_loop(ctx) -> None:
    with asyncio.Runner() as runner:
        table = sync_community_commands(ctx, runner)
        assert table["/nudge"][0]("later") == "Usage: /nudge preview"
