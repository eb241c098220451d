"""A member's data rights in one guild: export everything, or forget everything.

Both are scoped to one guild: being in several servers means several independent
profiles, and forgetting in one never touches another.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.services.base import Service, check_ids
from storage.repositories import PrivacyRepository

EXPORT_FORMAT = "mle-mentor-member-export"
EXPORT_VERSION = 1


@dataclass(frozen=True, slots=True)
class ForgetResult:
    deleted: dict[str, int]  # rows affected per table (".column" keys were anonymised)

    @property
    def total(self) -> int:
        return sum(self.deleted.values())


class PrivacyService(Service):
    async def export(self, guild_id: int, user_id: int) -> dict[str, Any]:
        """All the member's rows in the guild as a JSON-serialisable dict."""
        check_ids(guild_id, user_id)
        now = self._now()
        async with self._read() as session:
            tables = await PrivacyRepository(session).export(guild_id, user_id)
        return {
            "format": EXPORT_FORMAT,
            "version": EXPORT_VERSION,
            "exported_at": now.isoformat(),
            "guild_id": guild_id,
            "user_id": user_id,
            "tables": tables,
        }

    async def forget(self, guild_id: int, user_id: int) -> ForgetResult:
        """Delete every row of the member in the guild, atomically."""
        check_ids(guild_id, user_id)
        async with self._write() as session:
            counts = await PrivacyRepository(session).forget(guild_id, user_id)
        return ForgetResult(counts)
