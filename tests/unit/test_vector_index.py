"""Flat indexes are numpy only, on disk and in memory; HNSW stays FAISS; both answer alike."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from knowledge.vector_index import VectorIndex


@pytest.fixture
def vectors():
    rng = np.random.default_rng(0)
    rows = rng.normal(size=(60, 16)).astype(np.float32)
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def test_a_flat_index_round_trips_through_bytes_with_the_same_scores(vectors):
    index = VectorIndex.build(np.arange(60), vectors)
    loaded = VectorIndex.from_bytes(index.to_bytes())
    assert (loaded.kind, loaded.size, loaded.dimension) == ("flat", 60, 16)
    assert np.array_equal(loaded.vectors(), vectors)
    query = vectors[7]
    assert np.array_equal(loaded.row_scores(query), vectors @ query)
    assert loaded.search(query, 3)[0] == (7, pytest.approx(1.0))


def test_a_flat_index_written_by_faiss_before_still_loads_with_the_same_scores(vectors):
    import faiss

    legacy = faiss.IndexIDMap2(faiss.IndexFlatIP(16))
    legacy.add_with_ids(vectors, np.arange(60, dtype=np.int64))
    data = faiss.serialize_index(legacy).tobytes()
    loaded = VectorIndex.from_bytes(data)
    assert loaded.kind == "flat"
    assert np.array_equal(loaded.row_scores(vectors[3]), vectors @ vectors[3])


def test_search_returns_each_id_once_best_first_and_row_scores_can_be_limited(vectors):
    ids = np.arange(60) // 2  # two rows per id, as a section has several rows
    index = VectorIndex.build(ids, vectors)
    found = index.search(vectors[10], 5)
    assert found[0][0] == 5
    assert len({i for i, _ in found}) == len(found) == 5
    assert [s for _, s in found] == sorted((s for _, s in found), reverse=True)
    ordered = VectorIndex.build(np.arange(60), vectors)
    limited = ordered.row_scores(vectors[10], limit=4)
    assert (limited > -1).sum() == 4
    assert limited[10] == pytest.approx(1.0)


def test_hnsw_round_trips_through_faiss(vectors):
    index = VectorIndex.build(np.arange(60), vectors, kind="hnsw")
    loaded = VectorIndex.from_bytes(index.to_bytes())
    assert loaded.kind == "hnsw"
    assert loaded.search(vectors[4], 1)[0][0] == 4
    assert np.array_equal(loaded.vectors(), vectors)


def test_loading_and_scoring_a_flat_index_never_imports_faiss(vectors, tmp_path):
    path = tmp_path / "index.bin"
    path.write_bytes(VectorIndex.build(np.arange(60), vectors).to_bytes())
    code = (
        "import sys, numpy as np\n"
        "from knowledge.vector_index import VectorIndex\n"
        f"index = VectorIndex.from_bytes(open({str(path)!r}, 'rb').read())\n"
        "index.row_scores(np.ones(16, np.float32)); index.search(np.ones(16, np.float32), 3)\n"
        "assert 'faiss' not in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_garbage_is_refused_with_an_exception(vectors):
    data = VectorIndex.build(np.arange(60), vectors).to_bytes()
    with pytest.raises(ValueError, match=r"buffer|fit"):
        VectorIndex.from_bytes(data[:-64])
