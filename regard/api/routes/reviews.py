"""``/v1/reviews``: two-person review of held identifications, with probe and candidate thumbnails."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request, Response

from regard.api.auth import Caller, Service
from regard.api.paging import Paging
from regard.api.responses import JPEG
from regard.api.schemas.base import Paged
from regard.api.schemas.oversight import (
    ReviewAct,
    ReviewCaseOut,
    ReviewResultOut,
    ReviewStatusOut,
    candidate,
)
from regard.errors import NotFoundError

router = APIRouter(prefix="/reviews", tags=["review"])

CaseId = Annotated[str, Path(max_length=64, description="The review case's id.")]
Subject = Annotated[str, Path(max_length=256, description="A candidate subject.")]


def _base(request: Request, case_id: str) -> str:
    return str(request.url_for("show_case", case_id=case_id).path)


@router.get("", response_model=Paged[ReviewStatusOut], summary="Pending cases")
def pending_cases(regard: Service, ctx: Caller, paging: Paging) -> Paged[ReviewStatusOut]:
    return paging.cut(regard.pending_reviews(ctx), lambda c: ReviewStatusOut(case=c, status="pending"))


@router.get("/{case_id}", response_model=ReviewCaseOut, summary="A case, as a reviewer sees it")
def show_case(request: Request, regard: Service, ctx: Caller, case_id: CaseId) -> ReviewCaseOut:
    """The probe, the candidates with similarity and score, the threshold and the model's measured error rates."""
    return ReviewCaseOut.of(regard.review_case(case_id, ctx), _base(request, case_id))


def _jpeg(image: bytes | None, what: str) -> Response:
    if image is None:
        raise NotFoundError(f"no thumbnail was kept for {what}")
    return Response(image, media_type="image/jpeg")


@router.get("/{case_id}/probe", response_class=Response, responses=JPEG, summary="The probe's thumbnail")
def probe_thumbnail(regard: Service, ctx: Caller, case_id: CaseId) -> Response:
    return _jpeg(regard.review_image(case_id, ctx), "the probe")


@router.get(
    "/{case_id}/candidates/{subject}/thumbnail",
    response_class=Response,
    responses=JPEG,
    summary="A candidate's thumbnail",
)
def candidate_thumbnail(regard: Service, ctx: Caller, case_id: CaseId, subject: Subject) -> Response:
    return _jpeg(regard.review_image(case_id, ctx, subject), f"candidate '{subject}'")


@router.post("/{case_id}/candidates/{subject}", response_model=ReviewStatusOut, summary="Confirm or reject")
def review_candidate(
    regard: Service, ctx: Caller, case_id: CaseId, subject: Subject, body: ReviewAct
) -> ReviewStatusOut:
    """One reviewer's action; a match is released when enough different people confirm it (not the requester)."""
    status = regard.review_candidate(case_id, subject, body.action, body.justification, ctx)
    return ReviewStatusOut(case=case_id, status=status)


@router.get("/{case_id}/result", response_model=ReviewResultOut, summary="What the requester may see")
def review_result(request: Request, regard: Service, ctx: Caller, case_id: CaseId) -> ReviewResultOut:
    case = regard.review_result(case_id, ctx)
    base = _base(request, case_id)
    released = [candidate(c, base) for c in case.released]
    return ReviewResultOut(case=case.id, status=case.status, matched=bool(released), released=released)
