"""``/v1/ledger``: entries (cursor-paged), verification, streamed export, the public key, checkpoints."""

from __future__ import annotations

import itertools
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import StreamingResponse

from regard.api.auth import Caller, Service
from regard.api.responses import content
from regard.api.schemas.records import (
    CheckpointOut,
    CheckpointResponse,
    LedgerEntryOut,
    LedgerPage,
    PublicKeyOut,
    VerificationOut,
    VerifyAgainst,
)

router = APIRouter(prefix="/ledger", tags=["ledger"])

JSON_LINES = "application/jsonl"


@router.get("/entries", response_model=LedgerPage, summary="Ledger entries")
def ledger_entries(
    request: Request,
    regard: Service,
    ctx: Caller,
    after_seq: Annotated[int, Query(ge=0, le=2**62, description="Cursor: entries after this sequence number.")] = 0,
    limit: Annotated[int, Query(ge=1, le=1000, description="Most entries per page.")] = 100,
) -> LedgerPage:
    entries = regard.ledger_entries(ctx, after_seq, limit + 1)
    items = [LedgerEntryOut.of(e) for e in entries[:limit]]
    cursor = items[-1].seq if len(entries) > limit else None
    following = str(request.url.include_query_params(after_seq=cursor, limit=limit)) if cursor is not None else None
    return LedgerPage(
        items=items,
        total=regard.ledger_length(ctx),
        after_seq=after_seq,
        limit=limit,
        next_after_seq=cursor,
        next=following,
    )


@router.get("/verify", response_model=VerificationOut, summary="Verify the hash chain and checkpoints")
def verify_ledger(
    regard: Service,
    ctx: Caller,
    public_key: Annotated[
        str | None, Query(pattern="^[0-9a-fA-F]{64}$", description="Pin the public key to trust (64 hex characters).")
    ] = None,
) -> VerificationOut:
    """`ok: false` with the list of problems when anything was modified, deleted, inserted or truncated."""
    return VerificationOut.of(regard.verify_ledger(ctx, public_key=public_key))


@router.post("/verify", response_model=VerificationOut, summary="Verify against a published report")
def verify_ledger_against(regard: Service, ctx: Caller, body: VerifyAgainst) -> VerificationOut:
    """Proves the history up to the report's signed checkpoint was not rewritten since it was published."""
    return VerificationOut.of(
        regard.verify_ledger(
            ctx, against=body.report, public_key=body.public_key, witness_copies=body.witness_copies or None
        )
    )


@router.get(
    "/export",
    response_class=StreamingResponse,
    responses=content("The tenant's ledger, one canonical JSON entry a line.", JSON_LINES),
    summary="Export as JSON Lines",
)
def export_ledger(regard: Service, ctx: Caller) -> StreamingResponse:
    """Streamed: the entries are read in batches while they are sent."""
    lines = regard.export_ledger(ctx)
    # The generator checks the caller's role on its first step: take it before the response starts.
    first = next(lines, None)
    body = itertools.chain([first] if first is not None else [], lines)
    return StreamingResponse(
        body, media_type=JSON_LINES, headers={"Content-Disposition": "attachment; filename=ledger.jsonl"}
    )


@router.get("/public-key", response_model=PublicKeyOut, summary="The checkpoint signing key")
def public_key(regard: Service, ctx: Caller) -> PublicKeyOut:
    return PublicKeyOut(algorithm="Ed25519", public_key=regard.ledger_public_key(ctx))


@router.post("/checkpoints", response_model=CheckpointResponse, summary="Sign a checkpoint now")
def checkpoint(regard: Service, ctx: Caller) -> CheckpointResponse:
    record = regard.checkpoint_ledger(ctx)
    return CheckpointResponse(checkpoint=CheckpointOut.model_validate(record, from_attributes=True) if record else None)
