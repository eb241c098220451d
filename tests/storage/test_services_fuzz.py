"""The services' free-text entry points under generated text, on a real database.

Discord hands the services whatever members type (JSON may even carry lone surrogates),
so every method that stores text is driven with generated input on a real SQLite file
and PostgreSQL: the only exception allowed is a `MentorError`, and what was accepted
reads back as stored (no NUL for PostgreSQL, no surrogate for either driver).
"""

from __future__ import annotations

import asyncio
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.database import Storage, open_storage
from bot.services.errors import MentorError
from bot.services.guild_config import GuildConfigService
from bot.settings import Settings
from knowledge.content import Guide
from tests.fuzzing import MEMBER_TEXT, fuzz
from tests.storage.conftest import DatabaseTarget
from tests.storage.support import ALICE, GUILD

SURROGATE = re.compile("[\ud800-\udfff]")


@pytest.fixture
def storage(
    empty_db: DatabaseTarget, sqlite_template: Path, guide: Guide, tmp_path: Path
) -> Iterator[tuple[asyncio.Runner, Storage]]:
    if empty_db.path is not None:
        empty_db.path.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(sqlite_template, empty_db.path)
    settings = Settings(_env_file=None, database_url=empty_db.url, mentor_data_dir=tmp_path)  # type: ignore[call-arg]
    with asyncio.Runner() as runner:
        opened = runner.run(
            open_storage(settings, guide, connect_args=empty_db.connect_args or None)
        )
        try:
            yield runner, opened
        finally:
            runner.run(opened.close())


async def _allowed(call: object) -> object:
    try:
        return await call  # type: ignore[misc]
    except MentorError:
        return None


def test_text_entry_points_store_or_refuse(storage: tuple[asyncio.Runner, Storage]) -> None:
    runner, opened = storage
    services = opened.services
    faqs = GuildConfigService(services.sessionmaker, services.guide, services.clock)

    @fuzz(MEMBER_TEXT, MEMBER_TEXT, MEMBER_TEXT)
    def store(first: str, second: str, third: str) -> None:
        async def scenario() -> None:
            logged = await _allowed(services.study.log(GUILD, ALICE, 30, first, second, third))
            if logged is not None:
                assert not SURROGATE.search(logged.log.topic + (logged.log.note or ""))
            await _allowed(services.feedback.record_unanswered(GUILD, ALICE, first, 0.1))
            await _allowed(services.feedback.record_feedback(GUILD, ALICE, second, True, third))
            await _allowed(faqs.set_faq(GUILD, ALICE, first, second))
            await _allowed(services.profile.set_timezone(GUILD, ALICE, third))
            await _allowed(services.milestones.set_status(GUILD, ALICE, first, second))
            await _allowed(
                services.challenges.create(
                    GUILD,
                    ALICE,
                    is_admin=True,
                    name=first,
                    metric=second,
                    goal=third,
                    start="2026-03-02",
                    end="2026-03-09",
                )
            )

        runner.run(scenario())

    store()
    # Everything accepted reads back through the same services.
    summary = runner.run(services.stats.summary(GUILD, ALICE))
    assert summary.all_time.sessions >= 0
    runner.run(faqs.list_faqs(GUILD))
    runner.run(services.feedback.top_unanswered(GUILD))
