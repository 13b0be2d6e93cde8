"""``/v1/detect`` and ``/v1/compare``: faces in one image, and 1:1 verification."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, Response, UploadFile

from regard.api.auth import Caller, Service
from regard.api.responses import send
from regard.api.schemas.faces import CompareFacesRequest, CompareResponse, DecisionOut, DetectResponse
from regard.api.uploads import read_upload

router = APIRouter(tags=["faces"])

Image = Annotated[UploadFile, File(description="The image's bytes (JPEG, PNG, WebP, BMP or TIFF).")]
Fmr = Annotated[float | None, Form(description="Operating point: 1e-3, 1e-4 or 1e-5 (default: the server's).")]


@router.post("/detect", response_model=DetectResponse, summary="Faces in an image")
def detect(
    regard: Service,
    ctx: Caller,
    image: Image,
    detector: Annotated[str | None, Form(max_length=128, description="Detector model id.")] = None,
) -> Response:
    """Faces largest first, with box, 5 landmarks, confidence and quality (and why a face is unusable)."""
    data = read_upload(image, regard.settings.max_image_bytes)
    return send(DetectResponse.of(regard.detect(data, ctx, detector)))


@router.post("/compare", response_model=CompareResponse, summary="1:1 verification of two images")
def compare(
    regard: Service,
    ctx: Caller,
    image_a: Image,
    image_b: Image,
    all_faces: Annotated[bool, Form(description="Compare every face pair, not only the largest faces.")] = False,
    fmr: Fmr = None,
    model: Annotated[str | None, Form(max_length=128, description="Embedder (default: the server's).")] = None,
) -> Response:
    """Similarity (0-1), score (0-100) and the decision at the operating point for each compared pair."""
    limit = regard.settings.max_image_bytes
    a, b = read_upload(image_a, limit), read_upload(image_b, limit)
    return send(CompareResponse.of(regard.compare(a, b, ctx, all_faces=all_faces, fmr=fmr, model=model)))


@router.post("/compare/faces", response_model=DecisionOut, summary="1:1 verification of two stored faces")
def compare_faces(regard: Service, ctx: Caller, body: CompareFacesRequest) -> Response:
    """Refused (409) when the two templates come from different models."""
    return send(DecisionOut.of(regard.compare_faces(body.face_id_a, body.face_id_b, ctx, body.fmr)))
