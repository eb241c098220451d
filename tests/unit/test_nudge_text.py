"""Pure nudge logic: duration parsing, weekly slots across DST, message variants, pacing."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from bot.services.delivery import Pacer, Pacing
from bot.services.errors import ValidationError
from bot.services.nudge_plan import candidate_weeks
from bot.services.nudge_text import (
    NextMilestone,
    NudgeFacts,
    compose_nudge,
    current_slot,
    next_slot,
    upper_months,
)
from bot.services.nudges import parse_hour, parse_weekday
from knowledge.content import load_guide

NY = ZoneInfo("America/New_York")


@pytest.mark.parametrize(
    ("text", "months"),
    [
        ("2–4 months (one source); 4–6 months including deep learning basics (the other)", 6),
        ("4-8 weeks", 8 * 7 / 30.44),
        ("3 months", 3),
        ("ongoing", None),
        (None, None),
    ],
)
def test_upper_months(text, months) -> None:
    assert upper_months(text) == (pytest.approx(months) if months is not None else None)


def test_every_phase_of_the_real_guide_has_a_parseable_duration() -> None:
    for phase in load_guide().phases:
        value = upper_months(phase.duration)
        assert value is not None, phase.number
        assert 1 <= value <= 12


def test_slots_across_new_york_dst() -> None:
    # Sunday 02:00 does not exist on 2026-03-08: it fires at 03:00 EDT (07:00 UTC).
    assert current_slot(datetime(2026, 3, 8, 12, tzinfo=UTC), 6, 2, NY) == (
        "2026-W10",
        datetime(2026, 3, 8, 7, tzinfo=UTC),
    )
    # 01:00 happens twice on 2026-11-01: the first one (EDT, 05:00 UTC).
    assert current_slot(datetime(2026, 11, 1, 12, tzinfo=UTC), 6, 1, NY)[1] == datetime(
        2026, 11, 1, 5, tzinfo=UTC
    )
    assert next_slot(datetime(2026, 3, 2, 23, tzinfo=UTC), 0, 18, NY) == datetime(
        2026, 3, 9, 22, tzinfo=UTC
    )


def test_candidate_weeks_around_monday_midnight() -> None:
    assert candidate_weeks(datetime(2026, 3, 11, 12, tzinfo=UTC)) == ("2026-W11",)
    assert candidate_weeks(datetime(2026, 3, 16, 0, tzinfo=UTC)) == ("2026-W11", "2026-W12")


def test_weekday_and_hour_parsing() -> None:
    assert [parse_weekday(v) for v in ("Mon", "sunday", 3, "4")] == [0, 6, 3, 4]
    assert parse_hour("23") == 23
    for bad in ("someday", "mo", 7, -1, True):
        with pytest.raises(ValidationError, match="weekday"):
            parse_weekday(bad)
    for bad in ("24", "-1", "noon", "99999"):
        with pytest.raises(ValidationError, match="0 to 23"):
            parse_hour(bad)


def facts(**overrides) -> NudgeFacts:
    base = {
        "phase_number": 1,
        "phase_name": "Phase 1: Foundations",
        "phase_duration": "2–4 months",
        "milestones_done": 1,
        "milestones_total": 4,
        "next_milestone": NextMilestone("p1-x", "Explain bias and variance", "Bias", "Phase 1"),
        "minutes_last_7": 200,
        "minutes_prev_7": 100,
        "streak_days": 3,
        "days_since_last_log": 1,
        "member_age_days": 60,
        "days_in_phase": 30,
    }
    base.update(overrides)
    return NudgeFacts(**base)


def test_weekly_variant_mentions_everything() -> None:
    nudge = compose_nudge(facts())
    assert nudge.kind == "weekly"
    for part in ("1/4 milestones", "3h 20m", "1h 40m", "up", "Streak: 3 days"):
        assert part in nudge.text
    assert "“Bias” in “Phase 1”" in nudge.text
    assert "/milestone p1-x done" in nudge.text


def test_discord_nudge_points_to_roadmap_not_the_console_command() -> None:
    """`/milestone` exists only in the console; in Discord milestones are ticked in /roadmap."""
    discord_text = compose_nudge(facts(), "discord").text
    assert "tick it in `/roadmap`" in discord_text
    assert "/milestone" not in discord_text
    assert compose_nudge(facts(), "console").text == compose_nudge(facts()).text
    stall = compose_nudge(facts(days_since_last_log=9), "discord").text
    assert "`/log` (25 minutes)" in stall
    assert "`/log 25 topic`" in compose_nudge(facts(days_since_last_log=9)).text


def test_stall_and_blocked_variants() -> None:
    assert compose_nudge(facts(days_since_last_log=7)).kind == "stall"
    assert compose_nudge(facts(days_since_last_log=None, member_age_days=3)).kind == "weekly"
    assert compose_nudge(facts(days_since_last_log=None, member_age_days=10)).kind == "stall"
    # 4 months upper estimate: "well past" is beyond 6 months (~183 days).
    assert compose_nudge(facts(days_in_phase=180)).kind == "weekly"
    blocked = compose_nudge(facts(days_in_phase=190))
    assert blocked.kind == "blocked"
    assert "what is blocking you?" in blocked.text
    assert compose_nudge(facts(days_in_phase=190, milestones_done=4)).kind == "weekly"


def test_pacer_allows_five_per_ten_seconds() -> None:
    clock = [0.0]
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)
        clock[0] += seconds

    async def go() -> None:
        pacer = Pacer(Pacing(), sleep=sleep, monotonic=lambda: clock[0])
        for _ in range(11):
            await pacer.wait()
            clock[0] += 0.5

    asyncio.run(go())
    assert waits == [pytest.approx(7.5), pytest.approx(7.5)]
