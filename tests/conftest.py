"""Shared fixtures. The real model is exported to ONNX once per test session (with torch,
as `mentor index build` does) and every integration test embeds with that export."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")


@pytest.fixture(scope="session")
def onnx_export_dir(tmp_path_factory) -> Path:
    """An index directory holding only the ONNX export of the bundled model."""
    from knowledge.engine import load_embedder

    directory = tmp_path_factory.mktemp("onnx-export")
    load_embedder(directory)
    return directory


@pytest.fixture(scope="session")
def real_embedder(onnx_export_dir):
    from knowledge.engine import load_embedder

    return load_embedder(onnx_export_dir)


@pytest.fixture(scope="session")
def reference_embedder():
    """sentence-transformers on torch: what the ONNX export is checked against."""
    from knowledge.embedder import SentenceTransformerEmbedder

    return SentenceTransformerEmbedder()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Report how many generated inputs the property-based tests used in this run."""
    from tests.fuzzing import FUZZ_INPUTS

    if FUZZ_INPUTS:
        total = sum(FUZZ_INPUTS.values())
        terminalreporter.write_line(
            f"fuzz: {total:,} generated inputs over {len(FUZZ_INPUTS)} property tests"
        )
