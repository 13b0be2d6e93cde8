"""``/v1/consents``: consent records; withdrawing one erases the subject's templates."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from regard.api.auth import Caller, Service
from regard.api.paging import Paging
from regard.api.schemas.base import Paged
from regard.api.schemas.oversight import ConsentCreate, ConsentOut, ErasureReceiptOut

router = APIRouter(prefix="/consents", tags=["consent"])


@router.post("", response_model=ConsentOut, status_code=201, summary="Record a consent")
def record_consent(regard: Service, ctx: Caller, body: ConsentCreate) -> ConsentOut:
    record = regard.record_consent(
        body.subject,
        body.purposes,
        body.evidence_ref,
        ctx,
        scope=body.scope,
        given_at=body.given_at,
        expires_at=body.expires_at,
    )
    return ConsentOut.of(record)


@router.get("", response_model=Paged[ConsentOut], summary="List consents")
def list_consents(regard: Service, ctx: Caller, paging: Paging) -> Paged[ConsentOut]:
    return paging.cut(regard.list_consents(ctx), ConsentOut.of)


@router.post("/{subject}/withdrawal", response_model=ErasureReceiptOut, summary="Withdraw consent")
def withdraw_consent(
    regard: Service, ctx: Caller, subject: Annotated[str, Path(max_length=256, description="Subject id.")]
) -> ErasureReceiptOut:
    """Withdraws every consent of the subject and erases their templates everywhere in the tenant."""
    return ErasureReceiptOut.of(regard.withdraw_consent(subject, ctx))
