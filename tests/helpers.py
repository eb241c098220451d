"""Test doubles that behave like the real parts they replace.

`HashingEmbedder` satisfies the `Embedder` protocol exactly (batch-first, float32, unit rows,
stable model id and dimension) but is deterministic and instant: a bag of hashed word
features, so texts sharing words are similar and unrelated texts are near-orthogonal.
"""

from __future__ import annotations

import hashlib
import re
import shutil
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from knowledge.embedder import ModelRecord, normalize_rows
from knowledge.features import QUESTION_FEATURES, SECTION_FEATURES
from knowledge.ranking import LinearModel, RankingModel


class HashingEmbedder:
    def __init__(
        self,
        dimension: int = 256,
        model_id: str = "test/hashing-embedder",
        record: ModelRecord | None = None,
    ) -> None:
        self._dimension = dimension
        self._model_id = model_id
        self._record = record or ModelRecord(runtime="test")
        self.calls: list[int] = []

    @property
    def record(self) -> ModelRecord:
        return self._record

    @property
    def model_id(self) -> str:
        return self._model_id

    @property
    def dimension(self) -> int:
        return self._dimension

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        self.calls.append(len(texts))
        out = np.zeros((len(texts), self._dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in re.findall(r"[a-z0-9]+", text.lower()):
                digest = hashlib.blake2b(word.encode(), digest_size=8).digest()
                out[row, int.from_bytes(digest[:4], "little") % self._dimension] += 1.0
        return normalize_rows(out)


GUIDE_FILES = {
    "01-phase-one.md": """---
title: "Phase 1: fundamentals"
phase: 1
kind: roadmap
tags: [fundamentals]
duration: "2–4 months"
milestones:
  - {id: p1-supervised, title: "Supervised learning", section: "Supervised learning"}
---
# Phase 1: fundamentals

Phase 1 covers the core of machine learning.

## Supervised learning

Regression and classification with scikit-learn. Decision trees and ensembles.

## Tools

Use scikit-learn, NumPy, pandas and matplotlib. No GPU is needed.
""",
    "02-phase-three.md": """---
title: "Phase 3: production"
phase: 3
kind: roadmap
tags: [mlops]
duration: "2–3 months"
milestones:
  - {id: p3-deploy, title: "Deploy a model", section: "Deployment"}
---
# Phase 3: production

## Deployment

Serve a model with FastAPI or Flask and package it with Docker.

## Monitoring

Detect data drift with Evidently and set up alerts.
""",
    "09-faq.md": """---
title: FAQ
phase: null
kind: faq
tags: [faq]
---
# FAQ

## How much do machine learning engineers earn?

Entry-level salaries start around $130K–$160K in the US.
""",
}


def write_guide(directory) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    for name, text in GUIDE_FILES.items():
        (directory / name).write_text(text, encoding="utf-8")


def simple_ranking_model(threshold: float = 0.5) -> RankingModel:
    """A hand-set ranking model for the hashing embedder, whose cosines are lower than a real
    model's: rank by text cosine plus BM25; answer when the best section is similar enough
    and most of the question's words are guide words (the shipped weights are fitted for the
    real MiniLM, so they would misjudge these fake vectors)."""
    ranker = np.zeros(len(SECTION_FEATURES), np.float32)
    ranker[SECTION_FEATURES.index("dense_text")] = 10.0
    ranker[SECTION_FEATURES.index("bm25_text")] = 1.0
    ranker[SECTION_FEATURES.index("phase_match")] = 0.5
    answer = np.zeros(len(QUESTION_FEATURES), np.float32)
    answer[QUESTION_FEATURES.index("top_dense_text")] = 10.0
    answer[QUESTION_FEATURES.index("coverage")] = 6.0
    return RankingModel(
        LinearModel(SECTION_FEATURES, ranker),
        LinearModel(QUESTION_FEATURES, answer, -6.0),
        threshold,
        "test-simple-ranking",
    )


MODEL_FILES = ("model.onnx", "model.onnx.data", "tokenizer.json", "model.json")


def seed_export(export_dir: Path, index_dir: Path) -> Path:
    """Copy an ONNX export into `index_dir`, as a data dir shipped with a prebuilt model."""
    index_dir.mkdir(parents=True, exist_ok=True)
    for name in MODEL_FILES:
        shutil.copy2(export_dir / name, index_dir / name)
    return index_dir
