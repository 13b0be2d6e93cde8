"""The index backend named by the settings, wired to the store."""

from __future__ import annotations

from functools import partial

from regard.index.base import IndexBackend
from regard.index.catalog import InProcessBackend
from regard.index.hnsw import HnswIndex, HnswParams
from regard.settings import Settings
from regard.store.repository import Store


def hnsw_params(settings: Settings) -> HnswParams:
    return HnswParams(
        settings.ann_connectivity, settings.ann_ef_construction, settings.ann_ef_search, settings.ann_dtype
    )


def open_backend(settings: Settings, store: Store) -> IndexBackend:
    """``exact`` (default), ``faiss-hnsw``, ``pgvector`` (needs PostgreSQL) or ``milvus``."""
    name = settings.index_backend
    params = hnsw_params(settings)
    if name == "faiss-hnsw":
        return InProcessBackend(partial(HnswIndex, params=params), "faiss-hnsw")
    if name == "pgvector":
        from regard.index.pgvector import PgVectorBackend

        backend = PgVectorBackend(store.engine, params)
        store.on_insert(backend.write)
        return backend
    if name == "milvus":
        from regard.index.milvus import MilvusBackend

        return MilvusBackend(settings.resolved_milvus_uri(), settings.milvus_token, params)
    return InProcessBackend()
