"""How the engine gets its embedder: a valid export is used as is, a stale one is exported
again only where torch is installed, and otherwise loading stops with one clear line."""

from __future__ import annotations

import pytest

import knowledge.engine
from knowledge.embedder import EmbedderError
from knowledge.onnx_embedder import OnnxEmbedder, StaleModelError
from tests.helpers import HashingEmbedder


@pytest.fixture
def exports(monkeypatch):
    """Fake export state: `valid` says whether OnnxEmbedder.load succeeds; `calls` records
    every export."""
    state = {"valid": True, "tools": True, "calls": []}

    def fake_load(directory, *, model_id, source="", **_):
        if not state["valid"]:
            raise StaleModelError(f"{directory}/model.onnx does not match its checksum")
        return HashingEmbedder(model_id=model_id)

    def fake_export(source, directory):
        state["calls"].append((source.model_id, directory))
        state["valid"] = True

    monkeypatch.setattr(OnnxEmbedder, "load", staticmethod(fake_load))
    monkeypatch.setattr(knowledge.engine, "export_onnx", fake_export)
    monkeypatch.setattr(knowledge.engine, "build_tools_available", lambda: state["tools"])
    return state


def test_a_valid_export_is_used_without_exporting(exports, tmp_path):
    embedder = knowledge.engine.load_embedder(tmp_path)
    assert embedder.model_id == "sentence-transformers/all-MiniLM-L6-v2"
    assert exports["calls"] == []


def test_a_stale_export_is_exported_again_where_torch_is_installed(exports, tmp_path, caplog):
    exports["valid"] = False
    with caplog.at_level("WARNING", logger="knowledge.engine"):
        knowledge.engine.load_embedder(tmp_path)
    assert exports["calls"] == [("sentence-transformers/all-MiniLM-L6-v2", tmp_path)]
    assert "does not match its checksum" in caplog.text


def test_a_stale_export_without_torch_stops_with_one_line(exports, tmp_path):
    exports["valid"] = False
    exports["tools"] = False
    with pytest.raises(EmbedderError) as stopped:
        knowledge.engine.load_embedder(tmp_path)
    message = str(stopped.value)
    assert "\n" not in message
    assert "does not match its checksum" in message
    assert "`mentor index build`" in message
    assert "build extra" in message
    assert exports["calls"] == []


def test_export_on_request_even_when_valid(exports, tmp_path):
    knowledge.engine.load_embedder(tmp_path, export=True)
    assert len(exports["calls"]) == 1


def test_the_bot_checks_for_a_usable_model_before_connecting(tmp_path, monkeypatch):
    monkeypatch.setattr(knowledge.engine, "build_tools_available", lambda: False)
    with pytest.raises(EmbedderError, match="`mentor index build`"):
        knowledge.engine.check_embedder(tmp_path)
    monkeypatch.setattr(knowledge.engine, "build_tools_available", lambda: True)
    knowledge.engine.check_embedder(tmp_path)  # the background load will export it
