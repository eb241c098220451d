"""Which shard, and so which bot process, owns a guild's scheduled work.

Discord routes every guild to shard `(guild_id >> 22) % shard_count` (the formula in
Discord's "Sharding" documentation). A process that holds a shard receives that guild's
gateway events, so it is also the natural owner of the guild's nudges, digests,
challenge announcements and role grants. `ShardScope` turns "the shards this process
holds" into a SQL filter, so each process plans only its own share of the work and its
planning cost falls with the number of processes.

Pure and Discord-free on purpose: storage (repositories) and the bot both use it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sqlalchemy.sql.elements import ColumnElement

SNOWFLAKE_SHIFT = 22  # the low 22 bits of a snowflake are worker, process and increment


def shard_of(guild_id: int, shard_count: int) -> int:
    """The shard Discord delivers `guild_id`'s events on: (guild_id >> 22) % shard_count."""
    if shard_count < 1:
        raise ValueError(f"shard_count must be at least 1, got {shard_count}")
    return (guild_id >> SNOWFLAKE_SHIFT) % shard_count


@dataclass(frozen=True, slots=True)
class ShardScope:
    """The shards one process holds, out of `count`.

    `ALL` (count 1, shard 0) is the single-process case: every guild, no filter at all.
    """

    count: int
    ids: frozenset[int]

    def __post_init__(self) -> None:
        if self.count < 1:
            raise ValueError(f"the shard count must be at least 1, got {self.count}")
        if not self.ids:
            raise ValueError("a process must hold at least one shard")
        outside = sorted(i for i in self.ids if not 0 <= i < self.count)
        if outside:
            raise ValueError(
                f"shard ids {outside} are outside 0..{self.count - 1} "
                f"for a shard count of {self.count}"
            )

    @classmethod
    def of(cls, count: int, ids: Iterable[int] | None = None) -> ShardScope:
        """`ids` None means every shard (one process holds them all)."""
        return cls(count, frozenset(range(count) if ids is None else ids))

    @property
    def everything(self) -> bool:
        return len(self.ids) == self.count

    def owns(self, guild_id: int) -> bool:
        return shard_of(guild_id, self.count) in self.ids

    def where(self, guild_column: Any) -> ColumnElement[bool]:
        """A SQL condition true for rows whose guild belongs to this scope.

        `(guild_id >> 22) % count IN (ids)`: both SQLite and PostgreSQL evaluate the
        shift and modulo on 64-bit integers, so the filter runs inside the planning query
        instead of in Python after every row has been read.
        """
        # Imported here: the settings parse shard ids with this module, and `mentor ask`
        # (which never touches the database) paid 0.25 s and ~15 MB for SQLAlchemy.
        from sqlalchemy import literal, true

        if self.everything:
            return true()
        shard = guild_column.op(">>")(literal(SNOWFLAKE_SHIFT)).op("%")(literal(self.count))
        return shard.in_(sorted(self.ids))

    def describe(self) -> str:
        return f"shards {format_ids(self.ids)} of {self.count}"


ALL = ShardScope.of(1)


def parse_shard_ids(text: str) -> frozenset[int]:
    """`"0-3"`, `"4,5"` or a mix (`"0-1,6"`) -> the set of shard ids; ValueError otherwise."""
    ids: set[int] = set()
    for part in text.replace(" ", "").split(","):
        if not part:
            raise ValueError(f"empty item in shard ids {text!r}")
        low, dash, high = part.partition("-")
        if not low.isdigit() or (dash and not high.isdigit()):
            raise ValueError(
                f"shard ids must look like '0-3' or '4,5' (non-negative whole numbers); "
                f"got {text!r}"
            )
        start, end = int(low), int(high) if dash else int(low)
        if end < start:
            raise ValueError(f"shard range {part!r} runs backwards")
        ids.update(range(start, end + 1))
    return frozenset(ids)


def format_ids(ids: Iterable[int]) -> str:
    """Compact form for logs: {0,1,2,5} -> '0-2,5'."""
    ordered = sorted(ids)
    parts: list[str] = []
    i = 0
    while i < len(ordered):
        j = i
        while j + 1 < len(ordered) and ordered[j + 1] == ordered[j] + 1:
            j += 1
        parts.append(str(ordered[i]) if i == j else f"{ordered[i]}-{ordered[j]}")
        i = j + 1
    return ",".join(parts)
