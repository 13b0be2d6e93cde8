"""``/v1/collections``: collections, their subjects and faces (listing, thumbnails, deletion)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response

from regard.api.auth import Caller, Service
from regard.api.paging import Paging
from regard.api.responses import JPEG
from regard.api.schemas.base import Paged
from regard.api.schemas.collections import CollectionCreate, CollectionOut, Removed, SubjectOut
from regard.api.schemas.faces import StoredFaceOut
from regard.errors import NotFoundError

router = APIRouter(prefix="/collections", tags=["collections"])

Name = Annotated[str, Path(max_length=128, description="Collection name.")]
SubjectId = Annotated[str, Path(max_length=256, description="Subject id.")]
FaceId = Annotated[str, Path(max_length=64, description="Face id.")]


@router.post("", response_model=CollectionOut, status_code=201, summary="Create a collection")
def create_collection(regard: Service, ctx: Caller, body: CollectionCreate) -> CollectionOut:
    """Bound to the caller's declared purpose and to one embedder, for life."""
    regard.create_collection(body.name, ctx, model=body.model, description=body.description)
    return CollectionOut.of(regard.describe_collection(body.name, ctx))


@router.get("", response_model=Paged[CollectionOut], summary="List collections")
def list_collections(regard: Service, ctx: Caller, paging: Paging) -> Paged[CollectionOut]:
    return paging.page(regard.list_collections(ctx, paging.offset, paging.limit), CollectionOut.of)


@router.get("/{name}", response_model=CollectionOut, summary="Describe a collection")
def describe_collection(regard: Service, ctx: Caller, name: Name) -> CollectionOut:
    return CollectionOut.of(regard.describe_collection(name, ctx))


@router.delete("/{name}", response_model=Removed, summary="Delete a collection")
def delete_collection(regard: Service, ctx: Caller, name: Name) -> Removed:
    """Its subjects, templates, thumbnails and index go with it."""
    return Removed(templates_removed=regard.delete_collection(name, ctx))


@router.get("/{name}/subjects", response_model=Paged[SubjectOut], summary="List subjects")
def list_subjects(regard: Service, ctx: Caller, name: Name, paging: Paging) -> Paged[SubjectOut]:
    return paging.page(regard.list_subjects(name, ctx, paging.offset, paging.limit), SubjectOut.of)


@router.delete("/{name}/subjects/{subject}", response_model=Removed, summary="Delete a subject")
def delete_subject(regard: Service, ctx: Caller, name: Name, subject: SubjectId) -> Removed:
    return Removed(templates_removed=regard.delete_subject(name, subject, ctx))


@router.get("/{name}/faces", response_model=Paged[StoredFaceOut], summary="List faces")
def list_faces(
    regard: Service,
    ctx: Caller,
    name: Name,
    paging: Paging,
    subject: Annotated[str | None, Query(max_length=256, description="Only this subject's faces.")] = None,
) -> Paged[StoredFaceOut]:
    page = regard.list_faces(name, ctx, subject=subject, offset=paging.offset, limit=paging.limit)
    return paging.page(page, StoredFaceOut.of)


@router.get("/{name}/faces/{face_id}", response_model=StoredFaceOut, summary="One face")
def get_face(regard: Service, ctx: Caller, name: Name, face_id: FaceId) -> StoredFaceOut:
    record = regard.face(face_id, ctx)
    if record.collection != name:
        raise NotFoundError(f"face '{face_id}' is not in collection '{name}'")
    return StoredFaceOut.of(record)


@router.get("/{name}/faces/{face_id}/thumbnail", response_class=Response, responses=JPEG, summary="A face's thumbnail")
def face_thumbnail(regard: Service, ctx: Caller, name: Name, face_id: FaceId) -> Response:
    """The aligned face JPEG kept with the template (only with `REGARD_STORE_THUMBNAILS`; 404 otherwise)."""
    record = regard.face(face_id, ctx)
    if record.collection != name or record.thumbnail_jpeg is None:
        raise NotFoundError(f"face '{face_id}' has no thumbnail in collection '{name}'")
    return Response(record.thumbnail_jpeg, media_type="image/jpeg")


@router.delete("/{name}/faces/{face_id}", response_model=Removed, summary="Delete a face")
def delete_face(regard: Service, ctx: Caller, name: Name, face_id: FaceId) -> Removed:
    return Removed(templates_removed=regard.delete_faces(name, [face_id], ctx))
