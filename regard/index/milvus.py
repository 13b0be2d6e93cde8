"""Milvus: the index in a Milvus server or cluster, or in a Milvus Lite file for one process (tests, trials).

One Milvus collection per embedding dimension (``regard_d128``) with an HNSW
index over inner products; one partition per tenant and Regard collection,
named from a hash of the tenant and the collection's row id, so a search only
ever reads its own collection's partition.  The same code takes a server URL
(``milvus_uri = "http://milvus:19530"``) in production.  Writes follow the
store's commit: a process killed between the two leaves them apart until
``regard index check --repair`` rebuilds the partition from the store.
Milvus Lite opens its file from one process only; several workers need a server.
"""

from __future__ import annotations

import contextlib
import hashlib
import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from regard.errors import ModelUnavailableError
from regard.index.base import LabelHit
from regard.index.hnsw import HnswParams
from regard.index.ranking import settle

if TYPE_CHECKING:
    from regard.store.repository import CollectionRef, Templates

_MAX_CANDIDATES = 16_384  # Milvus's top-k ceiling
_BATCH = 10_000


def partition_name(ref: CollectionRef) -> str:
    return f"t{hashlib.sha256(ref.tenant.encode()).hexdigest()[:12]}_c{int(ref.id)}"


class MilvusBackend:
    name = "milvus"
    shared = True

    def __init__(self, uri: str, token: str | None = None, params: HnswParams | None = None) -> None:
        try:
            from pymilvus import MilvusClient
        except ImportError as exc:
            raise ModelUnavailableError("index_backend 'milvus' needs the 'milvus' extra") from exc
        self.params = params or HnswParams()
        self._client = MilvusClient(uri, token=token or "")
        self._ready: set[str] = set()
        self._lock = threading.Lock()

    def close(self) -> None:
        self._client.close()

    def _collection(self, dimension: int) -> str:
        from pymilvus import DataType

        name = f"regard_d{int(dimension)}"
        if name in self._ready:
            return name
        if not self._client.has_collection(name):
            schema = self._client.create_schema(auto_id=False, enable_dynamic_field=False)
            schema.add_field("id", DataType.INT64, is_primary=True)
            schema.add_field("label", DataType.INT64)
            schema.add_field("vector", DataType.FLOAT_VECTOR, dim=int(dimension))
            index = self._client.prepare_index_params()
            hnsw = {"M": self.params.connectivity, "efConstruction": self.params.ef_construction}
            index.add_index(field_name="vector", index_type="HNSW", metric_type="IP", params=hnsw)
            self._client.create_collection(name, schema=schema, index_params=index, consistency_level="Strong")
        self._ready.add(name)
        return name

    def index(self, ref: CollectionRef) -> MilvusIndex:
        with self._lock:
            collection = self._collection(ref.dimension)
            partition = partition_name(ref)
            if f"{collection}/{partition}" not in self._ready:
                # A partition made in a loaded collection is loaded with it.
                if not self._client.has_partition(collection, partition):
                    self._client.create_partition(collection, partition)
                self._ready.add(f"{collection}/{partition}")
        return MilvusIndex(self._client, collection, partition, ref.dimension, self.params)

    def rebuild(self, ref: CollectionRef, templates: Templates) -> None:
        index = self.index(ref)
        index.clear()
        index.add(templates.ids.tolist(), templates.labels.tolist(), templates.vectors)
        index.flush()

    def drop(self, collection_id: int) -> None:
        with self._lock:
            for collection in [c for c in self._client.list_collections() if c.startswith("regard_d")]:
                for partition in self._client.list_partitions(collection):
                    if partition.endswith(f"_c{int(collection_id)}"):
                        # A server drops only released partitions; Milvus Lite has no partition-level release.
                        with contextlib.suppress(Exception):
                            self._client.release_partitions(collection, [partition])
                        self._client.drop_partition(collection, partition)
                        self._ready.discard(f"{collection}/{partition}")


class MilvusIndex:
    """One partition: a Regard collection's templates."""

    def __init__(self, client: Any, collection: str, partition: str, dimension: int, params: HnswParams) -> None:
        self._client = client
        self._collection = collection
        self._partition = partition
        self.dimension = dimension
        self._params = params

    def __len__(self) -> int:
        rows = self._client.query(
            self._collection, filter="", output_fields=["count(*)"], partition_names=[self._partition]
        )
        return int(rows[0]["count(*)"]) if rows else 0

    def add(self, ids: Sequence[int], labels: Sequence[int], vectors: np.ndarray) -> None:
        vectors = np.asarray(vectors, dtype=np.float32).reshape(len(ids), -1)
        for start in range(0, len(ids), _BATCH):
            rows = [
                {"id": int(i), "label": int(label), "vector": v.tolist()}
                for i, label, v in zip(
                    ids[start : start + _BATCH],
                    labels[start : start + _BATCH],
                    vectors[start : start + _BATCH],
                    strict=True,
                )
            ]
            # Upsert: adding an id that is already there replaces it, as in the other indexes.
            self._client.upsert(self._collection, rows, partition_name=self._partition)

    def remove(self, ids: Sequence[int]) -> None:
        if len(ids):
            self._client.delete(self._collection, ids=[int(i) for i in ids], partition_name=self._partition)

    def flush(self) -> None:
        """Seal what was written so it is indexed (after a bulk load; single writes need not wait for it)."""
        self._client.flush(self._collection)

    def clear(self) -> None:
        self._client.delete(self._collection, filter="id >= 0", partition_name=self._partition)

    def ids(self) -> np.ndarray:
        iterator = self._client.query_iterator(
            self._collection, batch_size=_BATCH, filter="", output_fields=["id"], partition_names=[self._partition]
        )
        out: list[int] = []
        while batch := iterator.next():
            out += [int(row["id"]) for row in batch]
        iterator.close()
        return np.sort(np.asarray(out, dtype=np.int64))

    def search(
        self, queries: np.ndarray, k: int, min_similarity: float, exclude: Sequence[int] = ()
    ) -> list[list[LabelHit]]:
        queries = np.asarray(queries, dtype=np.float32).reshape(-1, self.dimension)
        if k <= 0:
            return [[] for _ in range(queries.shape[0])]
        return [self._one(q, k, min_similarity, [int(e) for e in exclude]) for q in queries]

    def _one(self, query: np.ndarray, k: int, min_similarity: float, exclude: list[int]) -> list[LabelHit]:
        want = max(k * 8, 16)
        while True:
            limit = min(want, _MAX_CANDIDATES)
            found = self._client.search(
                self._collection,
                data=[query.tolist()],
                limit=limit,
                filter=f"id not in {exclude}" if exclude else "",
                partition_names=[self._partition],
                output_fields=["label"],
                search_params={"metric_type": "IP", "params": {"ef": max(self._params.ef_search, limit)}},
            )[0]
            ids = np.asarray([hit["id"] for hit in found], dtype=np.int64)
            labels = np.asarray([hit["entity"]["label"] for hit in found], dtype=np.int64)
            scores = np.asarray([hit["distance"] for hit in found], dtype=np.float32)
            complete = len(found) < limit or limit >= _MAX_CANDIDATES
            hits = settle(ids, labels, scores, k, min_similarity, np.zeros(0, np.int64), complete)
            if hits is not None:
                return hits
            want *= 4
