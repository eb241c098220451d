"""The on-disk index is reused only when it matches, and repaired when it does not."""

import hashlib
import json
import logging

import numpy as np
import pytest

from knowledge.chunking import chunk_documents
from knowledge.content import load_guide
from knowledge.embedder import ModelRecord, QueryCache
from knowledge.store import IndexStore, index_rows
from tests.helpers import HashingEmbedder, write_guide


@pytest.fixture
def guide_dir(tmp_path):
    write_guide(tmp_path / "guide")
    return tmp_path / "guide"


def load(store, embedder, guide_dir):
    guide = load_guide(guide_dir)
    chunks = chunk_documents(guide.documents)
    return store.load_or_build(embedder, guide.content_hash, chunks, index_rows(chunks))


def test_first_load_builds_then_reuses_without_embedding(tmp_path, guide_dir):
    store = IndexStore(tmp_path / "index")
    embedder = HashingEmbedder()
    index, manifest = load(store, embedder, guide_dir)
    assert store.index_path.exists()
    assert manifest.chunk_count == 6
    assert manifest.row_count == 13  # text and heading of each chunk, and one FAQ question
    assert index.size == 13
    embedded = sum(embedder.calls)

    again, manifest_again = load(store, embedder, guide_dir)
    assert sum(embedder.calls) == embedded
    assert manifest_again == manifest
    assert again.size == 13


def test_guide_edit_triggers_rebuild(tmp_path, guide_dir, caplog):
    store = IndexStore(tmp_path / "index")
    embedder = HashingEmbedder()
    load(store, embedder, guide_dir)
    faq = guide_dir / "09-faq.md"
    faq.write_text(faq.read_text() + "\n## Is Kaggle useful?\n\nYes, study winning solutions.\n")
    with caplog.at_level(logging.INFO, logger="knowledge.store"):
        _, manifest = load(store, embedder, guide_dir)
    assert "stale" in caplog.text
    assert "content_hash" in caplog.text
    assert manifest.chunk_count == 7


def test_model_change_triggers_rebuild(tmp_path, guide_dir, caplog):
    store = IndexStore(tmp_path / "index")
    load(store, HashingEmbedder(), guide_dir)
    with caplog.at_level(logging.INFO, logger="knowledge.store"):
        _, manifest = load(store, HashingEmbedder(dimension=64, model_id="other"), guide_dir)
    assert "model_id" in caplog.text
    assert manifest.model_id == "other"
    assert manifest.dimension == 64


def test_corrupt_index_file_is_rebuilt_with_a_log_line(tmp_path, guide_dir, caplog):
    store = IndexStore(tmp_path / "index")
    embedder = HashingEmbedder()
    load(store, embedder, guide_dir)
    store.index_path.write_bytes(b"definitely not faiss")
    with caplog.at_level(logging.WARNING, logger="knowledge.store"):
        index, _ = load(store, embedder, guide_dir)
    assert "corrupt" in caplog.text
    assert index.size == 13


def test_missing_index_file_is_rebuilt(tmp_path, guide_dir, caplog):
    store = IndexStore(tmp_path / "index")
    embedder = HashingEmbedder()
    load(store, embedder, guide_dir)
    store.index_path.unlink()
    with caplog.at_level(logging.WARNING, logger="knowledge.store"):
        index, _ = load(store, embedder, guide_dir)
    assert index.size == 13
    assert store.index_path.exists()


def test_garbage_manifest_is_rebuilt(tmp_path, guide_dir):
    store = IndexStore(tmp_path / "index")
    embedder = HashingEmbedder()
    load(store, embedder, guide_dir)
    store.manifest_path.write_text("{not json")
    calls = sum(embedder.calls)
    load(store, embedder, guide_dir)
    assert sum(embedder.calls) > calls
    assert json.loads(store.manifest_path.read_text())["chunk_count"] == 6


def test_unwritable_index_directory_degrades_to_an_in_memory_index(tmp_path, guide_dir, caplog):
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("a file where the index directory should be")
    store = IndexStore(blocker / "index")
    with caplog.at_level(logging.WARNING, logger="knowledge.store"):
        index, manifest = load(store, HashingEmbedder(), guide_dir)
    assert "could not save the index" in caplog.text
    assert index.size == manifest.row_count == 13


def test_same_size_corruption_of_the_index_file_is_detected_and_rebuilt(
    tmp_path, guide_dir, caplog
):
    store = IndexStore(tmp_path / "index")
    embedder = HashingEmbedder()
    load(store, embedder, guide_dir)
    data = bytearray(store.index_path.read_bytes())
    data[-64:] = bytes(64)  # zero the last vectors' bytes in place: same size, valid header
    store.index_path.write_bytes(bytes(data))
    calls = sum(embedder.calls)
    with caplog.at_level(logging.WARNING, logger="knowledge.store"):
        index, manifest = load(store, embedder, guide_dir)
    assert "does not match its checksum" in caplog.text
    assert sum(embedder.calls) > calls  # rebuilt, not reused
    assert store.index_path.read_bytes() != bytes(data)
    assert (
        manifest.files["index.faiss"] == hashlib.sha256(store.index_path.read_bytes()).hexdigest()
    )
    assert index.size == 13


def test_manifest_records_checksums_ranking_and_model_versions(tmp_path, guide_dir):
    store = IndexStore(tmp_path / "index")
    record = ModelRecord(
        model_hash="m" * 64, exporter="torch x", runtime="ort y", files={"model.onnx": "m" * 64}
    )
    guide = load_guide(guide_dir)
    chunks = chunk_documents(guide.documents)
    store.load_or_build(
        HashingEmbedder(record=record), guide.content_hash, chunks, index_rows(chunks), ranking="r1"
    )
    saved = json.loads(store.manifest_path.read_text())
    assert saved["format"] == 2
    assert saved["model_hash"] == "m" * 64
    assert saved["exporter"] == "torch x"
    assert saved["runtime"] == "ort y"
    assert saved["ranking"] == "r1"
    assert set(saved["files"]) == {"model.onnx", "index.faiss", "rows.npy"}


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"ranking": "new-weights"}, "ranking"),
        (
            {"record": ModelRecord(model_hash="b" * 64, files={"model.onnx": "b" * 64})},
            "model_hash",
        ),
        ({"record": ModelRecord(model_hash="a" * 64, runtime="ort 2")}, "runtime"),
    ],
)
def test_new_ranking_weights_or_another_model_export_rebuild_the_index(
    tmp_path, guide_dir, caplog, change, field
):
    store = IndexStore(tmp_path / "index")
    guide = load_guide(guide_dir)
    chunks = chunk_documents(guide.documents)
    before = ModelRecord(model_hash="a" * 64, files={"model.onnx": "a" * 64})
    store.load_or_build(
        HashingEmbedder(record=before), guide.content_hash, chunks, index_rows(chunks), ranking="r1"
    )
    embedder = HashingEmbedder(record=change.get("record", before))
    with caplog.at_level(logging.INFO, logger="knowledge.store"):
        store.load_or_build(
            embedder,
            guide.content_hash,
            chunks,
            index_rows(chunks),
            ranking=change.get("ranking", "r1"),
        )
    assert "stale" in caplog.text
    assert field in caplog.text
    # Rebuilt; new weights keep the vectors (they do not change what a text embeds to),
    # another export embeds everything again with the embedder in use.
    assert bool(embedder.calls) == (field != "ranking")
    assert json.loads(store.manifest_path.read_text())["ranking"] == change.get("ranking", "r1")


def test_a_format_1_manifest_is_rebuilt_with_a_log_line(tmp_path, guide_dir, caplog):
    store = IndexStore(tmp_path / "index")
    embedder = HashingEmbedder()
    load(store, embedder, guide_dir)
    old = json.loads(store.manifest_path.read_text())
    old = {k: old[k] for k in ("model_id", "dimension", "content_hash", "chunk_count")}
    store.manifest_path.write_text(json.dumps({"format": 1, **old, "row_count": 7}))
    with caplog.at_level(logging.INFO, logger="knowledge.store"):
        _, manifest = load(store, embedder, guide_dir)
    assert "manifest format 1" in caplog.text
    assert manifest.format == 2


def test_query_cache_serves_repeats_and_evicts_the_least_recent():
    cache = QueryCache(size=2)
    computed: list[str] = []

    def compute(text):
        computed.append(text)
        return np.full(3, len(computed), dtype=np.float32)

    first = cache.get_or_compute("a", compute)
    cache.get_or_compute("b", compute)
    assert cache.get_or_compute("a", compute) is first  # a hit, and "a" is now most recent
    cache.get_or_compute("c", compute)  # evicts "b", the least recently used
    cache.get_or_compute("b", compute)
    assert computed == ["a", "b", "c", "b"]


def test_a_guide_edit_re_embeds_only_the_rows_it_changed_bit_for_bit_as_a_fresh_build(
    tmp_path, guide_dir
):
    store = IndexStore(tmp_path / "index")
    embedder = HashingEmbedder()
    load(store, embedder, guide_dir)
    faq = guide_dir / "09-faq.md"
    faq.write_text(faq.read_text() + "\n## Is Kaggle useful?\n\nYes, study winning solutions.\n")
    embedder.calls.clear()
    index, manifest = load(store, embedder, guide_dir)
    assert sum(embedder.calls) == 3  # the new section's text, heading and question
    fresh, _ = load(IndexStore(tmp_path / "fresh"), HashingEmbedder(), guide_dir)
    assert np.array_equal(index.vectors(), fresh.vectors())
    assert manifest.row_count == 16


def test_vectors_are_not_reused_from_a_corrupt_rows_file_or_another_model(tmp_path, guide_dir):
    store = IndexStore(tmp_path / "index")
    guide = load_guide(guide_dir)
    chunks = chunk_documents(guide.documents)
    rows = index_rows(chunks)
    first = HashingEmbedder()
    store.build(first, guide.content_hash, chunks, rows)
    (store.directory / "rows.npy").write_bytes(b"\x93NUMPY garbage")
    again = HashingEmbedder()
    store.build(again, guide.content_hash, chunks, rows)
    assert sum(again.calls) == 13
    other = HashingEmbedder(record=ModelRecord(model_hash="c" * 64, files={"model.onnx": "c"}))
    store.build(other, guide.content_hash, chunks, rows)
    assert sum(other.calls) == 13
    reused = HashingEmbedder(record=ModelRecord(model_hash="c" * 64, files={"model.onnx": "c"}))
    store.build(reused, guide.content_hash, chunks, rows)
    assert reused.calls == []
