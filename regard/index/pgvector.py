"""pgvector: the index lives in PostgreSQL beside the templates and commits in the same transaction.

``face_vectors`` holds one row per template (its face row, collection,
subject and vector); its rows are written by the store's own insert
transaction (``Store.on_insert``) and deleted with their face by the foreign
key's ``ON DELETE CASCADE``, so store and index cannot disagree after a
crash.  Each collection gets a partial HNSW index over its rows (vectors cast
to the collection's dimension).  The table is derived data: ``rebuild``
refills a collection's rows from the templates.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from sqlalchemy import Engine, event, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from regard.errors import ModelUnavailableError, StoreError
from regard.index.base import LabelHit
from regard.index.hnsw import HnswParams
from regard.index.ranking import settle

if TYPE_CHECKING:
    from regard.store.repository import CollectionRef, Templates

_MAX_CANDIDATES = 1000  # hnsw.ef_search's ceiling

_TABLE = """
CREATE TABLE IF NOT EXISTS face_vectors (
    face_row_id integer PRIMARY KEY REFERENCES faces(id) ON DELETE CASCADE,
    collection_id integer NOT NULL,
    subject_row_id integer NOT NULL,
    embedding vector NOT NULL
)
"""
_INSERT = text(
    "INSERT INTO face_vectors (face_row_id, collection_id, subject_row_id, embedding) VALUES (:f, :c, :s, :v)"
)


def _register(dbapi_connection: Any, _record: Any) -> None:
    from pgvector.psycopg import register_vector

    register_vector(dbapi_connection)


class PgVectorBackend:
    """Creates the extension and table once, and hands out one index per collection."""

    name = "pgvector"
    shared = True

    def __init__(self, engine: Engine, params: HnswParams | None = None) -> None:
        if engine.dialect.name != "postgresql":
            raise StoreError("index_backend 'pgvector' needs PostgreSQL as database_url")
        try:
            import pgvector.psycopg  # noqa: F401
        except ImportError as exc:
            raise ModelUnavailableError("index_backend 'pgvector' needs the 'postgres' extra") from exc
        self._engine = engine
        self.params = params or HnswParams()
        self._indexed: set[int] = set()
        try:
            with engine.begin() as conn:
                conn.execute(text("CREATE EXTENSION IF NOT EXISTS vector"))
                conn.execute(text(_TABLE))
                conn.execute(
                    text("CREATE INDEX IF NOT EXISTS ix_face_vectors_collection ON face_vectors (collection_id)")
                )
        except DBAPIError as exc:
            raise StoreError(
                f"cannot set up pgvector (CREATE EXTENSION vector needs a privileged role): {exc.orig}"
            ) from exc
        # Connections made from now on send numpy arrays as vectors; drop the ones made before.
        event.listen(engine, "connect", _register)
        engine.dispose()

    def write(
        self, session: Session, ref: CollectionRef, ids: list[int], labels: list[int], vectors: np.ndarray
    ) -> None:
        """The store's insert hook: the index rows commit with the templates."""
        session.execute(
            _INSERT,
            [{"f": i, "c": ref.id, "s": label, "v": v} for i, label, v in zip(ids, labels, vectors, strict=True)],
        )

    def index(self, ref: CollectionRef) -> PgVectorIndex:
        if ref.id not in self._indexed:
            with self._engine.begin() as conn:
                conn.execute(text(self._create_index_sql(ref)))
            self._indexed.add(ref.id)
        return PgVectorIndex(self._engine, ref, self.params)

    def _create_index_sql(self, ref: CollectionRef) -> str:
        # Literal ids and dimensions (integers from our own rows): a partial index is only used when the
        # planner sees the same constants in the query.
        return (
            f"CREATE INDEX IF NOT EXISTS face_vectors_hnsw_{int(ref.id)} ON face_vectors"
            f" USING hnsw ((embedding::vector({int(ref.dimension)})) vector_ip_ops)"
            f" WITH (m = {int(self.params.connectivity)}, ef_construction = {int(self.params.ef_construction)})"
            f" WHERE collection_id = {int(ref.id)}"
        )

    def rebuild(self, ref: CollectionRef, templates: Templates) -> None:
        """Replace the collection's rows with the store's templates, then build its HNSW index."""
        with self._engine.begin() as conn:
            conn.execute(text(f"DROP INDEX IF EXISTS face_vectors_hnsw_{int(ref.id)}"))
            conn.execute(text("DELETE FROM face_vectors WHERE collection_id = :c"), {"c": ref.id})
            rows = zip(templates.ids.tolist(), templates.labels.tolist(), templates.vectors, strict=True)
            batch: list[dict[str, Any]] = []
            for face, label, vector in rows:
                batch.append({"f": face, "c": ref.id, "s": label, "v": vector})
                if len(batch) == 5000:
                    conn.execute(_INSERT, batch)
                    batch = []
            if batch:
                conn.execute(_INSERT, batch)
            conn.execute(text(self._create_index_sql(ref)))
        self._indexed.add(ref.id)

    def drop(self, collection_id: int) -> None:
        with self._engine.begin() as conn:
            conn.execute(text(f"DROP INDEX IF EXISTS face_vectors_hnsw_{int(collection_id)}"))
        self._indexed.discard(collection_id)


class PgVectorIndex:
    """One collection's rows of ``face_vectors``; writes go through the store (``add``/``remove`` do nothing)."""

    def __init__(self, engine: Engine, ref: CollectionRef, params: HnswParams) -> None:
        self._engine = engine
        self._ref = ref
        self.dimension = ref.dimension
        self._params = params

    def __len__(self) -> int:
        with self._engine.connect() as conn:
            count = conn.scalar(text("SELECT count(*) FROM face_vectors WHERE collection_id = :c"), {"c": self._ref.id})
        return int(count or 0)

    def add(self, ids: Sequence[int], labels: Sequence[int], vectors: np.ndarray) -> None:
        """Nothing to do: the rows were written in the store's transaction."""

    def remove(self, ids: Sequence[int]) -> None:
        """Nothing to do: the rows went with their faces (ON DELETE CASCADE)."""

    def ids(self) -> np.ndarray:
        with self._engine.connect() as conn:
            rows = conn.scalars(
                text("SELECT face_row_id FROM face_vectors WHERE collection_id = :c ORDER BY face_row_id"),
                {"c": self._ref.id},
            ).all()
        return np.asarray(rows, dtype=np.int64)

    def search(
        self, queries: np.ndarray, k: int, min_similarity: float, exclude: Sequence[int] = ()
    ) -> list[list[LabelHit]]:
        queries = np.asarray(queries, dtype=np.float32).reshape(-1, self.dimension)
        if k <= 0:
            return [[] for _ in range(queries.shape[0])]
        with self._engine.begin() as conn:
            # An ORDER BY over a whole collection looks expensive to the planner, which would JIT-compile
            # every query (tens of milliseconds) only to walk the HNSW index for a few hundred rows.
            conn.execute(text("SET LOCAL jit = off"))
            return [self._one(conn, q, k, min_similarity, list(exclude)) for q in queries]

    def _one(self, conn: Any, query: np.ndarray, k: int, min_similarity: float, exclude: list[int]) -> list[LabelHit]:
        d, c = int(self.dimension), int(self._ref.id)
        distance = f"embedding::vector({d}) <#> CAST(:q AS vector({d}))"
        sql = text(
            f"SELECT face_row_id, subject_row_id, -({distance}) AS similarity FROM face_vectors"
            f" WHERE collection_id = {c} AND NOT (face_row_id = ANY(:excluded))"
            f" ORDER BY {distance} LIMIT :n"
        )
        want = max(k * 8, 16)
        while True:
            limit = min(want + len(exclude), _MAX_CANDIDATES)
            ef = min(max(self._params.ef_search, limit), _MAX_CANDIDATES)  # pgvector's ceiling
            conn.execute(text(f"SET LOCAL hnsw.ef_search = {int(ef)}"))
            rows = conn.execute(sql, {"q": query, "excluded": exclude, "n": limit}).all()
            ids = np.asarray([r[0] for r in rows], dtype=np.int64)
            labels = np.asarray([r[1] for r in rows], dtype=np.int64)
            scores = np.asarray([r[2] for r in rows], dtype=np.float32)
            complete = len(rows) < limit or limit >= _MAX_CANDIDATES
            hits = settle(ids, labels, scores, k, min_similarity, np.zeros(0, np.int64), complete)
            if hits is not None:
                return hits
            want *= 4
