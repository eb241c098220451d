"""BM25 over chunk texts (English stopwords, American spelling, Snowball stemming), in numpy.

Dense embeddings blur exact names (MLflow, Evidently, SageMaker); BM25 keeps them sharp, so
the retriever fuses both. The corpus is small (a few hundred documents), so the index is a
dense (terms × documents) float32 matrix built in memory at load time, not persisted.

The scores are bm25s 0.3.16's, bit for bit (BM25 "lucene", k1 = 1.5, b = 0.75, float32),
which the ranking model was fitted on: `tests/unit/test_lexical.py` compares every score
with bm25s's own on the bundled guide. bm25s itself is no longer imported at run time: it
brought scipy.sparse, about 0.2 s and 13 MB of every start, for arithmetic that takes
numpy a few milliseconds over this corpus. bm25s stays in the dev extra as that reference.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence

import numpy as np
import Stemmer

from knowledge.spelling import american_spelling

# scikit-learn's default pattern drops one-character tokens, which would make "Phase 1" and
# "Phase 3" indistinguishable; digits and single letters are kept.
TOKEN_PATTERN = r"(?u)\b\w+\b"
# bm25s's English stopwords (`bm25s.stopwords.STOPWORDS_EN`), copied so that reading them
# does not import bm25s; a test checks the copy.
STOPWORDS_EN = frozenset((
    "a", "an", "and", "are", "as", "at", "be", "but", "by", "for", "if", "in", "into", "is",
    "it", "no", "not", "of", "on", "or", "such", "that", "the", "their", "then", "there",
    "these", "they", "this", "to", "was", "will", "with",
))  # fmt: skip
# bm25s.BM25()'s defaults, which the index was always built with.
K1 = 1.5
B = 0.75


def _as_written(word: str) -> str:
    return word


class LexicalIndex:
    def __init__(self, texts: Sequence[str], *, american: bool = True) -> None:
        """`american=False` analyses words as written (the ablation in
        `benchmarks/quality.py`)."""
        self._spelling = american_spelling if american else _as_written
        self._stemmer = Stemmer.Stemmer("english")
        self._split = re.compile(TOKEN_PATTERN).findall
        self._size = len(texts)
        documents = self._analyse_many(texts)
        vocabulary: dict[str, int] = {}
        for tokens in documents:
            for token in tokens:
                vocabulary.setdefault(token, len(vocabulary))
        self._vocab = vocabulary
        self._weights = _bm25_weights(documents, vocabulary)
        self._documents = [frozenset(t for t in tokens if t) for tokens in documents]

    def _analyse(self, text: str) -> list[str]:
        """A document's tokens exactly as `bm25s.tokenize` makes them from the text in
        American spelling (`knowledge.spelling`; empty stems kept)."""
        words = [self._spelling(w) for w in self._split(text.lower()) if w not in STOPWORDS_EN]
        return list(self._stemmer.stemWords(words))

    def _analyse_many(self, texts: Sequence[str]) -> list[list[str]]:
        """`_analyse` of each text, each distinct word stemmed once (as bm25s does): the
        guide's 45,000 words are about 4,000 distinct ones."""
        split = [[w for w in self._split(t.lower()) if w not in STOPWORDS_EN] for t in texts]
        distinct = list(dict.fromkeys(w for words in split for w in words))
        american = [self._spelling(w) for w in distinct]
        stems = dict(zip(distinct, self._stemmer.stemWords(american), strict=True))
        return [[stems[w] for w in words] for words in split]

    def document_terms(self, position: int) -> frozenset[str]:
        """The distinct terms of the indexed text at `position`: `set(terms(text))`, kept
        from indexing so the features need not analyse the guide a second time."""
        return self._documents[position]

    def terms(self, text: str) -> list[str]:
        """Stemmed, stopword-free query terms, in order (the same analysis as the
        documents', with empty stems dropped)."""
        return [t for t in self._analyse(text) if t]

    def stem(self, word: str) -> str:
        return str(self._stemmer.stemWord(self._spelling(word.lower())))

    def is_known(self, term: str) -> bool:
        return term in self._vocab

    def scores(self, terms: list[str]) -> np.ndarray:
        """One BM25 score per document for already-analysed `terms` (see `terms`).

        Taking terms rather than text lets the retriever analyse a query once and reuse the
        result for scoring and for the coverage figure the confidence policy needs. A term
        counts as often as it occurs, added one at a time in float32, as bm25s adds them.
        """
        out = np.zeros(self._size, dtype=np.float32)
        for term in terms:
            row = self._vocab.get(term)
            if row is not None:
                out += self._weights[row]
        return out


def _bm25_weights(documents: Sequence[Sequence[str]], vocabulary: dict[str, int]) -> np.ndarray:
    """(terms, documents) float32: each term's BM25 contribution to each document.

    The same operations, on the same types, as bm25s's index build (`build_index_from_ids`
    with method and idf "lucene"): a float32 idf per term, a per-document term-frequency
    component from a float32 count array, their product stored as float32.
    """
    weights = np.zeros((len(vocabulary), len(documents)), dtype=np.float32)
    if not documents:
        return weights
    average_length = np.array([len(tokens) for tokens in documents]).mean()
    frequencies = Counter(term for tokens in documents for term in set(tokens))
    idf = np.zeros(len(vocabulary), dtype=np.float32)
    n = len(documents)
    for term, df in frequencies.items():
        idf[vocabulary[term]] = math.log(1 + (n - df + 0.5) / (df + 0.5))
    for column, tokens in enumerate(documents):
        counts = Counter(vocabulary[t] for t in tokens)
        rows = np.array(list(counts.keys()), dtype=np.int32)
        tf = np.array(list(counts.values()), dtype=np.float32)
        length = len(tokens)
        component = tf / (K1 * ((1 - B) + B * length / average_length) + tf)
        weights[rows, column] = idf[rows] * component
    return weights
