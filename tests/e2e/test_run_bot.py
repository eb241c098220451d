"""`run_bot`, the entry point of `mentor run`, starts against the twin and stops cleanly."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

import bot.container
import bot.discord.app
from bot.discord.runner import run_bot
from bot.settings import Settings
from knowledge.engine import KnowledgeBase, load_knowledge
from storage.migrate import current_revision, head_revision
from tests.e2e.conftest import Twin
from tests.e2e.shims import twin_shims
from tests.helpers import HashingEmbedder, simple_ranking_model, write_guide

pytestmark = pytest.mark.asyncio(loop_scope="package")


async def test_run_bot_migrates_syncs_and_shuts_down(
    twin: Twin, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Also: Discord answers the first two command syncs with a 503 (injected over the wire
    by the twin's REST proxy); the bot keeps running, retries with backoff and syncs."""
    guide_dir = tmp_path / "guide"
    write_guide(guide_dir)
    loads: list[Path] = []

    def fast_knowledge(settings: Settings, **_: object) -> KnowledgeBase:
        # The real loader with the test embedder instead of the bundled model.
        loads.append(settings.index_dir)
        return load_knowledge(
            settings.index_dir,
            guide_dir=settings.mentor_guide_dir,
            embedder=HashingEmbedder(),
            ranking=simple_ranking_model(),
        )

    monkeypatch.setattr(bot.container, "build_knowledge", fast_knowledge)
    monkeypatch.delenv("MENTOR_DEV_GUILD_ID", raising=False)
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        mentor_data_dir=tmp_path / "data",
        discord_token=twin.info["botToken"],
        mentor_guide_dir=guide_dir,
    )
    database = settings.mentor_data_dir / "mentor.sqlite3"

    def synced() -> bool:
        """The "already synced" marker, kept in the database (table bot_state)."""
        try:
            with closing(sqlite3.connect(database)) as db:
                row = db.execute("SELECT 1 FROM bot_state WHERE key = 'commands:global'")
                return row.fetchone() is not None
        except sqlite3.Error:
            return False  # not migrated yet

    monkeypatch.setattr(bot.discord.app, "SYNC_FIRST_DELAY", 0.2)
    outage = await twin.call(
        "injectFault",
        method="PUT",
        pathPattern=r"^/api/v10/applications/\d+/commands$",
        status=503,
        count=2,
    )
    with (
        twin_shims(twin.info["frontUrl"], twin.info["gatewayUrl"]),
        caplog.at_level(logging.WARNING, "mentor.discord"),
    ):
        task = asyncio.create_task(run_bot(settings))
        for _ in range(300):
            if synced() and loads:
                break
            await asyncio.sleep(0.05)
        assert not task.done(), task.exception() if task.done() else None
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    assert (await twin.call("faultHits", index=outage["index"]))["hits"] == 2
    assert caplog.text.count("application command sync failed") == 2
    assert synced()  # commands synced globally (no dev guild configured)
    assert loads == [settings.index_dir]  # the engine loaded once, in the background
    assert await current_revision(settings.effective_database_url) == head_revision()


async def test_run_bot_refuses_without_a_token(tmp_path: Path) -> None:
    settings = Settings(_env_file=None, mentor_data_dir=tmp_path)  # type: ignore[call-arg]
    with pytest.raises(ValueError, match="DISCORD_TOKEN"):
        await run_bot(settings)
