"""Weekly nudges on a real database: timing across timezones/DST, exactly once, crashes.

The clock is controlled with time-machine (the services use the real `utc_now`), never
with sleeps; the Sender is a fake that returns the same typed outcomes as the real one.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import select

from bot.services.delivery import Pacing, SendOutcome
from bot.services.nudges import DM_CLOSED_NOTICE, NudgeService
from bot.services.scheduler import UNKNOWN_OUTCOME, CommunityScheduler
from bot.services.study import StudyLogService
from storage.models import Member, NudgeDelivery
from tests.storage.community_support import Crash, FakeSender
from tests.storage.support import ALICE, BOB, GUILD


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


class Rig:
    """Scheduler + nudge service on the test database, with a recorded fake sleep."""

    def __init__(self, sessionmaker, guide, sender: FakeSender | None = None, **kwargs) -> None:
        self.sessionmaker = sessionmaker
        self.guide = guide
        self.sender = sender or FakeSender()
        self.sleeps: list[float] = []
        self.nudges = NudgeService(sessionmaker, guide)
        self.kwargs = kwargs

    async def _sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)

    def scheduler(self, **extra) -> CommunityScheduler:
        """A fresh scheduler: what a restarted process would build."""
        return CommunityScheduler(
            self.sessionmaker,
            self.guide,
            self.sender,
            sleep=self._sleep,
            monotonic=lambda: 0.0,
            **{"pacing": Pacing(messages=1000, seconds=1), **self.kwargs, **extra},
        )

    async def run_at(self, when: datetime, **extra):
        with time_machine.travel(when, tick=False):
            return await self.scheduler(**extra).run_due_work()

    async def rows(self):
        async with self.sessionmaker() as session:
            result = await session.execute(select(NudgeDelivery).order_by(NudgeDelivery.id))
            return list(result.scalars())


@pytest.fixture
def rig(sessionmaker, guide) -> Rig:
    return Rig(sessionmaker, guide)


async def enable(rig: Rig, user: int, tz: str = "UTC", **prefs) -> None:
    with time_machine.travel(utc(2026, 1, 1), tick=False):
        await rig.nudges.set_preferences(GUILD, user, enabled=True, **prefs)
        async with rig.sessionmaker.begin() as session:
            member = await session.get(Member, (GUILD, user))
            member.timezone = tz


@pytest.mark.parametrize(
    ("tz", "slot_utc"),
    [
        # Monday 18:00 local. New York: DST starts Sun 2026-03-08 (EDT, UTC-4).
        ("America/New_York", utc(2026, 3, 9, 22, 0)),
        ("Asia/Kolkata", utc(2026, 3, 9, 12, 30)),
        # Auckland is still on daylight time (NZDT, UTC+13) on 2026-03-09.
        ("Pacific/Auckland", utc(2026, 3, 9, 5, 0)),
    ],
)
async def test_nudge_fires_at_local_slot(rig: Rig, tz: str, slot_utc: datetime) -> None:
    await enable(rig, ALICE, tz)
    assert (await rig.run_at(slot_utc - timedelta(minutes=1))).sent == 0
    assert rig.sender.delivered == []
    assert (await rig.run_at(slot_utc)).sent == 1
    assert (await rig.run_at(slot_utc + timedelta(hours=30))).sent == 0  # once per week
    (message,) = rig.sender.delivered
    assert message.user_id == ALICE
    assert message.target == "dm"
    (row,) = await rig.rows()
    assert row.status == "sent"
    assert row.iso_week == "2026-W11"


async def test_dst_switches_in_new_york(rig: Rig) -> None:
    await enable(rig, ALICE, "America/New_York")
    # Before the March switch (EST, UTC-5): Monday 2026-03-02 18:00 = 23:00 UTC.
    assert (await rig.run_at(utc(2026, 3, 2, 22, 59))).sent == 0
    assert (await rig.run_at(utc(2026, 3, 2, 23, 0))).sent == 1
    # After it (EDT): 22:00 UTC.
    assert (await rig.run_at(utc(2026, 3, 9, 21, 59))).sent == 0
    assert (await rig.run_at(utc(2026, 3, 9, 22, 0))).sent == 1
    # November: clocks go back Sun 2026-11-01; Monday 11-02 18:00 EST = 23:00 UTC.
    assert (await rig.run_at(utc(2026, 11, 2, 22, 0))).sent == 0
    assert (await rig.run_at(utc(2026, 11, 2, 23, 0))).sent == 1
    assert [r.iso_week for r in await rig.rows()] == ["2026-W10", "2026-W11", "2026-W45"]


async def test_auckland_after_dst_ends_and_custom_slot(rig: Rig) -> None:
    # NZ daylight time ends Sun 2026-04-05; Friday 07:00 NZST (UTC+12) = Thu 19:00 UTC.
    await enable(rig, ALICE, "Pacific/Auckland", weekday="fri", hour=7)
    assert (await rig.run_at(utc(2026, 4, 9, 18, 59))).sent == 0
    assert (await rig.run_at(utc(2026, 4, 9, 19, 0))).sent == 1


async def test_catch_up_after_downtime_same_week_only(rig: Rig) -> None:
    await enable(rig, ALICE)
    await enable(rig, BOB, "Asia/Kolkata")
    # Bot down from Monday morning to Wednesday: both Monday slots were missed.
    report = await rig.run_at(utc(2026, 3, 11, 9, 0))
    assert report.sent == 2
    # Down for the whole next week: nothing from that week is sent afterwards.
    assert (await rig.run_at(utc(2026, 3, 23, 0, 30))).sent == 0
    assert {r.iso_week for r in await rig.rows()} == {"2026-W11"}


async def test_disabled_or_never_enabled_gets_nothing(rig: Rig) -> None:
    await enable(rig, ALICE)
    with time_machine.travel(utc(2026, 1, 2), tick=False):
        await rig.nudges.set_preferences(GUILD, ALICE, enabled=False)
        await StudyLogService(rig.sessionmaker, rig.guide).log(GUILD, BOB, 30, "sql")
    assert (await rig.run_at(utc(2026, 3, 12, 12, 0))).sent == 0
    assert await rig.rows() == []


async def test_guild_default_slot_applies_until_member_picks_one(rig: Rig) -> None:
    await enable(rig, ALICE)
    await enable(rig, BOB, hour=9)  # BOB pins Monday 09:00
    with time_machine.travel(utc(2026, 1, 1), tick=False):
        await rig.nudges.set_guild_default(GUILD, "wednesday", 7)
    assert (await rig.run_at(utc(2026, 3, 9, 9, 0))).sent == 1  # BOB only
    assert (await rig.run_at(utc(2026, 3, 11, 6, 59))).sent == 0
    assert (await rig.run_at(utc(2026, 3, 11, 7, 0))).sent == 1  # ALICE on the default
    assert [m.user_id for m in rig.sender.delivered] == [BOB, ALICE]


async def test_forbidden_marks_dm_closed_and_is_not_retried(rig: Rig) -> None:
    rig.sender.script = [SendOutcome.forbidden("Cannot send messages to this user")]
    await enable(rig, ALICE)
    report = await rig.run_at(utc(2026, 3, 9, 18, 0))
    assert (report.sent, report.failed) == (0, 1)
    assert rig.sender.calls == 1  # no retry on Forbidden
    (row,) = await rig.rows()
    assert row.status == "failed"
    assert "forbidden" in (row.error or "")
    assert (await rig.run_at(utc(2026, 3, 9, 19, 0))).sent == 0
    assert (await rig.run_at(utc(2026, 3, 16, 18, 0))).sent == 0  # next week: DMs closed
    assert rig.sender.calls == 1
    with time_machine.travel(utc(2026, 3, 16, 18, 1), tick=False):
        assert await rig.nudges.delivery_problem(GUILD, ALICE) == DM_CLOSED_NOTICE
        await rig.nudges.set_preferences(GUILD, ALICE, enabled=True, via="dm")  # fixed it
        assert await rig.nudges.delivery_problem(GUILD, ALICE) is None
    assert (await rig.run_at(utc(2026, 3, 16, 18, 2))).sent == 1


async def test_rate_limit_waits_retry_after_then_sends(rig: Rig) -> None:
    rig.sender.script = [SendOutcome.rate_limited(2.5)]
    await enable(rig, ALICE)
    report = await rig.run_at(utc(2026, 3, 9, 18, 0))
    assert report.sent == 1
    assert rig.sender.calls == 2
    assert 2.5 in rig.sleeps
    assert len(rig.sender.delivered) == 1


async def test_persistent_429_and_errors_are_retried_later_then_given_up(rig: Rig) -> None:
    rig.sender.script = [SendOutcome.rate_limited(30)] * 3 + [SendOutcome.error("503")] * 3
    await enable(rig, ALICE)
    start = utc(2026, 3, 9, 18, 0)
    report = await rig.run_at(start)
    assert (report.sent, report.retry_later) == (0, 1)
    assert rig.sender.calls == 3  # bounded tries inside one run
    (row,) = await rig.rows()
    assert (row.status, row.attempts) == ("claimed", 1)
    assert row.next_attempt_at == start + timedelta(seconds=30)
    assert (await rig.run_at(start + timedelta(seconds=10))).sent == 0
    assert rig.sender.calls == 3  # not yet due
    report = await rig.run_at(start + timedelta(seconds=31))
    assert report.retry_later == 1
    assert rig.sender.calls == 6
    assert (await rig.run_at(start + timedelta(hours=1))).sent == 1
    assert len(rig.sender.delivered) == 1


async def test_timeout_is_unknown_and_never_resent(rig: Rig) -> None:
    rig.sender.script = [SendOutcome.unknown("timed out")]
    await enable(rig, ALICE)
    report = await rig.run_at(utc(2026, 3, 9, 18, 0))
    assert (report.sent, report.skipped) == (0, 1)
    assert (await rig.run_at(utc(2026, 3, 9, 19, 0))).sent == 0
    (row,) = await rig.rows()
    assert row.status == "skipped"
    assert (row.error or "").startswith(UNKNOWN_OUTCOME)
    assert rig.sender.calls == 1


async def test_gives_up_after_max_attempts(rig: Rig) -> None:
    rig.sender.script = [SendOutcome.error("boom")] * 100
    await enable(rig, ALICE)
    when = utc(2026, 3, 9, 18, 0)
    for _ in range(4):
        await rig.run_at(when, pacing=Pacing(messages=100, seconds=1, tries=1, max_attempts=3))
        when += timedelta(hours=1)
    (row,) = await rig.rows()
    assert row.status == "failed"
    assert rig.sender.calls == 3
    assert rig.sender.delivered == []


@pytest.mark.parametrize("stage", ["claimed", "sending", "sent"])
async def test_crash_between_steps_never_duplicates_never_silently_skips(
    rig: Rig, stage: str
) -> None:
    """Kill the sender after each committed step, restart, and check the ledger.

    - after the claim: the restarted scheduler re-sends once the claim is stale (sent once);
    - after the send intent / after the send but before the mark: at-most-once. The
      message went out once (or not at all, if the crash came before the HTTP call) and
      the row says 'skipped' with the reason: never a duplicate, never a silent skip.
    """
    await enable(rig, ALICE)
    slot = utc(2026, 3, 9, 18, 0)

    async def die(name: str, key) -> None:
        if name == stage:
            raise Crash(name)

    with pytest.raises(Crash):
        await rig.run_at(slot, on_step=die)
    sent_before_crash = len(rig.sender.delivered)
    assert sent_before_crash == (1 if stage == "sent" else 0)
    # Restart at once: the claim is fresh, nobody touches it (no duplicate).
    assert (await rig.run_at(slot + timedelta(minutes=1))).sent == 0
    report = await rig.run_at(slot + timedelta(minutes=11))
    (row,) = await rig.rows()
    if stage == "claimed":
        assert report.sent == 1
        assert row.status == "sent"
        assert len(rig.sender.delivered) == 1
    else:
        assert report.skipped == 1
        assert (row.status, row.error) == ("skipped", UNKNOWN_OUTCOME)
        assert len(rig.sender.delivered) == sent_before_crash
    assert (await rig.run_at(slot + timedelta(hours=2))).sent == 0
    assert len(rig.sender.delivered) <= 1


async def test_task_cancelled_mid_send_is_not_resent(rig: Rig) -> None:
    rig.sender.block = asyncio.Event()
    await enable(rig, ALICE)
    slot = utc(2026, 3, 9, 18, 0)
    with time_machine.travel(slot, tick=False):
        task = asyncio.create_task(rig.scheduler().run_due_work())
        await asyncio.wait_for(rig.sender.entered.wait(), 10)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    rig.sender.block = None
    assert (await rig.run_at(slot + timedelta(minutes=11))).skipped == 1
    assert rig.sender.delivered == []
    assert rig.sender.calls == 1


async def test_two_schedulers_racing_send_once(rig: Rig) -> None:
    await enable(rig, ALICE)
    await enable(rig, BOB)
    with time_machine.travel(utc(2026, 3, 9, 18, 0), tick=False):
        await asyncio.gather(rig.scheduler().run_due_work(), rig.scheduler().run_due_work())
    assert sorted(m.user_id for m in rig.sender.delivered) == [ALICE, BOB]


async def test_channel_route_and_pacing_budget(rig: Rig, sessionmaker) -> None:
    from bot.services.guild_config import GuildConfigService

    await enable(rig, ALICE, via="channel")
    await enable(rig, BOB)
    with time_machine.travel(utc(2026, 1, 1), tick=False):
        await GuildConfigService(sessionmaker, rig.guide).set_nudge_channel(GUILD, 4242)
    report = await rig.run_at(utc(2026, 3, 9, 18, 0), per_run=1)
    assert report.sent == 1  # the budget: the rest waits for the next minute
    assert (await rig.run_at(utc(2026, 3, 9, 18, 1), per_run=1)).sent == 1
    routes = {m.user_id: (m.target, m.channel_id) for m in rig.sender.delivered}
    assert routes == {ALICE: ("channel", 4242), BOB: ("dm", None)}


async def test_preview_composes_now(rig: Rig) -> None:
    from bot.services.progress import MilestoneService, PhaseService

    with time_machine.travel(utc(2026, 3, 1, 12, 0), tick=False):
        await PhaseService(rig.sessionmaker, rig.guide).set_phase(GUILD, ALICE, 1)
        await StudyLogService(rig.sessionmaker, rig.guide).log(GUILD, ALICE, 40, "sql")
    with time_machine.travel(utc(2026, 3, 9, 12, 0), tick=False):
        study = StudyLogService(rig.sessionmaker, rig.guide)
        await study.log(GUILD, ALICE, 90, "backprop")
        await MilestoneService(rig.sessionmaker, rig.guide).set_status(
            GUILD, ALICE, "p1-backprop", "done"
        )
        preview = await rig.nudges.preview(GUILD, ALICE)
    assert preview.nudge.kind == "weekly"
    assert preview.next_at is None  # nudges are off
    text = preview.nudge.text
    assert "1/3 milestones done" in text
    assert "1h 30m" in text
    assert "40m" in text
    assert "Train a baseline with scikit-learn" in text  # next unticked milestone
    assert "Classical ML" in text  # ... and the guide section covering it
    with time_machine.travel(utc(2026, 3, 20, 12, 0), tick=False):
        stall = await rig.nudges.preview(GUILD, ALICE)
    assert stall.nudge.kind == "stall"
    assert "11 days" in stall.nudge.text
    assert "Train a baseline with scikit-learn" in stall.nudge.text


async def test_scheduled_nudge_points_to_the_roadmap_checklist(rig: Rig) -> None:
    """Delivered on Discord, where `/milestone` does not exist: `/roadmap` ticks milestones."""
    from bot.services.progress import PhaseService

    with time_machine.travel(utc(2026, 3, 1, 12, 0), tick=False):
        await PhaseService(rig.sessionmaker, rig.guide).set_phase(GUILD, ALICE, 1)
    with time_machine.travel(utc(2026, 3, 8, 12, 0), tick=False):
        await StudyLogService(rig.sessionmaker, rig.guide).log(GUILD, ALICE, 40, "sql")
    await enable(rig, ALICE, "UTC")
    assert (await rig.run_at(utc(2026, 3, 9, 18, 0))).sent == 1
    (message,) = rig.sender.delivered
    assert "tick it in `/roadmap`" in message.text
    assert "/milestone" not in message.text
    with time_machine.travel(utc(2026, 3, 9, 12, 0), tick=False):
        console = await rig.nudges.preview(GUILD, ALICE)  # the console keeps its command
    assert "`/milestone p1-" in console.nudge.text


async def test_blocked_variant_when_well_past_the_phase_estimate(rig: Rig) -> None:
    from bot.services.progress import MilestoneService, PhaseService

    # The test guide's phase 1 says "3 months": well past is beyond ~137 days.
    with time_machine.travel(utc(2025, 9, 1, 12), tick=False):
        await PhaseService(rig.sessionmaker, rig.guide).set_phase(GUILD, ALICE, 1)
        await MilestoneService(rig.sessionmaker, rig.guide).set_status(
            GUILD, ALICE, "p1-backprop", "learning"
        )
    with time_machine.travel(utc(2026, 1, 10, 12), tick=False):  # 131 days in
        await StudyLogService(rig.sessionmaker, rig.guide).log(GUILD, ALICE, 30, "x")
        assert (await rig.nudges.preview(GUILD, ALICE)).nudge.kind == "weekly"
    with time_machine.travel(utc(2026, 2, 1, 12), tick=False):  # 153 days in
        await StudyLogService(rig.sessionmaker, rig.guide).log(GUILD, ALICE, 30, "x")
        preview = await rig.nudges.preview(GUILD, ALICE)
    assert preview.nudge.kind == "blocked"
    assert "about 153 days" in preview.nudge.text
    assert "what is blocking you?" in preview.nudge.text


@pytest.mark.parametrize("stage", ["claimed", "sent"])
async def test_digest_crash_is_resent_or_recorded_never_doubled(rig: Rig, stage: str) -> None:
    from bot.services.guild_config import GuildConfigService
    from storage.models import DigestDelivery

    with time_machine.travel(utc(2026, 1, 1), tick=False):
        await GuildConfigService(rig.sessionmaker, rig.guide).set_nudge_channel(GUILD, 99)

    async def die(name: str, key) -> None:
        if name == stage:
            raise Crash(name)

    slot = utc(2026, 3, 9, 18, 0)
    with pytest.raises(Crash):
        await rig.run_at(slot, on_step=die)
    await rig.run_at(slot + timedelta(minutes=11))
    await rig.run_at(slot + timedelta(minutes=30))
    digests = [m for m in rig.sender.delivered if m.kind == "digest"]
    assert len(digests) == 1
    async with rig.sessionmaker() as session:
        (row,) = (await session.execute(select(DigestDelivery))).scalars().all()
    assert row.status == ("sent" if stage == "claimed" else "skipped")


async def test_a_nudge_that_cannot_be_composed_does_not_block_others(rig: Rig, monkeypatch) -> None:
    await enable(rig, ALICE)
    await enable(rig, BOB)
    real = NudgeService.compose

    async def broken(self, guild_id, user_id, now=None, **options):
        if user_id == ALICE:
            raise RuntimeError("bug")
        return await real(self, guild_id, user_id, now, **options)

    monkeypatch.setattr(NudgeService, "compose", broken)
    when = utc(2026, 3, 9, 18, 0)
    report = await rig.run_at(when, pacing=Pacing(messages=100, seconds=1, max_attempts=2))
    assert (report.sent, report.retry_later) == (1, 1)
    assert [m.user_id for m in rig.sender.delivered] == [BOB]
    report = await rig.run_at(when + timedelta(minutes=11), pacing=Pacing(max_attempts=2))
    assert report.failed == 1
    statuses = {r.user_id: (r.status, r.attempts) for r in await rig.rows()}
    assert statuses == {ALICE: ("failed", 1), BOB: ("sent", 1)}
