"""Which tables hold a member's rows, and which columns merely mention a member.

Privacy export and forget-me (storage.repositories.privacy) iterate over these instead of a
hand-kept list. `member_scoped_tables` reads `Base.metadata`, which is complete only once
every model module is imported: the package's `__init__` imports them all, and importing
this module runs that `__init__` first.
"""

from __future__ import annotations

from sqlalchemy import Table

from storage.models.base import Base
from storage.models.challenges import Challenge
from storage.models.guilds import GuildFaqOverride
from storage.models.members import Member


def member_scoped_tables() -> tuple[Table, ...]:
    """Every table whose rows belong to one member (has both guild_id and user_id).

    Privacy export and forget-me iterate over this instead of a hand-kept list, so a table
    added later is covered automatically; a test asserts nothing is left behind.
    """
    return tuple(
        t
        for t in Base.metadata.sorted_tables
        if "guild_id" in t.c and "user_id" in t.c and t.name != Member.__tablename__
    )


def member_reference_columns() -> tuple[tuple[Table, str], ...]:
    """Nullable columns that merely *mention* a member (anonymised, not deleted, on forget)."""
    return (
        (Challenge.__table__, "created_by"),  # type: ignore[arg-type]
        (GuildFaqOverride.__table__, "created_by"),  # type: ignore[arg-type]
    )
