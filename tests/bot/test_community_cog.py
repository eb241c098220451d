"""CommunityCog (/nudge, /nudges, /digest, the scheduler loop) and ChallengeCog, on real
services."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import timedelta
from unittest.mock import MagicMock

import discord
import pytest
from discord import app_commands

import bot.discord.cogs.community as community_module
from bot.discord.cogs.challenges import ChallengeCog
from bot.discord.cogs.community import CommunityCog, DiscordSender
from bot.discord.context import BotServices
from bot.services.bundle import build_progress_services
from bot.services.challenges import NotAllowed
from bot.services.delivery import Pacing
from bot.services.errors import ValidationError
from bot.services.scheduler import WorkReport
from knowledge.content import Guide
from tests.bot.helpers import ALICE, BOB, GUILD, make_interaction, sent_kwargs
from tests.storage.support import FakeClock


@pytest.fixture
def cog(bot: MagicMock, services: BotServices) -> CommunityCog:
    return CommunityCog(bot, services)


async def test_builds_its_services_and_a_discord_sender(cog: CommunityCog) -> None:
    assert isinstance(cog.scheduler._sender, DiscordSender)
    assert cog.scheduler._pacing == Pacing(5, 10.0)


async def test_pacing_comes_from_the_services(bot: MagicMock, services: BotServices) -> None:
    services.pacing = Pacing(2, 30.0)
    assert CommunityCog(bot, services).scheduler._pacing == Pacing(2, 30.0)


async def test_nudges_on_then_preview(cog: CommunityCog) -> None:
    interaction = make_interaction(client=cog.bot)
    await cog.nudges.callback(cog, interaction, True, 4, 9, "dm")
    reply = sent_kwargs(interaction.response.send_message)
    assert reply["ephemeral"] is True
    assert "Friday at 09:00" in str(reply["content"])
    assert str(reply["content"]).endswith(", by direct message.")
    preview = make_interaction(client=cog.bot)
    await cog.nudge.callback(cog, preview)
    text = str(sent_kwargs(preview.response.send_message)["content"])
    assert "Next one: <t:" in text
    assert text.endswith("by direct message.")


async def test_nudge_preview_points_to_roadmap_not_the_console_command(
    cog: CommunityCog, services: BotServices
) -> None:
    await services.progress.phases.set_phase(GUILD, ALICE, 1)
    preview = make_interaction(client=cog.bot)
    await cog.nudge.callback(cog, preview)
    text = str(sent_kwargs(preview.response.send_message)["content"])
    assert "tick it in `/roadmap`" in text
    assert "/milestone" not in text


async def test_hour_out_of_range_is_a_clear_error(cog: CommunityCog) -> None:
    with pytest.raises(ValidationError, match="0 to 23"):
        await cog.nudges.callback(cog, make_interaction(client=cog.bot), True, None, 24, None)


@pytest.fixture
def challenges(bot: MagicMock, services: BotServices) -> ChallengeCog:
    return ChallengeCog(bot, services)


ADMIN = discord.Permissions(manage_guild=True)


async def test_challenge_create_needs_manage_server(challenges: ChallengeCog) -> None:
    cog = challenges
    args = ("Sprint", "minutes", 100, "2026-03-05", "2026-03-12")
    with pytest.raises(NotAllowed):
        await cog.create.callback(cog, make_interaction(client=cog.bot), *args)
    admin = make_interaction(client=cog.bot, permissions=ADMIN)
    await cog.create.callback(cog, admin, *args)
    created = str(sent_kwargs(admin.response.send_message)["content"])
    assert "Created **Sprint**" in created
    assert "from 2026-03-05 to 2026-03-12 (UTC)" in created  # the last day as entered
    joiner = make_interaction(client=cog.bot)
    await cog.join.callback(cog, joiner, None)
    assert "You joined **Sprint**" in str(sent_kwargs(joiner.response.send_message)["content"])
    status = make_interaction(client=cog.bot)
    await cog.status.callback(cog, status, "sprint")
    box = sent_kwargs(status.response.send_message)["embed"]
    assert isinstance(box, discord.Embed)
    assert f"<@{ALICE}>" in str(box.fields[-1].value)


def test_admin_challenge_commands_are_hidden_from_members(challenges: ChallengeCog) -> None:
    groups = {g.name: g for g in challenges.get_app_commands()}
    admin = groups["challenge-admin"]
    assert isinstance(admin, app_commands.Group)
    assert admin.default_permissions == discord.Permissions(manage_guild=True)
    assert {c.name for c in admin.commands} == {"create", "end", "cancel"}
    member = groups["challenge"]
    assert isinstance(member, app_commands.Group)
    assert member.default_permissions is None
    assert {c.name for c in member.commands} == {"join", "leave", "status"}


@pytest.mark.parametrize(
    ("metric", "logged", "mine", "goal"),
    [
        ("minutes", 45, "45m", "10h"),
        ("active_days", 1, "1 active day", "600 active days"),
    ],
)
async def test_challenge_status_shows_units_on_every_line(
    challenges: ChallengeCog,
    services: BotServices,
    clock: FakeClock,
    metric: str,
    logged: int,
    mine: str,
    goal: str,
) -> None:
    cog = challenges
    today = clock().date()
    args = ("Units", metric, 600, today.isoformat(), (today + timedelta(days=6)).isoformat())
    await cog.create.callback(cog, make_interaction(client=cog.bot, permissions=ADMIN), *args)
    for user in (ALICE, BOB):
        await cog.join.callback(cog, make_interaction(client=cog.bot, user_id=user), "Units")
    await services.progress.study.log(GUILD, ALICE, 45, "numpy")
    await services.progress.study.log(GUILD, BOB, 90, "pandas")
    status = make_interaction(client=cog.bot)
    await cog.status.callback(cog, status, "Units")
    box = sent_kwargs(status.response.send_message)["embed"]
    fields = {f.name: str(f.value) for f in box.fields}  # type: ignore[union-attr]
    assert fields["You"].endswith(f"{mine} / {goal} · #{2 if metric == 'minutes' else 1}")
    bob_figure = "1h 30m" if metric == "minutes" else "1 active day"
    standings = fields["Standings"].splitlines()
    assert any(line.endswith(f"<@{BOB}> {bob_figure}") for line in standings)
    assert any(line.endswith(f"<@{ALICE}> {mine}") for line in standings)


async def test_loop_runs_due_work_and_survives_errors(cog: CommunityCog, monkeypatch) -> None:
    calls: list[int] = []

    async def boom() -> None:
        calls.append(GUILD)
        raise RuntimeError("database went away")

    monkeypatch.setattr(cog.scheduler, "run_due_work", boom)
    await cog.due_work.coro(cog)  # one iteration: logs, does not raise
    assert calls == [GUILD]


async def test_loop_picks_up_a_reloaded_guide(cog: CommunityCog, services: BotServices) -> None:
    before = cog.scheduler
    await cog.due_work.coro(cog)
    assert cog.scheduler is before  # nothing changed: same scheduler (and its pacing state)
    progress = services.progress
    reloaded = Guide(progress.guide.documents, progress.guide.content_hash)  # a new object
    fresh = build_progress_services(progress.sessionmaker, reloaded)
    services.progress = fresh  # what /admin reload does
    await cog.due_work.coro(cog)
    assert cog.scheduler is not before
    assert cog.scheduler._guide is fresh.guide


async def test_digest_opt_out_is_stored(cog: CommunityCog, services: BotServices) -> None:
    def opted_out(export: dict) -> bool:
        [member] = export["tables"]["members"]
        return bool(member["digest_opt_out"])

    hide = make_interaction(client=cog.bot)
    await cog.digest.callback(cog, hide, "hide")
    assert sent_kwargs(hide.response.send_message)["ephemeral"] is True
    assert opted_out(await services.progress.privacy.export(GUILD, ALICE))
    await cog.digest.callback(cog, make_interaction(client=cog.bot), "show")
    assert not opted_out(await services.progress.privacy.export(GUILD, ALICE))


async def test_unloading_lets_the_delivery_in_hand_finish(cog: CommunityCog, monkeypatch) -> None:
    """SIGTERM unloads the cogs: a minute's work already sending is let finish (so its
    result is recorded, not left as "sending" and skipped for good), then the loop stops."""
    started, release, finished = asyncio.Event(), asyncio.Event(), []

    async def sending() -> WorkReport:
        started.set()
        await release.wait()
        finished.append(True)
        return WorkReport()

    monkeypatch.setattr(cog.scheduler, "run_due_work", sending)
    iteration = asyncio.create_task(cog.due_work.coro(cog))
    await started.wait()
    unload = asyncio.create_task(cog.cog_unload())
    await asyncio.sleep(0.05)
    assert not unload.done()  # waiting for the work in hand
    release.set()
    await asyncio.wait_for(unload, timeout=2)
    await iteration
    assert finished == [True]


async def test_unloading_gives_up_on_work_that_outlasts_the_grace(
    cog: CommunityCog, monkeypatch
) -> None:
    monkeypatch.setattr(community_module, "SHUTDOWN_GRACE", 0.1)
    started = asyncio.Event()

    async def stuck() -> WorkReport:
        started.set()
        await asyncio.sleep(60)
        return WorkReport()

    monkeypatch.setattr(cog.scheduler, "run_due_work", stuck)
    iteration = asyncio.create_task(cog.due_work.coro(cog))
    await started.wait()
    await asyncio.wait_for(cog.cog_unload(), timeout=2)  # bounded: stop stays under 5 s
    iteration.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await iteration


async def test_unloading_while_idle_does_not_wait(cog: CommunityCog) -> None:
    await asyncio.wait_for(cog.cog_unload(), timeout=0.5)
