"""`mentor health`: is this bot actually serving? Read from the heartbeat the bot writes.

A container HEALTHCHECK that only asks "is the process alive" says healthy while the bot
sits disconnected from Discord or cannot reach its database. So the running bot writes a
small JSON heartbeat into the data directory every few seconds (`bot.discord.heartbeat`):
per gateway shard whether it is connected, whether the database answered a `SELECT 1`, and
whether the answer engine is loaded. `mentor health` reads it and prints one line per check.

With no fresh heartbeat (no bot running, or one that hung) the gateway is reported as not
connected, and the database and the index are checked directly instead, so a smoke run
without network still shows whether the install itself is sound.

This module never imports discord: the health command must stay cheap and work anywhere.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

HEARTBEAT_FILE = "heartbeat.json"
# The bot writes every HEARTBEAT_INTERVAL seconds; a heartbeat older than STALE_AFTER means
# the writer (hence the event loop) is stuck or gone: its claims are no longer believed.
HEARTBEAT_INTERVAL = 10.0
STALE_AFTER = 45.0
DATABASE_TIMEOUT = 5.0


@dataclass(frozen=True)
class Heartbeat:
    """What the bot last knew about itself, at `timestamp` (seconds since the epoch)."""

    timestamp: float
    pid: int
    # shard id (as a string: JSON keys) -> gateway connected
    shards: dict[str, bool] = field(default_factory=dict)
    database: bool = False
    database_error: str = ""
    index_loaded: bool = False

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> Heartbeat:
        data = json.loads(text)
        return cls(
            timestamp=float(data["timestamp"]),
            pid=int(data.get("pid", 0)),
            shards={str(k): bool(v) for k, v in dict(data.get("shards", {})).items()},
            database=bool(data.get("database", False)),
            database_error=str(data.get("database_error", "")),
            index_loaded=bool(data.get("index_loaded", False)),
        )


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str

    def line(self) -> str:
        return f"{self.name}: {'ok' if self.ok else 'FAIL'} ({self.detail})"


def heartbeat_path(data_dir: Path) -> Path:
    return data_dir / HEARTBEAT_FILE


def write_heartbeat(path: Path, beat: Heartbeat) -> None:
    """Atomically (write + rename), so a reader never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_text(beat.to_json() + "\n", encoding="utf-8")
    os.replace(temporary, path)


def read_heartbeat(path: Path) -> Heartbeat | None:
    try:
        return Heartbeat.from_json(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def gateway_check(beat: Heartbeat | None, now: float) -> Check:
    if beat is None:
        return Check("gateway", False, "not connected: no heartbeat (is the bot running?)")
    age = now - beat.timestamp
    if age > STALE_AFTER:
        return Check("gateway", False, f"not connected: last heartbeat {age:.0f} s ago")
    if not beat.shards:
        return Check("gateway", False, "not connected: no shard has connected yet")
    down = sorted(shard for shard, up in beat.shards.items() if not up)
    count = len(beat.shards)
    if down:
        return Check("gateway", False, f"not connected: shard(s) {', '.join(down)} of {count}")
    return Check("gateway", True, f"connected, {count} shard(s), heartbeat {age:.0f} s ago")


async def probe_database(url: str, limit: float = DATABASE_TIMEOUT) -> str | None:
    """None when the database answers `SELECT 1` within `limit` seconds, else why not."""
    from sqlalchemy import text

    from storage.engine import make_engine

    try:
        engine = make_engine(url)
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"
    try:
        async with asyncio.timeout(limit), engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
        return None
    except TimeoutError:
        return f"no answer within {limit:.0f} s"
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}".splitlines()[0]
    finally:
        await engine.dispose()


def index_check_on_disk(index_dir: Path, model: str | None) -> Check:
    """Without a running bot: the exported model verifies and a manifest with its index is
    there (what the bot would load; a stale index is rebuilt by it, not a failure)."""
    from knowledge.embedder import EmbedderError
    from knowledge.engine import check_embedder
    from knowledge.store import IndexStore

    try:
        check_embedder(index_dir, model)
    except EmbedderError as exc:
        return Check("index", False, str(exc))
    store = IndexStore(index_dir)
    manifest = store.read_manifest()
    if manifest is None or not store.index_path.is_file():
        return Check("index", False, f"no built index in {index_dir}: run `mentor index build`")
    return Check(
        "index", True, f"on disk, not loaded by a bot: {manifest.chunk_count} chunks in {index_dir}"
    )


def evaluate(
    beat: Heartbeat | None,
    *,
    now: float,
    database_url: str,
    index_dir: Path,
    model: str | None = None,
) -> list[Check]:
    """The three checks. A fresh heartbeat is trusted for all of them; otherwise the
    database and the index are examined here and the gateway counts as down."""
    gateway = gateway_check(beat, now)
    fresh = beat is not None and now - beat.timestamp <= STALE_AFTER
    if fresh and beat is not None:
        database = Check(
            "database",
            beat.database,
            "answering" if beat.database else f"not answering: {beat.database_error}",
        )
        index = Check(
            "index",
            beat.index_loaded,
            "loaded" if beat.index_loaded else "not loaded yet (warming up)",
        )
        return [gateway, database, index]
    problem = asyncio.run(probe_database(database_url))
    database = Check("database", problem is None, "answering" if problem is None else problem)
    return [gateway, database, index_check_on_disk(index_dir, model)]


def run_health(data_dir: Path, database_url: str, index_dir: Path, model: str | None) -> int:
    """Print one line per check; 0 when all pass, else 1 (a HEALTHCHECK's contract)."""
    beat = read_heartbeat(heartbeat_path(data_dir))
    checks = evaluate(
        beat, now=time.time(), database_url=database_url, index_dir=index_dir, model=model
    )
    for check in checks:
        print(check.line())
    healthy = all(check.ok for check in checks)
    print("healthy" if healthy else "unhealthy")
    return 0 if healthy else 1
