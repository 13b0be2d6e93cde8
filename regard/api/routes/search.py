"""``/v1/collections/{name}/search``: 1:N search by image or by a stored face."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, Path, Request, Response, UploadFile

from regard.api.auth import Caller, Service
from regard.api.responses import send
from regard.api.schemas.faces import SearchByFaceRequest, SearchResponse
from regard.api.uploads import read_upload
from regard.domain import SearchResult

router = APIRouter(prefix="/collections/{name}", tags=["search"])

Name = Annotated[str, Path(max_length=128, description="Collection name.")]


def _answer(request: Request, result: SearchResult) -> Response:
    metrics = request.app.state.metrics
    if result.review_case:
        metrics.decision("review", "held-for-review")
    else:
        metrics.decision("allow", "allowed")
    return send(SearchResponse.of(result))


@router.post("/search", response_model=SearchResponse, summary="Search by image")
def search(
    request: Request,
    regard: Service,
    ctx: Caller,
    name: Name,
    image: Annotated[UploadFile, File(description="The probe image.")],
    top_k: Annotated[int, Form(ge=1, le=1000, description="Most subjects returned per probe face.")] = 5,
    fmr: Annotated[float | None, Form(description="Operating point (default: the server's).")] = None,
    min_score: Annotated[float | None, Form(ge=0, le=100, description="A stricter bar, 0-100.")] = None,
    all_faces: Annotated[bool, Form(description="Search with every face, not only the largest.")] = False,
) -> Response:
    """Subjects whose best face reaches the threshold, best first.  Nobody above it: `matched: false` and an
    empty `matches` list, never the nearest subject.  For consequential purposes the matches are held for
    two-person review (`review_case`)."""
    data = read_upload(image, regard.settings.max_image_bytes)
    result = regard.search(name, data, ctx, top_k=top_k, fmr=fmr, min_score=min_score, all_faces=all_faces)
    return _answer(request, result)


@router.post("/search/face", response_model=SearchResponse, summary="Search by a stored face")
def search_by_face(request: Request, regard: Service, ctx: Caller, name: Name, body: SearchByFaceRequest) -> Response:
    """The stored face is the probe; it is not returned among the matches."""
    result = regard.search_by_face(name, body.face_id, ctx, top_k=body.top_k, fmr=body.fmr, min_score=body.min_score)
    return _answer(request, result)
