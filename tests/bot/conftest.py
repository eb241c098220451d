"""Fixtures for the Discord-layer tests: real services on a real, migrated SQLite file.

The answer engine is the real `MentorService` over the small test guide with the
deterministic `HashingEmbedder` (fast, no model download); everything below the cogs is the
production code.
"""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from unittest.mock import MagicMock

import discord
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.discord.app import MentorBot
from bot.discord.context import BotServices
from bot.discord.runner import build_bot_services
from bot.services.guild_config import GuildConfigService
from bot.services.mentor import MentorService
from knowledge.engine import KnowledgeBase, load_knowledge
from storage.engine import make_engine, make_sessionmaker
from storage.migrate import upgrade
from tests.bot.helpers import BOT_ID
from tests.helpers import HashingEmbedder, simple_ranking_model, write_guide
from tests.storage.support import FakeClock


@pytest.fixture(scope="session")
def knowledge(tmp_path_factory: pytest.TempPathFactory) -> KnowledgeBase:
    guide_dir = tmp_path_factory.mktemp("guide")
    write_guide(guide_dir)
    return load_knowledge(
        tmp_path_factory.mktemp("index"),
        guide_dir=guide_dir,
        embedder=HashingEmbedder(),
        ranking=simple_ranking_model(),
    )


@pytest.fixture(scope="session")
def mentor(knowledge: KnowledgeBase) -> MentorService:
    return MentorService(knowledge.retriever, knowledge.guide)


@pytest.fixture(scope="session")
def db_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("bot-db") / "template.sqlite3"
    asyncio.run(upgrade(f"sqlite+aiosqlite:///{path}"))
    return path


@pytest.fixture
async def db(tmp_path: Path, db_template: Path) -> AsyncIterator[AsyncEngine]:
    path = tmp_path / "mentor.sqlite3"
    shutil.copyfile(db_template, path)
    engine = make_engine(f"sqlite+aiosqlite:///{path}")
    try:
        yield engine
    finally:
        await engine.dispose()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def services(db: AsyncEngine, mentor: MentorService, clock: FakeClock) -> BotServices:
    built = build_bot_services(
        make_sessionmaker(db),
        mentor.guide,
        lambda: mentor,
        clock=clock,
        config_factory=GuildConfigService,
    )
    built.engine.set(mentor)
    return built


@pytest.fixture
def bot(services: BotServices, tmp_path: Path) -> MagicMock:
    """A spec'd bot: the real class's surface, with a logged-in user and our services."""
    real = MentorBot(services, data_dir=tmp_path, sync_commands=False)
    fake = MagicMock(spec_set=real)
    user = MagicMock(spec_set=discord.ClientUser)
    user.id = BOT_ID
    fake.user = user
    fake.services = services
    return fake
