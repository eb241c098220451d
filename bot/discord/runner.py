"""Building and running the bot: the services' wiring, start-up checks, and `run_bot`, the
entry point of `mentor run`.

Nothing happens at import. `run_bot(settings)` migrates the database, builds the services,
creates the bot (`bot.discord.app.MentorBot`) and runs it until cancelled.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import aiohttp
import discord
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.discord.app import MentorBot
from bot.discord.context import BotServices
from bot.discord.lifecycle import serve
from bot.services.answers import AskService, EngineHolder, MentorLoader
from bot.services.bundle import build_progress_services
from bot.services.clock import Clock, utc_now
from bot.services.delivery import Pacing
from bot.services.formatting import plural
from bot.services.guild_config import GuildConfigService
from bot.services.mentor import FaqOverride, MentorService
from bot.settings import Settings
from knowledge.content import Guide
from storage.engine import dispose_engine


async def _phase_number(services: BotServices, guild_id: int, user_id: int) -> int | None:
    info = await services.progress.phases.current(guild_id, user_id)
    return info.number if info else None


def build_bot_services(
    sessionmaker: async_sessionmaker[AsyncSession],
    guide: Guide,
    loader: MentorLoader,
    *,
    clock: Clock = utc_now,
    config_factory: Callable[[async_sessionmaker[AsyncSession], Guide, Clock], object]
    | None = None,
) -> BotServices:
    """Wire the progress services, the engine holder and the ask service together.

    The ask service's hooks read `services.progress`/`services.config` at call time, so a
    guide reload (which replaces them) is picked up without rebuilding anything else.
    """
    engine = EngineHolder(loader)

    # The hooks look `services` up when they run (it is bound below, before any can run).
    async def faq_entries(guild_id: int) -> tuple[FaqOverride, ...]:
        config = services.config
        if config is None:
            return ()
        return tuple(FaqOverride(e.question, e.answer) for e in await config.list_faqs(guild_id))

    async def record_unanswered(
        guild_id: int, user_id: int, question: str, best: float | None
    ) -> None:
        await services.progress.feedback.record_unanswered(guild_id, user_id, question, best)

    async def phase_of(guild_id: int, user_id: int) -> int | None:
        return await _phase_number(services, guild_id, user_id)

    services = BotServices(
        progress=build_progress_services(sessionmaker, guide, clock),
        ask=AskService(
            engine, phase_of=phase_of, faq_entries=faq_entries, record_unanswered=record_unanswered
        ),
        engine=engine,
    )
    if config_factory is not None:
        services.config = config_factory(sessionmaker, guide, clock)

    async def reload() -> str:
        mentor: MentorService = await engine.reload()
        services.progress = build_progress_services(sessionmaker, mentor.guide, clock)
        if config_factory is not None:
            services.config = config_factory(sessionmaker, mentor.guide, clock)
        fresh = mentor.guide
        return (
            f"Reloaded the guide: {len(fresh.documents)} documents, {len(fresh.phases)} phases, "
            f"{plural(len(fresh.milestones), 'milestone')}; the index is up to date."
        )

    services.reload = reload
    return services


class BotStartupError(RuntimeError):
    """Why the bot could not start, in words an operator can act on (no traceback)."""


def dev_guild_id(settings: Settings) -> int | None:
    """`MENTOR_DEV_GUILD_ID`: sync commands to this guild only (instant, for development)."""
    return settings.mentor_dev_guild_id


def create_bot(settings: Settings, services: BotServices, **options: object) -> MentorBot:
    return MentorBot(
        services,
        data_dir=settings.mentor_data_dir,
        dev_guild_id=dev_guild_id(settings),
        shard_count=settings.mentor_shard_count,
        shard_ids=settings.shard_ids,
        **options,  # type: ignore[arg-type]
    )


def check_shard_backend(settings: Settings, backend: str) -> None:
    """Several shard processes need PostgreSQL: SQLite is one file on one machine, and
    its single writer lock would serialise every process's scheduler and commands."""
    if settings.shares_shards and backend == "sqlite":
        raise BotStartupError(
            f"MENTOR_SHARD_IDS={settings.mentor_shard_ids} of MENTOR_SHARD_COUNT="
            f"{settings.mentor_shard_count} means several bot processes, which needs "
            "PostgreSQL: set DATABASE_URL=postgresql+asyncpg://... (SQLite is for one "
            "process holding every shard)."
        )


async def run_bot(settings: Settings) -> None:
    """Run the bot until cancelled: `asyncio.run(run_bot(Settings()))` (what `mentor run` does).

    The database is migrated first; the guide (small, parsed in a thread) is needed at once
    for the progress commands, while the embedding model and index load in the background.
    """
    from bot.container import engine_loader
    from bot.database import database_errors, pool_options
    from knowledge.content import load_guide
    from storage.engine import make_engine, make_sessionmaker
    from storage.migrate import upgrade

    token = settings.token
    if not token:
        raise ValueError("DISCORD_TOKEN is not set")
    with database_errors(settings.effective_database_url):
        database = make_engine(settings.effective_database_url, **pool_options(settings))
    try:
        check_shard_backend(settings, database.dialect.name)
        with database_errors(settings.effective_database_url):
            await upgrade(database)
        sessionmaker = make_sessionmaker(database)
        guide = await asyncio.to_thread(load_guide, settings.mentor_guide_dir)
        services = build_bot_services(
            sessionmaker,
            guide,
            engine_loader(settings),
            config_factory=GuildConfigService,
        )
        services.pacing = Pacing(settings.mentor_nudge_messages, settings.mentor_nudge_seconds)
        bot = create_bot(settings, services)
        try:
            async with bot:
                await serve(bot, token)  # until closed, or SIGTERM (then exit 0)
        except discord.LoginFailure as exc:
            raise BotStartupError(
                "Discord rejected DISCORD_TOKEN; copy the bot token again from the "
                "Developer Portal (Bot → Reset Token)."
            ) from exc
        except discord.PrivilegedIntentsRequired as exc:
            raise BotStartupError(
                "Enable the Message Content intent for this bot (Developer Portal → Bot → "
                "Privileged Gateway Intents): it is needed to read mentions, replies and DMs."
            ) from exc
        except aiohttp.ClientConnectionError as exc:
            raise BotStartupError(
                f"Could not reach Discord ({exc}); check the network and try again."
            ) from exc
    finally:
        await dispose_engine(database)  # no driver thread outlives the event loop
