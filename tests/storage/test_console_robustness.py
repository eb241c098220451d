"""The console REPL survives any line, on a real database (SQLite file; PostgreSQL when set).

Drives the real loop (`console_session` + `run_console`): the real command table, the real
services and migrations, the deterministic fake embedder for questions. A failure that is
not the member's (a bug) must never show up as anything but one line, and generated input
must never produce one at all: the only errors it may meet are the domain's own.
"""

from __future__ import annotations

import logging
import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import strategies as st

from bot.console.commands import SOMETHING_WENT_WRONG
from bot.console.repl import Console, run_console
from bot.console.session import console_session
from bot.services.mentor import MentorService
from bot.settings import Settings
from knowledge.embedder import Embedder
from knowledge.engine import load_knowledge
from tests.fuzzing import MEMBER_TEXT, fuzz
from tests.helpers import write_guide
from tests.storage.conftest import DatabaseTarget

LOCKED = "The database is locked by another program"
READ_ONLY = "The database is read-only"


@pytest.fixture(scope="module")
def mentor(tmp_path_factory: pytest.TempPathFactory, real_embedder: Embedder) -> MentorService:
    """The real answer engine (bundled model) on a small guide."""
    root = tmp_path_factory.mktemp("console-guide")
    write_guide(root / "guide")
    kb = load_knowledge(root / "index", guide_dir=root / "guide", embedder=real_embedder)
    return MentorService(kb.retriever, kb.guide)


@pytest.fixture
def target(empty_db: DatabaseTarget, sqlite_template: Path) -> DatabaseTarget:
    """An empty PostgreSQL schema (the console migrates it) or a migrated SQLite file."""
    if empty_db.path is not None:
        empty_db.path.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(sqlite_template, empty_db.path)
    return empty_db


def _settings(url: str, data_dir: Path) -> Settings:
    return Settings(_env_file=None, database_url=url, mentor_data_dir=data_dir)  # type: ignore[call-arg]


class Chat:
    """One console session; `say` runs lines through the real REPL loop."""

    def __init__(self, console: Console) -> None:
        self.console = console

    def say(self, *lines: str) -> list[str]:
        self.console.running = True
        feed: Iterator[str] = iter(lines)
        out: list[str] = []

        def read(_prompt: str) -> str:
            line = next(feed, None)
            if line is None:
                raise EOFError
            return line

        assert run_console(self.console, read=read, write=out.append) == 0
        return out[1:]  # without the banner


def open_chat(target: DatabaseTarget, mentor: MentorService, tmp_path: Path, **extra: Any) -> Any:
    connect_args = {**target.connect_args, **extra}
    return console_session(
        _settings(target.url, tmp_path / "data"), mentor, connect_args=connect_args or None
    )


def _command_line(name: str, args: str) -> str:
    return f"{name} {args}"


COMMANDS = [
    "/phase", "/log", "/undo", "/progress", "/streak", "/roadmap", "/milestone",
    "/leaderboard", "/timezone", "/forget", "/nudge", "/nudges", "/digest", "/challenge",
    "/help", "/quit", "/nonsense",
]  # fmt: skip  # /export writes files: fuzzed separately, inside tmp_path
LINES = st.one_of(
    MEMBER_TEXT,
    st.builds(_command_line, st.sampled_from(COMMANDS), MEMBER_TEXT),
    st.builds(lambda n, t: f"/log {n} {t}", MEMBER_TEXT, MEMBER_TEXT),
    st.builds(lambda a, b: f"/nudges on {a} {b}", MEMBER_TEXT, MEMBER_TEXT),
    st.builds(lambda a, b: f"/nudges default {a} {b}", MEMBER_TEXT, MEMBER_TEXT),
    st.builds(
        lambda goal, flag: (
            f'/challenge create "Sprint" minutes {goal} 2026-03-02 2026-03-09 {flag}'
        ),
        MEMBER_TEXT,
        st.builds(lambda v: f"role={v}", MEMBER_TEXT),
    ),
    st.builds(lambda m, s: f"/milestone {m} {s}", MEMBER_TEXT, st.sampled_from(["done", "x"])),
)


def test_repl_survives_every_generated_line(
    target: DatabaseTarget,
    mentor: MentorService,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.chdir(tmp_path)
    caplog.set_level(logging.WARNING)
    with open_chat(target, mentor, tmp_path) as console:
        chat = Chat(console)

        @fuzz(st.lists(LINES, min_size=1, max_size=4))
        def lines_get_replies(lines: list[str]) -> None:
            replies = chat.say(*lines)
            assert SOMETHING_WENT_WRONG not in "\n".join(replies)

        lines_get_replies()
        # Still alive and still storing after everything the generator threw at it.
        assert "Logged 25m of docker" in "\n".join(chat.say("/log 25 docker"))
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


@pytest.mark.parametrize(
    ("line", "reply"),
    [
        ("/nudges on ² 9", "Unknown weekday"),
        ("/nudges on monday ²", "Unknown weekday '²'"),
        ("/nudges default mon ³", "The hour must be a whole number"),
        ("/nudges default ² 9", "Unknown weekday"),
        ("/log ² docker", "Minutes must be a whole number"),
        ("/phase ¹", "The phase must be a whole number"),
        ('/challenge create "Sprint" minutes ² 2026-03-02 2026-03-09', "goal must be a whole"),
        ('/challenge create "Sprint" minutes 600 2026-03-02 2026-03-09 role=²', "role id"),
        ("/challenge join ²", "No challenge called"),
        ("/log 30 caf\udce9", "Logged 30m of caf\ufffd"),
        ("how long is phase \udcff1?", "Phase 1"),
        ("/export out\x00.json", "not a valid path"),
    ],
)
def test_lines_that_used_to_end_the_chat(
    target: DatabaseTarget,
    mentor: MentorService,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    line: str,
    reply: str,
) -> None:
    monkeypatch.chdir(tmp_path)
    with open_chat(target, mentor, tmp_path) as console:
        replies = Chat(console).say(line, "/streak")
    assert reply in replies[0]
    assert "streak" in replies[1].lower()  # the chat carried on


def test_export_to_any_generated_path_is_a_reply(
    target: DatabaseTarget, mentor: MentorService, tmp_path: Path
) -> None:
    base = tmp_path / "exports"
    with open_chat(target, mentor, tmp_path) as console:
        chat = Chat(console)

        @fuzz(st.text(max_size=30), max_examples=50)
        def export_into(name: str) -> None:
            reply = "\n".join(chat.say(f"/export {base}/{name.replace('/', '_')}"))
            assert "Exported" in reply or "Could not write the export" in reply

        export_into()


def test_an_unexpected_error_is_one_line_and_a_logged_traceback(
    target: DatabaseTarget,
    mentor: MentorService,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    def broken(_args: str) -> str:
        raise KeyError("a bug")

    with open_chat(target, mentor, tmp_path) as console:
        console.commands["/broken"] = (broken, "")
        replies = Chat(console).say("/broken", "/log 20 sql")
    assert replies[0] == f"mentor> {SOMETHING_WENT_WRONG}\n"
    assert "Logged 20m of sql" in replies[1]
    [record] = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert record.exc_info is not None
    assert record.exc_info[0] is KeyError


def test_ctrl_c_during_a_command_stops_only_that_command(
    target: DatabaseTarget, mentor: MentorService, tmp_path: Path
) -> None:
    def interrupted(_args: str) -> str:
        raise KeyboardInterrupt

    with open_chat(target, mentor, tmp_path) as console:
        console.commands["/slow"] = (interrupted, "")
        replies = Chat(console).say("/slow", "/log 20 sql")
    assert "(Ctrl-C) Stopped that one" in replies[0]
    assert "Logged 20m of sql" in replies[1]


def _sqlite_count(path: Path) -> int:
    with sqlite3.connect(path) as conn:
        return conn.execute("SELECT count(*) FROM study_logs").fetchone()[0]


def test_a_database_locked_past_the_busy_timeout(
    target: DatabaseTarget,
    mentor: MentorService,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    backend: str,
) -> None:
    """Another program holds the write lock past the timeout: a clear reply, nothing lost."""
    if backend == "sqlite":
        monkeypatch.setattr("storage.engine.SQLITE_BUSY_TIMEOUT_MS", 200)
        extra: dict[str, Any] = {}
    else:
        extra = {
            "server_settings": {**target.connect_args["server_settings"], "lock_timeout": "200"}
        }
    with open_chat(target, mentor, tmp_path, **extra) as console:
        chat = Chat(console)
        assert "Logged 30m of docker" in chat.say("/log 30 docker")[0]
        with hold_write_lock(target):
            locked = chat.say("/log 45 kubernetes", "how long is phase 1?", "/progress")
            assert LOCKED in locked[0]
            assert "Phase 1" in locked[1]  # the chat goes on; reads still work
            assert "docker: 30m" in locked[2]
        after = chat.say("/log 15 sql", "/progress")
        assert "Logged 15m of sql" in after[0]
        assert "docker: 30m" in after[1]
        assert "sql: 15m" in after[1]
        assert "kubernetes" not in after[1]  # refused, so never acknowledged nor stored
    if target.path is not None:
        assert _sqlite_count(target.path) == 2


class hold_write_lock:
    """Take the database's write lock from another connection (another program)."""

    def __init__(self, target: DatabaseTarget) -> None:
        self.target = target
        self._release: Any = None

    def __enter__(self) -> None:
        if self.target.path is not None:
            conn = sqlite3.connect(self.target.path, isolation_level=None)
            conn.execute("BEGIN IMMEDIATE")
            self._release = lambda: (conn.execute("ROLLBACK"), conn.close())
            return
        import asyncio

        import asyncpg

        schema = self.target.connect_args["server_settings"]["search_path"]
        dsn = self.target.url.replace("postgresql+asyncpg", "postgresql")
        loop = asyncio.new_event_loop()

        async def lock() -> Any:
            conn = await asyncpg.connect(dsn, server_settings={"search_path": schema})
            await conn.execute("BEGIN; LOCK TABLE study_logs, members IN EXCLUSIVE MODE")
            return conn

        conn = loop.run_until_complete(lock())

        def release() -> None:
            loop.run_until_complete(conn.execute("ROLLBACK"))
            loop.run_until_complete(conn.close())
            loop.close()

        self._release = release

    def __exit__(self, *exc: object) -> None:
        self._release()


def test_a_read_only_database(
    target: DatabaseTarget,
    mentor: MentorService,
    tmp_path: Path,
    backend: str,
) -> None:
    """Reads work, every write is refused with a clear reply, and the chat goes on."""
    with open_chat(target, mentor, tmp_path) as console:
        assert "Logged 30m of docker" in Chat(console).say("/log 30 docker")[0]
    if backend == "sqlite":
        assert target.path is not None
        read_only = DatabaseTarget(
            "sqlite", f"sqlite+aiosqlite:///file:{target.path}?mode=ro&uri=true"
        )
        session = open_chat(read_only, mentor, tmp_path)
    else:
        settings = {**target.connect_args["server_settings"], "default_transaction_read_only": "on"}
        session = open_chat(target, mentor, tmp_path, server_settings=settings)
    with session as console:
        replies = Chat(console).say(
            "/log 45 kubernetes", "/phase 1", "/undo", "/progress", "what is docker?"
        )
    assert READ_ONLY in replies[0]
    assert READ_ONLY in replies[1]
    assert READ_ONLY in replies[2]
    assert "docker: 30m" in replies[3]
    assert "kubernetes" not in replies[3]
    assert replies[4].startswith("mentor> ")
    assert SOMETHING_WENT_WRONG not in "\n".join(replies)
