"""The interface every vector index implements; FAISS, usearch or Milvus can slot in behind it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np


@dataclass(frozen=True)
class LabelHit:
    """The best-scoring entry of one label (a subject) for one query."""

    label: int
    entry_id: int
    similarity: float


class VectorIndex(Protocol):
    dimension: int

    def __len__(self) -> int: ...

    def add(self, ids: Sequence[int], labels: Sequence[int], vectors: np.ndarray) -> None:
        """Add unit vectors with their entry ids (face rows) and labels (subject rows)."""
        ...

    def remove(self, ids: Sequence[int]) -> None:
        """Drop entries; unknown ids are ignored."""
        ...

    def search(
        self, queries: np.ndarray, k: int, min_similarity: float, exclude: Sequence[int] = ()
    ) -> list[list[LabelHit]]:
        """Per query, up to ``k`` labels whose best entry has cosine >= ``min_similarity``, best first."""
        ...
