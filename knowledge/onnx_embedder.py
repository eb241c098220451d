"""The runtime embedder: an ONNX export of the sentence-transformers model, run without torch.

onnxruntime runs the transformer; `tokenizers` (the same Rust tokenizer transformers uses)
prepares its input; mean pooling over real tokens and L2 normalisation are done here exactly
as sentence-transformers does them. Importing torch cost about 5 s and 300 MB per process
for a 6 ms forward pass; this path starts in a fraction of a second.

The export lives in the index directory beside the FAISS file: `model.onnx` (the graph) and
`model.onnx.data` (its weights, as ONNX external data), the tokenizer `tokenizer.json`, and
`model.json`, a record of what was exported from which source, with
sha256 checksums. Loading verifies every checksum (a file unchanged since it was last hashed
is not read again: `knowledge.checksums`), so a corrupt or swapped file is never used
silently (`StaleModelError` says why; `knowledge.engine` re-exports or stops).
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from knowledge.checksums import VerifiedChecksums
from knowledge.embedder import EmbedderError, ModelRecord, QueryCache

log = logging.getLogger(__name__)

MODEL_FILE = "model.onnx"
# The weights as ONNX external data beside the graph: onnxruntime then maps them from the
# file instead of parsing a copy out of one 90 MB protobuf, which took a session's peak RSS
# from 192 MB to 112 MB (same forward-pass time; measured with the bare session).
DATA_FILE = "model.onnx.data"
TOKENIZER_FILE = "tokenizer.json"
RECORD_FILE = "model.json"
EXPORT_FILES = (MODEL_FILE, DATA_FILE, TOKENIZER_FILE)
# Bump when the export changes (opset, graph inputs or outputs, pooling, file layout): older
# exports are then stale and re-exported where torch is available. 2: external weights.
EXPORT_FORMAT = 2
# One intra-op thread: on the shared 2-core host a single query's forward pass measured
# p50 9.9 ms with 1 thread against 11.3 ms with 2 (benchmarks/ask.py, same run, same
# questions): a 10-token input is too small to split, and a second thread waits for a core
# the bot and the database also need. Index builds use both cores another way (see embed).
DEFAULT_THREADS = 1
BATCH_WORKERS = 2
# Texts embedded together through the query cache, each in its own forward pass, spread
# over two threads (see embed).
QUERY_BATCH = 4


class StaleModelError(EmbedderError):
    """The export in the index directory is missing, corrupt, or not for this model."""


@dataclass(frozen=True, slots=True)
class ExportRecord:
    """Contents of `model.json`, written last by the exporter."""

    format: int
    model_id: str
    source: str
    dimension: int
    max_seq_length: int
    pooling: str
    exporter: str
    files: dict[str, str] = field(default_factory=dict)
    exported_at: float = 0.0

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2)


def read_export_record(directory: Path) -> ExportRecord:
    path = Path(directory) / RECORD_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return ExportRecord(**data)
    except FileNotFoundError:
        raise StaleModelError(f"no ONNX export in {directory}") from None
    except (OSError, ValueError, TypeError) as exc:
        raise StaleModelError(f"the export record {path} is unreadable ({exc})") from exc


def check_export_record(record: ExportRecord, *, model_id: str, source: str) -> None:
    """Raise StaleModelError unless `record` is an export of this model by this code."""
    if record.format != EXPORT_FORMAT:
        raise StaleModelError(f"the ONNX export is format {record.format}, not {EXPORT_FORMAT}")
    if record.model_id != model_id:
        raise StaleModelError(f"the ONNX export is of {record.model_id!r}, not {model_id!r}")
    if source and record.source and record.source != source:
        raise StaleModelError(f"the source model {model_id!r} changed since it was exported")
    if record.pooling != "mean":
        raise StaleModelError(f"the ONNX export uses {record.pooling!r} pooling")


def _verify(path: Path, expected: str | None, checksums: VerifiedChecksums) -> None:
    """Checksum a file against its record (streamed: the 90 MB model is never held twice;
    remembered while the file's identity holds: see `knowledge.checksums`)."""
    try:
        actual = checksums.sha256(path)
    except OSError as exc:
        raise StaleModelError(f"{path} cannot be read ({exc.__class__.__name__})") from exc
    if not expected or actual != expected:
        raise StaleModelError(f"{path} does not match its checksum (corrupt or replaced)")


def verify_export(directory: Path, *, model_id: str, source: str = "") -> ExportRecord:
    """The export's record, once every check passed: format, model, source and checksums."""
    directory = Path(directory)
    record = read_export_record(directory)
    check_export_record(record, model_id=model_id, source=source)
    checksums = VerifiedChecksums(directory)
    for name in EXPORT_FILES:
        _verify(directory / name, record.files.get(name), checksums)
    return record


def export_model_hash(files: dict[str, str]) -> str:
    """One hash for the model, graph and weights together: the index records it, so an
    export with other weights (the graph file alone could stay the same) rebuilds it."""
    joined = ":".join(files.get(name, "") for name in (MODEL_FILE, DATA_FILE))
    return hashlib.sha256(joined.encode()).hexdigest()


def runtime_versions() -> str:
    import onnxruntime
    import tokenizers

    return f"onnxruntime {onnxruntime.__version__}, tokenizers {tokenizers.__version__}"


class OnnxEmbedder:
    """Embeds with onnxruntime; `load` verifies the export first."""

    def __init__(
        self,
        session: Any,
        tokenizer: Any,
        record: ExportRecord,
        *,
        cache_size: int = 1024,
    ) -> None:
        self._session = session
        self._tokenizer = tokenizer
        self._export = record
        self._inputs = {i.name for i in session.get_inputs()}
        self._cache = QueryCache(cache_size)
        # The thread a question's longest text is embedded on (`_embed_few`); it starts on
        # first use.
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="embed")
        self._record = ModelRecord(
            model_hash=export_model_hash(record.files),
            exporter=record.exporter,
            runtime=runtime_versions(),
            files=dict(record.files),
        )

    @classmethod
    def load(
        cls,
        directory: Path,
        *,
        model_id: str,
        source: str = "",
        threads: int = DEFAULT_THREADS,
        cache_size: int = 1024,
    ) -> OnnxEmbedder:
        """Load and verify the export in `directory`; StaleModelError says what is wrong."""
        import onnxruntime as ort
        from tokenizers import Tokenizer

        directory = Path(directory)
        # Verified, then loaded by path: onnxruntime reading the file itself peaked at 200 MB
        # RSS against 323 MB when handed the bytes the checksum had just read.
        record = verify_export(directory, model_id=model_id, source=source)
        try:
            tokenizer = Tokenizer.from_file(str(directory / TOKENIZER_FILE))
        except Exception as exc:
            raise StaleModelError(f"the tokenizer in {directory} cannot be loaded ({exc})") from exc
        # The model's own tokenizer.json pads every input to 128 tokens and truncates at 128:
        # padding a 10-token question to 128 made each query about 5x slower, and guide
        # sections longer than 128 tokens embedded differently from sentence-transformers,
        # which truncates at the model's max_seq_length. Batches are padded here instead.
        tokenizer.no_padding()
        tokenizer.enable_truncation(max_length=record.max_seq_length)
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        # A spinning idle worker takes a core from the bot and the database on a 2-core host.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        options.log_severity_level = 3
        try:
            session = ort.InferenceSession(
                str(directory / MODEL_FILE),
                sess_options=options,
                providers=["CPUExecutionProvider"],
            )
        except Exception as exc:
            raise StaleModelError(
                f"onnxruntime cannot load the export in {directory} ({exc})"
            ) from exc
        return cls(session, tokenizer, record, cache_size=cache_size)

    @property
    def model_id(self) -> str:
        return self._export.model_id

    @property
    def dimension(self) -> int:
        return self._export.dimension

    @property
    def max_seq_length(self) -> int:
        return self._export.max_seq_length

    @property
    def record(self) -> ModelRecord:
        return self._record

    def embed(self, texts: Sequence[str], *, batch_size: int = 8) -> np.ndarray:
        """Unit vectors, in input order. A single text, or the few of one question (up to
        `QUERY_BATCH`: a two-part question and its parts), goes through the query cache; a
        question's few texts are embedded each alone, on two threads (`_embed_few`). A
        larger batch is sorted by length so each sub-batch pads only to its own longest
        text, and two sub-batches run at once: onnxruntime releases the GIL, so an index
        build uses both cores with one single-threaded session (no second copy of the
        weights)."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        if len(texts) == 1:
            return self._cache.get_or_compute(texts[0], self._embed_one)[None, :]
        if len(texts) <= QUERY_BATCH:
            return self._cache.get_or_compute_many(texts, self._embed_few)
        encodings = self._tokenizer.encode_batch(list(texts))
        order = sorted(range(len(encodings)), key=lambda i: len(encodings[i].ids))
        groups = [order[i : i + batch_size] for i in range(0, len(order), batch_size)]
        out = np.empty((len(encodings), self.dimension), dtype=np.float32)
        with ThreadPoolExecutor(max_workers=min(BATCH_WORKERS, len(groups))) as pool:
            vectors = pool.map(lambda rows: self._forward([encodings[i] for i in rows]), groups)
            for rows, block in zip(groups, vectors, strict=True):
                out[rows] = block
        return out

    def encode_tokens(self, text: str) -> list[int]:
        return list(self._tokenizer.encode(text).ids)

    def _embed_one(self, text: str) -> np.ndarray:
        return self._forward([self._tokenizer.encode(text)])[0]

    def _embed_few(self, texts: list[str]) -> np.ndarray:
        """A question's few texts (a two-part question and its parts): the longest alone on
        a second thread, the others meanwhile in one padded pass on this one.

        One padded pass of all three cost about twice a single question and made up the
        p99 (`benchmarks/ask.py`); three passes of their own pay the fixed cost of a pass
        (about 3 ms of a 4 ms question) three times. The whole question is about as long
        as its two parts together, so the two threads finish at about the same time. A
        padded row embeds bit for bit as the text alone (a test checks it on every
        labelled question)."""
        encodings = [self._tokenizer.encode(t) for t in texts]
        longest = max(range(len(encodings)), key=lambda i: len(encodings[i].ids))
        rest = [i for i in range(len(encodings)) if i != longest]
        pending = self._worker.submit(self._forward_one, encodings[longest])
        out = np.empty((len(encodings), self.dimension), dtype=np.float32)
        if rest:
            out[rest] = self._forward([encodings[i] for i in rest])
        out[longest] = pending.result()[0]
        return out

    def _forward(self, encodings: Sequence[Any]) -> np.ndarray:
        if len(encodings) == 1:
            return self._forward_one(encodings[0])
        width = max(len(e.ids) for e in encodings)
        ids = np.zeros((len(encodings), width), dtype=np.int64)
        mask = np.zeros_like(ids)
        types = np.zeros_like(ids)
        for row, encoding in enumerate(encodings):
            n = len(encoding.ids)
            ids[row, :n] = encoding.ids
            mask[row, :n] = encoding.attention_mask
            types[row, :n] = encoding.type_ids
        feed = {"input_ids": ids, "attention_mask": mask, "token_type_ids": types}
        (tokens,) = self._session.run(None, {k: v for k, v in feed.items() if k in self._inputs})
        return mean_pool_normalize(tokens, mask)

    def _forward_one(self, encoding: Any) -> np.ndarray:
        """One unpadded text (a query): its arrays built directly and, as every token is
        real, the mean pooled without the mask product. Bit for bit `mean_pool_normalize`
        (x × 1.0 is x, and the sums run over the same array shape), 0.15 ms less per
        question; a test compares the two on every labelled question."""
        ids = np.array([encoding.ids], dtype=np.int64)
        mask = np.array([encoding.attention_mask], dtype=np.int64)
        feed = {
            "input_ids": ids,
            "attention_mask": mask,
            "token_type_ids": np.array([encoding.type_ids], dtype=np.int64),
        }
        (tokens,) = self._session.run(None, {k: v for k, v in feed.items() if k in self._inputs})
        if not mask.all():
            return mean_pool_normalize(tokens, mask)
        pooled = tokens.sum(axis=1) / np.full((1, 1), tokens.shape[1], dtype=np.float32)
        return _normalize(pooled)


def mean_pool_normalize(tokens: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """sentence-transformers' Pooling(mean) then Normalize: the average of the token vectors
    where the attention mask is 1 (count clamped at 1e-9), divided by its L2 norm (clamped
    at 1e-12, as torch.nn.functional.normalize does)."""
    weights = mask[..., None].astype(np.float32)
    summed = (tokens * weights).sum(axis=1)
    counts = np.clip(weights.sum(axis=1), 1e-9, None)
    return _normalize(summed / counts)


def _normalize(pooled: np.ndarray) -> np.ndarray:
    norms = np.clip(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12, None)
    return np.ascontiguousarray(pooled / norms, dtype=np.float32)
