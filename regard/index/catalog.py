"""One index per collection, built from the store and rebuilt when the store moved on."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import replace

from regard.index.base import IndexBackend, IndexCheck, VectorIndex, compare_ids
from regard.index.exact import ExactIndex
from regard.store.repository import CollectionRef, Store, Templates

IndexFactory = Callable[[int], VectorIndex]


class InProcessBackend:
    """An index per collection in this process's memory (exact or FAISS HNSW), filled and cached by the catalog."""

    shared = False

    def __init__(self, factory: IndexFactory = ExactIndex, name: str = "exact") -> None:
        self._factory = factory
        self.name = name

    def index(self, ref: CollectionRef) -> VectorIndex:
        return self._factory(ref.dimension)

    def rebuild(self, ref: CollectionRef, templates: Templates) -> None:
        """Nothing outside the process to rebuild: the catalog refills its cache."""

    def drop(self, collection_id: int) -> None:
        """Nothing outside the process to drop."""


class IndexCatalog:
    """Caches a collection's index with the store revision it reflects.

    Every change to templates bumps the collection's revision in the same
    transaction.  Before a search we compare revisions: a write from this
    process has already been applied (we apply it and advance our revision);
    a write from another process makes us rebuild from the store.  Shared
    backends (pgvector, Milvus) keep one index for every process: they are
    asked for the collection's index each time and nothing is cached here.
    """

    def __init__(self, store: Store, backend: IndexBackend | None = None) -> None:
        self._store = store
        self.backend: IndexBackend = backend or InProcessBackend()
        self._indexes: dict[int, tuple[VectorIndex, int]] = {}
        self._lock = threading.RLock()

    def get(self, ref: CollectionRef) -> VectorIndex:
        if self.backend.shared:
            return self.backend.index(ref)
        revision = self._store.revision(ref.id)
        with self._lock:
            cached = self._indexes.get(ref.id)
            if cached is not None and cached[1] == revision:
                return cached[0]
            templates = self._store.templates(ref)
            index = self.backend.index(ref)
            if len(templates.ids):
                index.add(templates.ids.tolist(), templates.labels.tolist(), templates.vectors)
            self._indexes[ref.id] = (index, templates.revision)
            return index

    def apply(self, ref: CollectionRef, change: Callable[[VectorIndex], None]) -> None:
        """Apply a write this process just committed, if our copy was current just before it.

        Our write bumped the revision by one; any other value means another
        process wrote too, and the cached index is dropped to be rebuilt.
        """
        if self.backend.shared:
            change(self.backend.index(ref))
            return
        new_revision = self._store.revision(ref.id)
        with self._lock:
            cached = self._indexes.get(ref.id)
            if cached is None:
                return
            if cached[1] == new_revision - 1:
                change(cached[0])
                self._indexes[ref.id] = (cached[0], new_revision)
            else:
                del self._indexes[ref.id]  # someone else wrote too: rebuild on next use

    def forget(self, collection_id: int) -> None:
        with self._lock:
            self._indexes.pop(collection_id, None)
        if self.backend.shared:
            self.backend.drop(collection_id)

    def check(self, ref: CollectionRef, repair: bool = False) -> IndexCheck:
        """Compare the index's entry ids with the store's templates; with ``repair``, rebuild it if they differ."""
        result = compare_ids(ref.name, self.backend.name, self._store.template_ids(ref), self.get(ref).ids())
        if result.ok or not repair:
            return result
        self.rebuild(ref)
        after = compare_ids(ref.name, self.backend.name, self._store.template_ids(ref), self.get(ref).ids())
        return replace(after, repaired=True)

    def close(self) -> None:
        close = getattr(self.backend, "close", None)
        if close is not None:
            close()

    def rebuild(self, ref: CollectionRef) -> None:
        """Rebuild a collection's index from the store."""
        with self._lock:
            self._indexes.pop(ref.id, None)
            if self.backend.shared:
                self.backend.rebuild(ref, self._store.templates(ref))
