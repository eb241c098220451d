"""Spec'd discord.py mocks for cog tests (modelled on python-discord/bot's tests/helpers.py).

Every mock is built with `spec_set=` the real discord class, so a cog touching an attribute
or method that does not exist on the real object fails the test instead of passing
silently. Async methods of the real classes become `AsyncMock`s automatically.
"""

from __future__ import annotations

from unittest.mock import MagicMock

import discord

GUILD = 111_111_111_111_111_111
CHANNEL = 333_333_333_333_333_333
ALICE = 900_000_000_000_000_001
BOB = 900_000_000_000_000_002
BOT_ID = 800_000_000_000_000_008
OWNER = 900_000_000_000_000_009


def make_user(user_id: int = ALICE, *, bot: bool = False, member: bool = True) -> MagicMock:
    user = MagicMock(spec_set=discord.Member if member else discord.User)
    user.id = user_id
    user.bot = bot
    user.mention = f"<@{user_id}>"
    user.display_name = f"user{user_id % 1000}"
    if member:
        user.roles = []
    return user


def make_permissions(**granted: bool) -> discord.Permissions:
    return discord.Permissions(**granted)


def make_guild(guild_id: int = GUILD, *, me: MagicMock | None = None) -> MagicMock:
    guild = MagicMock(spec_set=discord.Guild)
    guild.id = guild_id
    guild.name = "Study Server"
    guild.owner_id = OWNER
    guild.owner = make_user(OWNER)
    guild.me = me or make_user(BOT_ID, bot=True)
    guild.get_role.return_value = None
    return guild


def make_channel(channel_id: int = CHANNEL, *, cls: type = discord.TextChannel) -> MagicMock:
    channel = MagicMock(spec_set=cls)
    channel.id = channel_id
    if hasattr(cls, "mention"):
        channel.mention = f"<#{channel_id}>"
    if cls is discord.Thread:
        channel.parent_id = CHANNEL
    return channel


def make_interaction(
    *,
    guild_id: int | None = GUILD,
    user_id: int = ALICE,
    client: object | None = None,
    permissions: discord.Permissions | None = None,
    message: MagicMock | None = None,
    custom_id: str | None = None,
) -> MagicMock:
    """An Interaction whose response has not been sent yet."""
    interaction = MagicMock(spec_set=discord.Interaction)
    interaction.guild_id = guild_id
    interaction.guild = make_guild(guild_id) if guild_id else None
    interaction.channel_id = CHANNEL
    interaction.user = make_user(user_id, member=guild_id is not None)
    interaction.client = client
    interaction.permissions = permissions or discord.Permissions.none()
    interaction.message = message
    interaction.command = None
    interaction.data = {"custom_id": custom_id} if custom_id else {}
    response = MagicMock(spec_set=discord.InteractionResponse)
    state = {"done": False}

    def mark_done(*_args: object, **_kwargs: object) -> None:
        state["done"] = True

    for name in ("send_message", "defer", "send_modal", "edit_message"):
        getattr(response, name).side_effect = mark_done
    response.is_done.side_effect = lambda: state["done"]
    interaction.response = response
    followup = MagicMock(spec_set=discord.Webhook)
    sent = MagicMock(spec_set=discord.WebhookMessage)
    sent.id = 555_555_555_555_555_555
    followup.send.return_value = sent
    interaction.followup = followup
    return interaction


def make_message(
    content: str,
    *,
    author_id: int = ALICE,
    guild_id: int | None = GUILD,
    channel: MagicMock | None = None,
    mentions: list[object] | None = None,
    reference: discord.MessageReference | None = None,
    author_bot: bool = False,
) -> MagicMock:
    message = MagicMock(spec_set=discord.Message)
    message.id = 444_444_444_444_444_444
    message.content = content
    message.author = make_user(author_id, bot=author_bot, member=guild_id is not None)
    message.guild = make_guild(guild_id) if guild_id else None
    message.channel = channel or (
        make_channel() if guild_id else make_channel(cls=discord.DMChannel)
    )
    message.mentions = mentions or []
    message.reference = reference
    message.embeds = []
    reply = MagicMock(spec_set=discord.Message)
    reply.id = 666_666_666_666_666_666
    message.reply.return_value = reply
    return message


def sent_kwargs(mock: MagicMock) -> dict[str, object]:
    """The keyword arguments of the last call, with a positional `content` folded in."""
    args, kwargs = mock.call_args
    out = dict(kwargs)
    if args:
        out["content"] = args[0]
    return out
