"""Hybrid retrieval: dense (FAISS) and lexical (BM25) rankings fused by reciprocal rank.

Reciprocal rank fusion needs no score normalisation between two very different scales, and
it rewards chunks that both views agree on. The raw dense and lexical scores are kept on each
hit because the confidence decision needs absolute evidence, not just an order.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from knowledge.chunking import Chunk
from knowledge.embedder import Embedder
from knowledge.lexical import LexicalIndex
from knowledge.vector_index import VectorIndex

RRF_K = 60
# A tie-breaker, not a boost: small enough never to reorder hits that differ by one rank.
PHASE_TIE_BONUS = 1e-4


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


def reciprocal_rank_fusion(
    rankings: Sequence[Sequence[int]],
    *,
    weights: Sequence[float] | None = None,
    k: int = RRF_K,
) -> dict[int, float]:
    """Fuse best-first id lists: score(id) = sum of weight / (k + rank), rank from 1."""
    weights = weights or [1.0] * len(rankings)
    fused: dict[int, float] = {}
    for ranking, weight in zip(rankings, weights, strict=True):
        for rank, item in enumerate(ranking, start=1):
            fused[item] = fused.get(item, 0.0) + weight / (k + rank)
    return fused


class HybridRetriever:
    def __init__(
        self,
        chunks: Sequence[Chunk],
        vectors: VectorIndex,
        embedder: Embedder,
        *,
        lexical: LexicalIndex | None = None,
        candidates: int = 20,
        rrf_k: int = RRF_K,
        dense_weight: float = 1.0,
        lexical_weight: float = 1.0,
    ) -> None:
        self.chunks = list(chunks)
        self._by_id = {c.id: c for c in self.chunks}
        self._vectors = vectors
        self._embedder = embedder
        self._lexical = lexical or LexicalIndex([c.embedding_text() for c in self.chunks])
        self._candidates = candidates
        self._weights = (dense_weight, lexical_weight)
        self._rrf_k = rrf_k

    def search(self, query: str, *, k: int = 5, phase: int | None = None) -> Retrieval:
        vector = self._embedder.embed([query])[0]
        dense = self._vectors.search(vector, self._candidates)
        lexical = self._lexical.search(query, self._candidates)
        fused = reciprocal_rank_fusion(
            [[i for i, _ in dense], [i for i, _ in lexical]], weights=self._weights, k=self._rrf_k
        )
        if phase is not None:
            for chunk_id in fused:
                if self._by_id[chunk_id].phase == phase:
                    fused[chunk_id] += PHASE_TIE_BONUS
        dense_scores = dict(dense)
        lexical_scores = dict(lexical)
        order = sorted(fused, key=lambda i: (-fused[i], i))[:k]
        hits = tuple(
            Hit(self._by_id[i], fused[i], dense_scores.get(i, 0.0), lexical_scores.get(i, 0.0))
            for i in order
        )
        terms = self._lexical.terms(query)
        known = self._lexical.known_terms(query)
        return Retrieval(
            query=query,
            hits=hits,
            top_dense=dense[0][1] if dense else 0.0,
            top_lexical=lexical[0][1] if lexical else 0.0,
            term_coverage=len(known) / len(terms) if terms else 0.0,
        )
