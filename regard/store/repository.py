"""Every read and write of the system of record, each in its own transaction."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import datetime

import numpy as np
from sqlalchemy import Engine, delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from regard.domain import Box, CollectionInfo, FaceRecord, Page, SubjectInfo
from regard.errors import AlreadyExistsError, InvalidInputError, NotFoundError
from regard.store.idempotency import IdempotencyRecords
from regard.store.locking import lock_collection
from regard.store.tables import CollectionRow, FaceRow, SubjectRow, UserModelRow, utcnow

MAX_PAGE = 1000


@dataclass(frozen=True)
class NewFace:
    """A template to store, with what we keep about where it came from."""

    embedding: np.ndarray
    model_id: str
    box: Box
    confidence: float
    quality: dict[str, object]
    image_sha256: str
    thumbnail: bytes | None = None


@dataclass(frozen=True)
class CollectionRef:
    id: int
    name: str
    model_id: str
    dimension: int
    revision: int
    purpose: str = ""  # the declared purpose it serves; "" for collections made before purposes existed
    tenant: str = ""


@dataclass(frozen=True)
class RemovedFace:
    row_id: int
    face_id: str
    collection_id: int
    subject_row: int
    tenant: str
    collection: str
    subject: str
    had_thumbnail: bool


@dataclass(frozen=True)
class Templates:
    """All templates of a collection, for building an index."""

    ids: np.ndarray  # face row ids
    labels: np.ndarray  # subject row ids
    vectors: np.ndarray  # n x d float32
    revision: int


# Runs inside the transaction that stores new templates: (session, collection, face row ids, subject rows, vectors).
InsertHook = Callable[[Session, CollectionRef, list[int], list[int], np.ndarray], None]


def _check_page(offset: int, limit: int) -> None:
    if offset < 0 or not 1 <= limit <= MAX_PAGE:
        raise InvalidInputError(f"offset must be >= 0 and limit within 1..{MAX_PAGE}")


class Store:
    """Repository over the SQLAlchemy engine; returns plain dataclasses, never rows."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._sessions = sessionmaker(engine, expire_on_commit=False)
        self.idempotency = IdempotencyRecords(engine)
        self._insert_hooks: list[InsertHook] = []

    def on_insert(self, hook: InsertHook) -> None:
        """Run ``hook`` in every transaction that adds templates (an index that commits with the store)."""
        self._insert_hooks.append(hook)

    @contextmanager
    def _tx(self) -> Iterator[Session]:
        with self._sessions.begin() as session:
            yield session

    def ping(self) -> bool:
        """The database answers a query."""
        with self.engine.connect() as conn:
            return conn.scalar(select(1)) == 1

    def transaction(self) -> AbstractContextManager[Session]:
        """A session in one transaction, committed on exit; for callers that take a lock first (``locking.py``)."""
        return self._tx()

    # -- collections -------------------------------------------------------------------------
    def create_collection(
        self, tenant: str, name: str, model_id: str, dimension: int, description: str, purpose: str = ""
    ) -> CollectionInfo:
        row = CollectionRow(
            tenant=tenant, name=name, model_id=model_id, dimension=dimension, description=description, purpose=purpose
        )
        try:
            with self._tx() as s:
                s.add(row)
        except IntegrityError:
            raise AlreadyExistsError(f"collection '{name}' already exists") from None
        return CollectionInfo(name, model_id, description, row.created_at, purpose=purpose)

    def collection(self, tenant: str, name: str) -> CollectionRef:
        with self._tx() as s:
            row = s.scalar(select(CollectionRow).where(CollectionRow.tenant == tenant, CollectionRow.name == name))
            if row is None:
                raise NotFoundError(f"collection '{name}' does not exist")
            return CollectionRef(row.id, row.name, row.model_id, row.dimension, row.revision, row.purpose, row.tenant)

    def revision(self, collection_id: int) -> int:
        with self._tx() as s:
            return int(s.scalar(select(CollectionRow.revision).where(CollectionRow.id == collection_id)) or 0)

    def describe_collection(self, tenant: str, name: str) -> CollectionInfo:
        ref = self.collection(tenant, name)
        with self._tx() as s:
            row = s.get_one(CollectionRow, ref.id)
            return self._collection_info(s, row)

    def _collection_info(self, s: Session, row: CollectionRow) -> CollectionInfo:
        subjects = s.scalar(select(func.count()).select_from(SubjectRow).where(SubjectRow.collection_id == row.id))
        faces = s.scalar(select(func.count()).select_from(FaceRow).where(FaceRow.collection_id == row.id))
        return CollectionInfo(
            row.name, row.model_id, row.description, row.created_at, subjects or 0, faces or 0, row.purpose
        )

    def list_collections(self, tenant: str, offset: int, limit: int) -> Page:
        _check_page(offset, limit)
        with self._tx() as s:
            total = s.scalar(select(func.count()).select_from(CollectionRow).where(CollectionRow.tenant == tenant))
            rows = s.scalars(
                select(CollectionRow)
                .where(CollectionRow.tenant == tenant)
                .order_by(CollectionRow.name)
                .offset(offset)
                .limit(limit)
            ).all()
            return Page([self._collection_info(s, r) for r in rows], total or 0, offset, limit)

    def delete_collection(self, tenant: str, name: str) -> int:
        """Delete a collection with its subjects and templates; returns the number of templates removed."""
        ref = self.collection(tenant, name)
        with self._tx() as s:
            faces = s.scalar(select(func.count()).select_from(FaceRow).where(FaceRow.collection_id == ref.id)) or 0
            s.execute(delete(FaceRow).where(FaceRow.collection_id == ref.id))
            s.execute(delete(SubjectRow).where(SubjectRow.collection_id == ref.id))
            s.execute(delete(CollectionRow).where(CollectionRow.id == ref.id))
            return int(faces)

    # -- subjects and faces --------------------------------------------------------------------
    def subject_count(self, ref: CollectionRef) -> int:
        with self._tx() as s:
            query = select(func.count()).select_from(SubjectRow).where(SubjectRow.collection_id == ref.id)
            return int(s.scalar(query) or 0)

    def has_subject(self, ref: CollectionRef, external_id: str) -> bool:
        with self._tx() as s:
            query = select(SubjectRow.id).where(
                SubjectRow.collection_id == ref.id, SubjectRow.external_id == external_id
            )
            return s.scalar(query) is not None

    def add_faces(
        self,
        ref: CollectionRef,
        external_id: str,
        display_name: str | None,
        faces: Sequence[NewFace],
        delete_by: datetime | None = None,
        in_transaction: Callable[[Session, list[FaceRecord]], object] | None = None,
        admit: Callable[[int], None] | None = None,
    ) -> tuple[list[FaceRecord], list[int], int]:
        """Create or update the subject and store its new templates, all in one transaction.

        The transaction holds the collection's write lock from its first read, and
        ``admit`` gets the collection's subject count as this write would leave it,
        counted under that lock: raising there stores nothing, however many
        writers race.  ``in_transaction`` runs inside the transaction with the new
        records (the ledger entry that records the enrollment commits with it, or
        neither does).  Returns the records, their row ids and the subject's row
        id (for the index).  Two writers creating the same new subject are
        serialised by the lock: the second finds the first's subject and joins it.
        """
        with self._tx() as s:
            lock_collection(s, ref.id)
            subject = s.scalar(
                select(SubjectRow).where(SubjectRow.collection_id == ref.id, SubjectRow.external_id == external_id)
            )
            if admit is not None:
                count = s.scalar(select(func.count()).select_from(SubjectRow).where(SubjectRow.collection_id == ref.id))
                admit(int(count or 0) + (subject is None))
            if subject is None:
                subject = SubjectRow(
                    collection_id=ref.id, external_id=external_id, display_name=display_name or external_id
                )
                s.add(subject)
                s.flush()
            elif display_name:
                subject.display_name = display_name
            subject.last_interaction_at = utcnow()
            rows = []
            for face in faces:
                if face.model_id != ref.model_id:
                    raise InvalidInputError(
                        f"template from model {face.model_id} cannot join a {ref.model_id} collection"
                    )
                row = FaceRow(
                    face_id=uuid.uuid4().hex,
                    collection_id=ref.id,
                    subject_id=subject.id,
                    model_id=face.model_id,
                    embedding=np.asarray(face.embedding, dtype="<f4").tobytes(),
                    x1=face.box[0],
                    y1=face.box[1],
                    x2=face.box[2],
                    y2=face.box[3],
                    confidence=face.confidence,
                    quality=face.quality,
                    image_sha256=face.image_sha256,
                    thumbnail=face.thumbnail,
                    delete_by=delete_by,
                )
                s.add(row)
                rows.append(row)
            self._bump(s, [ref.id])
            s.flush()
            if self._insert_hooks and rows:
                vectors = np.stack([np.asarray(f.embedding, dtype=np.float32) for f in faces])
                for hook in self._insert_hooks:
                    hook(s, ref, [r.id for r in rows], [subject.id] * len(rows), vectors)
            records = [self._face_record(r, ref.name, external_id) for r in rows]
            if in_transaction is not None:
                in_transaction(s, records)
            return records, [r.id for r in rows], subject.id

    @staticmethod
    def _face_record(row: FaceRow, collection: str, subject: str) -> FaceRecord:
        return FaceRecord(
            face_id=row.face_id,
            collection=collection,
            subject=subject,
            model_id=row.model_id,
            box=(row.x1, row.y1, row.x2, row.y2),
            confidence=row.confidence,
            quality_level=str(row.quality.get("level", "")),
            image_sha256=row.image_sha256,
            created_at=row.created_at,
            thumbnail_jpeg=row.thumbnail,
        )

    def list_subjects(self, ref: CollectionRef, offset: int, limit: int) -> Page:
        _check_page(offset, limit)
        with self._tx() as s:
            total = s.scalar(select(func.count()).select_from(SubjectRow).where(SubjectRow.collection_id == ref.id))
            counts = select(FaceRow.subject_id, func.count().label("n")).group_by(FaceRow.subject_id).subquery()
            rows = s.execute(
                select(SubjectRow, func.coalesce(counts.c.n, 0))
                .outerjoin(counts, counts.c.subject_id == SubjectRow.id)
                .where(SubjectRow.collection_id == ref.id)
                .order_by(SubjectRow.external_id)
                .offset(offset)
                .limit(limit)
            ).all()
            items = [SubjectInfo(ref.name, r.external_id, r.display_name, r.created_at, int(n)) for r, n in rows]
            return Page(items, total or 0, offset, limit)

    def list_faces(self, ref: CollectionRef, subject: str | None, offset: int, limit: int) -> Page:
        _check_page(offset, limit)
        with self._tx() as s:
            query = select(FaceRow, SubjectRow.external_id).join(SubjectRow).where(FaceRow.collection_id == ref.id)
            if subject is not None:
                query = query.where(SubjectRow.external_id == subject)
            total = s.scalar(select(func.count()).select_from(query.subquery()))
            rows = s.execute(query.order_by(FaceRow.id).offset(offset).limit(limit)).all()
            return Page([self._face_record(f, ref.name, ext) for f, ext in rows], total or 0, offset, limit)

    def face(self, tenant: str, face_id: str) -> tuple[FaceRecord, np.ndarray, int]:
        """A face with its template and row id, looked up across the tenant's collections."""
        with self._tx() as s:
            found = s.execute(
                select(FaceRow, SubjectRow.external_id, CollectionRow.name)
                .join(SubjectRow, FaceRow.subject_id == SubjectRow.id)
                .join(CollectionRow, FaceRow.collection_id == CollectionRow.id)
                .where(FaceRow.face_id == face_id, CollectionRow.tenant == tenant)
            ).first()
            if found is None:
                raise NotFoundError(f"face '{face_id}' does not exist")
            row, external, collection = found
            return self._face_record(row, collection, external), np.frombuffer(row.embedding, dtype="<f4"), row.id

    def delete_faces(
        self, ref: CollectionRef, face_ids: Sequence[str], in_transaction: Callable[[Session], object] | None = None
    ) -> list[int]:
        """Delete faces of a collection by public id; returns their row ids (for the index)."""
        with self._tx() as s:
            rows = s.execute(
                select(FaceRow.id, FaceRow.face_id).where(
                    FaceRow.collection_id == ref.id, FaceRow.face_id.in_(face_ids)
                )
            ).all()
            missing = set(face_ids) - {r.face_id for r in rows}
            if missing:
                raise NotFoundError(f"face(s) not in collection '{ref.name}': {', '.join(sorted(missing))}")
            ids = [r.id for r in rows]
            s.execute(delete(FaceRow).where(FaceRow.id.in_(ids)))
            self._bump(s, [ref.id])
            if in_transaction is not None:
                in_transaction(s)
            return ids

    def delete_subject(
        self, ref: CollectionRef, external_id: str, in_transaction: Callable[[Session], object] | None = None
    ) -> list[int]:
        """Delete a subject and its faces; returns the face row ids removed."""
        with self._tx() as s:
            subject = s.scalar(
                select(SubjectRow).where(SubjectRow.collection_id == ref.id, SubjectRow.external_id == external_id)
            )
            if subject is None:
                raise NotFoundError(f"subject '{external_id}' is not in collection '{ref.name}'")
            ids = list(s.scalars(select(FaceRow.id).where(FaceRow.subject_id == subject.id)))
            s.execute(delete(FaceRow).where(FaceRow.subject_id == subject.id))
            s.delete(subject)
            self._bump(s, [ref.id])
            if in_transaction is not None:
                in_transaction(s)
            return ids

    @staticmethod
    def _bump(s: Session, collection_ids: Sequence[int]) -> None:
        if collection_ids:
            s.execute(
                update(CollectionRow)
                .where(CollectionRow.id.in_(set(collection_ids)))
                .values(revision=CollectionRow.revision + 1)
            )

    def remove_faces_where(
        self,
        tenant: str | None,
        *,
        subject: str | None = None,
        collections: Sequence[str] | None = None,
        expired_before: datetime | None = None,
        in_transaction: Callable[[Session, list[RemovedFace]], object] | None = None,
    ) -> list[RemovedFace]:
        """Delete matching templates (a subject's, or those past their delete-by date) in one transaction.

        Subjects left without faces are deleted with them.  ``in_transaction``
        gets what was removed, to record it in the same transaction.
        """
        with self._tx() as s:
            query = (
                select(
                    FaceRow.id,
                    FaceRow.face_id,
                    FaceRow.collection_id,
                    FaceRow.subject_id,
                    CollectionRow.tenant,
                    CollectionRow.name,
                    SubjectRow.external_id,
                    FaceRow.thumbnail.is_not(None),
                )
                .join(CollectionRow, FaceRow.collection_id == CollectionRow.id)
                .join(SubjectRow, FaceRow.subject_id == SubjectRow.id)
            )
            if tenant is not None:
                query = query.where(CollectionRow.tenant == tenant)
            if subject is not None:
                query = query.where(SubjectRow.external_id == subject)
            if collections is not None:
                query = query.where(CollectionRow.name.in_(collections))
            if expired_before is not None:
                query = query.where(FaceRow.delete_by.is_not(None), FaceRow.delete_by <= expired_before)
            removed = [RemovedFace(*row) for row in s.execute(query).all()]
            if removed:
                s.execute(delete(FaceRow).where(FaceRow.id.in_([r.row_id for r in removed])))
                subject_ids = {r.subject_row for r in removed}
                still_used = set(s.scalars(select(FaceRow.subject_id).where(FaceRow.subject_id.in_(subject_ids))))
                s.execute(delete(SubjectRow).where(SubjectRow.id.in_(subject_ids - still_used)))
                self._bump(s, [r.collection_id for r in removed])
            if subject is not None:  # an erased subject goes even when it has no face left
                empty = select(SubjectRow.id).join(CollectionRow).where(SubjectRow.external_id == subject)
                if tenant is not None:
                    empty = empty.where(CollectionRow.tenant == tenant)
                if collections is not None:
                    empty = empty.where(CollectionRow.name.in_(collections))
                s.execute(delete(SubjectRow).where(SubjectRow.id.in_(empty.scalar_subquery())))
            if in_transaction is not None:
                in_transaction(s, removed)
            return removed

    def subject_holdings(self, tenant: str, subject: str) -> dict[str, int]:
        """Per collection of the tenant still holding this subject id: how many templates it has there."""
        with self._tx() as s:
            rows = s.execute(
                select(CollectionRow.name, func.count(FaceRow.id))
                .select_from(SubjectRow)
                .join(CollectionRow, SubjectRow.collection_id == CollectionRow.id)
                .outerjoin(FaceRow, FaceRow.subject_id == SubjectRow.id)
                .where(CollectionRow.tenant == tenant, SubjectRow.external_id == subject)
                .group_by(CollectionRow.name)
            ).all()
            return {name: int(count) for name, count in rows}

    def scrub(self) -> bool:
        """Push deleted rows out of SQLite's write-ahead log, so what was deleted is in no file any more.

        With ``secure_delete`` (set on every connection) SQLite zeroes deleted
        content in the database file; the WAL still holds the pages as they were
        until a checkpoint copies them back and truncates it.  Returns whether the
        WAL was emptied (False when a reader elsewhere kept it busy, or not SQLite).
        """
        if self.engine.dialect.name != "sqlite":
            return False
        with self.engine.connect() as conn:
            busy, _, _ = conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)").one()
        return not busy

    def retention_counts(self, tenant: str, purpose: str | None, due_before: datetime) -> tuple[int, int]:
        """(templates stored, templates whose delete-by date falls before ``due_before``) of a tenant."""
        with self._tx() as s:
            base = select(func.count()).select_from(FaceRow).join(CollectionRow).where(CollectionRow.tenant == tenant)
            if purpose is not None:
                base = base.where(CollectionRow.purpose == purpose)
            stored = s.scalar(base) or 0
            due = s.scalar(base.where(FaceRow.delete_by.is_not(None), FaceRow.delete_by <= due_before)) or 0
            return int(stored), int(due)

    def models_in_use(self, tenant: str) -> list[str]:
        """Ids of the embedders the tenant's collections are bound to."""
        with self._tx() as s:
            return sorted(set(s.scalars(select(CollectionRow.model_id).where(CollectionRow.tenant == tenant))))

    def subjects_by_row(self, row_ids: Sequence[int]) -> dict[int, tuple[str, str]]:
        """External id and display name per subject row id."""
        if not row_ids:
            return {}
        with self._tx() as s:
            rows = s.execute(
                select(SubjectRow.id, SubjectRow.external_id, SubjectRow.display_name).where(
                    SubjectRow.id.in_(set(row_ids))
                )
            ).all()
            return {r.id: (r.external_id, r.display_name) for r in rows}

    def face_ids_by_row(self, row_ids: Sequence[int]) -> dict[int, str]:
        if not row_ids:
            return {}
        with self._tx() as s:
            rows = s.execute(select(FaceRow.id, FaceRow.face_id).where(FaceRow.id.in_(set(row_ids)))).all()
            return {r.id: r.face_id for r in rows}

    def template_ids(self, ref: CollectionRef) -> np.ndarray:
        """The face row ids of a collection, sorted (to check an index against)."""
        with self._tx() as s:
            ids = s.scalars(select(FaceRow.id).where(FaceRow.collection_id == ref.id).order_by(FaceRow.id)).all()
        return np.asarray(ids, dtype=np.int64)

    def templates(self, ref: CollectionRef) -> Templates:
        """Every template of a collection with the revision it was read at (one snapshot)."""
        with self.engine.connect() as conn, conn.begin():
            revision = conn.scalar(select(CollectionRow.revision).where(CollectionRow.id == ref.id)) or 0
            rows = conn.execute(
                select(FaceRow.id, FaceRow.subject_id, FaceRow.embedding).where(FaceRow.collection_id == ref.id)
            ).all()
        n = len(rows)
        ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=n)
        labels = np.fromiter((r[1] for r in rows), dtype=np.int64, count=n)
        vectors = (
            np.frombuffer(b"".join(r[2] for r in rows), dtype="<f4").reshape(n, ref.dimension)
            if n
            else np.zeros((0, ref.dimension), np.float32)
        )
        return Templates(ids, labels, np.ascontiguousarray(vectors, dtype=np.float32), int(revision))

    # -- user models -----------------------------------------------------------------------
    def user_model_specs(self) -> list[dict[str, object]]:
        with self._tx() as s:
            return [dict(r.spec) for r in s.scalars(select(UserModelRow).order_by(UserModelRow.id))]

    def user_model_weights(self, model_id: str) -> bytes | None:
        """A registered model's ONNX file, as stored at registration."""
        with self._tx() as s:
            return s.scalar(select(UserModelRow.weights).where(UserModelRow.id == model_id))

    def save_user_model(self, model_id: str, spec: dict[str, object], weights: bytes) -> None:
        try:
            with self._tx() as s:
                s.add(UserModelRow(id=model_id, spec=spec, weights=weights))
        except IntegrityError:
            raise AlreadyExistsError(f"model '{model_id}' is already registered") from None
