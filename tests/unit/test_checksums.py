"""Checksums are remembered by file identity: any write through the file system is seen."""

from __future__ import annotations

import hashlib
import json
import os
import time

import pytest

import knowledge.checksums
from knowledge.checksums import CHECKSUMS_FILE, VerifiedChecksums


@pytest.fixture
def hashed(monkeypatch):
    """Counts full hashes; `later()` moves the clock past the settle time, as the next
    start of the bot would be."""
    calls: list[str] = []
    real = knowledge.checksums.sha256_file

    def counting(path):
        calls.append(path.name)
        return real(path)

    monkeypatch.setattr(knowledge.checksums, "sha256_file", counting)
    return calls


def later(monkeypatch, seconds: float = 60.0) -> None:
    now = time.time()
    monkeypatch.setattr(knowledge.checksums.time, "time", lambda: now + seconds)


def sha(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def past_the_clock_tick() -> None:
    """File times advance by clock ticks (milliseconds); a real overwrite comes later than
    the hash it invalidates, so the test waits past one tick."""
    time.sleep(0.05)


def test_a_settled_file_is_hashed_once_across_loads(tmp_path, hashed, monkeypatch):
    model = tmp_path / "model.onnx"
    model.write_bytes(os.urandom(1 << 16))
    later(monkeypatch)
    assert VerifiedChecksums(tmp_path).sha256(model) == sha(model)
    assert VerifiedChecksums(tmp_path).sha256(model) == sha(model)  # a new process
    assert hashed == ["model.onnx"]
    assert "model.onnx" in json.loads((tmp_path / CHECKSUMS_FILE).read_text())


def test_a_same_size_overwrite_in_place_is_hashed_again_even_with_its_old_mtime(
    tmp_path, hashed, monkeypatch
):
    model = tmp_path / "model.onnx"
    model.write_bytes(bytes(1 << 16))
    later(monkeypatch)
    first = VerifiedChecksums(tmp_path).sha256(model)
    before = model.stat()
    past_the_clock_tick()
    with open(model, "r+b") as handle:  # same size, same inode, other bytes
        handle.seek(1 << 15)
        handle.write(b"\xff" * 64)
    os.utime(model, ns=(before.st_atime_ns, before.st_mtime_ns))  # mtime put back
    assert model.stat().st_size == before.st_size
    assert model.stat().st_ino == before.st_ino
    assert VerifiedChecksums(tmp_path).sha256(model) == sha(model) != first
    assert hashed == ["model.onnx", "model.onnx"]


def test_a_file_replaced_by_a_copy_with_the_same_size_and_mtime_is_hashed_again(
    tmp_path, hashed, monkeypatch
):
    import shutil

    model, other = tmp_path / "model.onnx", tmp_path / "other.bin"
    model.write_bytes(bytes(4096))
    other.write_bytes(b"\x01" * 4096)
    os.utime(other, ns=(model.stat().st_atime_ns, model.stat().st_mtime_ns))
    later(monkeypatch)
    first = VerifiedChecksums(tmp_path).sha256(model)
    past_the_clock_tick()
    shutil.copy2(other, model)
    assert VerifiedChecksums(tmp_path).sha256(model) == sha(model) != first


def test_a_file_written_moments_ago_is_not_remembered(tmp_path, hashed):
    model = tmp_path / "model.onnx"
    model.write_bytes(b"just exported")
    VerifiedChecksums(tmp_path).sha256(model)
    VerifiedChecksums(tmp_path).sha256(model)
    assert hashed == ["model.onnx", "model.onnx"]
    assert not (tmp_path / CHECKSUMS_FILE).exists()


def test_a_garbage_or_unwritable_record_costs_a_hash_never_an_error(tmp_path, hashed, monkeypatch):
    model = tmp_path / "model.onnx"
    model.write_bytes(b"weights")
    (tmp_path / CHECKSUMS_FILE).write_text("{not json")
    later(monkeypatch)
    assert VerifiedChecksums(tmp_path).sha256(model) == sha(model)
    (tmp_path / CHECKSUMS_FILE).write_text(json.dumps({"model.onnx": {"identity": "x"}}))
    (tmp_path / CHECKSUMS_FILE).chmod(0o444)
    tmp_path.chmod(0o555)
    try:
        assert VerifiedChecksums(tmp_path).sha256(model) == sha(model)
    finally:
        tmp_path.chmod(0o755)
    assert len(hashed) == 2
