"""The scheduler's `Sender` over a discord.py client: nudges, digests, announcements, roles.

`DiscordSender` maps discord.py exceptions to the scheduler's typed outcomes, so the
exactly-once protocol never sees Discord types. Rate limits: discord.py already waits out
most 429s inside the HTTP client; whatever still surfaces as HTTPException(429) becomes
`rate_limited(retry_after)` for the scheduler.

Who gets notified is decided here, per message: digests and challenge announcements name
members (`<@id>`) without pinging anyone, every week; only a nudge that the member chose to
receive in the channel pings that member, and nobody else named in it.
"""

from __future__ import annotations

import asyncio

import aiohttp
import discord

from bot.services.delivery import OutgoingMessage, SendOutcome

MAX_MESSAGE = 2000


def outcome_for(exc: BaseException) -> SendOutcome:
    """discord.py / transport exception -> typed outcome (see bot.services.delivery)."""
    if isinstance(exc, discord.Forbidden | discord.NotFound):
        return SendOutcome.forbidden(f"{type(exc).__name__}: {getattr(exc, 'text', '')}"[:200])
    if isinstance(exc, discord.HTTPException):
        if exc.status == 429:
            retry = getattr(exc, "retry_after", None)
            if retry is None:
                header = exc.response.headers.get("Retry-After") if exc.response else None
                retry = float(header) if header else 5.0
            return SendOutcome.rate_limited(float(retry))
        return SendOutcome.error(f"HTTP {exc.status}")
    if isinstance(exc, asyncio.TimeoutError | TimeoutError):
        return SendOutcome.unknown("timed out")
    return SendOutcome.error(type(exc).__name__)


def mentions_for(message: OutgoingMessage) -> discord.AllowedMentions:
    """Nobody is pinged, except the member a channel nudge is addressed to."""
    if message.kind == "nudge" and message.target == "channel" and message.user_id is not None:
        return discord.AllowedMentions(
            everyone=False,
            roles=False,
            replied_user=False,
            users=[discord.Object(message.user_id)],
        )
    return discord.AllowedMentions.none()


class DiscordSender:
    """The Sender protocol over a discord.py client."""

    def __init__(self, client: discord.Client) -> None:
        self._client = client

    async def send(self, message: OutgoingMessage) -> SendOutcome:
        text = message.text[:MAX_MESSAGE]
        mentions = mentions_for(message)
        try:
            if message.target == "dm":
                if message.user_id is None:
                    return SendOutcome.forbidden("no recipient")
                user = self._client.get_user(message.user_id) or await self._client.fetch_user(
                    message.user_id
                )
                await user.send(text, allowed_mentions=mentions)
            else:
                if message.channel_id is None:
                    return SendOutcome.forbidden("no channel")
                channel = self._client.get_channel(message.channel_id)
                if channel is None:
                    channel = await self._client.fetch_channel(message.channel_id)
                if not isinstance(channel, discord.abc.Messageable):
                    return SendOutcome.forbidden("the channel cannot receive messages")
                if message.kind == "nudge" and message.user_id is not None:
                    text = f"<@{message.user_id}> {text}"[:MAX_MESSAGE]
                await channel.send(text, allowed_mentions=mentions)
        except (discord.HTTPException, aiohttp.ClientError, TimeoutError, OSError) as exc:
            return outcome_for(exc)
        return SendOutcome.sent()

    async def grant_role(self, guild_id: int, user_id: int, role_id: int) -> SendOutcome:
        guild = self._client.get_guild(guild_id)
        role = guild.get_role(role_id) if guild else None
        if guild is None or role is None:
            return SendOutcome.forbidden("guild or role not found")
        try:
            member = guild.get_member(user_id) or await guild.fetch_member(user_id)
            await member.add_roles(role, reason="MLE Mentor: challenge completed")
        except (discord.HTTPException, aiohttp.ClientError, TimeoutError, OSError) as exc:
            return outcome_for(exc)
        return SendOutcome.sent()
