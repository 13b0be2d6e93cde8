"""Exact cosine search over all templates of a collection.

Small collections: one BLAS product over the float32 matrix.  Large ones: a
bounded-error int8 pass picks the rows that can reach the threshold and only
those are rescored in float32 (see ``quantized.py``); results are identical.

Searches run while another thread writes.  Readers take the published
``_Version`` once and read only through it; a writer never changes a row a
published version can see.  New rows go past every published version's count
(or into new arrays when the old ones are full), a removal publishes a new
``alive`` mask (a copy: one byte per row), and holes are compacted into new
arrays built aside.  So a search sees one consistent index, never a row
halfway through a swap.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from regard.errors import ModelMismatchError
from regard.index import quantized
from regard.index.base import LabelHit
from regard.index.ranking import top_labels

# Below this size (or for batches of queries) the BLAS pass is already fast.
QUANTIZED_MIN_ROWS = 65_536
_MAX_QUANTIZED_QUERIES = 4
# If more than this share of rows survive the int8 pass, rescoring them all costs more than a BLAS pass.
_MAX_CANDIDATE_SHARE = 0.05
# Removed rows stay as holes until they are this share of the rows (or this many), then are compacted away.
_COMPACT_SHARE = 0.25
_COMPACT_MIN = 1024


@dataclass(frozen=True)
class _Version:
    """One consistent state: rows ``[0, count)`` of the arrays, those with ``alive`` set."""

    matrix: np.ndarray  # capacity x d float32
    codes: np.ndarray  # capacity x d int8
    error: np.ndarray  # capacity float32: each row's int8 error bound
    ids: np.ndarray  # capacity int64: entry ids (face rows)
    labels: np.ndarray  # capacity int64: labels (subject rows)
    alive: np.ndarray  # capacity bool; never changed in place once published
    count: int = 0
    dead: int = 0

    @property
    def capacity(self) -> int:
        return int(self.matrix.shape[0])


def _empty(capacity: int, dimension: int) -> _Version:
    return _Version(
        np.zeros((capacity, dimension), np.float32),
        np.zeros((capacity, dimension), np.int8),
        np.zeros(capacity, np.float32),
        np.zeros(capacity, np.int64),
        np.zeros(capacity, np.int64),
        np.zeros(capacity, bool),
    )


class ExactIndex:
    """All vectors in contiguous arrays, published as immutable versions (see the module docstring)."""

    def __init__(self, dimension: int, capacity: int = 1024, quantized_min_rows: int = QUANTIZED_MIN_ROWS) -> None:
        self.dimension = dimension
        self._version = _empty(max(capacity, 1), dimension)
        self._position: dict[int, int] = {}  # writers only
        self._write_lock = threading.Lock()
        self.quantized_min_rows = quantized_min_rows if quantized.available() else 2**62

    def __len__(self) -> int:
        version = self._version
        return version.count - version.dead

    def ids(self) -> np.ndarray:
        """Entry ids currently in the index."""
        v = self._version
        ids: np.ndarray = v.ids[: v.count][v.alive[: v.count]]
        return ids.copy()

    def vectors(self) -> np.ndarray:
        """The live float32 rows (for benchmarks and checks)."""
        v = self._version
        rows: np.ndarray = v.matrix[: v.count][v.alive[: v.count]]
        return rows

    # -- writes: build aside, then publish ---------------------------------------------------
    def add(self, ids: Sequence[int], labels: Sequence[int], vectors: np.ndarray) -> None:
        vectors = np.asarray(vectors, dtype=np.float32).reshape(len(ids), -1)
        if vectors.shape[1] != self.dimension:
            raise ModelMismatchError(f"index holds {self.dimension}-d templates, got {vectors.shape[1]}-d")
        with self._write_lock:
            self._remove_locked([i for i in ids if int(i) in self._position])
            v = self._version
            if v.count + len(ids) > v.capacity:
                v = self._compacted(v, v.count - v.dead + len(ids))
            start, end = v.count, v.count + len(ids)
            # Rows past v.count are seen by no published version: writing them in place is safe.
            v.matrix[start:end] = vectors
            v.codes[start:end], v.error[start:end] = quantized.quantize(vectors)
            v.ids[start:end] = ids
            v.labels[start:end] = labels
            v.alive[start:end] = True
            for offset, entry in enumerate(ids):
                self._position[int(entry)] = start + offset
            self._version = replace(v, count=end)

    def remove(self, ids: Sequence[int]) -> None:
        with self._write_lock:
            self._remove_locked(ids)

    def _remove_locked(self, ids: Sequence[int]) -> None:
        rows = [p for p in (self._position.pop(int(e), None) for e in ids) if p is not None]
        if not rows:
            return
        v = self._version
        alive = v.alive.copy()
        alive[rows] = False
        v = replace(v, alive=alive, dead=v.dead + len(rows))
        if v.dead > max(_COMPACT_MIN, _COMPACT_SHARE * v.count):
            v = self._compacted(v, v.count - v.dead)
        self._version = v

    def _compacted(self, v: _Version, needed: int) -> _Version:
        """New arrays holding only the live rows, with room for ``needed`` rows."""
        keep = np.flatnonzero(v.alive[: v.count])
        out = _empty(max(needed, 2 * keep.size, 1024), self.dimension)
        n = keep.size
        for name in ("matrix", "codes", "error", "ids", "labels"):
            getattr(out, name)[:n] = getattr(v, name)[keep]
        out.alive[:n] = True
        self._position = {int(entry): row for row, entry in enumerate(out.ids[:n])}
        return replace(out, count=n)

    # -- reads: one version per call ---------------------------------------------------------
    def search(
        self, queries: np.ndarray, k: int, min_similarity: float, exclude: Sequence[int] = ()
    ) -> list[list[LabelHit]]:
        v = self._version
        queries = np.asarray(queries, dtype=np.float32).reshape(-1, self.dimension)
        if v.count == v.dead or k <= 0:
            return [[] for _ in range(queries.shape[0])]
        excluded = np.asarray(list(exclude), dtype=np.int64)
        if v.count >= self.quantized_min_rows and queries.shape[0] <= _MAX_QUANTIZED_QUERIES:
            results = [self._search_two_pass(v, q, k, min_similarity, excluded) for q in queries]
            if all(r is not None for r in results):
                return results  # type: ignore[return-value]
        # (n x d) @ (d x q): one pass over the matrix for all queries.
        scores = v.matrix[: v.count] @ queries.T
        out = []
        for q in range(queries.shape[0]):
            column = scores[:, q]
            rows = _usable(v, np.flatnonzero(column >= min_similarity), excluded)
            out.append(_top_labels(v, rows, column[rows], k))
        return out

    @staticmethod
    def _search_two_pass(
        v: _Version, query: np.ndarray, k: int, min_similarity: float, excluded: np.ndarray
    ) -> list[LabelHit] | None:
        approx, q_error = quantized.int8_scores(query, v.codes[: v.count])
        error = v.error[: v.count]
        worst = float(error.max())
        loose = np.flatnonzero(approx >= min_similarity - (worst + q_error * (1 + worst)))
        if loose.size > _MAX_CANDIDATE_SHARE * v.count:
            return None  # threshold too low for a first pass to help
        bound = error[loose] + q_error * (1 + error[loose])
        rows = _usable(v, loose[approx[loose] + bound >= min_similarity], excluded)
        exact = v.matrix[rows] @ query
        keep = exact >= min_similarity
        return _top_labels(v, rows[keep], exact[keep], k)


def _usable(v: _Version, rows: np.ndarray, excluded: np.ndarray) -> np.ndarray:
    """Candidate rows less the removed ones and the excluded entry ids."""
    rows = rows[v.alive[rows]]
    if excluded.size:
        rows = rows[~np.isin(v.ids[rows], excluded)]
    return rows


def _top_labels(v: _Version, rows: np.ndarray, scores: np.ndarray, k: int) -> list[LabelHit]:
    """Best entry per label, ``k`` labels, best first, from candidate rows and their exact scores."""
    return top_labels(v.labels[rows], v.ids[rows], scores, k)
