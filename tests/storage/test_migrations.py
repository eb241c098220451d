"""Migrations: empty -> head -> base -> head, models == migrations, newer DB refused."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text

from storage.errors import DatabaseNewerThanCode, StorageError
from storage.migrate import current_revision, downgrade, head_revision, upgrade
from storage.models import Base
from tests.storage.conftest import DatabaseTarget


def _tables(sync_conn) -> set[str]:
    return set(inspect(sync_conn).get_table_names()) - {"alembic_version"}


async def test_upgrade_downgrade_upgrade(empty_db: DatabaseTarget) -> None:
    engine = empty_db.engine()
    try:
        assert await current_revision(engine) is None
        assert await upgrade(engine) == head_revision()
        async with engine.connect() as conn:
            assert await conn.run_sync(_tables) == set(Base.metadata.tables)

        assert await downgrade(engine, "base") is None
        async with engine.connect() as conn:
            assert await conn.run_sync(_tables) == set()

        assert await upgrade(engine) == head_revision()
        assert await upgrade(engine) == head_revision()  # idempotent
        assert await current_revision(engine) == head_revision()
    finally:
        await engine.dispose()


async def test_migrations_match_models(empty_db: DatabaseTarget) -> None:
    """Autogenerate finds nothing to do: the shipped migrations build exactly the models."""
    engine = empty_db.engine()
    try:
        await upgrade(engine)
        async with engine.connect() as conn:

            def diff(sync_conn):
                context = MigrationContext.configure(sync_conn, opts={"compare_type": True})
                return compare_metadata(context, Base.metadata)

            assert await conn.run_sync(diff) == []
    finally:
        await engine.dispose()


async def test_database_newer_than_code_is_refused(empty_db: DatabaseTarget) -> None:
    engine = empty_db.engine()
    try:
        await upgrade(engine)
        async with engine.begin() as conn:
            await conn.execute(text("UPDATE alembic_version SET version_num = 'ffff_future'"))
        with pytest.raises(DatabaseNewerThanCode) as caught:
            await upgrade(engine)
        assert isinstance(caught.value, StorageError)
        message = str(caught.value)
        assert "ffff_future" in message
        assert head_revision() in message
        assert "newer release" in message
        # Refusal changed nothing.
        assert await current_revision(engine) == "ffff_future"
    finally:
        await engine.dispose()


async def test_upgrade_by_url_creates_sqlite_parent_directory(
    empty_db: DatabaseTarget, tmp_path, monkeypatch
) -> None:
    if empty_db.backend != "sqlite":
        pytest.skip("SQLite file handling only")
    monkeypatch.chdir(tmp_path)  # migrations are found from the package, not the cwd
    assert empty_db.path is not None
    assert not empty_db.path.parent.exists()
    assert await upgrade(empty_db.url) == head_revision()
    assert empty_db.path.is_file()


async def test_sqlite_connection_settings(empty_db: DatabaseTarget) -> None:
    if empty_db.backend != "sqlite":
        pytest.skip("SQLite pragmas only")
    engine = empty_db.engine()
    try:
        async with engine.connect() as conn:
            assert (await conn.exec_driver_sql("PRAGMA journal_mode")).scalar() == "wal"
            assert (await conn.exec_driver_sql("PRAGMA foreign_keys")).scalar() == 1
            assert (await conn.exec_driver_sql("PRAGMA busy_timeout")).scalar() >= 5000
    finally:
        await engine.dispose()
