"""Composition root, database half: engine, migrations and the Discord-free services.

Every entry point opens the database through `open_storage` (console) or the same
`database_errors` guard (bot), so URL and driver problems read the same everywhere and a
database newer than the code is refused before anything touches it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.services.bundle import ProgressServices, build_progress_services
from bot.services.clock import Clock, utc_now
from bot.settings import Settings
from knowledge.content import Guide
from storage.engine import dispose_engine, make_engine, make_sessionmaker
from storage.errors import StorageError
from storage.migrate import upgrade

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Storage:
    engine: AsyncEngine
    services: ProgressServices

    async def close(self) -> None:
        await dispose_engine(self.engine)  # no driver thread outlives the event loop


def _safe_url(url: str) -> str:
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "(unparseable URL)"


@contextmanager
def database_errors(url: str) -> Iterator[None]:
    """Turn driver and URL errors into one StorageError naming the (password-less) URL."""
    try:
        yield
    except StorageError:
        raise
    except ArgumentError as exc:
        raise StorageError(
            f"DATABASE_URL {_safe_url(url)} is not a valid database URL ({exc}). Use e.g. "
            "sqlite+aiosqlite:///path/to/mentor.sqlite3 or postgresql+asyncpg://user:pw@host/db."
        ) from exc
    except (SQLAlchemyError, OSError) as exc:
        reason = getattr(exc, "orig", None) or exc  # the driver's words, not SQLAlchemy's wrapper
        raise StorageError(f"Could not open the database {_safe_url(url)}: {reason}") from exc


async def migrate_database(settings: Settings) -> str | None:
    """`mentor db upgrade`: migrate to head and return the revision."""
    url = settings.effective_database_url
    with database_errors(url):
        return await upgrade(url)


async def open_storage(
    settings: Settings,
    guide: Guide,
    *,
    clock: Clock = utc_now,
    connect_args: Mapping[str, Any] | None = None,
) -> Storage:
    """Engine, migrations to head (refusing a database newer than the code), services.

    `connect_args` go to the driver (tests pin a PostgreSQL schema or a lock timeout).
    """
    url = settings.effective_database_url
    with database_errors(url):
        engine = make_engine(url, connect_args=connect_args)
        try:
            await upgrade(engine)
        except BaseException:
            await dispose_engine(engine)  # no driver thread outlives the event loop
            raise
    log.info("database ready: %s", _safe_url(url))
    return Storage(engine, build_progress_services(make_sessionmaker(engine), guide, clock))


def pool_options(settings: Settings) -> dict[str, Any]:
    """Connection-pool settings for one bot process on PostgreSQL (none for SQLite).

    Many processes share one server: each holds at most `pool_size + max_overflow`
    connections, so `processes × (MENTOR_DB_POOL_SIZE + MENTOR_DB_MAX_OVERFLOW)` plus
    migrations and admin sessions must stay below PostgreSQL's `max_connections` (100 by
    default). Connections are recycled hourly so a failover or a PgBouncer restart does
    not leave dead ones in the pool for long; waiting for a free one is bounded.
    """
    if make_url(settings.effective_database_url).get_backend_name() != "postgresql":
        return {}
    return {
        "pool_size": settings.mentor_db_pool_size,
        "max_overflow": settings.mentor_db_max_overflow,
        "pool_timeout": 30,
        "pool_recycle": 3600,
    }
