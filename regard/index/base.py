"""The interfaces every vector index implements: exact, FAISS HNSW, pgvector and Milvus slot in behind them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

import numpy as np

if TYPE_CHECKING:
    from regard.store.repository import CollectionRef, Templates


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

    def ids(self) -> np.ndarray:
        """Every entry id in the index (to check it against the store)."""
        ...


class IndexBackend(Protocol):
    """Makes the index of each collection.

    ``shared`` backends (pgvector, Milvus) keep their index outside this
    process: every process sees the same one, so nothing is cached or rebuilt
    on a revision change; ``rebuild`` replaces a collection's entries from the
    store.  In-process backends (exact, faiss-hnsw) hand out a new empty index and
    the catalog fills and caches it.
    """

    name: str
    shared: bool

    def index(self, ref: CollectionRef) -> VectorIndex: ...

    def rebuild(self, ref: CollectionRef, templates: Templates) -> None: ...

    def drop(self, collection_id: int) -> None: ...


@dataclass(frozen=True)
class IndexCheck:
    """Whether a collection's index holds exactly the store's templates; ids listed are the first few."""

    collection: str
    backend: str
    store_count: int
    index_count: int
    missing: list[int] = field(default_factory=list)  # in the store, not in the index
    extra: list[int] = field(default_factory=list)  # in the index, not in the store
    repaired: bool = False

    @property
    def ok(self) -> bool:
        return self.store_count == self.index_count and not self.missing and not self.extra


def compare_ids(collection: str, backend: str, store_ids: np.ndarray, index_ids: np.ndarray) -> IndexCheck:
    missing = np.setdiff1d(store_ids, index_ids)
    extra = np.setdiff1d(index_ids, store_ids)
    return IndexCheck(
        collection,
        backend,
        int(store_ids.size),
        int(index_ids.size),
        [int(i) for i in missing[:20]],
        [int(i) for i in extra[:20]],
    )
