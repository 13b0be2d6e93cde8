"""``POST /v1/collections/{name}/subjects/{subject}/faces``: enrollment, several images per call, idempotent."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, Header, Path, Response, UploadFile

from regard.api.auth import Caller, Service
from regard.api.responses import send
from regard.api.schemas.faces import EnrollResponse
from regard.api.uploads import read_images

router = APIRouter(tags=["enrollment"])


@router.post(
    "/collections/{name}/subjects/{subject}/faces",
    response_model=EnrollResponse,
    status_code=201,
    summary="Enroll faces of a subject",
)
def enroll(
    regard: Service,
    ctx: Caller,
    name: Annotated[str, Path(max_length=128, description="Collection name.")],
    subject: Annotated[str, Path(max_length=256, description="Subject id (created on first use).")],
    images: Annotated[list[UploadFile], File(description="One or more images of the subject.")],
    display_name: Annotated[str | None, Form(max_length=256, description="The subject's display name.")] = None,
    max_faces_per_image: Annotated[int, Form(ge=1, le=100, description="Largest faces enrolled per image.")] = 1,
    idempotency_key: Annotated[
        str | None,
        Header(
            alias="Idempotency-Key",
            max_length=256,
            description="A retry with the same key and request returns the first response and stores nothing twice.",
        ),
    ] = None,
) -> Response:
    """All or nothing: every image is decoded before anything is stored.  Faces that were found and not
    enrolled are listed in `unindexed_faces` with their reasons; images without a face in `images_without_faces`."""
    settings = regard.settings
    data = read_images(images, settings.max_image_bytes, settings.max_images_per_request)
    result = regard.enroll(
        name,
        subject,
        data,
        ctx,
        display_name=display_name,
        max_faces_per_image=max_faces_per_image,
        idempotency_key=idempotency_key,
    )
    return send(EnrollResponse.of(result), 201)
