"""What the cogs and views reach through `interaction.client`: the bot's services.

A separate module (not `bot.discord.app`) so views and cogs can import it without an
import cycle. `BotServices` is mutable on purpose: reloading the guide swaps the progress
services and the engine in place, and every handler reads them at call time.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Protocol

import discord

from bot.services.answers import AskService, EngineHolder
from bot.services.bundle import ProgressServices
from bot.services.delivery import Pacing
from bot.services.guild_config import GuildConfigService
from bot.services.nudges import ProblemNotices


@dataclass
class BotServices:
    progress: ProgressServices
    ask: AskService
    engine: EngineHolder
    config: GuildConfigService | None = None
    # How fast the community loop may send nudges, digests and announcements.
    pacing: Pacing = field(default_factory=Pacing)
    # Reloads the guide and index and swaps the services; returns a one-line summary.
    reload: Callable[[], Awaitable[str]] | None = None
    # guild_id -> ask channel id (None: none configured); filled lazily, updated by admins.
    ask_channels: dict[int, int | None] = field(default_factory=dict)
    # Decides when to tell a member about a refused DM; what they were told is kept in
    # the database (shared by every shard process; see `MentorBot.on_app_command_completion`).
    notices: ProblemNotices = field(default_factory=ProblemNotices)


class HasServices(Protocol):
    services: BotServices


def services_of(interaction: discord.Interaction) -> BotServices:
    client: HasServices = interaction.client  # type: ignore[assignment]
    return client.services
