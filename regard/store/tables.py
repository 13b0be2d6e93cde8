"""SQLAlchemy 2 tables.  Templates are float32 blobs tagged with the model that made them."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import JSON, Float, ForeignKey, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


class Base(DeclarativeBase):
    pass


class CollectionRow(Base):
    __tablename__ = "collections"
    __table_args__ = (UniqueConstraint("tenant", "name", name="uq_collections_tenant_name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tenant: Mapped[str] = mapped_column(String(128), index=True)
    name: Mapped[str] = mapped_column(String(128))
    model_id: Mapped[str] = mapped_column(String(128))
    dimension: Mapped[int] = mapped_column(Integer)
    description: Mapped[str] = mapped_column(Text, default="")
    purpose: Mapped[str] = mapped_column(String(128), default="")  # the declared purpose it serves
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Bumped in the same transaction as every template change, so indexes in
    # other processes can tell they are stale.
    revision: Mapped[int] = mapped_column(Integer, default=0)


class SubjectRow(Base):
    __tablename__ = "subjects"
    __table_args__ = (UniqueConstraint("collection_id", "external_id", name="uq_subjects_collection_external"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    collection_id: Mapped[int] = mapped_column(ForeignKey("collections.id", ondelete="CASCADE"), index=True)
    external_id: Mapped[str] = mapped_column(String(256))
    display_name: Mapped[str] = mapped_column(String(256), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_interaction_at: Mapped[datetime] = mapped_column(default=utcnow)


class FaceRow(Base):
    __tablename__ = "faces"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    face_id: Mapped[str] = mapped_column(String(32), unique=True)
    collection_id: Mapped[int] = mapped_column(ForeignKey("collections.id", ondelete="CASCADE"), index=True)
    subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id", ondelete="CASCADE"), index=True)
    model_id: Mapped[str] = mapped_column(String(128))
    embedding: Mapped[bytes] = mapped_column(LargeBinary)
    x1: Mapped[float] = mapped_column(Float)
    y1: Mapped[float] = mapped_column(Float)
    x2: Mapped[float] = mapped_column(Float)
    y2: Mapped[float] = mapped_column(Float)
    confidence: Mapped[float] = mapped_column(Float)
    quality: Mapped[dict[str, object]] = mapped_column(JSON, default=dict)
    image_sha256: Mapped[str] = mapped_column(String(64))
    thumbnail: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    delete_by: Mapped[datetime | None] = mapped_column(nullable=True, index=True)


class UserModelRow(Base):
    __tablename__ = "user_models"

    id: Mapped[str] = mapped_column(String(128), primary_key=True)
    spec: Mapped[dict[str, object]] = mapped_column(JSON)
    weights: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)  # the ONNX file, for every worker
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class IdempotencyRow(Base):
    """The first result of a request made with an idempotency key, written in the same transaction as its effect."""

    __tablename__ = "idempotency_keys"

    tenant: Mapped[str] = mapped_column(String(128), primary_key=True)
    key: Mapped[str] = mapped_column(String(256), primary_key=True)
    operation: Mapped[str] = mapped_column(String(32))
    fingerprint: Mapped[str] = mapped_column(String(64))  # sha256 of the request's arguments and images
    subject: Mapped[str | None] = mapped_column(String(256), nullable=True, index=True)  # erased with the subject
    result: Mapped[dict[str, object]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
