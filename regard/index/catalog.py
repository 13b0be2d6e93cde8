"""One index per collection, built from the store and rebuilt when the store moved on."""

from __future__ import annotations

import threading
from collections.abc import Callable

from regard.index.base import VectorIndex
from regard.index.exact import ExactIndex
from regard.store.repository import CollectionRef, Store

IndexFactory = Callable[[int], VectorIndex]


class IndexCatalog:
    """Caches a collection's index with the store revision it reflects.

    Every change to templates bumps the collection's revision in the same
    transaction.  Before a search we compare revisions: a write from this
    process has already been applied (we apply it and advance our revision);
    a write from another process makes us rebuild from the store.
    """

    def __init__(self, store: Store, factory: IndexFactory = ExactIndex) -> None:
        self._store = store
        self._factory = factory
        self._indexes: dict[int, tuple[VectorIndex, int]] = {}
        self._lock = threading.RLock()

    def get(self, ref: CollectionRef) -> VectorIndex:
        revision = self._store.revision(ref.id)
        with self._lock:
            cached = self._indexes.get(ref.id)
            if cached is not None and cached[1] == revision:
                return cached[0]
            templates = self._store.templates(ref)
            index = self._factory(ref.dimension)
            if len(templates.ids):
                index.add(templates.ids.tolist(), templates.labels.tolist(), templates.vectors)
            self._indexes[ref.id] = (index, templates.revision)
            return index

    def apply(self, ref: CollectionRef, change: Callable[[VectorIndex], None]) -> None:
        """Apply a write this process just committed, if our copy was current just before it.

        Our write bumped the revision by one; any other value means another
        process wrote too, and the cached index is dropped to be rebuilt.
        """
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
