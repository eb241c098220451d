"""Assembles the knowledge base: guide → chunks → (cached) dense index + BM25 → retriever.

One function so the CLI, the console, the bot and the tests all load the engine the same way,
and the model is loaded once per process by whoever calls it.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path

from knowledge.chunking import Chunk, chunk_documents
from knowledge.content import Guide, load_guide
from knowledge.embedder import Embedder, SentenceTransformerEmbedder
from knowledge.query import QueryExpander, load_glossary
from knowledge.retriever import HybridRetriever
from knowledge.store import IndexStore, Manifest, ProgressCallback
from knowledge.vector_index import VectorIndex

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class KnowledgeBase:
    guide: Guide
    chunks: tuple[Chunk, ...]
    retriever: HybridRetriever
    embedder: Embedder
    vectors: VectorIndex
    manifest: Manifest
    load_seconds: float


def load_knowledge(
    index_dir: Path,
    *,
    guide_dir: Path | None = None,
    embedder: Embedder | None = None,
    model: str | None = None,
    rebuild: bool = False,
    progress: ProgressCallback | None = None,
) -> KnowledgeBase:
    started = time.perf_counter()
    guide = load_guide(guide_dir)
    chunks = chunk_documents(guide.documents)
    embedder = embedder or SentenceTransformerEmbedder(model)
    store = IndexStore(index_dir)
    if rebuild:
        vectors, manifest = store.build(embedder, guide.content_hash, chunks, progress=progress)
    else:
        vectors, manifest = store.load_or_build(
            embedder, guide.content_hash, chunks, progress=progress
        )
    retriever = HybridRetriever(chunks, vectors, embedder, expander=QueryExpander(load_glossary()))
    seconds = time.perf_counter() - started
    log.info("knowledge base ready: %d chunks in %.2fs", len(chunks), seconds)
    return KnowledgeBase(guide, tuple(chunks), retriever, embedder, vectors, manifest, seconds)
