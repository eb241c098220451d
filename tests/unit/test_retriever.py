"""Retrieval with the hashing test embedder: features, the fitted-model plumbing, phases."""

import json

import numpy as np
import pytest

from knowledge.chunking import chunk_documents
from knowledge.content import parse_document
from knowledge.features import QUESTION_FEATURES, SECTION_FEATURES, section_vote
from knowledge.query import QueryExpander, load_glossary
from knowledge.ranking import (
    LinearModel,
    RankingModel,
    RankingModelError,
    load_ranking_model,
    model_from_json,
)
from knowledge.retriever import PHASE_TIE_SHARE, HybridRetriever
from knowledge.store import NO_CHUNK, ROW_OUT_OF_SCOPE, ROW_QUESTION, index_rows
from knowledge.vector_index import VectorIndex
from tests.helpers import HashingEmbedder


def dense_model(threshold: float = 0.5) -> RankingModel:
    """Rank by the text cosine; answer when the best section's cosine is high."""
    ranker = np.zeros(len(SECTION_FEATURES), np.float32)
    ranker[SECTION_FEATURES.index("dense_text")] = 10.0
    answer = np.zeros(len(QUESTION_FEATURES), np.float32)
    answer[QUESTION_FEATURES.index("top_dense_text")] = 20.0
    return RankingModel(
        LinearModel(SECTION_FEATURES, ranker),
        LinearModel(QUESTION_FEATURES, answer, -8.0),
        threshold,
        "test",
    )


def twin_guide():
    """The same section in Phase 1 and Phase 3: a perfect tie for any query."""
    body = "## Study plan\n\nMake a weekly study plan and keep it.\n"
    docs = [
        parse_document(slug, f"---\ntitle: Plan\nphase: {phase}\nkind: roadmap\n---\n{body}")
        for slug, phase in (("a-one", 1), ("b-three", 3))
    ]
    return chunk_documents(docs)


def retriever_for(chunks, anticipated=None, out_of_scope=(), model=None):
    embedder = HashingEmbedder()
    rows = index_rows(chunks, anticipated, out_of_scope)
    vectors = VectorIndex.build(np.arange(len(rows)), embedder.embed(list(rows.texts)))
    return HybridRetriever(
        chunks,
        vectors,
        rows,
        embedder,
        model or dense_model(),
        expander=QueryExpander(load_glossary()),
    )


def test_the_askers_phase_wins_a_tie_and_only_a_tie():
    retriever = retriever_for(twin_guide())
    assert retriever.search("weekly study plan", phase=3).best.chunk.phase == 3
    assert retriever.search("weekly study plan", phase=1).best.chunk.phase == 1
    hits = retriever.search("weekly study plan", phase=3).hits
    assert 0 < hits[0].score - hits[1].score <= PHASE_TIE_SHARE * 10


def test_search_reports_evidence_for_the_confidence_decision():
    retriever = retriever_for(twin_guide())
    result = retriever.search("weekly plan zebra")
    assert 0 < result.top_dense <= 1
    assert result.term_coverage == pytest.approx(2 / 3)  # "zebra" is not a guide word
    assert 0 <= result.answer_probability <= 1
    assert result.confident == (result.answer_probability >= 0.5)


def test_chat_filler_and_abbreviations_do_not_count_against_coverage():
    retriever = retriever_for(twin_guide())
    assert retriever.search("weekly study plan lol ngl").term_coverage == 1.0
    assert retriever.search("weekly study plan for penguins").term_coverage == pytest.approx(3 / 4)


def test_rows_hold_text_title_questions_and_out_of_scope_questions():
    chunks = twin_guide()
    rows = index_rows(chunks, {0: ["how do i plan my week?"]}, ["best pizza in town?"])
    assert rows.kinds.count(ROW_QUESTION) == 1
    assert rows.chunk_ids[rows.kinds.index(ROW_QUESTION)] == 0
    assert rows.chunk_ids[rows.kinds.index(ROW_OUT_OF_SCOPE)] == NO_CHUNK
    assert len(rows) == 2 * len(chunks) + 2


def test_an_anticipated_question_pulls_its_section_ahead():
    docs = [
        parse_document(
            "guide",
            "---\ntitle: G\nkind: topic\n---\n## Alpha\n\nAlpha words here.\n\n"
            "## Beta\n\nBeta words here.\n",
        )
    ]
    chunks = chunk_documents(docs)
    model = dense_model()
    weights = np.zeros(len(SECTION_FEATURES), np.float32)
    weights[SECTION_FEATURES.index("dense_question")] = 10.0
    model = RankingModel(LinearModel(SECTION_FEATURES, weights), model.answer, 0.5, "q")
    retriever = retriever_for(chunks, {1: ["which tool orchestrates pipelines?"]}, model=model)
    assert retriever.search("what orchestrates my pipelines").best.chunk.section == "Beta"


def test_out_of_scope_similarity_is_reported():
    retriever = retriever_for(twin_guide(), out_of_scope=["best pizza dough recipe"])
    near = retriever.features.build(
        "pizza dough recipe", retriever._vectors.row_scores(_embed("pizza dough recipe")), set()
    )
    far = retriever.features.build(
        "weekly plan", retriever._vectors.row_scores(_embed("weekly plan")), set()
    )
    assert near.out_of_scope > far.out_of_scope


def _embed(text):
    return HashingEmbedder().embed([text])[0]


def test_neighbour_vote_says_which_bank_a_question_lives_in():
    chunks = twin_guide()
    retriever = retriever_for(
        chunks,
        {0: ["how do i keep a weekly study plan", "is a study plan worth it"]},
        out_of_scope=["best pizza dough recipe", "pizza oven temperature"],
    )

    def vote(text):
        return retriever.features.build(
            text, retriever._vectors.row_scores(_embed(text)), set()
        ).out_of_scope_neighbours

    assert vote("pizza dough recipe") > 0.9
    assert vote("weekly study plan") < 0.1


def test_section_vote_weighs_the_chosen_sections_questions_against_the_bank():
    chunks = twin_guide()
    retriever = retriever_for(
        chunks,
        {0: ["pizza dough for my study plan"], 1: ["which study plan for phase three"]},
        out_of_scope=["best pizza dough recipe", "pizza oven temperature"],
    )
    text = "pizza dough study plan"
    features = retriever.features.build(text, retriever._vectors.row_scores(_embed(text)), set())
    # Section 0's own question is the nearest of all; section 1's is far, so against the
    # bank only section 0 holds its own.
    assert section_vote(features, 0) < section_vote(features, 1)
    assert 0.0 <= section_vote(features, 0) <= 1.0


def test_neighbour_vote_is_zero_without_an_out_of_scope_bank():
    retriever = retriever_for(twin_guide(), {0: ["weekly study plan?"]})
    row_scores = retriever._vectors.row_scores(_embed("pizza"))
    assert retriever.features.build("pizza", row_scores, set()).out_of_scope_neighbours == 0.0


def test_runner_up_gap_round_trips_and_is_validated():
    data = json.loads(json.dumps(dense_model().to_json()))
    data["runner_up_gap"] = 0.75
    assert model_from_json(data).runner_up_gap == 0.75
    del data["runner_up_gap"]
    assert model_from_json(data).runner_up_gap == 0.0  # older weights quote one section
    for bad in (-1, "1", True, 1e9):
        data["runner_up_gap"] = bad
        with pytest.raises(RankingModelError, match="runner_up_gap"):
            model_from_json(data)


def test_named_phase_sets_the_phase_features():
    retriever = retriever_for(twin_guide())
    vector = _embed("study plan")
    features = retriever.features.build("study plan", retriever._vectors.row_scores(vector), {3})
    match = features.matrix[:, SECTION_FEATURES.index("phase_match")]
    mismatch = features.matrix[:, SECTION_FEATURES.index("phase_mismatch")]
    assert match.tolist() == [0.0, 1.0]
    assert mismatch.tolist() == [1.0, 0.0]


def test_the_shipped_weights_load_and_match_the_features():
    model = load_ranking_model()
    assert model.ranker.names == SECTION_FEATURES
    assert 0 < model.threshold < 1
    assert len(model.digest) == 64


def test_weights_for_other_features_are_refused(tmp_path):
    data = json.loads(json.dumps(dense_model().to_json()))
    data["ranker"]["weights"]["mystery"] = 1.0
    with pytest.raises(RankingModelError, match="mystery"):
        model_from_json(data)
    broken = tmp_path / "ranking.json"
    broken.write_text("{not json", encoding="utf-8")
    with pytest.raises(RankingModelError, match="not valid JSON"):
        load_ranking_model(broken)


def test_vector_index_returns_each_id_once_with_its_best_row():
    vectors = np.eye(3, dtype=np.float32)
    index = VectorIndex.build(np.array([7, 7, 9]), vectors)
    query = np.array([0.9, 0.1, 0.0], dtype=np.float32)
    results = index.search(query / np.linalg.norm(query), k=5)
    assert [i for i, _ in results] == [7, 9]
    assert results[0][1] == pytest.approx(0.9 / np.linalg.norm([0.9, 0.1]), rel=1e-5)


def test_vector_index_scores_and_returns_every_row_by_id():
    rng = np.random.default_rng(1)
    vectors = rng.normal(size=(4, 6)).astype(np.float32)
    ids = np.array([2, 0, 3, 1])
    index = VectorIndex.build(ids, vectors)
    assert np.allclose(index.vectors()[ids], vectors)
    assert np.allclose(index.row_scores(vectors[0])[ids], vectors @ vectors[0], atol=1e-5)


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
    assert np.allclose(loaded.vectors(), vectors, atol=1e-6)


def test_vector_index_picks_hnsw_only_for_large_indexes(monkeypatch):
    import knowledge.vector_index as vector_index

    monkeypatch.setattr(vector_index, "HNSW_THRESHOLD", 40)
    rng = np.random.default_rng(1)
    small = rng.normal(size=(39, 8)).astype(np.float32)
    large = rng.normal(size=(40, 8)).astype(np.float32)
    assert VectorIndex.build(np.arange(39), small).kind == "flat"
    assert VectorIndex.build(np.arange(40), large).kind == "hnsw"


def test_row_scores_can_be_limited_to_the_nearest_rows():
    vectors = np.eye(4, dtype=np.float32)
    index = VectorIndex.build(np.arange(4), vectors)
    scores = index.row_scores(vectors[2], limit=1)
    assert scores.tolist() == [-1.0, -1.0, 1.0, -1.0]


def test_empty_vector_index_finds_nothing():
    index = VectorIndex.build(np.array([], dtype=np.int64), np.zeros((0, 4), np.float32))
    assert index.search(np.ones(4, np.float32), k=3) == []


def test_adapted_views_repeat_the_plain_ones_without_an_adapter():
    retriever = retriever_for(twin_guide(), {0: ["weekly study plan?"]})
    scores = retriever._vectors.row_scores(_embed("study plan"))
    matrix = retriever.features.build("study plan", scores, set()).matrix
    for plain in ("text", "question", "question_2", "title"):
        adapted = matrix[:, SECTION_FEATURES.index(f"adapted_{plain}")]
        assert adapted.tolist() == matrix[:, SECTION_FEATURES.index(f"dense_{plain}")].tolist()


def test_the_adapter_moves_the_question_towards_another_section():
    """An adapter that maps a salary question onto the study-plan text makes a ranker that
    weighs only the adapted view choose the study plan; unadapted, the salary section."""
    docs = [
        parse_document(slug, f"---\ntitle: {title}\nphase: null\nkind: faq\n---\n{body}")
        for slug, title, body in (
            ("a-plan", "Plan", "## Study plan\n\nMake a weekly study plan and keep it.\n"),
            ("b-pay", "Pay", "## Salary\n\nEntry salaries for engineers start high.\n"),
        )
    ]
    chunks = chunk_documents(docs)
    question = "what salary do engineers start on"
    weights = np.zeros(len(SECTION_FEATURES), np.float32)
    weights[SECTION_FEATURES.index("adapted_text")] = 10.0
    plain = dense_model()
    adapted_only = RankingModel(LinearModel(SECTION_FEATURES, weights), plain.answer, 0.5, "a")
    retriever = retriever_for(chunks, model=adapted_only)
    assert retriever.search(question).best.chunk.section == "Salary"  # no adapter: plain view

    q = retriever.embed_queries([question])[0]
    plan_text = retriever._vectors.vectors()[retriever.features._text_row[0]]
    adapter = (0.05 * np.eye(len(q)) + np.outer(q, plan_text)).astype(np.float32)
    moved = RankingModel(adapted_only.ranker, plain.answer, 0.5, "a", adapter=adapter)
    retriever = retriever_for(chunks, model=moved)
    assert retriever.search(question).best.chunk.section == "Study plan"


def test_an_adapter_for_another_embedding_size_is_not_used_and_says_so(caplog):
    plain = dense_model()
    wrong = RankingModel(plain.ranker, plain.answer, 0.5, "w", adapter=np.eye(3, dtype=np.float32))
    with caplog.at_level("WARNING", logger="knowledge.retriever"):
        retriever = retriever_for(twin_guide(), model=wrong)
    assert "not used" in caplog.text
    assert retriever.search("weekly study plan").best is not None
