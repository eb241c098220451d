"""The on-disk dense index and its manifest; rebuilt whenever it does not match.

The manifest (format 2) records the model id and dimension, the model's hash (sha256 of the
exported ONNX file) with the exporter and runtime versions, a hash of the ranking weights the
caller uses, a hash of the guide plus the chunker version, the chunk and row counts, and a
sha256 checksum of every file in the index directory the answers depend on. An index is
reused only if every field matches what the running process would build and every checksum
matches the file on disk; anything else (a guide edit, another model or export, new ranking
weights, a missing file, bytes overwritten in place) triggers a rebuild with a log line,
never a crash and never a silent mismatch. A corrupt FAISS file of the right size used to
give confident wrong answers; its checksum now catches it.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from knowledge.chunking import Chunk
from knowledge.content import hash_texts
from knowledge.embedder import Embedder, sha256_bytes
from knowledge.vector_index import VectorIndex

log = logging.getLogger(__name__)

INDEX_FILE = "index.faiss"
# What each row embedded: a 16-byte blake2b digest of its text, in row order. A rebuild with
# the same model reuses the vectors of unchanged rows (see `IndexStore.build`).
ROWS_FILE = "rows.npy"
MANIFEST_FILE = "manifest.json"
# A rebuild may reuse a previous vector only if none of these changed: they decide what a
# text embeds to.
EMBEDDING_KEYS = frozenset({"model_id", "dimension", "model_hash", "runtime", "files"})
FORMAT_VERSION = 2
# The fields that must equal what this process would build; `files` is checked separately.
MATCH_KEYS = (
    "format",
    "model_id",
    "dimension",
    "model_hash",
    "runtime",
    "ranking",
    "content_hash",
    "chunk_count",
    "row_count",
)
ProgressCallback = Callable[[int, int], None]


@dataclass(frozen=True, slots=True)
class Manifest:
    format: int
    model_id: str
    dimension: int
    model_hash: str
    exporter: str
    runtime: str
    ranking: str
    content_hash: str
    chunk_count: int
    row_count: int
    files: dict[str, str]
    built_at: float
    build_seconds: float

    def changed(self, other: Manifest) -> list[str]:
        """Names of the fields that differ; a model file with another checksum counts as
        `files` (the index was built with another export)."""
        names = [k for k in MATCH_KEYS if getattr(self, k) != getattr(other, k)]
        model_files = {k: v for k, v in other.files.items() if k != INDEX_FILE}
        if any(self.files.get(k) != v for k, v in model_files.items()):
            names.append("files")
        return names

    def matches(self, other: Manifest) -> bool:
        return not self.changed(other)


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


def row_keys(texts: Sequence[str]) -> np.ndarray:
    """One 16-byte digest per text: what a stored vector is the embedding of."""
    digests = [hashlib.blake2b(t.encode(), digest_size=16).digest() for t in texts]
    return np.array(digests, dtype="S16").reshape(len(texts))


def content_hash(guide_hash: str, rows: IndexRows) -> str:
    """Changes whenever any indexed text changes, whatever the reason (guide or code)."""
    tagged = [f"{kind}\x1f{text}" for kind, text in zip(rows.kinds, rows.texts, strict=True)]
    return hash_texts([("guide", guide_hash), ("rows", "\x1e".join(tagged))])


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
        self,
        embedder: Embedder,
        guide_hash: str,
        chunks: Sequence[Chunk],
        rows: IndexRows,
        ranking: str = "",
    ) -> Manifest:
        record = embedder.record
        return Manifest(
            format=FORMAT_VERSION,
            model_id=embedder.model_id,
            dimension=embedder.dimension,
            model_hash=record.model_hash,
            exporter=record.exporter,
            runtime=record.runtime,
            ranking=ranking,
            content_hash=content_hash(guide_hash, rows),
            chunk_count=len(chunks),
            row_count=len(rows),
            files=dict(record.files),
            built_at=0.0,
            build_seconds=0.0,
        )

    def read_manifest(self) -> Manifest | None:
        try:
            data = json.loads(self.manifest_path.read_text(encoding="utf-8"))
            if isinstance(data, dict) and data.get("format") != FORMAT_VERSION:
                log.info(
                    "index in %s has manifest format %r, not %d; rebuilding",
                    self.directory,
                    data.get("format"),
                    FORMAT_VERSION,
                )
                return None
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
        ranking: str = "",
    ) -> tuple[VectorIndex, Manifest]:
        expected = self.expected_manifest(embedder, guide_hash, chunks, rows, ranking)
        found = self.read_manifest()
        if found is None:
            log.info("no usable index in %s; building it", self.directory)
        elif changed := found.changed(expected):
            log.info(
                "index in %s is stale (%s changed); rebuilding", self.directory, ", ".join(changed)
            )
        else:
            index = self._load_verified(found)
            if index is not None:
                if index.size == expected.row_count and index.dimension == expected.dimension:
                    return index, found
                log.warning(
                    "index file %s does not match its manifest; rebuilding", self.index_path
                )
        return self.build(embedder, guide_hash, chunks, rows, progress=progress, ranking=ranking)

    def _load_verified(self, manifest: Manifest) -> VectorIndex | None:
        """The index file, read once, checked against its manifest checksum, then parsed."""
        try:
            data = self.index_path.read_bytes()
        except OSError as exc:
            log.warning("index file %s is missing (%s); rebuilding", self.index_path, exc)
            return None
        if sha256_bytes(data) != manifest.files.get(INDEX_FILE):
            log.warning(
                "index file %s does not match its checksum (corrupt); rebuilding", self.index_path
            )
            return None
        try:
            return VectorIndex.from_bytes(data)
        except Exception as exc:  # faiss raises RuntimeError subclasses on bad files
            log.warning("index file %s is corrupt (%s); rebuilding", self.index_path, exc)
            return None

    def build(
        self,
        embedder: Embedder,
        guide_hash: str,
        chunks: Sequence[Chunk],
        rows: IndexRows,
        *,
        progress: ProgressCallback | None = None,
        batch_size: int = 32,
        ranking: str = "",
    ) -> tuple[VectorIndex, Manifest]:
        """Embed every row in small batches and save the index with its manifest.

        Rows whose text the previous index in this directory already embedded, with the same
        model, export and runtime (and whose files pass their checksums), keep that vector:
        embedding is deterministic, so it is the vector a fresh embedding gives (the tests
        compare them bit for bit), and a guide edit re-embeds only the rows it changed.
        The rest are embedded shortest first, so each batch pads only to texts of similar
        length (guide sections range from one line to 256 tokens), then put back in order.
        """
        started = time.perf_counter()
        texts = rows.texts
        expected = self.expected_manifest(embedder, guide_hash, chunks, rows, ranking)
        ids = np.arange(len(texts), dtype=np.int64)
        keys = row_keys(texts)
        vectors = np.zeros((len(texts), embedder.dimension), dtype=np.float32)
        previous = self._previous_vectors(expected)
        todo = []
        for row, key in enumerate(keys.tolist()):
            known = previous.get(key)
            if known is None:
                todo.append(row)
            else:
                vectors[row] = known
        if previous:
            log.info("reusing %d of %d vectors", len(texts) - len(todo), len(texts))
        order = sorted(todo, key=lambda i: len(texts[i]))
        for start in range(0, len(order), batch_size):
            batch = order[start : start + batch_size]
            vectors[batch] = embedder.embed([texts[i] for i in batch])
            if progress:
                progress(min(start + batch_size, len(order)), len(order))
        index = VectorIndex.build(ids, vectors)
        data = index.to_bytes()
        keys_data = _npy_bytes(keys)
        manifest = Manifest(
            **{
                **asdict(expected),
                "files": {
                    **expected.files,
                    INDEX_FILE: sha256_bytes(data),
                    ROWS_FILE: sha256_bytes(keys_data),
                },
                "built_at": time.time(),
                "build_seconds": round(time.perf_counter() - started, 3),
            }
        )
        try:
            self._save(data, manifest, keys_data)
        except OSError as exc:
            # A read-only or full disk costs a rebuild next start, not this answer.
            log.warning(
                "could not save the index in %s (%s); using it from memory", self.directory, exc
            )
        log.info(
            "built index: %d chunks, %d rows (%d embedded) in %.2fs",
            len(chunks),
            len(ids),
            len(todo),
            manifest.build_seconds,
        )
        return index, manifest

    def _previous_vectors(self, expected: Manifest) -> dict[bytes, np.ndarray]:
        """Row-text digest → vector, from the index on disk when it was embedded the way
        `expected` would be and its files pass their checksums; else nothing."""
        found = self.read_manifest()
        if found is None or EMBEDDING_KEYS & set(found.changed(expected)):
            return {}
        try:
            keys_data = (self.directory / ROWS_FILE).read_bytes()
        except OSError:
            return {}
        if sha256_bytes(keys_data) != found.files.get(ROWS_FILE):
            return {}
        index = self._load_verified(found)
        try:
            keys = np.load(io.BytesIO(keys_data), allow_pickle=False)
        except ValueError:
            return {}
        if index is None or index.dimension != expected.dimension or len(keys) != index.size:
            return {}
        return dict(zip(keys.tolist(), index.vectors(), strict=True))

    def _save(self, data: bytes, manifest: Manifest, keys_data: bytes) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        # Index first, manifest last: a crash in between leaves no manifest, which the next
        # load detects and rebuilds. Temp file then rename: never a half-written index.
        self.manifest_path.unlink(missing_ok=True)
        for path, content in ((self.index_path, data), (self.directory / ROWS_FILE, keys_data)):
            tmp = path.with_name(path.name + ".tmp")
            tmp.write_bytes(content)
            tmp.replace(path)
        tmp = self.manifest_path.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(asdict(manifest), indent=2), encoding="utf-8")
        tmp.replace(self.manifest_path)


def _npy_bytes(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=False)
    return buffer.getvalue()
