"""``/v1/policy``: the tenant's YAML policy, its history, and dry-run decisions."""

from __future__ import annotations

from fastapi import APIRouter

from regard.api.auth import Caller, Service
from regard.api.paging import Paging
from regard.api.schemas.base import Paged
from regard.api.schemas.governance import DecisionTraceOut, ExplainRequest, PolicyApply, PolicyOut, PolicyVersionOut

router = APIRouter(prefix="/policy", tags=["policy"])


@router.put("", response_model=PolicyVersionOut, summary="Apply a new policy version")
def apply_policy(regard: Service, ctx: Caller, body: PolicyApply) -> PolicyVersionOut:
    return PolicyVersionOut.of(regard.apply_policy(body.document, ctx))


@router.get("", response_model=PolicyOut, summary="The policy in force")
def show_policy(regard: Service, ctx: Caller) -> PolicyOut:
    return PolicyOut(document=regard.policy_text(ctx))


@router.get("/history", response_model=Paged[PolicyVersionOut], summary="Every applied version")
def policy_history(regard: Service, ctx: Caller, paging: Paging) -> Paged[PolicyVersionOut]:
    return paging.cut(regard.policy_history(ctx), PolicyVersionOut.of)


@router.post("/explain", response_model=DecisionTraceOut, summary="What the policy would decide")
def explain(regard: Service, ctx: Caller, body: ExplainRequest) -> DecisionTraceOut:
    """A dry run for the caller's purpose, with the trace of rules checked.  Records nothing."""
    decision = regard.explain(
        ctx,
        body.operation,
        body.collection,
        subjects_after=body.subjects_after,
        probe_faces=body.probe_faces,
        source=body.source,
        provenance=body.provenance,
    )
    return DecisionTraceOut.of(decision)
