"""`mentor run` in its own process, pointed at the twin: for tests that signal or outlive it.

Usage: python -m tests.e2e.bot_process FRONT_URL GATEWAY_URL (settings from the
environment, as `mentor run` reads them). The same test-only seams as the in-process
fixtures: the twin shims, the deterministic test embedder instead of the bundled model
(and so no ONNX export to check), and a fast heartbeat. Everything else is production:
`bot.cli.main(["run"])`, its signal handling and its exit code.

`MENTOR_TEST_PG_SCHEMA` (test-only): the PostgreSQL schema to use, pinned as `search_path`
on every connection, as the storage tests do. The test role may not create databases, so
tests sharing the server each get a schema; a `DATABASE_URL` alone cannot name one.
"""

from __future__ import annotations

import os
import sys
from typing import Any

import bot.cli
import bot.container
import bot.discord.heartbeat
import knowledge.engine
import storage.engine
from bot.settings import Settings
from knowledge.engine import KnowledgeBase, load_knowledge
from tests.e2e.shims import twin_shims
from tests.helpers import HashingEmbedder, simple_ranking_model

HEARTBEAT_SECONDS = 0.5


def test_knowledge(settings: Settings, **_: object) -> KnowledgeBase:
    return load_knowledge(
        settings.index_dir,
        guide_dir=settings.mentor_guide_dir,
        embedder=HashingEmbedder(),
        ranking=simple_ranking_model(),
    )


def pin_schema(schema: str) -> None:
    """Make every engine `run_bot` creates use `schema` (it imports make_engine per call)."""
    make_engine = storage.engine.make_engine

    def in_schema(url: Any, *, connect_args: Any = None, **kwargs: Any) -> Any:
        args = {**(connect_args or {}), "server_settings": {"search_path": schema}}
        return make_engine(url, connect_args=args, **kwargs)

    storage.engine.make_engine = in_schema  # type: ignore[assignment]


def main(front_url: str, gateway_url: str) -> int:
    schema = os.environ.get("MENTOR_TEST_PG_SCHEMA")
    if schema:
        pin_schema(schema)
    bot.container.build_knowledge = test_knowledge  # type: ignore[assignment]
    knowledge.engine.check_embedder = lambda *_args, **_kw: None  # type: ignore[assignment]
    bot.discord.heartbeat.HEARTBEAT_INTERVAL = HEARTBEAT_SECONDS  # type: ignore[misc]
    with twin_shims(front_url, gateway_url):
        return bot.cli.main(["run"])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
