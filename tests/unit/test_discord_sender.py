"""DiscordSender: typed outcomes for discord.py exceptions, and who may be pinged (spec'd mocks).

Digests and challenge announcements name members without notifying them; only a nudge the
member chose to get in the channel may ping, and only that member.
"""

from __future__ import annotations

from unittest.mock import AsyncMock, MagicMock

import discord
import pytest

from bot.discord.sender import DiscordSender, outcome_for
from bot.services.delivery import OutgoingMessage

USER = 900_000_000_000_000_001
CHANNEL = 333_333_333_333_333_333


def _response(status: int, headers: dict[str, str] | None = None) -> MagicMock:
    response = MagicMock()
    response.status = status
    response.reason = "x"
    response.headers = headers or {}
    return response


def _client(user_send: AsyncMock | None = None, channel_send: AsyncMock | None = None):
    client = MagicMock(spec_set=discord.Client)
    user = MagicMock(spec_set=discord.User)
    user.send = user_send or AsyncMock()
    channel = MagicMock(spec_set=discord.TextChannel)
    channel.send = channel_send or AsyncMock()
    client.get_user.return_value = user
    client.get_channel.return_value = channel
    return client, user, channel


DM = OutgoingMessage("nudge", 1, "dm", "hello", "k", USER)
POST = OutgoingMessage("digest", 1, "channel", "digest", "k2", None, CHANNEL)


async def test_dm_sent() -> None:
    client, user, _ = _client()
    assert (await DiscordSender(client).send(DM)).kind == "sent"
    user.send.assert_awaited_once()
    assert user.send.call_args.args == ("hello",)
    assert _mentions(user) == {"parse": []}


async def test_forbidden_dm_is_forbidden() -> None:
    error = discord.Forbidden(_response(403), "Cannot send messages to this user")
    client, _, _ = _client(user_send=AsyncMock(side_effect=error))
    outcome = await DiscordSender(client).send(DM)
    assert outcome.kind == "forbidden"
    assert "Cannot send messages" in outcome.detail


async def test_429_is_rate_limited_with_retry_after() -> None:
    error = discord.HTTPException(_response(429, {"Retry-After": "3.5"}), "slow down")
    client, _, channel = _client(channel_send=AsyncMock(side_effect=error))
    outcome = await DiscordSender(client).send(POST)
    assert (outcome.kind, outcome.retry_after) == ("rate_limited", 3.5)
    channel.send.assert_awaited_once()


@pytest.mark.parametrize(
    ("exc", "kind"),
    [
        (discord.HTTPException(_response(503), "unavailable"), "error"),
        (discord.NotFound(_response(404), "Unknown Channel"), "forbidden"),
        (TimeoutError(), "unknown"),
    ],
)
def test_outcome_mapping(exc, kind) -> None:
    assert outcome_for(exc).kind == kind


def _mentions(target: MagicMock) -> dict[str, object]:
    """The `allowed_mentions` payload discord.py would send for the last post."""
    mentions = target.send.call_args.kwargs["allowed_mentions"]
    assert isinstance(mentions, discord.AllowedMentions)
    return mentions.to_dict()


@pytest.mark.parametrize("kind", ["digest", "announcement"])
async def test_community_posts_name_people_without_pinging(kind: str) -> None:
    client, _, channel = _client()
    text = f"Most active learners:\n  1. <@{USER}>: 3h\n  2. <@{USER + 1}>: 2h"
    post = OutgoingMessage(kind, 1, "channel", text, "k3", None, CHANNEL)  # type: ignore[arg-type]
    assert (await DiscordSender(client).send(post)).kind == "sent"
    assert channel.send.call_args.args[0] == text  # named, as written
    assert _mentions(channel) == {"parse": []}  # nobody notified


async def test_channel_nudge_pings_only_its_member() -> None:
    client, _, channel = _client()
    text = f"Your week. Also see <@{USER + 1}>'s tips."
    nudge = OutgoingMessage("nudge", 1, "channel", text, "k4", USER, CHANNEL)
    await DiscordSender(client).send(nudge)
    assert channel.send.call_args.args[0].startswith(f"<@{USER}> ")
    assert _mentions(channel) == {"parse": [], "users": [USER]}
