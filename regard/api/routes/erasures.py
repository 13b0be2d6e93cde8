"""``/v1/erasures`` (requests and receipts) and ``/v1/purge`` (retention)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from regard.api.auth import Caller, Service
from regard.api.paging import Paging
from regard.api.schemas.base import Paged
from regard.api.schemas.oversight import ErasureReceiptOut, ErasureRequest, PurgeOut

router = APIRouter(tags=["erasure and retention"])


@router.post("/erasures", response_model=ErasureReceiptOut, status_code=201, summary="Erase a subject")
def erase_subject(regard: Service, ctx: Caller, body: ErasureRequest) -> ErasureReceiptOut:
    """Templates, thumbnails and index entries go; the receipt cites the ledger entry and checks nothing remains."""
    receipt = regard.erase_subject(body.subject, ctx, collections=body.collections, reason=body.reason)
    return ErasureReceiptOut.of(receipt)


@router.get("/erasures", response_model=Paged[ErasureReceiptOut], summary="Erasure receipts")
def list_erasures(regard: Service, ctx: Caller, paging: Paging) -> Paged[ErasureReceiptOut]:
    return paging.cut(regard.erasures(ctx), ErasureReceiptOut.of)


@router.post("/purge", response_model=PurgeOut, summary="Delete templates past their delete-by date")
def purge(
    regard: Service,
    ctx: Caller,
    all_tenants: Annotated[bool, Query(description="Every tenant (system role).")] = False,
) -> PurgeOut:
    """The server also runs this on a timer (`REGARD_PURGE_INTERVAL_H`)."""
    return PurgeOut.of(regard.purge(ctx, all_tenants=all_tenants))
