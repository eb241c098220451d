"""Storage-level exceptions.

They are deliberately separate from the services' `MentorError` hierarchy: these describe
the state of the database itself (wrong schema version, unreachable server), which an
operator fixes, whereas domain errors are something a member fixes by retyping a command.
"""

from __future__ import annotations


class StorageError(Exception):
    """Base class for every error raised by the storage package."""


SUPPORTED_URLS = (
    "sqlite+aiosqlite:///path/to/mentor.sqlite3 or postgresql+asyncpg://user:password@host/db"
)


class UnsupportedDatabaseURL(StorageError):
    """DATABASE_URL names a database or driver MLE Mentor does not run on.

    Checked before SQLAlchemy imports the driver, so `postgresql://` (psycopg2) or
    `mysql+aiomysql://` read as one sentence, not a ModuleNotFoundError traceback.
    """

    def __init__(self, drivername: str) -> None:
        self.drivername = drivername
        super().__init__(
            f"DATABASE_URL starts with {drivername}://, which MLE Mentor does not support "
            f"(or whose driver is not installed); use {SUPPORTED_URLS}."
        )


class DatabaseNewerThanCode(StorageError):
    """The database was migrated by a newer MLE Mentor than the one now running.

    Running old code against a newer schema could silently corrupt data (columns it does
    not know about, constraints it does not respect), so we refuse to start instead.
    """

    def __init__(self, database_revision: str, code_head: str) -> None:
        self.database_revision = database_revision
        self.code_head = code_head
        super().__init__(
            f"The database is at schema revision {database_revision!r}, which this version "
            f"of MLE Mentor does not know (its newest revision is {code_head!r}). It was "
            "probably upgraded by a newer release. Install that release (or newer), or point "
            "DATABASE_URL at a different database; refusing to touch it."
        )


_SQLITE_FAULTS = (
    (
        ("database is locked", "database table is locked", "database is busy"),
        "The database is locked by another program right now, so that did not go through "
        "(nothing was changed). Try again in a moment.",
    ),
    (
        ("readonly database", "read-only"),
        "The database is read-only here, so that did not go through (nothing was changed). "
        "Check the permissions of the database file and its directory.",
    ),
    (
        ("database or disk is full", "disk is full"),
        "The disk holding the database is full, so that did not go through.",
    ),
    (
        ("unable to open database file", "disk i/o error"),
        "The database file cannot be opened or written right now, so that did not go through.",
    ),
)
# PostgreSQL SQLSTATEs: lock_not_available, query_canceled (statement/lock timeout),
# read_only_sql_transaction, disk_full, cannot_connect_now.
_PG_FAULTS = {
    "55P03": _SQLITE_FAULTS[0][1],
    "57014": _SQLITE_FAULTS[0][1],
    "25006": _SQLITE_FAULTS[1][1],
    "53100": _SQLITE_FAULTS[2][1],
    "57P03": "The database is starting up or shutting down; try again in a moment.",
}


def describe_database_fault(exc: BaseException) -> str | None:
    """A sentence for a member when the database itself refused (locked, read-only, full).

    These are not bugs and not the member's fault, so front ends show this sentence instead
    of a generic "something went wrong"; None means `exc` is not such a fault. Matching is
    on the driver's words (SQLite) and SQLSTATE (PostgreSQL), which are stable.
    """
    original = getattr(exc, "orig", None) or exc
    state = getattr(original, "sqlstate", None) or getattr(original, "pgcode", None)
    if isinstance(state, str) and state in _PG_FAULTS:
        return _PG_FAULTS[state]
    if type(original).__module__.split(".")[0] not in ("sqlite3", "aiosqlite", "sqlalchemy"):
        return None
    words = str(original).lower()
    for needles, message in _SQLITE_FAULTS:
        if any(needle in words for needle in needles):
            return message
    return None
