"""Retrieval: a question in the guide's words, every section scored, the best ones returned.

The question is normalised (ordinals, glossary, typos: `knowledge/query.py`), embedded once,
and compared with every row of the dense index (section texts, headings and the questions
each section answers), as it is and as mapped by the fitted query adapter. Per-section
evidence (`knowledge/features.py`) is weighed by a linear model fitted offline
(`knowledge/ranking.py`), and a second fitted model gives the probability that the best
section really answers the question. The guide is small, so
every section is scored by every view; no candidate cut-off can hide the right one.

History: a hand-set `cosine + 0.1 × BM25 / max` fusion reached 0.79 top-1 on the report
part of `benchmarks/learner_questions.jsonl`; reciprocal rank fusion did worse than that.
`benchmarks/quality.py` prints what each part of the present design buys.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from knowledge.chunking import Chunk
from knowledge.embedder import Embedder
from knowledge.features import (
    NAMED_PHASE_PATTERN,
    SECTION_FEATURES,
    FeatureBuilder,
    question_features,
)
from knowledge.query import QueryExpander
from knowledge.ranking import RankingModel
from knowledge.store import IndexRows
from knowledge.vector_index import VectorIndex

log = logging.getLogger(__name__)
_NAMED_PHASE = re.compile(NAMED_PHASE_PATTERN, re.IGNORECASE)
# Prefers the asker's phase when two sections are this close (as a share of the spread of
# the question's scores): a tie-breaker, far smaller than a right/wrong gap.
PHASE_TIE_SHARE = 0.002
# Rows scored densely per question: every row of the bundled guide (~2,700 with its
# anticipated questions); on a far larger guide the nearest this many, the rest count as
# cosine -1, which only matters for sections that could never reach the top anyway.
DENSE_CANDIDATES = 20_000


@dataclass(frozen=True, slots=True)
class Hit:
    chunk: Chunk
    score: float  # the ranking model's score
    dense: float  # the best cosine of any of the section's rows
    lexical: float  # BM25 over the section's text


@dataclass(frozen=True, slots=True)
class Retrieval:
    query: str
    expanded: str
    hits: tuple[Hit, ...]
    top_dense: float
    term_coverage: float
    answer_probability: float
    threshold: float
    runner_up_gap: float = 0.0  # see `RankingModel.runner_up_gap`

    @property
    def best(self) -> Hit | None:
        return self.hits[0] if self.hits else None

    @property
    def close_runner_up(self) -> Hit | None:
        """The second section when the ranking barely prefers the first: worth quoting too."""
        if len(self.hits) < 2 or self.hits[0].score - self.hits[1].score >= self.runner_up_gap:
            return None
        return self.hits[1]

    @property
    def confident(self) -> bool:
        return bool(self.hits) and self.answer_probability >= self.threshold


class HybridRetriever:
    def __init__(
        self,
        chunks: Sequence[Chunk],
        vectors: VectorIndex,
        rows: IndexRows,
        embedder: Embedder,
        model: RankingModel,
        *,
        expander: QueryExpander | None = None,
    ) -> None:
        self.chunks = list(chunks)
        if [c.id for c in self.chunks] != list(range(len(self.chunks))):
            raise ValueError("chunk ids must be their positions 0..n-1")
        if vectors.size != len(rows):
            raise ValueError("the dense index and its row table differ in length")
        self._vectors = vectors
        self._embedder = embedder
        self._model = model
        if model.adapter is not None and model.adapter.shape[0] != vectors.dimension:
            # The adapted features then repeat the plain ones: the weights still apply, but
            # they were fitted for the bundled model's vectors, not these.
            log.warning(
                "the query adapter is %d-dimensional and the index %d: it is not used "
                "(the ranking weights were fitted for another embedding model)",
                model.adapter.shape[0],
                vectors.dimension,
            )
        self.expander = expander or QueryExpander()
        self.features = FeatureBuilder(
            self.chunks,
            rows,
            topicless=sorted(self.expander.glossary.topicless_words),
        )
        self._phases = np.array([-1 if c.phase is None else c.phase for c in self.chunks])
        # Answers weigh each sentence of the quoted sections by the question's terms: the
        # guide's sentences recur from answer to answer (a pure function of the text).
        self._content_terms = lru_cache(maxsize=4096)(self._terms_of)

    @property
    def model(self) -> RankingModel:
        return self._model

    def content_terms(self, text: str) -> list[str]:
        """The stemmed words of `text` that carry its topic (no stopwords, no chat filler)."""
        return list(self._content_terms(text))

    def _terms_of(self, text: str) -> tuple[str, ...]:
        return tuple(self.features.content_terms(self.expander.expand(text)))

    def similarities(self, query: str, texts: Sequence[str]) -> list[float]:
        """Cosine of `query` to each text (one at a time, so the embedder's cache serves
        texts that recur, such as a server's FAQ questions)."""
        vector = self._embedder.embed([self.expander.expand(query)])[0]
        return [
            float(self._embedder.embed([self.expander.expand(text)])[0] @ vector) for text in texts
        ]

    def embed_queries(self, queries: Sequence[str]) -> np.ndarray:
        """The query vectors of several questions in one embedding call (a two-part question
        and its parts: one forward pass instead of three), to pass to `search`."""
        return self._embedder.embed([self.expander.expand(q) for q in queries])

    def search(
        self,
        query: str,
        *,
        k: int = 5,
        phase: int | None = None,
        within_phase: bool = False,
        vector: np.ndarray | None = None,
    ) -> Retrieval:
        """The best `k` sections for `query`; `phase` is the asker's (a tie-breaker), and
        `within_phase` leaves out the sections of other phases (the question said "my phase").
        `vector`: the query's embedding from `embed_queries`, if already computed."""
        expanded = self.expander.expand(query)
        if vector is None:
            vector = self._embedder.embed([expanded])[0]
        named = {int(n) for n in _NAMED_PHASE.findall(expanded)}
        row_scores = self._vectors.row_scores(vector, limit=DENSE_CANDIDATES)
        adapted = self._model.adapt(vector)
        adapted_scores = (
            None if adapted is None else self._vectors.row_scores(adapted, limit=DENSE_CANDIDATES)
        )
        features = self.features.build(expanded, row_scores, named, adapted_scores)
        scores = self._model.section_scores(features.matrix)
        if phase is not None and scores.size:
            spread = float(scores.max() - scores.min()) or 1.0
            scores = scores + PHASE_TIE_SHARE * spread * (self._phases == phase)
            if within_phase:
                other = (self._phases >= 0) & (self._phases != phase)
                scores = np.where(other, scores - 2 * spread, scores)
        order = np.argsort(-scores, kind="stable")
        probability = (
            self._model.answer_probability(question_features(features, scores, order))
            if len(order)
            else 0.0
        )
        bm25 = features.matrix[:, SECTION_FEATURES.index("bm25_text")]
        hits = tuple(
            Hit(self.chunks[i], float(scores[i]), float(features.dense[i]), float(bm25[i]))
            for i in order[:k].tolist()
        )
        return Retrieval(
            query=query,
            expanded=expanded,
            hits=hits,
            top_dense=float(features.dense.max()) if features.dense.size else 0.0,
            term_coverage=features.coverage,
            answer_probability=probability,
            threshold=self._model.threshold,
            runner_up_gap=self._model.runner_up_gap,
        )
