"""Assembles the knowledge base: guide → chunks → (cached) dense index + BM25 → retriever.

One function so the CLI, the console, the bot and the tests all load the engine the same way,
and the model is loaded once per process by whoever calls it.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path

from knowledge.anticipated import load_anticipated, load_out_of_scope
from knowledge.chunking import Chunk, chunk_documents
from knowledge.content import BUNDLED_GUIDE_DIR, Guide, load_guide
from knowledge.embedder import Embedder, SentenceTransformerEmbedder
from knowledge.query import QueryExpander, SpellingCorrector, guide_vocabulary, load_glossary
from knowledge.ranking import RankingModel, load_ranking_model
from knowledge.retriever import HybridRetriever
from knowledge.store import IndexRows, IndexStore, Manifest, ProgressCallback, index_rows
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
    rows: IndexRows
    load_seconds: float


def build_expander(chunks: list[Chunk]) -> QueryExpander:
    """Glossary, ordinals and spelling correction against this guide's own words."""
    glossary = load_glossary()
    vocabulary = guide_vocabulary(
        [c.embedding_text() for c in chunks] + list(glossary.abbreviations.values())
    )
    corrector = SpellingCorrector(vocabulary, protected=glossary.topicless_words)
    return QueryExpander(glossary, corrector=corrector)


def load_knowledge(
    index_dir: Path,
    *,
    guide_dir: Path | None = None,
    embedder: Embedder | None = None,
    model: str | None = None,
    rebuild: bool = False,
    progress: ProgressCallback | None = None,
    ranking: RankingModel | None = None,
) -> KnowledgeBase:
    started = time.perf_counter()
    guide = load_guide(guide_dir)
    chunks = chunk_documents(guide.documents)
    source = guide_dir or BUNDLED_GUIDE_DIR
    rows = index_rows(chunks, load_anticipated(source, chunks), load_out_of_scope(source))
    ranking = ranking or load_ranking_model()
    embedder = embedder or SentenceTransformerEmbedder(model)
    store = IndexStore(index_dir)
    if rebuild:
        vectors, manifest = store.build(
            embedder, guide.content_hash, chunks, rows, progress=progress
        )
    else:
        vectors, manifest = store.load_or_build(
            embedder, guide.content_hash, chunks, rows, progress=progress
        )
    retriever = HybridRetriever(
        chunks, vectors, rows, embedder, ranking, expander=build_expander(chunks)
    )
    seconds = time.perf_counter() - started
    log.info("knowledge base ready: %d chunks in %.2fs", len(chunks), seconds)
    return KnowledgeBase(
        guide, tuple(chunks), retriever, embedder, vectors, manifest, rows, seconds
    )
