"""Storage-level exceptions.

They are deliberately separate from the services' `MentorError` hierarchy: these describe
the state of the database itself (wrong schema version, unreachable server), which an
operator fixes, whereas domain errors are something a member fixes by retyping a command.
"""

from __future__ import annotations


class StorageError(Exception):
    """Base class for every error raised by the storage package."""


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
