"""Migrations: empty -> head -> base -> head, models == migrations, newer DB refused."""

from __future__ import annotations

import importlib.util
import logging
from datetime import UTC, datetime
from types import ModuleType

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, select, text

from storage.engine import make_sessionmaker
from storage.errors import DatabaseNewerThanCode, StorageError
from storage.migrate import MIGRATIONS_DIR, current_revision, downgrade, head_revision, upgrade
from storage.models import NUDGE_RECHECK, Base, Member
from tests.storage.conftest import DatabaseTarget


def _tables(sync_conn) -> set[str]:
    return set(inspect(sync_conn).get_table_names()) - {"alembic_version"}


# Raw SQL at an older revision: the models describe only the newest schema.
_INSERT_MEMBER = text(
    "INSERT INTO members (guild_id, user_id, timezone, nudge_enabled, nudge_custom, "
    "nudge_weekday, nudge_hour, nudge_via, dm_closed, created_at, updated_at) "
    "VALUES (:g, :u, :tz, :on, :custom, :wd, :hr, 'dm', false, :now, :now)"
)
_INSERT_DELIVERY = text(
    "INSERT INTO nudge_deliveries (guild_id, user_id, iso_week, status, claimed_at, attempts) "
    "VALUES (:g, :u, '2026-W11', 'sent', :now, 1)"
)


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


async def test_a_failed_migration_is_not_hidden_by_restoring_foreign_keys(
    tmp_path, monkeypatch, caplog: pytest.LogCaptureFixture
) -> None:
    """When the migration fails and switching SQLite's foreign keys back on fails too, the
    migration's error is the one raised, and the connection is not pooled with them off."""
    import storage.migrate

    def broken_migration(*args: object) -> None:
        raise ValueError("the migration itself failed")

    real = storage.migrate._sqlite_foreign_keys

    def cannot_restore(connection: object, *, on: bool) -> None:
        if on:
            raise OSError("disk I/O error")
        real(connection, on=on)  # type: ignore[arg-type]

    monkeypatch.setattr(storage.migrate, "_run_command", broken_migration)
    monkeypatch.setattr(storage.migrate, "_sqlite_foreign_keys", cannot_restore)
    with (
        caplog.at_level(logging.WARNING, "storage.migrate"),
        pytest.raises(ValueError, match="the migration itself failed"),
    ):
        await upgrade(f"sqlite+aiosqlite:///{tmp_path / 'mentor.sqlite3'}")
    assert "discarding the connection" in caplog.text


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


def _migration(name: str) -> ModuleType:
    path = MIGRATIONS_DIR / "versions" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"migration_{name}", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


async def test_0005_backfills_next_nudge_at(empty_db: DatabaseTarget) -> None:
    """Upgrading a database with members fills members.next_nudge_at the way the planner
    would: this week's slot, next week's once nudged, guild default or own slot, in the
    member's timezone; members with nudges off keep the "work it out" value."""
    engine = empty_db.engine()
    now = datetime(2026, 3, 12, 12, 0, tzinfo=UTC)  # Thursday of 2026-W11
    g, lone = 111_111_111_111_111_111, 222_222_222_222_222_222
    members = {  # user: (guild, timezone, enabled, custom, weekday, hour)
        1: (g, "UTC", True, True, 0, 18),  # Monday 18:00 passed, not nudged
        2: (g, "UTC", True, True, 0, 18),  # ...and nudged this week
        3: (g, "Asia/Kolkata", True, False, 0, 18),  # guild default: Wednesday 07:00
        4: (lone, "UTC", True, False, 0, 0),  # no guild row: Monday 18:00
        5: (g, "UTC", False, True, 0, 18),  # nudges off
        6: (g, "Not/AZone", True, True, 4, 9),  # corrupt zone: UTC, Friday 09:00
    }
    try:
        await upgrade(engine, "0004_sharding")
        async with engine.begin() as conn:
            await conn.execute(
                text(
                    "INSERT INTO guild_settings (guild_id, timezone, leaderboard_enabled, "
                    "nudge_weekday, nudge_hour, created_at, updated_at) "
                    "VALUES (:g, 'UTC', true, 2, 7, :now, :now)"
                ),
                {"g": g, "now": now},
            )
            for user, (guild, tz, enabled, custom, wd, hr) in members.items():
                await conn.execute(
                    _INSERT_MEMBER,
                    {
                        "g": guild,
                        "u": user,
                        "tz": tz,
                        "on": enabled,
                        "custom": custom,
                        "wd": wd,
                        "hr": hr,
                        "now": now,
                    },
                )
            await conn.execute(
                _INSERT_DELIVERY,
                {"g": g, "u": 2, "now": now},
            )
        assert await upgrade(engine) == head_revision()
        async with engine.connect() as conn:  # no table was copied and dropped (cascades)
            assert (await conn.execute(text("SELECT count(*) FROM nudge_deliveries"))).scalar() == 1
        async with engine.begin() as conn:  # again, at a known instant
            await conn.run_sync(lambda c: _migration("0005_next_nudge").backfill(c, now))
        async with make_sessionmaker(engine)() as session:
            rows = await session.execute(select(Member.user_id, Member.next_nudge_at))
            found = {int(u): at for u, at in rows.all()}
        assert found == {
            1: datetime(2026, 3, 9, 18, 0, tzinfo=UTC),
            2: datetime(2026, 3, 16, 18, 0, tzinfo=UTC),
            3: datetime(2026, 3, 11, 1, 30, tzinfo=UTC),
            4: datetime(2026, 3, 9, 18, 0, tzinfo=UTC),
            5: NUDGE_RECHECK,
            6: datetime(2026, 3, 13, 9, 0, tzinfo=UTC),
        }
    finally:
        await engine.dispose()


async def test_downgrades_keep_the_rows_that_point_at_members(empty_db: DatabaseTarget) -> None:
    """Dropping a members column must not copy and drop the table: on SQLite with foreign
    keys on, dropping `members` would cascade-delete every row that points at it."""
    engine = empty_db.engine()
    now = datetime(2026, 3, 12, 12, 0, tzinfo=UTC)
    try:
        await upgrade(engine, "0004_sharding")
        async with engine.begin() as conn:
            member = {"g": 1, "u": 2, "tz": "UTC", "on": True, "custom": False, "wd": 0}
            await conn.execute(_INSERT_MEMBER, {**member, "hr": 18, "now": now})
            await conn.execute(_INSERT_DELIVERY, {"g": 1, "u": 2, "now": now})
        await upgrade(engine)
        for revision in ("0004_sharding", "0003_community", "0002_guild_config"):
            await downgrade(engine, revision)
            async with engine.connect() as conn:
                deliveries = text("SELECT count(*) FROM nudge_deliveries")
                assert (await conn.execute(deliveries)).scalar() == 1, revision
                if empty_db.backend == "sqlite":  # switched off to migrate, back on after
                    pragma = text("PRAGMA foreign_keys")
                    assert (await conn.execute(pragma)).scalar() == 1
    finally:
        await engine.dispose()
