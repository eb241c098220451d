"""Member preferences (timezone, nudges, DM reachability) and guild settings."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.services.base import Service, check_guild, check_ids
from bot.services.clock import WEEKDAY_NAMES
from bot.services.timezones import canonical_timezone
from storage.models import Member
from storage.repositories import GuildRepository, MemberRepository


@dataclass(frozen=True, slots=True)
class MemberProfile:
    guild_id: int
    user_id: int
    phase: int | None
    timezone: str
    nudge_enabled: bool
    nudge_weekday: int
    nudge_hour: int
    nudge_via: str
    dm_closed: bool
    created_at: datetime | None

    @property
    def nudge_weekday_name(self) -> str:
        return WEEKDAY_NAMES[self.nudge_weekday].title()


def _profile(member: Member) -> MemberProfile:
    return MemberProfile(
        member.guild_id,
        member.user_id,
        member.phase,
        member.timezone,
        member.nudge_enabled,
        member.nudge_weekday,
        member.nudge_hour,
        member.nudge_via,
        member.dm_closed,
        member.created_at,
    )


def _default_profile(guild_id: int, user_id: int) -> MemberProfile:
    return MemberProfile(guild_id, user_id, None, "UTC", False, 0, 18, "dm", False, None)


class ProfileService(Service):
    async def get(self, guild_id: int, user_id: int) -> MemberProfile:
        """The member's settings; defaults (without creating a row) for a new member."""
        check_ids(guild_id, user_id)
        async with self._read() as session:
            member = await MemberRepository(session).get(guild_id, user_id)
        return _profile(member) if member else _default_profile(guild_id, user_id)

    async def _set(self, guild_id: int, user_id: int, **values: object) -> MemberProfile:
        now = self._now()
        async with self._write() as session:
            members = MemberRepository(session)
            await members.get_or_create(guild_id, user_id, now)
            if values:
                await members.update(guild_id, user_id, now, **values)
            # Re-read after the UPDATE (the repository refreshes the identity map).
            member = await members.get(guild_id, user_id)
        if member is None:  # pragma: no cover - created above in the same transaction
            raise RuntimeError("member row missing after get-or-create")
        return _profile(member)

    async def set_timezone(self, guild_id: int, user_id: int, name: str) -> MemberProfile:
        """Store the canonical IANA name; unknown names raise `InvalidTimezone` with hints."""
        check_ids(guild_id, user_id)
        return await self._set(guild_id, user_id, timezone=canonical_timezone(name))

    async def set_dm_closed(self, guild_id: int, user_id: int, closed: bool) -> MemberProfile:
        """Remember that DMs to this member fail, so nudges fall back to the channel."""
        check_ids(guild_id, user_id)
        return await self._set(guild_id, user_id, dm_closed=bool(closed))


class GuildSettingsService(Service):
    async def timezone(self, guild_id: int) -> str:
        check_guild(guild_id)
        async with self._read() as session:
            return await GuildRepository(session).timezone(guild_id)

    async def set_timezone(self, guild_id: int, name: str) -> str:
        """The timezone that defines the guild's leaderboard weeks and months."""
        check_guild(guild_id)
        canonical = canonical_timezone(name)
        now = self._now()
        async with self._write() as session:
            guilds = GuildRepository(session)
            settings = await guilds.get_or_create(guild_id, now)
            settings.timezone = canonical
            settings.updated_at = now
        return canonical
