"""Composition root: turns `Settings` into ready services. Nothing here runs at import.

Every entry point (CLI, console, bot, benchmarks) builds its objects through these
functions, so there is exactly one place where the engine, the database and the services
are wired together.
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
