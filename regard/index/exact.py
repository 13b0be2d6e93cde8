"""Exact cosine search with one BLAS matrix product over all templates of a collection."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from regard.errors import ModelMismatchError
from regard.index.base import LabelHit


class ExactIndex:
    """All vectors in one contiguous float32 matrix; rows are swapped on removal to stay dense."""

    def __init__(self, dimension: int, capacity: int = 1024) -> None:
        self.dimension = dimension
        self._matrix = np.zeros((capacity, dimension), dtype=np.float32)
        self._ids = np.zeros(capacity, dtype=np.int64)
        self._labels = np.zeros(capacity, dtype=np.int64)
        self._position: dict[int, int] = {}
        self._count = 0

    def __len__(self) -> int:
        return self._count

    def _reserve(self, extra: int) -> None:
        needed = self._count + extra
        if needed <= self._matrix.shape[0]:
            return
        capacity = max(needed, 2 * self._matrix.shape[0])
        for name in ("_matrix", "_ids", "_labels"):
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
                self._matrix[pos] = self._matrix[last]
                self._ids[pos] = self._ids[last]
                self._labels[pos] = self._labels[last]
                self._position[int(self._ids[pos])] = pos
            self._count = last

    def search(
        self, queries: np.ndarray, k: int, min_similarity: float, exclude: Sequence[int] = ()
    ) -> list[list[LabelHit]]:
        queries = np.asarray(queries, dtype=np.float32).reshape(-1, self.dimension)
        if self._count == 0 or k <= 0:
            return [[] for _ in range(queries.shape[0])]
        # (n x d) @ (d x q): one pass over the matrix for all queries.
        scores = self._matrix[: self._count] @ queries.T
        excluded = [self._position[int(e)] for e in exclude if int(e) in self._position]
        if excluded:
            scores[excluded] = -np.inf
        return [self._top_labels(scores[:, q], k, min_similarity) for q in range(queries.shape[0])]

    def _top_labels(self, scores: np.ndarray, k: int, min_similarity: float) -> list[LabelHit]:
        candidates = np.flatnonzero(scores >= min_similarity)
        take = k * 8
        while True:
            if candidates.size > take:
                part = candidates[np.argpartition(-scores[candidates], take)[:take]]
            else:
                part = candidates
            order = part[np.argsort(-scores[part], kind="stable")]
            _, first = np.unique(self._labels[order], return_index=True)
            # Enough distinct labels, or nothing left to widen to.
            if first.size >= k or part.size == candidates.size:
                break
            take *= 4
        best = order[np.sort(first)[:k]]
        return [LabelHit(int(self._labels[i]), int(self._ids[i]), float(scores[i])) for i in best]
