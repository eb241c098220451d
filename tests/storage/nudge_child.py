"""Child process for the kill tests: runs one scheduler pass and dies hard at a stage.

Usage: python -m tests.storage.nudge_child CONFIG_JSON. `os._exit` skips every cleanup
(no rollback, no connection close, no finally), like a SIGKILL at that exact point.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from datetime import datetime
from pathlib import Path

from bot.services.delivery import OutgoingMessage, Pacing, SendOutcome
from bot.services.scheduler import CommunityScheduler
from knowledge.content import load_guide
from storage.engine import make_engine, make_sessionmaker


class FileSender:
    """Delivers by appending the message key to a file (fsynced: it survives the kill)."""

    def __init__(self, path: Path, die_after_send: bool) -> None:
        self.path = path
        self.die_after_send = die_after_send

    async def send(self, message: OutgoingMessage) -> SendOutcome:
        with self.path.open("a", encoding="utf-8") as out:
            out.write(message.key + "\n")
            out.flush()
            os.fsync(out.fileno())
        if self.die_after_send:
            os._exit(9)
        return SendOutcome.sent()

    async def grant_role(self, guild_id: int, user_id: int, role_id: int) -> SendOutcome:
        return SendOutcome.sent()


async def main(config: dict) -> None:
    engine = make_engine(config["url"], connect_args=config["connect_args"])
    now = datetime.fromisoformat(config["now"])
    stage = config["stage"]

    async def hook(name: str, key: tuple) -> None:
        if name == stage:
            os._exit(9)

    scheduler = CommunityScheduler(
        make_sessionmaker(engine),
        load_guide(Path(config["guide"])),
        FileSender(Path(config["outbox"]), stage == "after-send"),
        lambda: now,
        pacing=Pacing(messages=100, seconds=1),
        on_step=hook,
    )
    await scheduler.run_due_work()
    await engine.dispose()


if __name__ == "__main__":
    asyncio.run(main(json.loads(sys.argv[1])))
