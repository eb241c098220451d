"""`mentor health`: the checks it derives from a heartbeat, and its fallbacks without one."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from bot.health import (
    STALE_AFTER,
    Heartbeat,
    evaluate,
    gateway_check,
    heartbeat_path,
    read_heartbeat,
    run_health,
    write_heartbeat,
)

NOW = 1_800_000_000.0


def beat(age: float = 1.0, **fields: object) -> Heartbeat:
    values: dict = {"shards": {"0": True}, "database": True, "index_loaded": True}
    values.update(fields)
    return Heartbeat(timestamp=NOW - age, pid=1, **values)


def test_a_heartbeat_round_trips_through_its_file(tmp_path: Path) -> None:
    path = heartbeat_path(tmp_path)
    original = beat(shards={"0": True, "1": False}, database=False, database_error="locked")
    write_heartbeat(path, original)
    assert read_heartbeat(path) == original
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # no temporary left behind


@pytest.mark.parametrize("content", [None, "", "{not json", '{"pid": 3}', "[]"])
def test_a_missing_or_garbled_heartbeat_reads_as_none(tmp_path: Path, content: str | None) -> None:
    path = heartbeat_path(tmp_path)
    if content is not None:
        path.write_text(content, encoding="utf-8")
    assert read_heartbeat(path) is None


def test_gateway_is_up_only_when_every_shard_is_connected_and_the_beat_is_fresh() -> None:
    assert gateway_check(beat(shards={"0": True, "1": True}), NOW).ok
    down = gateway_check(beat(shards={"0": True, "1": False}), NOW)
    assert not down.ok
    assert "shard(s) 1 of 2" in down.detail
    assert not gateway_check(beat(shards={}), NOW).ok
    stale = gateway_check(beat(age=STALE_AFTER + 1), NOW)
    assert not stale.ok
    assert "last heartbeat" in stale.detail
    missing = gateway_check(None, NOW)
    assert not missing.ok
    assert "no heartbeat" in missing.detail


def test_a_fresh_heartbeat_is_trusted_for_database_and_index(tmp_path: Path) -> None:
    checks = evaluate(
        beat(database=False, database_error="OperationalError: locked", index_loaded=False),
        now=NOW,
        database_url="postgresql+asyncpg://nowhere.invalid/db",  # never probed: beat is fresh
        index_dir=tmp_path,
    )
    assert [(c.name, c.ok) for c in checks] == [
        ("gateway", True),
        ("database", False),
        ("index", False),
    ]
    assert "locked" in checks[1].detail
    assert "warming up" in checks[2].detail


def test_without_a_bot_the_database_is_probed_and_a_missing_index_fails(tmp_path: Path) -> None:
    checks = evaluate(
        None,
        now=NOW,
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'mentor.sqlite3'}",
        index_dir=tmp_path / "index",
    )
    by_name = {c.name: c for c in checks}
    assert not by_name["gateway"].ok
    assert by_name["database"].ok
    assert not by_name["index"].ok
    assert "mentor index build" in by_name["index"].detail


def test_an_unreachable_database_is_reported_not_raised(tmp_path: Path) -> None:
    checks = evaluate(
        None,
        now=NOW,
        database_url="postgresql+asyncpg://mentor@127.0.0.1:1/mentor",  # nothing listens
        index_dir=tmp_path,
    )
    database = next(c for c in checks if c.name == "database")
    assert not database.ok
    assert "Error" in database.detail


def test_run_health_prints_one_line_per_check_and_exits_0_only_when_all_pass(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_heartbeat(heartbeat_path(tmp_path), Heartbeat(time.time(), 1, {"0": True}, True))
    assert run_health(tmp_path, "sqlite+aiosqlite://", tmp_path / "index", None) == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines == [
        lines[0],
        "database: ok (answering)",
        "index: FAIL (not loaded yet (warming up))",
        "unhealthy",
    ]
    assert lines[0].startswith("gateway: ok (connected, 1 shard(s)")
    write_heartbeat(
        heartbeat_path(tmp_path), Heartbeat(time.time(), 1, {"0": True}, True, "", True)
    )
    assert run_health(tmp_path, "sqlite+aiosqlite://", tmp_path / "index", None) == 0
    assert capsys.readouterr().out.splitlines()[-1] == "healthy"
