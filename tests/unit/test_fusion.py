import numpy as np
import pytest

from knowledge.retriever import reciprocal_rank_fusion
from knowledge.vector_index import VectorIndex


def test_rrf_rewards_agreement_between_rankings():
    fused = reciprocal_rank_fusion([[1, 2, 3], [3, 2, 4]], k=60)
    assert fused[2] == pytest.approx(2 / 62)
    assert fused[3] == pytest.approx(1 / 63 + 1 / 61)
    assert fused[1] == pytest.approx(1 / 61)
    assert max(fused, key=fused.get) == 3  # top of one list, third in the other


def test_rrf_weights_scale_each_ranking():
    fused = reciprocal_rank_fusion([[1], [2]], weights=[2.0, 1.0], k=0)
    assert fused == {1: 2.0, 2: 1.0}


def test_rrf_of_nothing_is_empty():
    assert reciprocal_rank_fusion([[], []]) == {}


def test_vector_index_returns_each_id_once_with_its_best_row(tmp_path):
    vectors = np.eye(3, dtype=np.float32)
    index = VectorIndex.build(np.array([7, 7, 9]), vectors)
    query = np.array([0.9, 0.1, 0.0], dtype=np.float32)
    results = index.search(query / np.linalg.norm(query), k=5)
    assert [i for i, _ in results] == [7, 9]
    assert results[0][1] == pytest.approx(0.9 / np.linalg.norm([0.9, 0.1]), rel=1e-5)


def test_vector_index_round_trips_through_disk(tmp_path):
    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(5, 8)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    index = VectorIndex.build(np.arange(5), vectors)
    index.save(tmp_path / "x.faiss")
    loaded = VectorIndex.load(tmp_path / "x.faiss")
    assert loaded.size == 5
    assert loaded.dimension == 8
    assert loaded.search(vectors[3], k=1)[0][0] == 3


def test_empty_vector_index_finds_nothing():
    index = VectorIndex.build(np.array([], dtype=np.int64), np.zeros((0, 4), np.float32))
    assert index.search(np.ones(4, np.float32), k=3) == []
