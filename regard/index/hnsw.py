"""In-process approximate search: a FAISS HNSW graph for one machine past a few million templates.

Derived data like the exact index, rebuilt from the store.  FAISS's HNSW
cannot delete, so a removed entry becomes a hole that searches skip (an id
selector over the live rows) until holes are a quarter of the graph, when the
graph is rebuilt from the live vectors.  The graph is changed in place, so
searches share a readers-writer lock with writes (``rwlock.py``): copying a
graph per write would cost more than the write.  Each query asks the graph
for its nearest entries and keeps the best per label; when too few labels
come back it asks for more, as the exact index widens its candidate list.

(usearch was the first choice; its extension crashes the process when
onnxruntime is imported after it, so FAISS it is.)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from regard.errors import ModelMismatchError, ModelUnavailableError
from regard.index.base import LabelHit
from regard.index.ranking import settle
from regard.index.rwlock import ReadWriteLock

_MAX_CANDIDATES = 4096
_COMPACT_SHARE = 0.25


@dataclass(frozen=True)
class HnswParams:
    connectivity: int = 32
    ef_construction: int = 128  # 64 gave recall@1 0.983 at 1M (ef_search 1024), 128 gave 0.997
    ef_search: int = 1024
    dtype: str = "f32"  # f32 keeps similarities exact; f16 halves the memory


class HnswIndex:
    """FAISS ``IndexHNSWFlat`` (or ``IndexHNSWSQ`` fp16) over inner products of unit vectors (cosine)."""

    def __init__(self, dimension: int, params: HnswParams | None = None) -> None:
        try:
            import faiss
        except ImportError as exc:
            raise ModelUnavailableError(
                "index_backend 'faiss-hnsw' needs the 'ann' extra: pip install 'regard[ann]'"
            ) from exc
        self._faiss: Any = faiss
        self.dimension = dimension
        self.params = params or HnswParams()
        self._lock = ReadWriteLock()
        self._reset()

    def _reset(self) -> None:
        faiss, p = self._faiss, self.params
        if p.dtype == "f16":
            graph = faiss.IndexHNSWSQ(
                self.dimension, faiss.ScalarQuantizer.QT_fp16, p.connectivity, faiss.METRIC_INNER_PRODUCT
            )
        else:
            graph = faiss.IndexHNSWFlat(self.dimension, p.connectivity, faiss.METRIC_INNER_PRODUCT)
        graph.hnsw.efConstruction = p.ef_construction
        self._graph = graph
        self._ids = np.zeros(0, np.int64)  # graph row -> entry id
        self._labels = np.zeros(0, np.int64)  # graph row -> label
        self._alive = np.zeros(0, bool)
        self._position: dict[int, int] = {}  # entry id -> graph row
        self._selector: Any = None  # live rows, when some are holes
        self._bits = np.zeros(0, np.uint8)  # the selector's bitmap: FAISS keeps a pointer, we keep the array

    def __len__(self) -> int:
        return len(self._position)

    def add(self, ids: Sequence[int], labels: Sequence[int], vectors: np.ndarray) -> None:
        vectors = np.ascontiguousarray(np.asarray(vectors, dtype=np.float32).reshape(len(ids), -1))
        if vectors.shape[1] != self.dimension:
            raise ModelMismatchError(f"index holds {self.dimension}-d templates, got {vectors.shape[1]}-d")
        if not len(ids):
            return
        with self._lock.writing():
            self._remove_locked([i for i in ids if int(i) in self._position])
            start = self._graph.ntotal
            self._graph.add(vectors)
            self._ids = np.concatenate([self._ids, np.asarray(ids, np.int64)])
            self._labels = np.concatenate([self._labels, np.asarray(labels, np.int64)])
            self._alive = np.concatenate([self._alive, np.ones(len(ids), bool)])
            for offset, entry in enumerate(ids):
                self._position[int(entry)] = start + offset
            self._select()

    def remove(self, ids: Sequence[int]) -> None:
        with self._lock.writing():
            self._remove_locked(ids)
            self._select()

    def _remove_locked(self, ids: Sequence[int]) -> None:
        rows = [p for p in (self._position.pop(int(e), None) for e in ids) if p is not None]
        if not rows:
            return
        self._alive[rows] = False
        holes = self._alive.size - len(self._position)
        if holes > _COMPACT_SHARE * self._alive.size:
            live = np.flatnonzero(self._alive)
            vectors = self._graph.reconstruct_n(0, self._graph.ntotal)[live]
            ids_, labels = self._ids[live], self._labels[live]
            self._reset()
            if live.size:
                self._graph.add(np.ascontiguousarray(vectors))
                self._ids, self._labels, self._alive = ids_, labels, np.ones(live.size, bool)
                self._position = {int(e): row for row, e in enumerate(ids_)}

    def _select(self) -> None:
        """Searches skip the holes through a bitmap of live rows (none needed while there are no holes)."""
        if len(self._position) == self._alive.size:
            self._selector, self._bits = None, np.zeros(0, np.uint8)
            return
        self._bits = np.packbits(self._alive, bitorder="little")
        self._selector = self._faiss.IDSelectorBitmap(self._alive.size, self._faiss.swig_ptr(self._bits))

    def ids(self) -> np.ndarray:
        with self._lock.reading():
            return np.sort(self._ids[self._alive])

    def search(
        self, queries: np.ndarray, k: int, min_similarity: float, exclude: Sequence[int] = ()
    ) -> list[list[LabelHit]]:
        queries = np.ascontiguousarray(np.asarray(queries, dtype=np.float32).reshape(-1, self.dimension))
        excluded = np.asarray(list(exclude), dtype=np.int64)
        with self._lock.reading():
            if not self._position or k <= 0:
                return [[] for _ in range(queries.shape[0])]
            return [self._one(q, k, min_similarity, excluded) for q in queries]

    def _one(self, query: np.ndarray, k: int, min_similarity: float, excluded: np.ndarray) -> list[LabelHit]:
        live = len(self._position)
        want = max(k * 8, 16) + excluded.size
        while True:
            n = min(want, live)
            params = self._faiss.SearchParametersHNSW(efSearch=max(self.params.ef_search, n))
            if self._selector is not None:
                params.sel = self._selector
            scores, rows = self._graph.search(query[None], n, params=params)
            rows, scores = rows[0], scores[0].astype(np.float32)
            rows, scores = rows[rows >= 0], scores[rows >= 0]
            complete = n >= min(_MAX_CANDIDATES, live)
            hits = settle(self._ids[rows], self._labels[rows], scores, k, min_similarity, excluded, complete)
            if hits is not None:
                return hits
            want *= 4
