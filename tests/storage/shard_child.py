"""Child process for the shard kill test: one scheduler instance over a shard range.

Usage: python -m tests.storage.shard_child CONFIG_JSON. Runs passes at the given clock
until nothing is left, appending every delivery to the outbox; the parent SIGKILLs it
mid-run (a real kill: no cleanup, connections dropped, transactions cut).
"""

from __future__ import annotations

import asyncio
import json
import sys
from datetime import datetime
from pathlib import Path

from knowledge.content import load_guide
from storage.engine import make_engine, make_sessionmaker
from storage.sharding import ShardScope
from tests.storage.shard_support import FileSender, scheduler


async def main(config: dict) -> None:
    args = config["connect_args"]
    args["server_settings"] = {**args.get("server_settings", {}), "synchronous_commit": "off"}
    engine = make_engine(config["url"], connect_args=args, pool_pre_ping=False)
    scope = ShardScope.of(config["count"], config["ids"])
    sender = FileSender(Path(config["outbox"]), config["name"])
    instance = scheduler(
        make_sessionmaker(engine),
        load_guide(Path(config["guide"])),
        sender,
        datetime.fromisoformat(config["now"]),
        scope,
    )
    while (await instance.run_due_work()).sent:
        pass
    await engine.dispose()


if __name__ == "__main__":
    asyncio.run(main(json.loads(sys.argv[1])))
