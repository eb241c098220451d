"""A FAISS inner-product index that knows only integer ids and unit vectors.

Several rows may share one id (a FAQ chunk is indexed by its full text and by its question
alone); `search` returns each id once with its best score.

Below `HNSW_THRESHOLD` rows the index is exact (flat): a search over the bundled guide's
~200 rows costs a few microseconds. Above it, an HNSW graph keeps a query well under a
millisecond where a flat scan grows linearly (`benchmarks/ask.py` prints both at 1k, 10k
and 100k rows).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import faiss

# Measured by benchmarks/ask.py on the shared 2-core host (clustered synthetic vectors, k=15):
# a flat scan costs 0.06 ms at 1k rows, 0.42 ms at 10k and 10.1 ms at 100k; HNSW 0.06, 0.16
# and 0.40 ms (recall@15 0.996 at 100k) but takes 28 s to build at 100k. Below 20k rows an
# exact scan costs about a millisecond or less and never misses a section.
HNSW_THRESHOLD = 20_000
HNSW_NEIGHBOURS = 32
HNSW_EF_SEARCH = 128


def _faiss() -> Any:
    """faiss, imported on first use: it adds 13 MB and tens of milliseconds to a process,
    and deferring it keeps it out of the peak while onnxruntime loads the model."""
    import faiss

    return faiss


class VectorIndex:
    def __init__(self, index: faiss.Index) -> None:
        faiss = _faiss()
        self._index = index
        self._matrix: np.ndarray | None = None  # the rows, cached for whole-index scoring
        # A search over a few hundred rows gains nothing from threads, and an OpenMP pool
        # spinning after each query takes a core from the embedder. Process-wide setting.
        faiss.omp_set_num_threads(1)

    @classmethod
    def build(cls, ids: np.ndarray, vectors: np.ndarray, *, kind: str | None = None) -> VectorIndex:
        """`kind` "flat" or "hnsw"; None picks by size (see HNSW_THRESHOLD)."""
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        ids = np.ascontiguousarray(ids, dtype=np.int64)
        if vectors.ndim != 2 or len(ids) != len(vectors):
            raise ValueError("ids and vectors must have the same number of rows")
        faiss = _faiss()
        kind = kind or ("hnsw" if len(ids) >= HNSW_THRESHOLD else "flat")
        dimension = vectors.shape[1]
        if kind == "hnsw":
            inner = faiss.IndexHNSWFlat(dimension, HNSW_NEIGHBOURS, faiss.METRIC_INNER_PRODUCT)
            inner.hnsw.efSearch = HNSW_EF_SEARCH
        elif kind == "flat":
            inner = faiss.IndexFlatIP(dimension)
        else:
            raise ValueError(f"unknown index kind {kind!r}")
        index = faiss.IndexIDMap2(inner)
        if len(ids):
            index.add_with_ids(vectors, ids)
        return cls(index)

    @property
    def dimension(self) -> int:
        return int(self._index.d)

    @property
    def size(self) -> int:
        return int(self._index.ntotal)

    @property
    def kind(self) -> str:
        faiss = _faiss()
        inner = faiss.downcast_index(self._index.index)
        return "hnsw" if isinstance(inner, faiss.IndexHNSW) else "flat"

    def search(self, query: np.ndarray, k: int) -> list[tuple[int, float]]:
        """Best-first (id, cosine) pairs for one query vector, one pair per id."""
        if self.size == 0 or k <= 0:
            return []
        query = np.ascontiguousarray(query.reshape(1, -1), dtype=np.float32)
        # Over-fetch: duplicate rows per id would otherwise crowd out distinct ids.
        scores, ids = self._index.search(query, min(self.size, k * 3))
        best: dict[int, float] = {}
        for chunk_id, score in zip(ids[0].tolist(), scores[0].tolist(), strict=True):
            if chunk_id >= 0 and chunk_id not in best:
                best[chunk_id] = score
        return list(best.items())[:k]

    def vectors(self) -> np.ndarray:
        """Every stored vector, in id order (ids must be row numbers 0..size-1)."""
        if self.size == 0:
            return np.zeros((0, self.dimension), dtype=np.float32)
        faiss = _faiss()
        stored = faiss.downcast_index(self._index.index).reconstruct_n(0, self.size)
        ids = faiss.vector_to_array(self._index.id_map)
        out = np.empty_like(stored)
        out[ids] = stored
        return out

    def row_scores(self, query: np.ndarray, *, limit: int | None = None) -> np.ndarray:
        """The cosine of `query` to every row (the nearest `limit`; others -1), by id.

        For indexes whose ids are row numbers 0..size-1, as the guide's are: ranking needs
        every row's score (each section has several rows), not only the nearest few.
        """
        out = np.full(self.size, -1.0, dtype=np.float32)
        if self.size == 0:
            return out
        if self.kind == "flat" and (limit is None or limit >= self.size):
            # Every row of a flat index: one matrix-vector product, no top-k sort.
            if self._matrix is None:
                self._matrix = self.vectors()
            return (self._matrix @ np.asarray(query, dtype=np.float32).ravel()).astype(np.float32)
        query = np.ascontiguousarray(query.reshape(1, -1), dtype=np.float32)
        scores, ids = self._index.search(query, min(self.size, limit or self.size))
        valid = ids[0] >= 0
        out[ids[0][valid]] = scores[0][valid]
        return out

    def to_bytes(self) -> bytes:
        return _faiss().serialize_index(self._index).tobytes()

    @classmethod
    def from_bytes(cls, data: bytes) -> VectorIndex:
        """Parse an index already read (and checksummed) by the caller: one read per load."""
        faiss = _faiss()
        index = faiss.deserialize_index(np.frombuffer(data, dtype=np.uint8))
        if isinstance(faiss.downcast_index(index.index), faiss.IndexHNSW):
            faiss.downcast_index(index.index).hnsw.efSearch = HNSW_EF_SEARCH
        return cls(index)
