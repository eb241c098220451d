"""Kill the scheduler process between each step of a delivery, then restart it.

A real child process dies with `os._exit` (no rollback, no cleanup) after the claim,
after the send intent, or after the send (before the mark); a fresh scheduler then runs.
Outcomes: after the claim -> sent exactly once; after the intent or after the send ->
recorded as skipped ("outcome unknown", the documented at-most-once window), delivered
at most once. Never a duplicate, never a silent skip. SQLite file and PostgreSQL.
"""

from __future__ import annotations

import asyncio
import json
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.services.nudges import NudgeService
from bot.services.scheduler import UNKNOWN_OUTCOME, CommunityScheduler
from storage.models import NudgeDelivery
from tests.storage.community_support import FakeSender
from tests.storage.conftest import GUIDE_FILES
from tests.storage.support import ALICE, GUILD, FakeClock

ROOT = Path(__file__).resolve().parents[2]
SLOT = datetime(2026, 3, 9, 18, 0, tzinfo=UTC)


@pytest.mark.parametrize("stage", ["claimed", "sending", "after-send"])
async def test_killed_process_then_restart(
    stage, empty_db, engine, sessionmaker, guide, tmp_path
) -> None:
    guide_dir = tmp_path / "guide"
    guide_dir.mkdir()
    for name, body in GUIDE_FILES.items():
        (guide_dir / name).write_text(body, encoding="utf-8")
    await NudgeService(sessionmaker, guide, FakeClock(SLOT - timedelta(days=30))).set_preferences(
        GUILD, ALICE, enabled=True
    )
    outbox = tmp_path / "outbox.txt"
    config = {
        "url": empty_db.url,
        "connect_args": empty_db.connect_args,
        "now": SLOT.isoformat(),
        "stage": stage,
        "guide": str(guide_dir),
        "outbox": str(outbox),
    }
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.storage.nudge_child",
        json.dumps(config),
        cwd=ROOT,
        stderr=asyncio.subprocess.PIPE,
    )
    _, stderr = await asyncio.wait_for(child.communicate(), 120)
    assert child.returncode == 9, stderr.decode()[-2000:]
    delivered_by_child = outbox.read_text().splitlines() if outbox.exists() else []
    assert len(delivered_by_child) == (1 if stage == "after-send" else 0)

    sender = FakeSender()
    for minutes in (1, 11, 60):  # restart at once, after the stale timeout, later on
        clock = FakeClock(SLOT + timedelta(minutes=minutes))
        await CommunityScheduler(sessionmaker, guide, sender, clock).run_due_work()
    async with sessionmaker() as session:
        (row,) = (await session.execute(select(NudgeDelivery))).scalars().all()
    total = len(delivered_by_child) + len(sender.delivered)
    if stage == "claimed":
        assert row.status == "sent"
        assert total == 1
    else:
        assert (row.status, row.error) == ("skipped", UNKNOWN_OUTCOME)
        assert total == len(delivered_by_child)
