"""BM25 over chunk texts with the bm25s library (English stopwords, Snowball stemming).

Dense embeddings blur exact names (MLflow, Evidently, SageMaker); BM25 keeps them sharp, so
the retriever fuses both. The corpus is small, so it is rebuilt in memory at load time
rather than persisted.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from typing import Any

import numpy as np

# scikit-learn's default pattern drops one-character tokens, which would make "Phase 1" and
# "Phase 3" indistinguishable; digits and single letters are kept.
TOKEN_PATTERN = r"(?u)\b\w+\b"


def _bm25s() -> Any:
    """bm25s, imported on first use: it brings scipy.sparse (about 0.15 s and 13 MB), which
    a process that never answers (`mentor db upgrade`) or has not loaded the engine yet
    does not need. Importing it sets its logger to DEBUG; the level configured before
    (`mentor` sets WARNING) is put back so build chatter stays out of the logs."""
    logger = logging.getLogger("bm25s")
    level = logger.level
    import bm25s

    logger.setLevel(level)
    return bm25s


class LexicalIndex:
    def __init__(self, texts: Sequence[str]) -> None:
        import Stemmer

        bm25s = _bm25s()
        self._stemmer = Stemmer.Stemmer("english")
        tokens = bm25s.tokenize(
            list(texts),
            stopwords="en",
            stemmer=self._stemmer,
            token_pattern=TOKEN_PATTERN,
            show_progress=False,
        )
        self._bm25 = bm25s.BM25()
        self._bm25.index(tokens, show_progress=False)
        self._vocab: dict[str, int] = dict(tokens.vocab)
        self._size = len(texts)
        from bm25s.stopwords import STOPWORDS_EN

        self._stopwords = frozenset(STOPWORDS_EN)
        self._split = re.compile(TOKEN_PATTERN).findall

    def terms(self, text: str) -> list[str]:
        """Stemmed, stopword-free query terms, in order.

        The same analysis as `bm25s.tokenize` (lower-case, split, drop stopwords, stem),
        done directly: bm25s's version builds progress-bar objects even when they are off,
        which cost more than the rest of a query's lexical scoring.
        """
        words = [w for w in self._split(text.lower()) if w not in self._stopwords]
        return [t for t in self._stemmer.stemWords(words) if t]

    def stem(self, word: str) -> str:
        return str(self._stemmer.stemWord(word.lower()))

    def is_known(self, term: str) -> bool:
        return term in self._vocab

    def scores(self, terms: list[str]) -> np.ndarray:
        """One BM25 score per document for already-analysed `terms` (see `terms`).

        Taking terms rather than text lets the retriever analyse a query once and reuse the
        result for scoring and for the coverage figure the confidence policy needs.
        """
        known = [t for t in terms if t in self._vocab]
        if not known or self._size == 0:
            return np.zeros(self._size, dtype=np.float32)
        return np.asarray(self._bm25.get_scores(known), dtype=np.float32)
