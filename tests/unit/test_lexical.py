"""The numpy BM25 gives bm25s's scores bit for bit: the ranking model was fitted on them."""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path

import numpy as np
import pytest
import Stemmer

from knowledge.anticipated import load_anticipated, load_out_of_scope
from knowledge.chunking import chunk_documents
from knowledge.content import BUNDLED_GUIDE_DIR, load_guide
from knowledge.lexical import STOPWORDS_EN, TOKEN_PATTERN, LexicalIndex
from knowledge.spelling import american_spelling

ROOT = Path(__file__).resolve().parents[2]
bm25s = pytest.importorskip("bm25s")
logging.getLogger("bm25s").setLevel(logging.WARNING)


def american(text: str) -> str:
    """The text's words in American spelling, as the index analyses them."""
    return " ".join(american_spelling(w) for w in re.findall(TOKEN_PATTERN, text.lower()))


def reference(texts: list[str]) -> tuple[object, dict[str, int]]:
    """bm25s's index, built the way the engine built it before it computed BM25 itself (on
    the texts in American spelling, which the index now analyses)."""
    tokens = bm25s.tokenize(
        [american(t) for t in texts],
        stopwords="en",
        stemmer=Stemmer.Stemmer("english"),
        token_pattern=TOKEN_PATTERN,
        show_progress=False,
    )
    index = bm25s.BM25()
    index.index(tokens, show_progress=False)
    return index, dict(tokens.vocab)


def corpora() -> dict[str, list[str]]:
    """The two corpora the features score: section texts, and each section's questions."""
    guide = load_guide()
    chunks = chunk_documents(guide.documents)
    anticipated = load_anticipated(BUNDLED_GUIDE_DIR, chunks)
    questions = [" ".join(anticipated.get(c.id, ())) for c in chunks]
    return {"text": [c.embedding_text() for c in chunks], "questions": questions}


def queries() -> list[str]:
    lines = (ROOT / "benchmarks" / "learner_questions.jsonl").read_text(encoding="utf-8")
    asked = [json.loads(line)["q"] for line in lines.splitlines() if line.strip()]
    return asked + list(load_out_of_scope(BUNDLED_GUIDE_DIR))[:200] + ["the the", "Phase 1 1 1"]


@pytest.mark.parametrize("corpus", ["text", "questions"])
def test_scores_equal_bm25s_bit_for_bit(corpus):
    texts = corpora()[corpus]
    ours = LexicalIndex(texts)
    theirs, vocabulary = reference(texts)
    compared = 0
    for query in queries():
        terms = ours.terms(query)
        known = [t for t in terms if t in vocabulary]
        expected = (
            np.asarray(theirs.get_scores(known), dtype=np.float32)
            if known
            else np.zeros(len(texts), dtype=np.float32)
        )
        assert np.array_equal(ours.scores(terms), expected), query
        assert [ours.is_known(t) for t in terms] == [t in vocabulary for t in terms]
        compared += bool(known)
    assert compared > 500


def test_stopwords_are_bm25s_english_list():
    from bm25s.stopwords import STOPWORDS_EN as reference_stopwords

    assert frozenset(reference_stopwords) == STOPWORDS_EN


def test_repeated_terms_count_each_time_and_unknown_terms_score_nothing():
    index = LexicalIndex(["docker images and containers", "kubernetes pods", "python"])
    once = index.scores(index.terms("docker"))
    assert once[0] > 0
    assert once[1] == once[2] == 0
    assert np.allclose(index.scores(index.terms("docker docker")), 2 * once)
    assert not index.scores(index.terms("zebra")).any()
    assert index.terms("The Phase 1 of it") == ["phase", "1"]


@pytest.mark.parametrize("corpus", ["text", "questions"])
def test_document_terms_are_the_terms_of_each_indexed_text(corpus):
    """The features take each section's terms from the index instead of analysing the
    guide again: they must be exactly what `terms` gives for the same text."""
    texts = corpora()[corpus]
    index = LexicalIndex(texts)
    for position, text in enumerate(texts):
        assert index.document_terms(position) == set(index.terms(text))
