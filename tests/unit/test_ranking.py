"""The query adapter shipped beside the ranking weights: saved, named by hash, refused when
it is not the one the weights were fitted with."""

import dataclasses
import hashlib
import json

import numpy as np
import pytest

from knowledge.features import SECTION_FEATURES
from knowledge.ranking import (
    ADAPTER_NAME,
    RankingModelError,
    adapter_bytes,
    load_ranking_model,
    save_ranking_model,
)
from tests.unit.test_retriever import dense_model


def _rotation(dimension: int, seed: int = 7) -> np.ndarray:
    q, _ = np.linalg.qr(np.random.default_rng(seed).normal(size=(dimension, dimension)))
    return q.astype(np.float32)


def test_the_adapter_round_trips_beside_the_weights_and_changes_the_digest(tmp_path):
    path = tmp_path / "ranking.json"
    save_ranking_model(dense_model(), path)
    without = load_ranking_model(path)
    assert without.adapter is None
    assert not (tmp_path / ADAPTER_NAME).exists()

    adapter = _rotation(8)
    save_ranking_model(dataclasses.replace(dense_model(), adapter=adapter), path)
    loaded = load_ranking_model(path)
    assert loaded.adapter is not None
    assert loaded.adapter.dtype == np.float32
    np.testing.assert_allclose(loaded.adapter, adapter, atol=1e-3)  # float16 on disk
    assert loaded.digest != without.digest
    entry = json.loads(path.read_text())["query_adapter"]
    assert entry["file"] == ADAPTER_NAME


def test_an_adapter_that_is_not_the_one_fitted_with_is_refused(tmp_path):
    path = tmp_path / "ranking.json"
    save_ranking_model(dataclasses.replace(dense_model(), adapter=_rotation(8)), path)
    (tmp_path / ADAPTER_NAME).write_bytes(adapter_bytes(_rotation(8, seed=8)))
    with pytest.raises(RankingModelError, match="not the one the weights were fitted with"):
        load_ranking_model(path)
    (tmp_path / ADAPTER_NAME).unlink()
    with pytest.raises(RankingModelError, match="cannot read the query adapter"):
        load_ranking_model(path)


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        (adapter_bytes(np.ones((2, 3))), "square matrix"),
        (adapter_bytes(np.ones(4)), "square matrix"),
        (b"not an array", "not a .npy array"),
    ],
)
def test_a_malformed_adapter_is_refused(tmp_path, payload, message):
    path = tmp_path / "ranking.json"
    data = dense_model().to_json()
    data["query_adapter"] = {"file": ADAPTER_NAME, "sha256": hashlib.sha256(payload).hexdigest()}
    path.write_text(json.dumps(data), encoding="utf-8")
    (tmp_path / ADAPTER_NAME).write_bytes(payload)
    with pytest.raises(RankingModelError, match=message):
        load_ranking_model(path)


def test_adapt_maps_and_renormalises_and_needs_a_matching_size():
    adapter = np.diag([2.0, 0.0, 0.0]).astype(np.float32)
    model = dataclasses.replace(dense_model(), adapter=adapter)
    vector = np.array([0.6, 0.8, 0.0], dtype=np.float32)
    np.testing.assert_allclose(model.adapt(vector), [1.0, 0.0, 0.0])
    assert model.adapt(np.ones(4, dtype=np.float32)) is None  # fitted for another model
    assert dense_model().adapt(vector) is None


def test_the_shipped_adapter_fits_the_bundled_model():
    model = load_ranking_model()
    assert model.adapter is not None
    assert model.adapter.shape == (384, 384)
    assert "adapted_question" in SECTION_FEATURES
    # Fitted from the identity with a pull back to it: a nudge, not a new embedding.
    assert float(np.abs(np.diag(model.adapter)).mean()) > 0.5
