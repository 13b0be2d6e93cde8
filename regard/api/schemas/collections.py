"""Collections and subjects."""

from __future__ import annotations

from pydantic import BaseModel, Field

from regard.api.schemas.base import Timestamp, example
from regard.domain import CollectionInfo, SubjectInfo


class CollectionCreate(BaseModel):
    model_config = example(name="staff", model="sface", description="People who may open the door")
    name: str = Field(min_length=1, max_length=128, description="Letters, digits, '-', '_' or '.'.")
    model: str | None = Field(None, max_length=128, description="Embedder, for life (default: the server's).")
    description: str = Field("", max_length=4000)


class CollectionOut(BaseModel):
    model_config = example(
        name="staff",
        model="sface",
        description="People who may open the door",
        created_at="2026-11-29T10:00:00Z",
        subject_count=12,
        face_count=30,
    )
    name: str
    model: str
    description: str
    created_at: Timestamp
    subject_count: int
    face_count: int

    @classmethod
    def of(cls, c: CollectionInfo) -> CollectionOut:
        return cls(
            name=c.name,
            model=c.model_id,
            description=c.description,
            created_at=c.created_at,
            subject_count=c.subject_count,
            face_count=c.face_count,
        )


class SubjectOut(BaseModel):
    model_config = example(
        collection="staff",
        subject="eileen",
        display_name="Eileen Collins",
        created_at="2026-11-29T10:00:00Z",
        face_count=3,
    )
    collection: str
    subject: str
    display_name: str
    created_at: Timestamp
    face_count: int

    @classmethod
    def of(cls, s: SubjectInfo) -> SubjectOut:
        return cls(
            collection=s.collection,
            subject=s.external_id,
            display_name=s.display_name,
            created_at=s.created_at,
            face_count=s.face_count,
        )


class Removed(BaseModel):
    model_config = example(templates_removed=3)
    templates_removed: int = Field(description="Templates (and their index entries and thumbnails) deleted.")
