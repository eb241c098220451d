"""Console progress commands on a real SQLite file (and PostgreSQL when configured)."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from bot.console.progress import (
    PROGRESS_COMMANDS,
    ProgressContext,
    dispatch,
    sync_progress_commands,
)
from storage.models import Member, StudyLog


@pytest.fixture
def ctx(services, tmp_path) -> ProgressContext:
    return ProgressContext(services, export_dir=tmp_path / "exports")


async def run(ctx: ProgressContext, line: str) -> str:
    reply = await dispatch(ctx, line)
    assert reply is not None, f"{line!r} is not a progress command"
    return reply


async def _count(sessionmaker, model) -> int:
    async with sessionmaker() as session:
        return (await session.execute(select(func.count()).select_from(model))).scalar_one()


def test_every_command_has_help() -> None:
    expected = {"/phase", "/log", "/undo", "/progress", "/streak", "/roadmap", "/milestone"}
    expected |= {"/leaderboard", "/timezone", "/export", "/forget"}
    assert set(PROGRESS_COMMANDS) == expected
    assert all(help_text.startswith(name) for name, (_, help_text) in PROGRESS_COMMANDS.items())


async def test_a_study_session_end_to_end(ctx, clock) -> None:
    assert "No phase set yet" in await run(ctx, "/phase")
    assert "ML foundations" in await run(ctx, "/phase 1")
    reply = await run(ctx, '/log 45 backprop "did the exercises" https://example.com/x')
    assert reply.startswith("Logged 45m of backprop")
    assert "This week: 45m" in reply
    assert "This week: 1h 15m" in await run(ctx, "/log 30m backprop")
    assert "Removed your last log: 30m of backprop" in await run(ctx, "/undo")

    progress = await run(ctx, "/progress")
    assert "This week:  45m in 1 session" in progress
    assert "backprop: 45m" in progress
    assert "Phase 1: 0/3 milestones done" in progress
    assert "Current streak: 1 day" in await run(ctx, "/streak")

    assert "p1-backprop" in await run(ctx, "/roadmap 1")
    reply = await run(ctx, "/milestone p1-backprop done")
    assert "done" in reply
    assert "1/3" in reply
    roadmap = await run(ctx, "/roadmap")
    assert "-> Phase 1: ML foundations  1/3 done" in roadmap
    assert "[x] p1-backprop" in await run(ctx, "/roadmap 1")

    board = await run(ctx, "/leaderboard")
    assert "#1" in board
    assert "you" in board
    assert "45m" in board
    assert "All time" in await run(ctx, "/leaderboard all")
    assert "Europe/Berlin" in await run(ctx, "/timezone europe/berlin")
    assert "Your timezone is Europe/Berlin" in await run(ctx, "/timezone")


async def test_export_and_forget(ctx, tmp_path, sessionmaker) -> None:
    await run(ctx, "/log 20 sql")
    reply = await run(ctx, "/export")
    assert "Exported" in reply
    files = list((tmp_path / "exports").glob("*.json"))
    assert len(files) == 1
    data = json.loads(files[0].read_text("utf-8"))
    assert data["tables"]["study_logs"][0]["topic"] == "sql"
    target = tmp_path / "mine.json"
    assert str(target) in await run(ctx, f"/export {target}")
    assert target.is_file()
    assert "Could not write" in await run(ctx, f"/export {files[0]}/nested/x.json")

    assert "/forget yes" in await run(ctx, "/forget")
    assert await _count(sessionmaker, StudyLog) == 1  # not without confirmation
    assert "deleted 2 rows" in await run(ctx, "/forget yes")
    assert await _count(sessionmaker, StudyLog) == 0
    assert await _count(sessionmaker, Member) == 0


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("/log", "Usage: /log"),
        ("/log 45", "Usage: /log"),
        ("/log abc backprop", "Minutes must be a whole number"),
        ("/log 4.5 backprop", "Minutes must be a whole number"),
        ("/log 0 backprop", "between 1 and 1440"),
        ("/log -5 backprop", "between 1 and 1440"),
        ("/log 100000 backprop", "between 1 and 1440"),
        ("/log " + "9" * 5000 + " backprop", "far out of range"),
        ('/log 30 "unclosed', "check your quotes"),
        ("/log 30 " + "t" * 101, "keep it to 100"),
        ('/log 30 t "' + "n" * 10_000 + '"', "10,000 characters; the limit is 1,000"),
        ("/log 30 t note ftp://example.com", "http(s) URL"),
        ('/log 30 "\'; DROP TABLE study_logs; --" x ftp://x', "http(s) URL"),
        ("/phase 9", "There is no phase 9"),
        ("/phase two", "The phase must be a whole number"),
        ("/phase 1; DROP TABLE members", "The phase must be a whole number"),
        ("/roadmap 7", "There is no phase 7"),
        ("/milestone p1-backprop", "Usage: /milestone"),
        ("/milestone p1-nope done", "There is no milestone 'p1-nope'"),
        ("/milestone p1-backprop finished", "Status must be one of"),
        ("/leaderboard yearly", "week, month or all"),
        ("/timezone Mars/Base", "not a timezone I know"),
        ("/timezone Europe/Berlim", "Did you mean: Europe/Berlin"),
        ("/undo", "no study logs to undo"),
    ],
)
async def test_bad_input_gets_a_clear_message_and_stores_nothing(
    ctx, sessionmaker, line, expected
) -> None:
    reply = await run(ctx, line)
    assert expected in reply
    assert len(reply) < 600  # the message never echoes a huge input back
    assert await _count(sessionmaker, StudyLog) == 0
    assert await _count(sessionmaker, Member) == 0


async def test_sql_looking_text_is_just_text(ctx) -> None:
    reply = await run(ctx, "/log 15 \"Robert'); DROP TABLE members;--\" \"1=1 OR ''=''\"")
    assert "Logged 15m of Robert'); DROP TABLE members;--" in reply
    assert "robert'); drop table members;--: 15m" in await run(ctx, "/progress")


async def test_unknown_lines_are_not_ours(ctx) -> None:
    assert await dispatch(ctx, "/help") is None
    assert await dispatch(ctx, "what is backprop?") is None


async def test_streak_and_progress_for_a_newcomer(ctx) -> None:
    assert "No study logs yet" in await run(ctx, "/streak")
    assert "All time:   0m in 0 sessions" in await run(ctx, "/progress")
    assert "nobody has logged" in await run(ctx, "/leaderboard month")


def test_sync_adapter_runs_on_one_event_loop(tmp_path, guide) -> None:
    """The console is synchronous: the adapter keeps one loop for the engine's lifetime."""
    from bot.services.bundle import build_progress_services
    from storage.engine import make_engine, make_sessionmaker
    from storage.migrate import upgrade

    url = f"sqlite+aiosqlite:///{tmp_path / 'console' / 'mentor.sqlite3'}"
    with asyncio.Runner() as runner:
        engine = make_engine(url)
        runner.run(upgrade(engine))
        services = build_progress_services(
            make_sessionmaker(engine), guide, lambda: datetime(2026, 3, 4, 12, tzinfo=UTC)
        )
        commands = sync_progress_commands(ProgressContext(services), runner)
        log, _help = commands["/log"]
        assert log("25 numpy").startswith("Logged 25m of numpy")
        assert "25m" in commands["/progress"][0]("")
        runner.run(engine.dispose())
