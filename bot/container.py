"""Composition root, answer-engine half: `Settings` → knowledge base → MentorService.

Every entry point (CLI, console, bot, benchmarks) builds the engine through these functions;
the database half lives in `bot.database`, kept apart so `mentor ask` never imports
SQLAlchemy or Alembic on its way to a first answer. Nothing here runs at import.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from bot.services.mentor import MentorService
from bot.settings import Settings
from knowledge.embedder import Embedder
from knowledge.engine import KnowledgeBase, load_knowledge
from knowledge.store import ProgressCallback

log = logging.getLogger(__name__)


def build_knowledge(
    settings: Settings,
    *,
    rebuild: bool = False,
    export: bool = False,
    progress: ProgressCallback | None = None,
    embedder: Embedder | None = None,
) -> KnowledgeBase:
    """`embedder`: reuse an already-loaded model (a guide reload needs no new model)."""
    return load_knowledge(
        settings.index_dir,
        guide_dir=settings.mentor_guide_dir,
        embedder=embedder,
        model=settings.mentor_model,
        rebuild=rebuild,
        export=export,
        progress=progress,
    )


def engine_loader(settings: Settings) -> Callable[[], MentorService]:
    """Loads the engine; later calls (a guide reload) re-read the guide and index but keep
    the embedding model already in memory instead of loading it again."""
    loaded: list[Embedder] = []

    def load() -> MentorService:
        knowledge = build_knowledge(settings, embedder=loaded[0] if loaded else None)
        loaded[:] = [knowledge.embedder]
        return build_mentor(knowledge)

    return load


def build_mentor(knowledge: KnowledgeBase) -> MentorService:
    return MentorService(knowledge.retriever, knowledge.guide)
