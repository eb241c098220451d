"""An inner-product index that knows only integer ids and unit vectors.

Several rows may share one id (a FAQ chunk is indexed by its full text and by its question
alone); `search` returns each id once with its best score.

Below `HNSW_THRESHOLD` rows the index is exact (flat): one matrix-vector product with numpy.
Above it, a FAISS HNSW graph keeps a query well under a millisecond where a flat scan grows
linearly (`benchmarks/ask.py` prints both at 1k, 10k and 100k rows).

A flat index is plain numpy, in memory and on disk (two `.npy` arrays, ids then vectors,
read without a copy): FAISS is imported only for HNSW. A flat FAISS index used to cost every
answering process the faiss import (14 MB, 0.06-0.1 s) and three copies of the vectors (the
file's bytes, FAISS's own, and the matrix `row_scores` multiplies), for a product numpy does
itself. Flat FAISS files written before still load.
"""

from __future__ import annotations

import io
from functools import cache
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
_NPY_MAGIC = b"\x93NUMPY"


def _faiss() -> Any:
    """faiss, imported on first use (HNSW only): it adds 13 MB and tens of milliseconds to a
    process. A search gains nothing from threads, and an OpenMP pool spinning after each
    query takes a core from the embedder: one thread, process-wide."""
    import faiss

    faiss.omp_set_num_threads(1)
    return faiss


@cache
def _single_threaded_blas() -> None:
    """numpy's OpenBLAS to one thread, process-wide (once).

    `row_scores` is one (rows × 384) matrix-vector product per question. OpenBLAS splits
    one of 3,049 rows over every core, and on the shared 2-core host that took 1.6-7.9 ms
    where one thread takes 0.1 ms (same process, same matrix): the threads wait for cores
    the embedder, the bot and the database are using. The products are the same numbers
    (each row's dot product is computed by the same kernel either way). threadpoolctl sets
    it on the library numpy already loaded, whatever imported numpy first.
    """
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=1, user_api="blas")


class VectorIndex:
    """Either exact (`ids`, `vectors` in numpy) or an HNSW graph (`hnsw`, a FAISS index)."""

    def __init__(
        self,
        ids: np.ndarray | None = None,
        vectors: np.ndarray | None = None,
        *,
        hnsw: faiss.Index | None = None,
    ) -> None:
        _single_threaded_blas()
        self._hnsw = hnsw
        self._ids = ids if ids is not None else np.zeros(0, dtype=np.int64)
        self._vectors = vectors if vectors is not None else np.zeros((0, 0), dtype=np.float32)
        self._by_id: np.ndarray | None = None  # the rows in id order, for `row_scores`
        if hnsw is not None:
            self._size, self._dimension = int(hnsw.ntotal), int(hnsw.d)
        elif ids is not None and vectors is not None and vectors.ndim == 2:
            self._size, self._dimension = len(ids), int(vectors.shape[1])
        else:
            raise ValueError("a flat index needs ids and a 2-d array of vectors")

    @classmethod
    def build(cls, ids: np.ndarray, vectors: np.ndarray, *, kind: str | None = None) -> VectorIndex:
        """`kind` "flat" or "hnsw"; None picks by size (see HNSW_THRESHOLD)."""
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        ids = np.ascontiguousarray(ids, dtype=np.int64)
        if vectors.ndim != 2 or len(ids) != len(vectors):
            raise ValueError("ids and vectors must have the same number of rows")
        kind = kind or ("hnsw" if len(ids) >= HNSW_THRESHOLD else "flat")
        if kind == "flat":
            return cls(ids, vectors)
        if kind != "hnsw":
            raise ValueError(f"unknown index kind {kind!r}")
        faiss = _faiss()
        inner = faiss.IndexHNSWFlat(vectors.shape[1], HNSW_NEIGHBOURS, faiss.METRIC_INNER_PRODUCT)
        inner.hnsw.efSearch = HNSW_EF_SEARCH
        index = faiss.IndexIDMap2(inner)
        if len(ids):
            index.add_with_ids(vectors, ids)
        return cls(hnsw=index)

    @property
    def dimension(self) -> int:
        return self._dimension

    @property
    def size(self) -> int:
        return self._size

    @property
    def kind(self) -> str:
        return "flat" if self._hnsw is None else "hnsw"

    def search(self, query: np.ndarray, k: int) -> list[tuple[int, float]]:
        """Best-first (id, cosine) pairs for one query vector, one pair per id."""
        if self.size == 0 or k <= 0:
            return []
        query = np.ascontiguousarray(query.reshape(1, -1), dtype=np.float32)
        # Over-fetch: duplicate rows per id would otherwise crowd out distinct ids.
        fetch = min(self.size, k * 3)
        if self._hnsw is not None:
            found, rows = self._hnsw.search(query, fetch)
            pairs = zip(rows[0].tolist(), found[0].tolist(), strict=True)
        else:
            scores = self._vectors @ query[0]
            if fetch < self.size:
                top = np.argpartition(-scores, fetch - 1)[:fetch]
                order = top[np.argsort(-scores[top], kind="stable")]
            else:
                order = np.argsort(-scores, kind="stable")
            pairs = zip(self._ids[order].tolist(), scores[order].tolist(), strict=True)
        best: dict[int, float] = {}
        for item, score in pairs:
            if item >= 0 and item not in best:
                best[item] = score
        return list(best.items())[:k]

    def vectors(self) -> np.ndarray:
        """Every stored vector, in id order (ids must be row numbers 0..size-1)."""
        if self.size == 0:
            return np.zeros((0, self.dimension), dtype=np.float32)
        if self._hnsw is None:
            out = np.empty_like(self._vectors)
            out[self._ids] = self._vectors
            return out
        faiss = _faiss()
        stored = faiss.downcast_index(self._hnsw.index).reconstruct_n(0, self.size)
        ids = faiss.vector_to_array(self._hnsw.id_map)
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
        if self._hnsw is None:
            # Every row of a flat index: one matrix-vector product.
            if self._by_id is None:
                in_order = np.array_equal(self._ids, np.arange(self.size))
                self._by_id = self._vectors if in_order else self.vectors()
            assert self._by_id is not None
            scores = (self._by_id @ np.asarray(query, dtype=np.float32).ravel()).astype(np.float32)
            if limit is None or limit >= self.size:
                return scores
            keep = np.argpartition(-scores, limit - 1)[:limit]
            out[keep] = scores[keep]
            return out
        query = np.ascontiguousarray(query.reshape(1, -1), dtype=np.float32)
        scores, ids = self._hnsw.search(query, min(self.size, limit or self.size))
        valid = ids[0] >= 0
        out[ids[0][valid]] = scores[0][valid]
        return out

    def to_bytes(self) -> bytes:
        if self._hnsw is not None:
            return _faiss().serialize_index(self._hnsw).tobytes()
        buffer = io.BytesIO()
        np.save(buffer, self._ids, allow_pickle=False)
        np.save(buffer, self._vectors, allow_pickle=False)
        return buffer.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> VectorIndex:
        """Parse an index already read (and checksummed) by the caller: one read per load.
        A flat index's arrays are views of `data`, not copies."""
        if data.startswith(_NPY_MAGIC):
            ids, offset = _npy_view(data, 0)
            vectors, end = _npy_view(data, offset)
            if end != len(data) or ids.ndim != 1 or len(ids) != len(vectors):
                raise ValueError("the flat index's arrays do not fit together")
            return cls(ids, vectors)
        faiss = _faiss()
        index = faiss.deserialize_index(np.frombuffer(data, dtype=np.uint8))
        inner = faiss.downcast_index(index.index)
        if isinstance(inner, faiss.IndexHNSW):
            inner.hnsw.efSearch = HNSW_EF_SEARCH
            return cls(hnsw=index)
        # A flat FAISS index from before: its rows, as numpy.
        stored = inner.reconstruct_n(0, index.ntotal) if index.ntotal else None
        ids = faiss.vector_to_array(index.id_map).astype(np.int64)
        return cls(ids, stored if stored is not None else np.zeros((0, index.d), np.float32))


def _npy_view(data: bytes, offset: int) -> tuple[np.ndarray, int]:
    """The `.npy` array at `offset` of `data`, as a read-only view, and where it ends."""
    stream = io.BytesIO(data)  # shares `data`, no copy
    stream.seek(offset)
    version = np.lib.format.read_magic(stream)
    if version == (1, 0):
        shape, fortran, dtype = np.lib.format.read_array_header_1_0(stream)
    else:
        shape, fortran, dtype = np.lib.format.read_array_header_2_0(stream)
    if fortran or dtype.hasobject:
        raise ValueError("unexpected array layout in the index file")
    start = stream.tell()
    count = int(np.prod(shape, dtype=np.int64))
    array = np.frombuffer(data, dtype=dtype, count=count, offset=start).reshape(shape)
    return array, start + count * dtype.itemsize
