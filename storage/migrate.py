"""Run the schema migrations shipped inside this package.

`await upgrade(url_or_engine)` is what `mentor db upgrade`, the bot and the console call at
start. Alembic is configured programmatically (script location resolved from this file),
so it works from any working directory and from an installed wheel.

Before migrating, the database's revision is checked against the revisions this code
ships; an unknown one means a newer release wrote it, and we raise
`DatabaseNewerThanCode` rather than run old code against a schema it does not understand.
"""

from __future__ import annotations

import logging
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import URL, Connection
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from storage.engine import dispose_engine, make_engine
from storage.errors import DatabaseNewerThanCode

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
# Serialises concurrent upgrades of one PostgreSQL database (e.g. two bot replicas).
_PG_LOCK_KEY = 0x6D656E746F72  # "mentor"


def alembic_config(url: str | None = None) -> Config:
    """An Alembic `Config` pointing at the packaged migrations (no alembic.ini needed)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR).replace("%", "%%"))
    config.set_main_option("path_separator", "os")
    if url:
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def _script() -> ScriptDirectory:
    return ScriptDirectory.from_config(alembic_config())


def head_revision() -> str:
    """The newest revision this code ships."""
    head = _script().get_current_head()
    if head is None:  # pragma: no cover - the package always ships revisions
        raise RuntimeError("no migrations found in " + str(MIGRATIONS_DIR))
    return head


def _current_heads(connection: Connection) -> tuple[str, ...]:
    return tuple(MigrationContext.configure(connection).get_current_heads())


def _refuse_newer(connection: Connection) -> None:
    known = {rev.revision for rev in _script().walk_revisions()}
    for revision in _current_heads(connection):
        if revision not in known:
            raise DatabaseNewerThanCode(revision, head_revision())


def _run_command(connection: Connection, action: str, revision: str) -> None:
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_LOCK_KEY})
    _refuse_newer(connection)
    config = alembic_config()
    config.attributes["connection"] = connection
    if action == "upgrade":
        command.upgrade(config, revision)
    else:
        command.downgrade(config, revision)


def _sqlite_foreign_keys(connection: Connection, *, on: bool) -> None:
    """Foreign keys off while SQLite migrates: Alembic's batch mode copies a table and drops
    the original, and with foreign keys on, dropping `members` cascade-deletes every row
    that points at a member (deliveries, logs, milestones)."""
    cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(f"PRAGMA foreign_keys = {'ON' if on else 'OFF'}")
    finally:
        cursor.close()


def _refuse_orphans(connection: Connection) -> None:
    """With the checks off during the migration, make sure it left no dangling reference
    (the transaction then rolls back rather than commit a broken database)."""
    orphans = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
    if orphans:
        raise RuntimeError(f"the migration left rows pointing at nothing: {orphans[:5]}")


async def _release(conn: AsyncConnection, sqlite: bool) -> None:
    """Switch SQLite's foreign keys back on (the pool reuses the connection) and close it.

    When that fails too (the database itself may be what failed the migration), the
    connection is discarded rather than pooled with the checks off, and the failure is
    logged, not raised: it must not hide the error that got us here."""
    try:
        if sqlite:
            await conn.run_sync(_sqlite_foreign_keys, on=True)
    except Exception:
        log.warning(
            "could not switch SQLite foreign keys back on; discarding the connection", exc_info=True
        )
        await conn.invalidate()
    finally:
        await conn.close()


async def _run(target: str | URL | AsyncEngine, action: str, revision: str) -> str | None:
    owned = not isinstance(target, AsyncEngine)
    engine = make_engine(target) if not isinstance(target, AsyncEngine) else target
    try:
        conn = await engine.connect()
        sqlite = conn.dialect.name == "sqlite"
        try:
            if sqlite:  # outside any transaction: SQLite ignores the pragma inside one
                await conn.run_sync(_sqlite_foreign_keys, on=False)
            # `mentor_write` makes SQLite take the write lock up front (see storage.engine).
            conn = await conn.execution_options(mentor_write=True)
            async with conn.begin():
                await conn.run_sync(_run_command, action, revision)
                if sqlite:
                    await conn.run_sync(_refuse_orphans)
            async with conn.begin():
                heads = await conn.run_sync(_current_heads)
        finally:
            await _release(conn, sqlite)
    finally:
        if owned:
            await dispose_engine(engine)
    return heads[0] if heads else None


async def upgrade(target: str | URL | AsyncEngine, revision: str = "head") -> str | None:
    """Migrate the database to `revision` (default: newest); returns the revision reached.

    Accepts a URL (an engine is created and disposed) or an existing engine (left open).
    Raises `DatabaseNewerThanCode` if the database is ahead of this code.
    """
    return await _run(target, "upgrade", revision)


async def downgrade(target: str | URL | AsyncEngine, revision: str = "base") -> str | None:
    """Migrate down to `revision` ("base" drops every table). For tests and rollbacks."""
    return await _run(target, "downgrade", revision)


async def current_revision(target: str | URL | AsyncEngine) -> str | None:
    """The revision the database is at (None when it has never been migrated)."""
    owned = not isinstance(target, AsyncEngine)
    engine = make_engine(target) if not isinstance(target, AsyncEngine) else target
    try:
        async with engine.connect() as conn:
            heads = await conn.run_sync(_current_heads)
    finally:
        if owned:
            await dispose_engine(engine)
    return heads[0] if heads else None
