"""Assembles the knowledge base: guide → chunks → (cached) dense index + BM25 → retriever.

One function so the CLI, the console, the bot and the tests all load the engine the same way,
and the model is loaded once per process by whoever calls it.

The embedder is the ONNX export in the index directory (`load_embedder`). Where it is
missing or stale, it is exported again if torch is installed (the `build` extra); otherwise
loading stops with one line naming `mentor index build`. With a valid export, nothing here
imports torch, even when the index itself must be rebuilt (a guide edit, a corrupt file).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path

from knowledge.anticipated import load_anticipated, load_out_of_scope
from knowledge.chunking import Chunk, chunk_documents
from knowledge.content import BUNDLED_GUIDE_DIR, Guide, load_guide
from knowledge.embedder import Embedder, EmbedderError, model_source, source_fingerprint
from knowledge.onnx_embedder import OnnxEmbedder, StaleModelError, verify_export
from knowledge.onnx_export import build_tools_available, export_onnx
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


def build_expander(
    chunks: list[Chunk], *, split_joined: bool = True, unclip: bool = True
) -> QueryExpander:
    """Glossary expansion and spelling correction against this guide's own words (the
    options exist for `benchmarks/quality.py`'s ablations; see `SpellingCorrector`).

    Ordinals ("the third phase" → "phase 3") are off: refitted, they measure +0.7 points in
    scope and 0 off topic on the report part (`benchmarks/quality.py`), under the point a
    stage must add, and with the shipped weights they cost 3 of the fit part's in-scope
    questions; the anticipated questions already carry learners' ordinals.
    """
    glossary = load_glossary()
    vocabulary = guide_vocabulary(
        [c.embedding_text() for c in chunks] + list(glossary.abbreviations.values())
    )
    corrector = SpellingCorrector(
        vocabulary, protected=glossary.topicless_words, split_joined=split_joined, unclip=unclip
    )
    return QueryExpander(glossary, corrector=corrector, ordinals=False)


def load_embedder(index_dir: Path, model: str | None = None, *, export: bool = False) -> Embedder:
    """The ONNX embedder for `model` (None: the bundled MiniLM) from `index_dir`.

    `export=True` makes a fresh export even when the current one is valid (`mentor index
    build --export`). A missing or stale export is re-exported when torch is importable, and
    is otherwise an EmbedderError whose message says where to build it.
    """
    source = model_source(model)
    fingerprint = source_fingerprint(source.path)
    if not export:
        try:
            return OnnxEmbedder.load(index_dir, model_id=source.model_id, source=fingerprint)
        except StaleModelError as exc:
            reason = str(exc)
        if not build_tools_available():
            raise _no_export(reason, index_dir)
        log.warning("%s; exporting the embedding model to ONNX (needs torch, once)", reason)
    export_onnx(source, index_dir)
    return OnnxEmbedder.load(index_dir, model_id=source.model_id, source=fingerprint)


def check_embedder(index_dir: Path, model: str | None = None) -> None:
    """Fail now, with the same one-line EmbedderError `load_embedder` would raise, when there
    is no valid export and no torch to make one. For the bot, which loads the engine in the
    background after connecting: a torch-free install without a model stops at start
    instead of running without answers."""
    source = model_source(model)
    try:
        verify_export(index_dir, model_id=source.model_id, source=source_fingerprint(source.path))
    except StaleModelError as exc:
        if not build_tools_available():
            raise _no_export(str(exc), index_dir) from None


def _no_export(reason: str, index_dir: Path) -> EmbedderError:
    return EmbedderError(
        f"The ONNX embedding model is not usable ({reason}) and this install has no torch to "
        "export it: run `mentor index build` on a machine with the build extra (pip install "
        f"'mle-mentor[build]') and copy its index directory to {index_dir}."
    )


def load_knowledge(
    index_dir: Path,
    *,
    guide_dir: Path | None = None,
    embedder: Embedder | None = None,
    model: str | None = None,
    rebuild: bool = False,
    export: bool = False,
    progress: ProgressCallback | None = None,
    ranking: RankingModel | None = None,
) -> KnowledgeBase:
    """`ranking`: the fitted ranking and answer models (default: the shipped weights); their
    hash is recorded in the manifest, so new weights rebuild the index. `export`: export the
    embedding model afresh."""
    started = time.perf_counter()
    guide = load_guide(guide_dir)
    chunks = chunk_documents(guide.documents)
    source = guide_dir or BUNDLED_GUIDE_DIR
    rows = index_rows(chunks, load_anticipated(source, chunks), load_out_of_scope(source))
    ranking = ranking or load_ranking_model()
    embedder = embedder or load_embedder(index_dir, model, export=export)
    store = IndexStore(index_dir)
    build = store.build if rebuild else store.load_or_build
    vectors, manifest = build(
        embedder, guide.content_hash, chunks, rows, progress=progress, ranking=ranking.digest
    )
    retriever = HybridRetriever(
        chunks, vectors, rows, embedder, ranking, expander=build_expander(chunks)
    )
    seconds = time.perf_counter() - started
    log.info("knowledge base ready: %d chunks in %.2fs", len(chunks), seconds)
    return KnowledgeBase(
        guide, tuple(chunks), retriever, embedder, vectors, manifest, rows, seconds
    )
