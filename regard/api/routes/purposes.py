"""``/v1/purposes``: why the tenant uses faces."""

from __future__ import annotations

from fastapi import APIRouter

from regard.api.auth import Caller, Service
from regard.api.paging import Paging
from regard.api.schemas.base import Paged
from regard.api.schemas.governance import PurposeCreate, PurposeOut

router = APIRouter(prefix="/purposes", tags=["purposes"])


@router.post("", response_model=PurposeOut, status_code=201, summary="Declare a purpose")
def declare_purpose(regard: Service, ctx: Caller, body: PurposeCreate) -> PurposeOut:
    """Prohibited categories (mass surveillance, categorisation, emotion recognition, scraped databases) are refused."""
    purpose = regard.declare_purpose(
        body.name,
        ctx,
        category=body.category,
        legal_basis=body.legal_basis,
        data_subjects=body.data_subjects,
        retention_days=body.retention_days,
        max_collection_subjects=body.max_collection_subjects,
        consequential=body.consequential,
        description=body.description,
    )
    return PurposeOut.of(purpose)


@router.get("", response_model=Paged[PurposeOut], summary="List purposes")
def list_purposes(regard: Service, ctx: Caller, paging: Paging) -> Paged[PurposeOut]:
    return paging.cut(regard.list_purposes(ctx), PurposeOut.of)
