"""The pure planning rule: who is due, and where a member's next_nudge_at moves.

The property that makes the stored bound safe: a member moved to `to` at `now` is not due
at any instant strictly between `now` and `to` (so nothing is missed by not reading them),
checked hour by hour over two weeks with DST changes, in extreme, part-hour and DST zones.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.services.nudge_plan import cached_zone, candidate_weeks, plan
from bot.services.nudge_text import current_slot
from storage.models import NUDGE_RECHECK
from storage.repositories.nudges import NudgeCandidate

ZONES = [
    "Etc/GMT+12",
    "Pacific/Kiritimati",
    "Asia/Kathmandu",
    "Pacific/Chatham",
    "America/New_York",
    "Europe/London",
    "Australia/Lord_Howe",
    "UTC",
]
SEEN = datetime(2026, 1, 1, tzinfo=UTC)


def candidate(
    tz: str = "UTC",
    weekday: int = 0,
    hour: int = 18,
    *,
    served: str | None = None,
    via: str = "dm",
    closed: bool = False,
    channel: int | None = None,
) -> NudgeCandidate:
    return NudgeCandidate(
        1, 2, tz, weekday, hour, via, closed, channel, served, NUDGE_RECHECK, SEEN
    )


def due_at(c: NudgeCandidate, at: datetime) -> bool:
    """The rule, restated: this local week's slot has passed and this week is unserved."""
    label, instant = current_slot(at, c.weekday, c.hour, cached_zone(c.timezone))
    return instant <= at and c.latest_week != label


def test_a_passed_unserved_slot_is_due_and_its_claim_moves_to_next_week() -> None:
    now = datetime(2026, 3, 9, 18, 0, tzinfo=UTC)  # Monday 18:00 UTC
    result = plan([candidate()], now)
    (d,) = result.due
    assert (d.iso_week, d.due_at, d.target) == ("2026-W11", now, "dm")
    assert result.moves == []
    assert d.then is not None
    assert d.then.to == datetime(2026, 3, 16, 18, 0, tzinfo=UTC)
    assert (d.then.seen_next, d.then.seen_updated) == (NUDGE_RECHECK, SEEN)


def test_not_due_members_move_to_the_slot_they_wait_for() -> None:
    now = datetime(2026, 3, 11, 12, 0, tzinfo=UTC)  # Wednesday
    later = candidate(weekday=4)  # Friday 18:00: this week's slot is still ahead
    served = candidate(served="2026-W11")  # Monday's nudge already claimed
    closed = candidate(closed=True)  # DMs closed, no channel route
    result = plan([later, served, closed], now)
    assert result.due == []
    assert [m.to for m in result.moves] == [
        datetime(2026, 3, 13, 18, 0, tzinfo=UTC),
        datetime(2026, 3, 16, 18, 0, tzinfo=UTC),
        datetime(2026, 3, 16, 18, 0, tzinfo=UTC),
    ]


def test_closed_dms_still_get_the_channel_route() -> None:
    now = datetime(2026, 3, 9, 18, 0, tzinfo=UTC)
    (d,) = plan([candidate(via="channel", closed=True, channel=42)], now).due
    assert (d.target, d.channel_id) == ("channel", 42)


def test_a_moved_member_is_never_due_before_the_value_it_is_moved_to() -> None:
    start = datetime(2026, 3, 2, 0, 7, tzinfo=UTC)  # US DST starts 8 March, EU 29 March
    checked = 0
    for step in range(0, 14 * 24, 17):
        now = start + timedelta(hours=step, minutes=step % 53)
        for name in ZONES:
            for weekday in (0, 3, 6):
                for hour in (2, 23):
                    label = current_slot(now, weekday, hour, cached_zone(name))[0]
                    for served in (None, label):
                        c = candidate(name, weekday, hour, served=served)
                        result = plan([c], now)
                        assert len(result.due) == due_at(c, now)
                        for move in result.moves:
                            assert move.to > now
                            # Every 2 h, and the minute before: the rule only changes at
                            # slot instants and midnights, and this lands between them.
                            probes = [move.to - timedelta(minutes=1)]
                            t = now + timedelta(minutes=59)
                            while t < move.to:
                                probes.append(t)
                                t += timedelta(hours=2)
                            for t in probes:
                                assert not due_at(c, t), (now, name, weekday, hour, t)
                            checked += 1
    assert checked > 500


def test_candidate_weeks_cover_every_zone() -> None:
    now = datetime(2026, 3, 15, 23, 0, tzinfo=UTC)  # Sunday night UTC: Monday in the east
    labels = candidate_weeks(now)
    for name in ZONES:
        assert current_slot(now, 0, 0, cached_zone(name))[0] in labels
