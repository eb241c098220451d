"""Shared fixtures. The real embedding model is loaded once per test session."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")


@pytest.fixture(scope="session")
def real_embedder():
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
