"""Small helpers every cog shares: guild-only guard, autocomplete choices, embeds."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import discord
from discord import app_commands

from bot.discord.errors import GuildOnly
from bot.discord.text import one_line
from bot.services.clock import WEEKDAY_NAMES
from bot.services.formatting import phase_name
from bot.services.progress import PhaseInfo

MAX_CHOICES = 25  # Discord's limit for autocomplete results
PERSONAL_COLOUR = discord.Colour(0x57F287)
PUBLIC_COLOUR = discord.Colour(0xFEE75C)


def require_guild(interaction: discord.Interaction) -> int:
    """The guild id, or `GuildOnly` (a clear message) in DMs; checked server-side always."""
    if interaction.guild_id is None:
        raise GuildOnly()
    return interaction.guild_id


def filter_choices(current: str, values: Iterable[str]) -> list[app_commands.Choice[str]]:
    """Up to 25 string choices containing what the member typed (case-insensitive)."""
    needle = current.strip().lower()
    seen: dict[str, None] = {}
    for value in values:
        if value and (not needle or needle in value.lower()):
            seen.setdefault(value[:100], None)
        if len(seen) >= MAX_CHOICES:
            break
    return [app_commands.Choice(name=one_line(v, 100), value=v) for v in seen]


def embed(title: str, description: str = "", *, public: bool = False) -> discord.Embed:
    return discord.Embed(
        title=title,
        description=description or None,
        colour=PUBLIC_COLOUR if public else PERSONAL_COLOUR,
    )


def phase_choices(phases: Sequence[PhaseInfo], current: str) -> list[app_commands.Choice[int]]:
    """Phases whose number or name matches what the member typed."""
    needle = current.strip().lower()
    return [
        app_commands.Choice(name=phase_name(p)[:100], value=p.number)
        for p in phases
        if not needle or needle in phase_name(p).lower() or needle == str(p.number)
    ][:MAX_CHOICES]


WEEKDAYS = [app_commands.Choice(name=d.title(), value=i) for i, d in enumerate(WEEKDAY_NAMES)]
NUDGE_VIA = [
    app_commands.Choice(name="direct message", value="dm"),
    app_commands.Choice(name="the server's nudge channel", value="channel"),
]
# How confirmations say where nudges go (Discord has "direct messages", not "dm").
VIA_WORDS = {"dm": "by direct message", "channel": "in the server's nudge channel"}
