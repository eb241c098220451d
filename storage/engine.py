"""Engine and session factories, plus the one place transactions are opened.

Nothing here runs at import time: the composition root calls `make_engine(url)` once.

SQLite specifics, and why:
- WAL journal so readers never block the writer and vice versa; `synchronous=NORMAL`
  (safe with WAL: a power cut may lose the last commits, never corrupt the file).
- `foreign_keys=ON` so member-owned rows cascade and orphan rows are impossible.
- A busy timeout so concurrent writers *wait* for the lock instead of failing.
- pysqlite's implicit transaction handling is switched off and we emit BEGIN ourselves:
  write transactions use BEGIN IMMEDIATE, which takes the write lock up front. With a
  deferred BEGIN, a transaction that reads and then writes can fail with SQLITE_BUSY
  without waiting when another writer committed in between (the busy handler cannot help
  because its snapshot is stale). Read-only transactions keep a deferred BEGIN so they
  never queue behind writers.
"""

from __future__ import annotations

import asyncio
import threading
import weakref
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import URL, Connection, Engine, make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from storage.errors import UnsupportedDatabaseURL

SQLITE_BUSY_TIMEOUT_MS = 30_000
# The async drivers installed with the package; any other URL is refused up front.
SUPPORTED_DRIVERS = frozenset({("sqlite", "aiosqlite"), ("postgresql", "asyncpg")})
_WRITE_OPTION = "mentor_write"
_WRITE_LOCKS: weakref.WeakKeyDictionary[Engine, asyncio.Lock] = weakref.WeakKeyDictionary()
_THREADS_BEFORE: weakref.WeakKeyDictionary[Engine, set[threading.Thread]] = (
    weakref.WeakKeyDictionary()
)
_THREAD_STOP_SECONDS = 2.0


def _prepare_sqlite_path(url: URL) -> None:
    """Create the parent directory of a file database (first run on a fresh machine)."""
    database = url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)


def _install_sqlite_hooks(engine: AsyncEngine) -> None:
    sync_engine = engine.sync_engine

    @event.listens_for(sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Disable pysqlite's own BEGIN handling; `_on_begin` issues BEGIN explicitly.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
            cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute("PRAGMA synchronous = NORMAL")
            cursor.execute("PRAGMA foreign_keys = ON")
        finally:
            cursor.close()

    @event.listens_for(sync_engine, "begin")
    def _on_begin(connection: Connection) -> None:
        write = connection.get_execution_options().get(_WRITE_OPTION, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


def is_sqlite(engine: AsyncEngine) -> bool:
    return engine.dialect.name == "sqlite"


def make_engine(
    url: str | URL,
    *,
    connect_args: Mapping[str, Any] | None = None,
    **engine_kwargs: Any,
) -> AsyncEngine:
    """Create the async engine for `url` (sqlite+aiosqlite:// or postgresql+asyncpg://).

    `connect_args` and `engine_kwargs` pass through to SQLAlchemy (tests use them, e.g.
    to pin a PostgreSQL `search_path` to a per-test schema).
    """
    parsed = make_url(url)
    # From the URL's text: asking SQLAlchemy for the driver would import it (or fail to).
    backend, _, driver = parsed.drivername.partition("+")
    if (backend, driver) not in SUPPORTED_DRIVERS:
        raise UnsupportedDatabaseURL(parsed.drivername)
    args = dict(connect_args or {})
    if parsed.get_backend_name() == "sqlite":
        _prepare_sqlite_path(parsed)
        # aiosqlite's own timeout is also the busy timeout; keep them consistent.
        args.setdefault("timeout", SQLITE_BUSY_TIMEOUT_MS / 1000)
    else:
        engine_kwargs.setdefault("pool_pre_ping", True)
    engine = create_async_engine(parsed, connect_args=args, **engine_kwargs)
    if engine.dialect.name == "sqlite":
        _install_sqlite_hooks(engine)
        _THREADS_BEFORE[engine.sync_engine] = _driver_threads()
    return engine


def _driver_threads() -> set[threading.Thread]:
    """aiosqlite's per-connection worker threads (named after their target function)."""
    return {t for t in threading.enumerate() if "_connection_worker_thread" in t.name}


async def dispose_engine(engine: AsyncEngine) -> None:
    """Dispose `engine` and let the driver threads it started finish while the loop lives.

    When aiosqlite fails to open a file (read-only directory, missing file), it queues the
    worker thread's stop and returns at once; if the event loop closes before that thread
    runs, the thread dies with "RuntimeError: Event loop is closed" after our clear error.
    So a failed start-up waits (briefly, in a thread) for the workers created since the
    engine was made.
    """
    await engine.dispose()
    started = _driver_threads() - _THREADS_BEFORE.pop(engine.sync_engine, set())
    for thread in started:
        await asyncio.to_thread(thread.join, _THREAD_STOP_SECONDS)


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions that keep loaded values after commit (services return them as dataclasses)."""
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)


def _sqlite_write_lock(sessionmaker: async_sessionmaker[AsyncSession]) -> asyncio.Lock | None:
    """One in-process lock per SQLite engine, serialising this process's writers.

    SQLite admits one writer at a time anyway. Without this, concurrent writers wait in
    SQLite's busy handler, which polls in growing sleeps (up to 100 ms) and can leave the
    lock idle while they sleep, and each waiter pins a pooled connection; queueing on an
    asyncio.Lock hands the lock over at once, in FIFO order. The busy timeout still
    covers other processes (e.g. `mentor db upgrade` while the bot runs).
    """
    bind = sessionmaker.kw.get("bind")
    if not isinstance(bind, AsyncEngine) or bind.dialect.name != "sqlite":
        return None
    lock = _WRITE_LOCKS.get(bind.sync_engine)
    if lock is None:
        lock = _WRITE_LOCKS[bind.sync_engine] = asyncio.Lock()
    return lock


@asynccontextmanager
async def transaction(
    sessionmaker: async_sessionmaker[AsyncSession], *, write: bool
) -> AsyncIterator[AsyncSession]:
    """Open one transaction: commit on success, roll back on any exception.

    Services call this (never repositories), so one service call is one atomic unit.
    `write=True` takes SQLite's write lock up front (see module docstring and
    `_sqlite_write_lock`); on PostgreSQL the flag has no effect.
    """
    lock = _sqlite_write_lock(sessionmaker) if write else None
    if lock is None:
        async with sessionmaker.begin() as session:
            if write:
                await session.connection(execution_options={_WRITE_OPTION: True})
            yield session
        return
    async with lock, sessionmaker.begin() as session:
        await session.connection(execution_options={_WRITE_OPTION: True})
        yield session
