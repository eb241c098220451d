import numpy as np
import pytest

from knowledge.chunking import chunk_documents
from knowledge.content import parse_document
from knowledge.query import QueryExpander, load_glossary
from knowledge.retriever import PHASE_TIE_BONUS, HybridRetriever, fuse_scores
from knowledge.store import index_rows
from knowledge.vector_index import VectorIndex
from tests.helpers import HashingEmbedder


def test_fusion_adds_normalised_lexical_evidence():
    dense = np.array([0.50, 0.48, 0.10], dtype=np.float32)
    lexical = np.array([0.0, 4.0, 2.0], dtype=np.float32)
    fused = fuse_scores(dense, lexical, lexical_weight=0.1)
    assert fused == pytest.approx([0.50, 0.58, 0.15])
    assert int(np.argmax(fused)) == 1  # the exact-term match overtakes a near dense tie


def test_fusion_without_lexical_evidence_is_dense_alone():
    dense = np.array([0.2, 0.7], dtype=np.float32)
    fused = fuse_scores(dense, np.zeros(2, np.float32), lexical_weight=0.1)
    assert fused == pytest.approx(dense)
    assert fused is not dense


def twin_guide():
    """The same section in Phase 1 and Phase 3: a perfect tie for any query."""
    body = "## Study plan\n\nMake a weekly study plan and keep it.\n"
    docs = [
        parse_document(slug, f"---\ntitle: Plan\nphase: {phase}\nkind: roadmap\n---\n{body}")
        for slug, phase in (("a-one", 1), ("b-three", 3))
    ]
    return chunk_documents(docs)


def retriever_for(chunks):
    embedder = HashingEmbedder()
    ids, texts = index_rows(chunks)
    return HybridRetriever(chunks, VectorIndex.build(ids, embedder.embed(texts)), embedder)


def test_the_askers_phase_wins_a_tie_and_only_a_tie():
    retriever = retriever_for(twin_guide())
    assert retriever.search("weekly study plan", phase=3).best.chunk.phase == 3
    assert retriever.search("weekly study plan", phase=1).best.chunk.phase == 1
    hits = retriever.search("weekly study plan", phase=3).hits
    assert hits[0].score - hits[1].score == pytest.approx(PHASE_TIE_BONUS)


def test_search_reports_evidence_for_the_confidence_decision():
    retriever = retriever_for(twin_guide())
    result = retriever.search("weekly plan zebra")
    assert 0 < result.top_dense <= 1
    assert result.top_lexical > 0
    assert result.term_coverage == pytest.approx(2 / 3)  # "zebra" is not a guide word


def test_abbreviations_are_expanded_before_retrieval():
    expander = QueryExpander(load_glossary())
    assert expander.expand("mle salary?") == "machine learning engineer salary?"
    assert expander.expand("ML vs DS") == "machine learning vs data scientist"
    assert expander.expand("is k8s needed, or CI/CD?") == (
        "is Kubernetes needed, or continuous integration and deployment?"
    )
    # whole words only
    assert expander.expand("simple dslr camera for mlflow") == "simple dslr camera for mlflow"


def test_chat_filler_and_abbreviations_do_not_count_against_coverage():
    chunks = twin_guide()
    embedder = HashingEmbedder()
    ids, texts = index_rows(chunks)
    retriever = HybridRetriever(
        chunks,
        VectorIndex.build(ids, embedder.embed(texts)),
        embedder,
        expander=QueryExpander(load_glossary()),
    )
    assert retriever.search("weekly study plan lol ngl").term_coverage == 1.0
    assert retriever.search("weekly study plan for penguins").term_coverage == pytest.approx(3 / 4)


def test_vector_index_returns_each_id_once_with_its_best_row(tmp_path):
    vectors = np.eye(3, dtype=np.float32)
    index = VectorIndex.build(np.array([7, 7, 9]), vectors)
    query = np.array([0.9, 0.1, 0.0], dtype=np.float32)
    results = index.search(query / np.linalg.norm(query), k=5)
    assert [i for i, _ in results] == [7, 9]
    assert results[0][1] == pytest.approx(0.9 / np.linalg.norm([0.9, 0.1]), rel=1e-5)


@pytest.mark.parametrize("kind", ["flat", "hnsw"])
def test_vector_index_round_trips_through_bytes(kind):
    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(50, 8)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    index = VectorIndex.build(np.arange(50), vectors, kind=kind)
    loaded = VectorIndex.from_bytes(index.to_bytes())
    assert loaded.kind == kind
    assert loaded.size == 50
    assert loaded.dimension == 8
    assert loaded.search(vectors[3], k=1)[0][0] == 3


def test_vector_index_picks_hnsw_only_for_large_indexes(monkeypatch):
    import knowledge.vector_index as vector_index

    monkeypatch.setattr(vector_index, "HNSW_THRESHOLD", 40)
    rng = np.random.default_rng(1)
    small = rng.normal(size=(39, 8)).astype(np.float32)
    large = rng.normal(size=(40, 8)).astype(np.float32)
    assert VectorIndex.build(np.arange(39), small).kind == "flat"
    assert VectorIndex.build(np.arange(40), large).kind == "hnsw"


def test_empty_vector_index_finds_nothing():
    index = VectorIndex.build(np.array([], dtype=np.int64), np.zeros((0, 4), np.float32))
    assert index.search(np.ones(4, np.float32), k=3) == []
