"""Composition root, answer-engine half: `Settings` → knowledge base → MentorService.

Every entry point (CLI, console, bot, benchmarks) builds the engine through these functions;
the database half lives in `bot.database`, kept apart so `mentor ask` never imports
SQLAlchemy or Alembic on its way to a first answer. Nothing here runs at import.
"""

from __future__ import annotations

import logging

from bot.services.mentor import MentorService
from bot.settings import Settings
from knowledge.engine import KnowledgeBase, load_knowledge
from knowledge.store import ProgressCallback

log = logging.getLogger(__name__)


def build_knowledge(
    settings: Settings, *, rebuild: bool = False, progress: ProgressCallback | None = None
) -> KnowledgeBase:
    return load_knowledge(
        settings.index_dir,
        guide_dir=settings.mentor_guide_dir,
        model=settings.mentor_model,
        rebuild=rebuild,
        progress=progress,
    )


def build_mentor(knowledge: KnowledgeBase) -> MentorService:
    return MentorService(knowledge.retriever, knowledge.guide)
