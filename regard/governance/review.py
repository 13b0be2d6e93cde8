"""Human review of consequential identifications: candidates are held until two reviewers confirm.

EU AI Act Art. 14(5): no action on a remote biometric identification unless
separately verified and confirmed by at least two natural persons.
"""

from __future__ import annotations

import statistics
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from regard.errors import ConflictError, InvalidInputError, NotFoundError, PermissionDeniedError
from regard.store.governance_tables import ReviewActionRow, ReviewCaseRow

Action = Literal["confirm", "reject"]


@dataclass(frozen=True)
class ReviewAction:
    reviewer: str
    subject: str
    action: str
    justification: str
    at: datetime


@dataclass(frozen=True)
class ReviewCase:
    """What a reviewer sees: the probe, the candidates and how far to trust the numbers."""

    id: str
    tenant: str
    collection: str
    purpose: str
    requested_by: str
    created_at: datetime
    probe_sha256: str
    probe_thumbnail: bytes | None
    model_id: str
    threshold: float
    candidates: list[dict[str, Any]]  # subject, display_name, face_id, similarity, score, status
    status: str  # pending | released | rejected
    actions: list[ReviewAction]
    reviewers_required: int
    model_error_rates: dict[str, float]

    @property
    def released(self) -> list[dict[str, Any]]:
        return [c for c in self.candidates if c["status"] == "confirmed"]


def create(
    session: Session,
    tenant: str,
    collection: str,
    purpose: str,
    requested_by: str,
    probe_sha256: str,
    probe_thumbnail: bytes | None,
    model_id: str,
    threshold: float,
    candidates: list[dict[str, Any]],
) -> str:
    case_id = uuid.uuid4().hex
    for c in candidates:
        c["status"] = "pending"
    session.add(
        ReviewCaseRow(
            id=case_id,
            tenant=tenant,
            collection=collection,
            purpose=purpose,
            requested_by=requested_by,
            probe_sha256=probe_sha256,
            probe_thumbnail=probe_thumbnail,
            model_id=model_id,
            threshold=threshold,
            candidates=candidates,
            status="pending" if candidates else "rejected",
        )
    )
    return case_id


def load(session: Session, tenant: str, case_id: str, reviewers_required: int) -> ReviewCase:
    """The case as stored; the caller adds the model's error rates."""
    row = session.get(ReviewCaseRow, case_id)
    if row is None or row.tenant != tenant:
        raise NotFoundError(f"review case '{case_id}' does not exist")
    actions = [
        ReviewAction(a.reviewer, a.subject, a.action, a.justification, a.at)
        for a in session.scalars(
            select(ReviewActionRow).where(ReviewActionRow.case_id == case_id).order_by(ReviewActionRow.id)
        )
    ]
    return ReviewCase(
        row.id,
        row.tenant,
        row.collection,
        row.purpose,
        row.requested_by,
        row.created_at,
        row.probe_sha256,
        row.probe_thumbnail,
        row.model_id,
        row.threshold,
        [dict(c) for c in row.candidates],
        row.status,
        actions,
        reviewers_required,
        {},
    )


def pending(session: Session, tenant: str) -> list[str]:
    rows = session.scalars(
        select(ReviewCaseRow.id)
        .where(ReviewCaseRow.tenant == tenant, ReviewCaseRow.status == "pending")
        .order_by(ReviewCaseRow.created_at)
    )
    return list(rows)


def act(
    session: Session,
    tenant: str,
    case_id: str,
    reviewer: str,
    subject: str,
    action: Action,
    justification: str,
    reviewers_required: int,
    now: datetime,
) -> str:
    """Record one reviewer's decision on one candidate; returns the case's status afterwards."""
    if action not in ("confirm", "reject"):
        raise InvalidInputError("a review action is 'confirm' or 'reject'")
    if not justification.strip():
        raise InvalidInputError("a review action needs a justification")
    row = session.get(ReviewCaseRow, case_id)
    if row is None or row.tenant != tenant:
        raise NotFoundError(f"review case '{case_id}' does not exist")
    if row.status != "pending":
        raise ConflictError(f"review case '{case_id}' is already {row.status}")
    if reviewer == row.requested_by:
        raise PermissionDeniedError("the person who ran the search cannot review its result")
    candidates = [dict(c) for c in row.candidates]
    target = next((c for c in candidates if c["subject"] == subject), None)
    if target is None:
        raise NotFoundError(f"'{subject}' is not a candidate of case '{case_id}'")
    if target["status"] != "pending":
        raise ConflictError(f"candidate '{subject}' is already {target['status']}")
    earlier = session.scalars(
        select(ReviewActionRow).where(ReviewActionRow.case_id == case_id, ReviewActionRow.subject == subject)
    ).all()
    if any(a.reviewer == reviewer for a in earlier):
        raise ConflictError(
            f"{reviewer} has already reviewed '{subject}'; a second confirmation must come from someone else"
        )
    session.add(
        ReviewActionRow(
            case_id=case_id, reviewer=reviewer, subject=subject, action=action, justification=justification, at=now
        )
    )
    confirmations = sum(a.action == "confirm" for a in earlier) + (action == "confirm")
    if action == "reject":
        target["status"] = "rejected"
    elif confirmations >= reviewers_required:
        target["status"] = "confirmed"
    row.candidates = candidates
    if all(c["status"] != "pending" for c in candidates):
        row.status = "released" if any(c["status"] == "confirmed" for c in candidates) else "rejected"
        row.decided_at = now
    return row.status


def summary(session: Session, tenant: str, purpose: str | None = None) -> dict[str, Any]:
    """Counts of cases and actions, and the median time to a decision, for the accountability report."""
    query = select(ReviewCaseRow).where(ReviewCaseRow.tenant == tenant)
    actions_query = select(ReviewActionRow.action).join(ReviewCaseRow).where(ReviewCaseRow.tenant == tenant)
    if purpose is not None:
        query = query.where(ReviewCaseRow.purpose == purpose)
        actions_query = actions_query.where(ReviewCaseRow.purpose == purpose)
    cases = list(session.scalars(query))
    actions = [a for (a,) in session.execute(actions_query)]
    hours = [(c.decided_at - c.created_at).total_seconds() / 3600 for c in cases if c.decided_at]
    return {
        "cases": len(cases),
        "pending": sum(c.status == "pending" for c in cases),
        "released": sum(c.status == "released" for c in cases),
        "rejected": sum(c.status == "rejected" for c in cases),
        "confirm_actions": actions.count("confirm"),
        "reject_actions": actions.count("reject"),
        "median_hours_to_decision": round(statistics.median(hours), 2) if hours else None,
    }
