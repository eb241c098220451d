"""Hybrid retrieval: dense (FAISS) and lexical (BM25) scores fused into one ranking.

Fusion is a weighted sum of the dense cosine and the BM25 score normalised by the query's best
BM25 score. Reciprocal rank fusion was tried first; on our labelled question set
(`benchmarks/calibrate.py`) it picked the right section less often (146–148 of 170 against
150–151), because it throws away how far apart the dense scores are. The guide is small, so
every chunk is scored by both views; no candidate cut-off can hide the right section.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from knowledge.chunking import Chunk
from knowledge.embedder import Embedder
from knowledge.lexical import LexicalIndex
from knowledge.query import QueryExpander
from knowledge.vector_index import VectorIndex

LEXICAL_WEIGHT = 0.1
# A question that names a phase ("how long is phase 1?") is about that phase's sections; the
# embedding model barely tells "Phase 1" from "Phase 3", so the phase metadata is used.
NAMED_PHASE_BONUS = 0.05
_NAMED_PHASE = re.compile(r"\bphase\s*([0-3])\b", re.IGNORECASE)
# Prefers the asker's phase when two sections are within this much of each other: a
# tie-breaker, far smaller than the gap between a right and a wrong section.
PHASE_TIE_BONUS = 0.005
# Dense scores are read for at most this many chunks (every chunk of the bundled guide, ~130);
# on a very large guide the rest count as cosine 0, which only matters for sections that
# could never reach the top five anyway.
DENSE_CANDIDATES = 1000


@dataclass(frozen=True, slots=True)
class Hit:
    chunk: Chunk
    score: float
    dense: float
    lexical: float


@dataclass(frozen=True, slots=True)
class Retrieval:
    query: str
    hits: tuple[Hit, ...]
    top_dense: float
    top_lexical: float
    term_coverage: float

    @property
    def best(self) -> Hit | None:
        return self.hits[0] if self.hits else None


def fuse_scores(dense: np.ndarray, lexical: np.ndarray, *, lexical_weight: float) -> np.ndarray:
    """dense + weight × lexical / max(lexical); lexical all zero leaves dense unchanged."""
    top = float(lexical.max()) if lexical.size else 0.0
    if top <= 0:
        return dense.astype(np.float32, copy=True)
    return dense + lexical_weight * (lexical / top)


class HybridRetriever:
    def __init__(
        self,
        chunks: Sequence[Chunk],
        vectors: VectorIndex,
        embedder: Embedder,
        *,
        lexical: LexicalIndex | None = None,
        expander: QueryExpander | None = None,
        lexical_weight: float = LEXICAL_WEIGHT,
    ) -> None:
        self.chunks = list(chunks)
        if [c.id for c in self.chunks] != list(range(len(self.chunks))):
            raise ValueError("chunk ids must be their positions 0..n-1")
        self._vectors = vectors
        self._embedder = embedder
        self._lexical = lexical or LexicalIndex([c.embedding_text() for c in self.chunks])
        self._expander = expander or QueryExpander()
        self._topicless = set(
            self._lexical.terms(" ".join(self._expander.glossary.topicless_words))
        )
        self._lexical_weight = lexical_weight
        self._phases = np.array(
            [-1 if c.phase is None else c.phase for c in self.chunks], dtype=np.int64
        )

    def similarities(self, query: str, texts: Sequence[str]) -> list[float]:
        """Cosine of `query` to each text (one at a time, so the embedder's cache serves
        texts that recur, such as a server's FAQ questions)."""
        vector = self._embedder.embed([self._expander.expand(query)])[0]
        return [
            float(self._embedder.embed([self._expander.expand(text)])[0] @ vector) for text in texts
        ]

    def search(self, query: str, *, k: int = 5, phase: int | None = None) -> Retrieval:
        expanded = self._expander.expand(query)
        vector = self._embedder.embed([expanded])[0]
        dense = np.zeros(len(self.chunks), dtype=np.float32)
        candidates = min(len(self.chunks), DENSE_CANDIDATES)
        for chunk_id, score in self._vectors.search(vector, candidates):
            dense[chunk_id] = score
        terms = self._lexical.terms(expanded)
        lexical = self._lexical.scores(terms)
        fused = fuse_scores(dense, lexical, lexical_weight=self._lexical_weight)
        for named in {int(n) for n in _NAMED_PHASE.findall(query)}:
            fused = fused + NAMED_PHASE_BONUS * (self._phases == named)
        if phase is not None:
            fused = fused + PHASE_TIE_BONUS * (self._phases == phase)
        order = np.argsort(-fused, kind="stable")[:k]
        hits = tuple(
            Hit(self.chunks[i], float(fused[i]), float(dense[i]), float(lexical[i])) for i in order
        )
        topical = [t for t in terms if t not in self._topicless]
        known = [t for t in topical if self._lexical.is_known(t)]
        return Retrieval(
            query=query,
            hits=hits,
            top_dense=float(dense.max()) if dense.size else 0.0,
            top_lexical=float(lexical.max()) if lexical.size else 0.0,
            term_coverage=len(known) / len(topical) if topical else 0.0,
        )
