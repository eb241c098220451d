"""The on-disk dense index and its manifest; rebuilt whenever it does not match.

The manifest records the model id, vector dimension, a hash of the guide plus the chunker
version, and the chunk and row counts. An index is reused only if every field matches what
the running process would build; anything else (a guide edit, another model, a missing or
corrupt file) triggers a rebuild with a log line, never a crash and never a silent mismatch.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from knowledge.chunking import Chunk
from knowledge.content import hash_texts
from knowledge.embedder import Embedder
from knowledge.vector_index import VectorIndex

log = logging.getLogger(__name__)

INDEX_FILE = "index.faiss"
MANIFEST_FILE = "manifest.json"
FORMAT_VERSION = 2
ProgressCallback = Callable[[int, int], None]


@dataclass(frozen=True, slots=True)
class Manifest:
    format: int
    model_id: str
    dimension: int
    content_hash: str
    chunk_count: int
    row_count: int
    built_at: float
    build_seconds: float

    def matches(self, other: Manifest) -> bool:
        keys = ("format", "model_id", "dimension", "content_hash", "chunk_count", "row_count")
        return all(getattr(self, k) == getattr(other, k) for k in keys)


ROW_TEXT = "text"
ROW_TITLE = "title"
ROW_QUESTION = "question"
ROW_OUT_OF_SCOPE = "out_of_scope"
NO_CHUNK = -1


@dataclass(frozen=True)
class IndexRows:
    """What each row of the dense index embeds: row i is `texts[i]`, of `kinds[i]`, and
    stands for chunk `chunk_ids[i]`. The FAISS index itself knows only row numbers."""

    chunk_ids: np.ndarray
    kinds: tuple[str, ...]
    texts: tuple[str, ...]

    def __len__(self) -> int:
        return len(self.texts)


def index_rows(
    chunks: Sequence[Chunk],
    anticipated: Mapping[int, Sequence[str]] | None = None,
    out_of_scope: Sequence[str] = (),
) -> IndexRows:
    """Every chunk by its heading path and text, by its heading path alone, and by each
    question it answers (a FAQ heading, and its anticipated questions); then the questions
    the guide does not answer, pointing at no chunk.

    A short question matches a short question better than a long answer whose embedding is
    diluted by everything else it says; the heading alone is a separate signal whose weight
    the ranking model learns (on its own, as the only score, it attracted generic questions).
    """
    anticipated = anticipated or {}
    ids: list[int] = []
    kinds: list[str] = []
    texts: list[str] = []

    def add(chunk_id: int, kind: str, text: str) -> None:
        ids.append(chunk_id)
        kinds.append(kind)
        texts.append(text)

    for chunk in chunks:
        add(chunk.id, ROW_TEXT, chunk.embedding_text())
        add(chunk.id, ROW_TITLE, chunk.heading_path)
        questions = ([chunk.question] if chunk.question else []) + list(
            anticipated.get(chunk.id, ())
        )
        for question in dict.fromkeys(questions):
            add(chunk.id, ROW_QUESTION, question)
    for question in out_of_scope:
        add(NO_CHUNK, ROW_OUT_OF_SCOPE, question)
    return IndexRows(np.asarray(ids, dtype=np.int64), tuple(kinds), tuple(texts))


def content_hash(guide_hash: str, rows: IndexRows, ranking_hash: str = "") -> str:
    """Changes whenever any indexed text or the ranking model changes, whatever the reason."""
    tagged = [f"{kind}\x1f{text}" for kind, text in zip(rows.kinds, rows.texts, strict=True)]
    return hash_texts(
        [("guide", guide_hash), ("rows", "\x1e".join(tagged)), ("ranking", ranking_hash)]
    )


class IndexStore:
    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)

    @property
    def index_path(self) -> Path:
        return self.directory / INDEX_FILE

    @property
    def manifest_path(self) -> Path:
        return self.directory / MANIFEST_FILE

    def expected_manifest(
        self, embedder: Embedder, guide_hash: str, chunks: Sequence[Chunk], rows: IndexRows
    ) -> Manifest:
        return Manifest(
            format=FORMAT_VERSION,
            model_id=embedder.model_id,
            dimension=embedder.dimension,
            content_hash=content_hash(guide_hash, rows),
            chunk_count=len(chunks),
            row_count=len(rows),
            built_at=0.0,
            build_seconds=0.0,
        )

    def read_manifest(self) -> Manifest | None:
        try:
            data = json.loads(self.manifest_path.read_text(encoding="utf-8"))
            return Manifest(**data)
        except FileNotFoundError:
            return None
        except OSError as exc:
            log.warning(
                "index manifest %s cannot be read (%s); rebuilding", self.manifest_path, exc
            )
            return None
        except (ValueError, TypeError) as exc:
            log.warning("index manifest %s is unreadable (%s); rebuilding", self.manifest_path, exc)
            return None

    def load_or_build(
        self,
        embedder: Embedder,
        guide_hash: str,
        chunks: Sequence[Chunk],
        rows: IndexRows,
        *,
        progress: ProgressCallback | None = None,
    ) -> tuple[VectorIndex, Manifest]:
        expected = self.expected_manifest(embedder, guide_hash, chunks, rows)
        found = self.read_manifest()
        if found is None:
            log.info("no usable index in %s; building it", self.directory)
        elif not found.matches(expected):
            changed = [
                k
                for k in ("format", "model_id", "dimension", "content_hash", "chunk_count")
                if getattr(found, k) != getattr(expected, k)
            ]
            log.info(
                "index in %s is stale (%s changed); rebuilding", self.directory, ", ".join(changed)
            )
        else:
            try:
                index = VectorIndex.load(self.index_path)
            except Exception as exc:  # faiss raises RuntimeError subclasses on bad files
                log.warning(
                    "index file %s is missing or corrupt (%s); rebuilding", self.index_path, exc
                )
            else:
                if index.size == expected.row_count and index.dimension == expected.dimension:
                    return index, found
                log.warning(
                    "index file %s does not match its manifest; rebuilding", self.index_path
                )
        return self.build(embedder, guide_hash, chunks, rows, progress=progress)

    def build(
        self,
        embedder: Embedder,
        guide_hash: str,
        chunks: Sequence[Chunk],
        rows: IndexRows,
        *,
        progress: ProgressCallback | None = None,
        batch_size: int = 8,
    ) -> tuple[VectorIndex, Manifest]:
        """Embed every row in small batches and save the index with its manifest.

        Batches of 8 keep padding waste and activation memory low: a whole-guide build peaked
        at 632 MB RSS with 8 against 742 MB with 32, and finished sooner.
        """
        started = time.perf_counter()
        texts = list(rows.texts)
        ids = np.arange(len(texts), dtype=np.int64)
        parts: list[np.ndarray] = []
        for start in range(0, len(texts), batch_size):
            parts.append(embedder.embed(texts[start : start + batch_size]))
            if progress:
                progress(min(start + batch_size, len(texts)), len(texts))
        vectors = np.vstack(parts) if parts else np.zeros((0, embedder.dimension), np.float32)
        index = VectorIndex.build(ids, vectors)
        manifest = Manifest(
            **{
                **asdict(self.expected_manifest(embedder, guide_hash, chunks, rows)),
                "built_at": time.time(),
                "build_seconds": round(time.perf_counter() - started, 3),
            }
        )
        try:
            self._save(index, manifest)
        except OSError as exc:
            # A read-only or full disk costs a rebuild next start, not this answer.
            log.warning(
                "could not save the index in %s (%s); using it from memory", self.directory, exc
            )
        log.info(
            "built index: %d chunks, %d rows in %.2fs",
            len(chunks),
            len(ids),
            manifest.build_seconds,
        )
        return index, manifest

    def _save(self, index: VectorIndex, manifest: Manifest) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        # Index first, manifest last: a crash in between leaves a manifest that no longer
        # matches the file, which the next load detects and rebuilds.
        self.manifest_path.unlink(missing_ok=True)
        index.save(self.index_path)
        tmp = self.manifest_path.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(asdict(manifest), indent=2), encoding="utf-8")
        tmp.replace(self.manifest_path)
