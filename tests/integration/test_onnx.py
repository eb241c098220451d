"""The ONNX embedder against its reference, its export's integrity, and torch-free running."""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import knowledge.checksums
import knowledge.engine
from knowledge.chunking import chunk_documents
from knowledge.content import BUNDLED_GUIDE_DIR, load_guide
from knowledge.embedder import EmbedderError
from knowledge.engine import load_embedder, load_knowledge
from knowledge.onnx_embedder import export_model_hash
from knowledge.store import index_rows
from tests.helpers import seed_export

pytestmark = pytest.mark.integration
NO_TORCH = Path(__file__).with_name("no_torch.py")
ROOT = Path(__file__).resolve().parents[2]


def parity_texts() -> list[str]:
    """Every section text, heading and FAQ question the guide indexes, plus
    the labelled benchmark questions: long and short, as the index and the users send."""
    guide = load_guide()
    rows = index_rows(chunk_documents(guide.documents)).texts
    lines = (ROOT / "benchmarks" / "questions.jsonl").read_text(encoding="utf-8").splitlines()
    questions = [json.loads(line)["q"] for line in lines if line.strip()]
    return list(dict.fromkeys([*rows, *questions]))


def test_onnx_embeddings_match_sentence_transformers(real_embedder, reference_embedder):
    texts = parity_texts()
    assert len(texts) >= 300
    onnx_batched = real_embedder.embed(texts)
    reference = reference_embedder.embed(texts)
    cosines = (onnx_batched * reference).sum(axis=1)
    assert cosines.min() >= 0.999, texts[int(cosines.argmin())]
    # A query alone (no padding) embeds like the same text inside a padded batch.
    singles = np.vstack([real_embedder.embed([t]) for t in texts[:40]])
    assert ((singles * onnx_batched[:40]).sum(axis=1)).min() >= 0.9999
    assert np.allclose(np.linalg.norm(onnx_batched, axis=1), 1.0, atol=1e-5)


def test_a_question_and_its_parts_embed_together_bit_for_bit_as_alone(real_embedder):
    """A two-part question and its parts embed at once (the longest on a second thread, the
    others in one padded pass); answers must not depend on it."""
    from bot.services.dialogue import question_parts

    lines = (ROOT / "benchmarks" / "questions.jsonl").read_text(encoding="utf-8").splitlines()
    questions = [json.loads(line)["q"] for line in lines if line.strip()]
    groups = [(q, *parts) for q in questions if (parts := question_parts(q))]
    assert len(groups) >= 10
    for texts in groups:
        together = real_embedder.embed(list(texts))
        for i, text in enumerate(texts):
            alone = real_embedder.embed([f"{text} "])[0]  # uncached single
            assert np.array_equal(together[i], alone), text


def test_a_single_query_pools_bit_for_bit_as_the_general_masked_mean(real_embedder):
    """Queries take a shortcut (no mask product); it must be the very same vector."""
    from knowledge.onnx_embedder import mean_pool_normalize

    lines = (ROOT / "benchmarks" / "learner_questions.jsonl").read_text(encoding="utf-8")
    questions = [json.loads(line)["q"] for line in lines.splitlines() if line.strip()]
    session = real_embedder._session
    for question in questions[:300]:
        encoding = real_embedder._tokenizer.encode(question)
        ids = np.array([encoding.ids], dtype=np.int64)
        mask = np.ones_like(ids)
        (tokens,) = session.run(
            None, {"input_ids": ids, "attention_mask": mask, "token_type_ids": ids * 0}
        )
        expected = mean_pool_normalize(tokens, mask)[0]
        assert np.array_equal(real_embedder._forward_one(encoding)[0], expected), question


def test_long_sections_are_truncated_at_the_models_max_seq_length(real_embedder):
    assert real_embedder.max_seq_length == 256
    assert len(real_embedder.encode_tokens("docker " * 1000)) == 256
    assert len(real_embedder.encode_tokens("what is mlops")) < 10  # no padding to 128


def test_a_corrupt_model_stops_without_torch_and_is_re_exported_with_it(
    onnx_export_dir, tmp_path, monkeypatch, caplog
):
    index_dir = seed_export(onnx_export_dir, tmp_path / "index")
    model = index_dir / "model.onnx.data"
    with open(model, "r+b") as handle:  # same size, different weights
        handle.seek(model.stat().st_size // 2)
        handle.write(b"\x00" * 4096)
    monkeypatch.setattr(knowledge.engine, "build_tools_available", lambda: False)
    with pytest.raises(EmbedderError) as stopped:
        load_embedder(index_dir)
    message = str(stopped.value)
    assert "does not match its checksum" in message
    assert "mentor index build" in message
    assert "\n" not in message
    monkeypatch.setattr(knowledge.engine, "build_tools_available", lambda: True)
    with caplog.at_level(logging.WARNING, logger="knowledge.engine"):
        embedder = load_embedder(index_dir)
    assert "exporting the embedding model" in caplog.text
    exported = json.loads((onnx_export_dir / "model.json").read_text())["files"]
    assert embedder.record.model_hash == export_model_hash(exported)


def test_a_model_corrupted_after_its_checksum_was_remembered_is_still_caught(
    onnx_export_dir, tmp_path, monkeypatch
):
    """Starts skip hashing an unchanged model (`knowledge.checksums`); an overwrite in place,
    even of the same size and with its old mtime put back, is still detected."""
    index_dir = seed_export(onnx_export_dir, tmp_path / "index")
    now = time.time()
    monkeypatch.setattr(knowledge.checksums.time, "time", lambda: now + 60)  # a later start
    load_embedder(index_dir)
    assert "model.onnx.data" in json.loads((index_dir / "checksums.json").read_text())
    model = index_dir / "model.onnx.data"
    before = model.stat()
    time.sleep(0.05)  # past the file system's clock tick, as any later write would be
    with open(model, "r+b") as handle:
        handle.seek(before.st_size // 2)
        handle.write(b"\x00" * 4096)
    os.utime(model, ns=(before.st_atime_ns, before.st_mtime_ns))
    monkeypatch.setattr(knowledge.engine, "build_tools_available", lambda: False)
    with pytest.raises(EmbedderError, match="does not match its checksum"):
        load_embedder(index_dir)


def test_index_rebuild_uses_the_valid_export_not_torch(real_embedder, tmp_path, monkeypatch):
    monkeypatch.setattr(knowledge.engine, "export_onnx", pytest.fail)
    first = load_knowledge(tmp_path / "index", embedder=real_embedder)
    assert first.manifest.model_hash == real_embedder.record.model_hash
    assert export_model_hash(first.manifest.files) == real_embedder.record.model_hash


def run_no_torch(
    args: list[str], data_dir: Path, stdin: str = "", **env: str
) -> subprocess.CompletedProcess:
    environment = {
        **os.environ,
        "MENTOR_DATA_DIR": str(data_dir),
        "LOG_LEVEL": "INFO",
        "PYTHONPATH": str(ROOT),
        **env,
    }
    return subprocess.run(
        [sys.executable, str(NO_TORCH), *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=environment,
        timeout=300,
        cwd=ROOT,
    )


@pytest.fixture
def data_dir(onnx_export_dir, tmp_path):
    """A data dir shipped with the export only, as a torch-free install would get it."""
    seed_export(onnx_export_dir, tmp_path / "data" / "index")
    return tmp_path / "data"


def test_ask_chat_and_the_bot_process_never_import_torch(data_dir):
    built = run_no_torch(["ask", "How long does Phase 1 take?"], data_dir)
    assert built.returncode == 0, built.stderr
    assert "2–4 months" in built.stdout
    assert "building it" in built.stderr  # the index was built here, without torch
    again = run_no_torch(["ask", "--jsonl"], data_dir, "what is docker?\n")
    chat = run_no_torch(["chat"], data_dir, "What is MLflow used for?\n/quit\n")
    bot = run_no_torch(["--bot-process"], data_dir)
    for proc in (built, again, chat, bot):
        assert proc.returncode == 0, proc.stderr
        assert "BLOCKED IMPORT" not in proc.stderr
    assert json.loads(again.stdout)["confident"]
    assert "MLflow" in chat.stdout
    assert "2–4 months" in bot.stdout


def test_a_guide_edit_rebuilds_the_index_without_torch(data_dir, tmp_path):
    guide = tmp_path / "guide"
    shutil.copytree(BUNDLED_GUIDE_DIR, guide)
    faq = guide / "10-faq.md"
    faq.write_text(
        faq.read_text(encoding="utf-8")
        + "\n## When does the weekend study group meet?\n\nEvery Saturday at 10:00 UTC.\n",
        encoding="utf-8",
    )
    first = run_no_torch(["ask", "How long does Phase 1 take?"], data_dir)
    assert first.returncode == 0, first.stderr
    edited = run_no_torch(
        ["ask", "When does the weekend study group meet?"],
        data_dir,
        MENTOR_GUIDE_DIR=str(guide),
    )
    assert edited.returncode == 0, edited.stderr
    assert "stale" in edited.stderr
    assert "Saturday" in edited.stdout
    assert "BLOCKED IMPORT" not in edited.stderr


def test_a_missing_model_without_torch_is_one_clear_line(data_dir):
    (data_dir / "index" / "model.onnx").unlink()
    proc = run_no_torch(["ask", "How long does Phase 1 take?"], data_dir)
    assert proc.returncode == 1
    errors = [line for line in proc.stderr.splitlines() if "ERROR" in line]
    assert len(errors) == 1, proc.stderr
    assert "mentor index build" in errors[0]
    assert "build extra" in errors[0]
    assert "Traceback" not in proc.stderr


def test_the_bot_without_a_model_or_torch_stops_before_connecting(tmp_path):
    proc = run_no_torch(["run"], tmp_path / "empty", DISCORD_TOKEN="not-a-real-token")
    assert proc.returncode == 1
    errors = [line for line in proc.stderr.splitlines() if "ERROR" in line]
    assert len(errors) == 1, proc.stderr
    assert "mentor index build" in errors[0]
    assert "Traceback" not in proc.stderr
