"""Per-section evidence for one question: the inputs of the fitted ranking and answer models.

Each score is one view of "does this section answer the question"; none is good enough on
its own (see `benchmarks/quality.py`), so a small linear model fitted offline weighs them
(`knowledge/ranking.py`). Everything here is numpy over a guide of a few hundred sections:
computing every feature for every section costs well under a millisecond.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from knowledge.chunking import Chunk
from knowledge.lexical import LexicalIndex
from knowledge.query import specificity
from knowledge.store import (
    NO_CHUNK,
    ROW_OUT_OF_SCOPE,
    ROW_QUESTION,
    ROW_TEXT,
    ROW_TITLE,
    IndexRows,
)

# The order of the columns of `SectionFeatures.matrix`; the weights file names them, and a
# mismatch is refused at load rather than silently misapplied.
SECTION_FEATURES = (
    "dense_text",  # cosine to the section's heading path + text
    "dense_question",  # best cosine to one of the questions the section answers
    "dense_question_2",  # mean of its two best question cosines (one lucky match is noise)
    "dense_title",  # cosine to the heading path alone
    "bm25_text",  # BM25 over the section text, divided by the question's best
    "bm25_question",  # BM25 over the section's questions, likewise
    "title_overlap",  # share of the question's content words in the heading
    "text_overlap",  # share of the question's content words anywhere in the section
    "phase_match",  # the question names this section's phase
    "phase_mismatch",  # the question names another phase
    "rank_dense",  # 1 / (1 + rank) of the section by its best cosine
    "rank_bm25",  # 1 / (1 + rank) by BM25 over text and questions
    "kind_faq",
    "kind_roadmap",
    # The four dense views again, for the question's vector mapped by the fitted query
    # adapter (`knowledge/ranking.py`); without an adapter they repeat the plain ones.
    "adapted_text",
    "adapted_question",
    "adapted_question_2",
    "adapted_title",
)
QUESTION_FEATURES = (
    "top_score",  # the ranking model's score of the best section
    "margin",  # how far ahead of the runner-up it is
    "top_dense_text",
    "top_dense_question",
    "top_text_overlap",  # the question's content words found in the chosen section
    "coverage",  # the question's content words known anywhere in the guide
    "agreement",  # dense and BM25 rankings put the same section first
    "log_bm25",  # log(1 + best raw BM25 score): absolute lexical evidence
    "log_terms",  # log(1 + number of content words)
    "log_missing",  # log(1 + content words found neither in the section nor its questions)
    "out_of_scope",  # best cosine to a question the guide does not answer
    "missing_specificity",  # the rarest English word of the question absent from the section
    "out_of_scope_neighbours",  # share of the nearest banked questions that it does not answer
    "section_neighbours",  # the same among the chosen section's own questions and the bank's
)
# How many of the nearest banked questions (anticipated ones and out-of-scope ones) vote, and
# how sharply the vote favours the closest: weight exp(SHARPNESS × (cosine − best cosine)).
NEIGHBOURS = 10
NEIGHBOUR_SHARPNESS = 20.0
NAMED_PHASE_PATTERN = r"\bphase\s*([0-3])\b"
_SURFACE = re.compile(r"[a-z0-9]+")


@dataclass(frozen=True, slots=True)
class SectionFeatures:
    """One row of `SECTION_FEATURES` per chunk, plus what the answer model needs."""

    matrix: np.ndarray  # (chunks, len(SECTION_FEATURES)) float32
    dense: np.ndarray  # (chunks,) best cosine of any row of each chunk
    bm25_raw_max: float
    dense_first: int  # argmax of the dense view alone
    lexical_first: int  # argmax of BM25 over text alone (-1 when no term matched)
    coverage: float
    content_terms: int
    missing_terms: np.ndarray  # (chunks,) content words absent from each section
    missing_specificity: np.ndarray  # (chunks,) how rare the rarest absent word is
    out_of_scope: float
    out_of_scope_neighbours: float
    banked_scores: np.ndarray  # cosine to each banked question (anticipated, then out of scope)
    banked_chunks: np.ndarray  # the chunk each banked question points at (NO_CHUNK: none)


class FeatureBuilder:
    """Precomputes per-section term sets and priors; `build` is per question."""

    def __init__(
        self,
        chunks: Sequence[Chunk],
        rows: IndexRows,
        *,
        topicless: Sequence[str] = (),
        american: bool = True,
    ) -> None:
        """`american`: the lexical views in American spelling (`knowledge.spelling`)."""
        self.chunks = list(chunks)
        n = len(self.chunks)
        kinds = np.asarray(rows.kinds)
        self._text_row = self._first_row(rows, kinds == ROW_TEXT, n)
        self._title_row = self._first_row(rows, kinds == ROW_TITLE, n)
        self._question_rows = np.flatnonzero(kinds == ROW_QUESTION)
        self._out_of_scope_rows = np.flatnonzero(kinds == ROW_OUT_OF_SCOPE)
        self._question_chunk = rows.chunk_ids[self._question_rows]
        self._banked_rows = np.concatenate([self._question_rows, self._out_of_scope_rows])
        self._banked_out_of_scope = np.arange(len(self._banked_rows)) >= len(self._question_rows)
        self._banked_chunks = rows.chunk_ids[self._banked_rows]
        questions: list[list[str]] = [[] for _ in range(n)]
        for row in self._question_rows.tolist():
            questions[int(rows.chunk_ids[row])].append(rows.texts[row])
        self._has_questions = np.array([bool(q) for q in questions])
        self.text_lexical = LexicalIndex(
            [c.embedding_text() for c in self.chunks], american=american
        )
        # A guide without anticipated questions (bm25s cannot index an empty vocabulary).
        self.question_lexical = (
            LexicalIndex([" ".join(q) for q in questions], american=american)
            if any(questions)
            else None
        )
        self._topicless = set(self.text_lexical.terms(" ".join(topicless)))
        self._title_terms = [set(self.text_lexical.terms(c.heading_path)) for c in self.chunks]
        # Each section's terms as the lexical indexes analysed them when indexing: the same
        # analysis as `terms`, not repeated (it was 0.05 s of every start).
        self._text_terms = [set(self.text_lexical.document_terms(i)) for i in range(n)]
        section_terms = [
            terms | (self.question_lexical.document_terms(i) if self.question_lexical else set())
            for i, terms in enumerate(self._text_terms)
        ]
        # Inverted indexes, term → which sections hold it, so a question's overlap with
        # every section is a few vector operations rather than a loop over sections.
        self._in_title = _inverted(self._title_terms, n)
        self._in_text = _inverted(self._text_terms, n)
        self._in_section = _inverted(section_terms, n)
        self._phases = np.array([-1 if c.phase is None else c.phase for c in self.chunks])
        self._kind_faq = np.array([c.kind == "faq" for c in self.chunks], dtype=np.float32)
        self._kind_roadmap = np.array([c.kind == "roadmap" for c in self.chunks], np.float32)

    @staticmethod
    def _first_row(rows: IndexRows, mask: np.ndarray, n: int) -> np.ndarray:
        out = np.full(n, -1, dtype=np.int64)
        for row in np.flatnonzero(mask)[::-1].tolist():
            out[int(rows.chunk_ids[row])] = row
        if (out < 0).any():
            raise ValueError("every chunk needs a text row and a title row")
        return out

    def _rarity(self, query: str, terms: set[str]) -> dict[str, float]:
        """Each content term's specificity, from the rarest surface word that stems to it."""
        rarity = dict.fromkeys(terms, 0.0)
        for word in _SURFACE.findall(query.lower()):
            stem = self.text_lexical.stem(word)
            if stem in rarity:
                rarity[stem] = max(rarity[stem], specificity(word))
        return rarity

    def content_terms(self, text: str) -> list[str]:
        return [t for t in self.text_lexical.terms(text) if t not in self._topicless]

    def _dense_views(self, row_scores: np.ndarray) -> tuple[np.ndarray, ...]:
        """Per section: text cosine, best question cosine, mean of the two best, heading."""
        n = len(self.chunks)
        dense_text = row_scores[self._text_row]
        dense_title = row_scores[self._title_row]
        dense_question = dense_text.copy()
        dense_question_2 = dense_text.copy()
        if len(self._question_rows):
            scores = row_scores[self._question_rows]
            best = np.full(n, -1.0, dtype=np.float32)
            np.maximum.at(best, self._question_chunk, scores)
            # Second best: mask each chunk's best once, then take the max again.
            is_best = scores >= best[self._question_chunk]
            rest = np.where(is_best, -1.0, scores).astype(np.float32)
            second = np.full(n, -1.0, dtype=np.float32)
            np.maximum.at(second, self._question_chunk, rest)
            second = np.where(second < -0.5, best, second)
            dense_question = np.where(self._has_questions, best, dense_text)
            dense_question_2 = np.where(self._has_questions, (best + second) / 2, dense_text)
        return dense_text, dense_question, dense_question_2, dense_title

    def build(
        self,
        query: str,
        row_scores: np.ndarray,
        named_phases: set[int],
        adapted_scores: np.ndarray | None = None,
    ) -> SectionFeatures:
        """`row_scores`: the question's cosine to every row; `adapted_scores`: the same for
        its adapted vector (None: no adapter, the adapted views repeat the plain ones)."""
        n = len(self.chunks)
        views = self._dense_views(row_scores)
        dense_text, dense_question, dense_question_2, dense_title = views
        adapted = views if adapted_scores is None else self._dense_views(adapted_scores)
        terms = self.text_lexical.terms(query)
        content = [t for t in terms if t not in self._topicless]
        bm_text = self.text_lexical.scores(terms)
        bm_question = (
            self.question_lexical.scores(terms)
            if self.question_lexical is not None
            else np.zeros(n, dtype=np.float32)
        )
        title_overlap = np.zeros(n, dtype=np.float32)
        text_overlap = np.zeros(n, dtype=np.float32)
        missing = np.zeros(n, dtype=np.float32)
        missing_specificity = np.zeros(n, dtype=np.float32)
        if content:
            unique = sorted(set(content))
            absent = np.zeros(n, dtype=bool)
            in_title = np.stack([self._in_title.get(t, absent) for t in unique])
            in_text = np.stack([self._in_text.get(t, absent) for t in unique])
            in_section = np.stack([self._in_section.get(t, absent) for t in unique])
            title_overlap = in_title.mean(axis=0, dtype=np.float32)
            text_overlap = in_text.mean(axis=0, dtype=np.float32)
            missing = (~in_section).sum(axis=0).astype(np.float32)
            rarity = self._rarity(query, set(unique))
            weights = np.array([rarity[t] for t in unique], dtype=np.float32)[:, None]
            missing_specificity = (weights * ~in_section).max(axis=0).astype(np.float32)
        if named_phases:
            named = np.isin(self._phases, list(named_phases))
            match = named.astype(np.float32)
            mismatch = ((~named) & (self._phases >= 0)).astype(np.float32)
        else:
            match = mismatch = np.zeros(n, dtype=np.float32)
        dense = np.maximum(dense_text, dense_question)
        lexical = _by_max(bm_text) + _by_max(bm_question)
        matrix = np.stack(
            [
                dense_text,
                dense_question,
                dense_question_2,
                dense_title,
                _by_max(bm_text),
                _by_max(bm_question),
                title_overlap,
                text_overlap,
                match,
                mismatch,
                _reciprocal_rank(dense),
                _reciprocal_rank(lexical),
                self._kind_faq,
                self._kind_roadmap,
                *adapted,
            ],
            axis=1,
        ).astype(np.float32)
        known = [t for t in content if self.text_lexical.is_known(t)]
        banked = row_scores[self._banked_rows]
        return SectionFeatures(
            matrix=matrix,
            dense=dense,
            bm25_raw_max=float(max(bm_text.max(initial=0.0), 0.0)),
            dense_first=int(np.argmax(dense)) if n else -1,
            lexical_first=int(np.argmax(bm_text)) if n and bm_text.max(initial=0.0) > 0 else -1,
            coverage=len(known) / len(content) if content else 0.0,
            content_terms=len(content),
            missing_terms=missing,
            missing_specificity=missing_specificity,
            out_of_scope=float(row_scores[self._out_of_scope_rows].max())
            if len(self._out_of_scope_rows)
            else 0.0,
            out_of_scope_neighbours=self._neighbour_vote(banked),
            banked_scores=banked,
            banked_chunks=self._banked_chunks,
        )

    def _neighbour_vote(self, banked: np.ndarray) -> float:
        """How much of the nearest banked questions' weight lies on out-of-scope ones.

        The single best out-of-scope cosine is one lucky match; a vote of the nearest
        neighbours says whether the question lives among questions the guide answers or
        among those it does not, which is what tells a near-domain question apart.
        """
        if not len(self._out_of_scope_rows) or not len(self._question_rows):
            return 0.0
        return _vote(banked, self._banked_out_of_scope)


def _vote(scores: np.ndarray, out_of_scope: np.ndarray) -> float:
    """The weighted share of out-of-scope questions among the `NEIGHBOURS` nearest."""
    if not out_of_scope.any():
        return 0.0
    k = min(NEIGHBOURS, len(scores))
    nearest = np.argpartition(-scores, k - 1)[:k]
    weights = np.exp(NEIGHBOUR_SHARPNESS * (scores[nearest] - scores[nearest].max()))
    return float(weights[out_of_scope[nearest]].sum() / weights.sum())


def section_vote(features: SectionFeatures, section: int) -> float:
    """The neighbour vote between one section's own questions and the out-of-scope bank.

    The guide-wide vote can be won by another section's questions; this one asks whether
    the question reads more like what the chosen section answers or like what nobody
    answers (the bank's near-domain questions often borrow one section's words).
    """
    mine = (features.banked_chunks == section) | (features.banked_chunks == NO_CHUNK)
    if not mine.any():
        return 0.0
    return _vote(features.banked_scores[mine], features.banked_chunks[mine] == NO_CHUNK)


def question_features(
    features: SectionFeatures, scores: np.ndarray, order: np.ndarray
) -> np.ndarray:
    """The `QUESTION_FEATURES` row for one question, given the ranking's scores and order."""
    top = int(order[0])
    second = float(scores[order[1]]) if len(order) > 1 else float(scores[top]) - 1.0
    column = {name: i for i, name in enumerate(SECTION_FEATURES)}
    row = features.matrix[top]
    return np.array(
        [
            float(scores[top]),
            float(scores[top]) - second,
            float(row[column["dense_text"]]),
            float(row[column["dense_question"]]),
            float(row[column["text_overlap"]]),
            features.coverage,
            float(features.dense_first == features.lexical_first),
            float(np.log1p(features.bm25_raw_max)),
            float(np.log1p(features.content_terms)),
            float(np.log1p(features.missing_terms[top])),
            features.out_of_scope,
            float(features.missing_specificity[top]),
            features.out_of_scope_neighbours,
            section_vote(features, top),
        ],
        dtype=np.float32,
    )


def _inverted(term_sets: Sequence[set[str]], n: int) -> dict[str, np.ndarray]:
    index: dict[str, np.ndarray] = {}
    for position, terms in enumerate(term_sets):
        for term in terms:
            index.setdefault(term, np.zeros(n, dtype=bool))[position] = True
    return index


def _reciprocal_rank(values: np.ndarray) -> np.ndarray:
    ranks = np.empty(len(values), dtype=np.float32)
    ranks[np.argsort(-values, kind="stable")] = np.arange(len(values), dtype=np.float32)
    return 1.0 / (1.0 + ranks)


def _by_max(values: np.ndarray) -> np.ndarray:
    top = float(values.max()) if values.size else 0.0
    return values / top if top > 0 else np.zeros_like(values)
