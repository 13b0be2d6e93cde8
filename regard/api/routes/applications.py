"""``/v1/applications``: asking to exceed a scale limit or use a restricted category, and deciding."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from regard.api.auth import Caller, Service
from regard.api.paging import Paging
from regard.api.schemas.base import Paged
from regard.api.schemas.governance import ApplicationCreate, ApplicationDecide, ApplicationOut

router = APIRouter(prefix="/applications", tags=["applications"])


@router.post("", response_model=ApplicationOut, status_code=201, summary="Submit an application")
def submit_application(regard: Service, ctx: Caller, body: ApplicationCreate) -> ApplicationOut:
    app = regard.submit_application(body.kind, body.purpose, body.requested, body.justification, ctx)
    return ApplicationOut.of(app)


@router.get("", response_model=Paged[ApplicationOut], summary="List applications")
def list_applications(regard: Service, ctx: Caller, paging: Paging) -> Paged[ApplicationOut]:
    return paging.cut(regard.list_applications(ctx), ApplicationOut.of)


@router.post("/{application_id}/decision", response_model=ApplicationOut, summary="Approve or reject")
def decide_application(
    regard: Service,
    ctx: Caller,
    application_id: Annotated[int, Path(ge=1, le=2**62, description="The application's id.")],
    body: ApplicationDecide,
) -> ApplicationOut:
    """Reviewer role; never the person who submitted it.  Approvals expire after `valid_days`."""
    return ApplicationOut.of(regard.decide_application(application_id, body.approve, body.reason, ctx, body.valid_days))
