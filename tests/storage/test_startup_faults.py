"""Start-up faults read as one line: unsupported drivers, databases that cannot be opened."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import pytest

from bot.database import migrate_database, open_storage
from bot.settings import Settings
from knowledge.content import Guide
from storage.engine import make_engine
from storage.errors import StorageError, UnsupportedDatabaseURL

UNSUPPORTED = [
    "postgresql://mentor:pw@localhost/mentor",  # psycopg2, not installed and not async
    "postgresql+psycopg2://mentor@localhost/mentor",
    "mysql+aiomysql://mentor@localhost/mentor",
    "postgres://mentor@localhost/mentor",  # the Heroku spelling SQLAlchemy does not know
    "sqlite:///mentor.sqlite3",  # pysqlite is not async
]


def _settings(url: str, data_dir: Path) -> Settings:
    return Settings(_env_file=None, database_url=url, mentor_data_dir=data_dir)  # type: ignore[call-arg]


def _worker_threads() -> set[threading.Thread]:
    return {t for t in threading.enumerate() if "_connection_worker_thread" in t.name}


@pytest.mark.parametrize("url", UNSUPPORTED)
def test_an_unsupported_driver_names_the_supported_urls(url: str) -> None:
    with pytest.raises(UnsupportedDatabaseURL) as caught:
        make_engine(url)
    message = str(caught.value)
    assert "does not support" in message
    assert "sqlite+aiosqlite:///" in message
    assert "postgresql+asyncpg://" in message
    assert "pw" not in message  # never echo a password
    assert "\n" not in message


@pytest.mark.parametrize("url", UNSUPPORTED[:3])
async def test_every_entry_point_refuses_it_before_importing_a_driver(
    url: str, tmp_path: Path, guide: Guide
) -> None:
    with pytest.raises(StorageError, match="does not support"):
        await open_storage(_settings(url, tmp_path), guide)
    with pytest.raises(StorageError, match="does not support"):
        await migrate_database(_settings(url, tmp_path))


def test_a_database_that_cannot_be_opened_leaves_no_driver_thread_behind(
    tmp_path: Path, guide: Guide
) -> None:
    """aiosqlite's worker must finish before the loop closes ("Event loop is closed")."""
    missing = tmp_path / "missing.sqlite3"
    url = f"sqlite+aiosqlite:///file:{missing}?mode=ro&uri=true"  # opening it must fail
    before = _worker_threads()
    with asyncio.Runner() as runner:
        with pytest.raises(StorageError, match="unable to open database file"):
            runner.run(open_storage(_settings(url, tmp_path), guide))
        assert not [t for t in _worker_threads() - before if t.is_alive()]
        with pytest.raises(StorageError, match="unable to open database file"):
            runner.run(migrate_database(_settings(url, tmp_path)))
        assert not [t for t in _worker_threads() - before if t.is_alive()]


def test_a_database_path_under_a_file_is_a_clear_error(tmp_path: Path, guide: Guide) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    url = f"sqlite+aiosqlite:///{blocker / 'mentor.sqlite3'}"
    with pytest.raises(StorageError, match="Could not open the database"):
        asyncio.run(open_storage(_settings(url, tmp_path), guide))
