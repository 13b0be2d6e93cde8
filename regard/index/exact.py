"""Exact cosine search over all templates of a collection.

Small collections: one BLAS product over the float32 matrix.  Large ones: a
bounded-error int8 pass picks the rows that can reach the threshold and only
those are rescored in float32 (see ``quantized.py``); results are identical.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from regard.errors import ModelMismatchError
from regard.index import quantized
from regard.index.base import LabelHit

# Below this size (or for batches of queries) the BLAS pass is already fast.
QUANTIZED_MIN_ROWS = 65_536
_MAX_QUANTIZED_QUERIES = 4
# If more than this share of rows survive the int8 pass, rescoring them all costs more than a BLAS pass.
_MAX_CANDIDATE_SHARE = 0.05


class ExactIndex:
    """All vectors in contiguous arrays; rows are swapped on removal to stay dense."""

    def __init__(self, dimension: int, capacity: int = 1024, quantized_min_rows: int = QUANTIZED_MIN_ROWS) -> None:
        self.dimension = dimension
        self._matrix = np.zeros((capacity, dimension), dtype=np.float32)
        self._codes = np.zeros((capacity, dimension), dtype=np.int8)
        self._error = np.zeros(capacity, dtype=np.float32)
        self._ids = np.zeros(capacity, dtype=np.int64)
        self._labels = np.zeros(capacity, dtype=np.int64)
        self._position: dict[int, int] = {}
        self._count = 0
        self._quantized_min_rows = quantized_min_rows if quantized.available() else 2**62

    def __len__(self) -> int:
        return self._count

    _ARRAYS = ("_matrix", "_codes", "_error", "_ids", "_labels")

    def _reserve(self, extra: int) -> None:
        needed = self._count + extra
        if needed <= self._matrix.shape[0]:
            return
        capacity = max(needed, 2 * self._matrix.shape[0])
        for name in self._ARRAYS:
            old = getattr(self, name)
            new = np.zeros((capacity, *old.shape[1:]), dtype=old.dtype)
            new[: self._count] = old[: self._count]
            setattr(self, name, new)

    def add(self, ids: Sequence[int], labels: Sequence[int], vectors: np.ndarray) -> None:
        vectors = np.asarray(vectors, dtype=np.float32).reshape(len(ids), -1)
        if vectors.shape[1] != self.dimension:
            raise ModelMismatchError(f"index holds {self.dimension}-d templates, got {vectors.shape[1]}-d")
        self.remove([i for i in ids if i in self._position])
        self._reserve(len(ids))
        start, end = self._count, self._count + len(ids)
        self._matrix[start:end] = vectors
        self._codes[start:end], self._error[start:end] = quantized.quantize(vectors)
        self._ids[start:end] = ids
        self._labels[start:end] = labels
        for offset, entry in enumerate(ids):
            self._position[int(entry)] = start + offset
        self._count = end

    def remove(self, ids: Sequence[int]) -> None:
        for entry in ids:
            pos = self._position.pop(int(entry), None)
            if pos is None:
                continue
            last = self._count - 1
            if pos != last:
                for name in self._ARRAYS:
                    array = getattr(self, name)
                    array[pos] = array[last]
                self._position[int(self._ids[pos])] = pos
            self._count = last

    def search(
        self, queries: np.ndarray, k: int, min_similarity: float, exclude: Sequence[int] = ()
    ) -> list[list[LabelHit]]:
        queries = np.asarray(queries, dtype=np.float32).reshape(-1, self.dimension)
        if self._count == 0 or k <= 0:
            return [[] for _ in range(queries.shape[0])]
        excluded = np.asarray([self._position[int(e)] for e in exclude if int(e) in self._position], dtype=np.int64)
        if self._count >= self._quantized_min_rows and queries.shape[0] <= _MAX_QUANTIZED_QUERIES:
            results = [self._search_two_pass(q, k, min_similarity, excluded) for q in queries]
            if all(r is not None for r in results):
                return results  # type: ignore[return-value]
        # (n x d) @ (d x q): one pass over the matrix for all queries.
        scores = self._matrix[: self._count] @ queries.T
        if excluded.size:
            scores[excluded] = -np.inf
        out = []
        for q in range(queries.shape[0]):
            column = scores[:, q]
            rows = np.flatnonzero(column >= min_similarity)
            out.append(self._top_labels(rows, column[rows], k))
        return out

    def _search_two_pass(
        self, query: np.ndarray, k: int, min_similarity: float, excluded: np.ndarray
    ) -> list[LabelHit] | None:
        approx, q_error = quantized.int8_scores(query, self._codes[: self._count])
        worst = float(self._error[: self._count].max()) if self._count else 0.0
        loose = np.flatnonzero(approx >= min_similarity - (worst + q_error * (1 + worst)))
        if loose.size > _MAX_CANDIDATE_SHARE * self._count:
            return None  # threshold too low for a first pass to help
        bound = self._error[loose] + q_error * (1 + self._error[loose])
        rows = loose[approx[loose] + bound >= min_similarity]
        if excluded.size:
            rows = np.setdiff1d(rows, excluded, assume_unique=True)
        exact = self._matrix[rows] @ query
        keep = exact >= min_similarity
        return self._top_labels(rows[keep], exact[keep], k)

    def _top_labels(self, rows: np.ndarray, scores: np.ndarray, k: int) -> list[LabelHit]:
        """Best entry per label, ``k`` labels, best first, from candidate rows and their exact scores."""
        take = k * 8
        while True:
            part = np.argpartition(-scores, take)[:take] if scores.size > take else np.arange(scores.size)
            order = part[np.argsort(-scores[part], kind="stable")]
            _, first = np.unique(self._labels[rows[order]], return_index=True)
            # Enough distinct labels, or nothing left to widen to.
            if first.size >= k or part.size == scores.size:
                break
            take *= 4
        best = order[np.sort(first)[:k]]
        return [LabelHit(int(self._labels[rows[i]]), int(self._ids[rows[i]]), float(scores[i])) for i in best]
