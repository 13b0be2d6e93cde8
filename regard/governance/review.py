"""Human review of consequential identifications: candidates are held until two reviewers confirm.

EU AI Act Art. 14(5): no action on a remote biometric identification unless
separately verified and confirmed by at least two natural persons.  The number
is fixed when the case is opened (at least ``REVIEW_FLOOR``), so a later policy
cannot lower it for open cases.  While a case is pending, the ledger holds only
a commitment to its candidates (``seal``); the confirmed ones are revealed, with
the nonces that open the commitment, when the case is released.
"""

from __future__ import annotations

import hashlib
import secrets
import statistics
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from regard.context import normalise_actor
from regard.errors import ConflictError, InvalidInputError, NotFoundError, PermissionDeniedError
from regard.governance.policy import REVIEW_FLOOR
from regard.governance.signing import canonical
from regard.store.governance_tables import ReviewActionRow, ReviewCaseRow

Action = Literal["confirm", "reject"]

# What the ledger commits to for each held candidate, and reveals of the confirmed ones on release.
REVEALED_FIELDS = ("subject", "face_id", "similarity", "score")


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
    status: str  # pending | released | rejected | voided (its subject was erased)
    actions: list[ReviewAction]
    reviewers_required: int  # fixed when the case was opened
    model_error_rates: dict[str, float]

    @property
    def released(self) -> list[dict[str, Any]]:
        return [c for c in self.candidates if c["status"] == "confirmed"]


@dataclass(frozen=True)
class NewCase:
    """A search held for review, with the number of confirmations it needs, fixed now."""

    tenant: str
    collection: str
    purpose: str
    requested_by: str
    probe_sha256: str
    probe_thumbnail: bytes | None
    model_id: str
    threshold: float
    reviewers_required: int


@dataclass(frozen=True)
class Held:
    id: str
    commitment: dict[str, Any]  # for the ledger: counts and digests, no subject


@dataclass(frozen=True)
class Outcome:
    status: str
    candidate_digest: str  # names the candidate acted on in the ledger without naming the subject
    released: list[dict[str, Any]]  # the confirmed candidates with their nonces, once the case is released


def _reveal(candidate: dict[str, Any]) -> dict[str, Any]:
    return {k: candidate[k] for k in REVEALED_FIELDS}


def candidate_digest(candidate: dict[str, Any]) -> str:
    """sha256(nonce || canonical candidate): binds the candidate without revealing it (the nonce defeats guessing)."""
    return hashlib.sha256((candidate["nonce"] + canonical(_reveal(candidate))).encode()).hexdigest()


def seal(case_id: str, candidates: list[dict[str, Any]]) -> dict[str, Any]:
    """What the ledger records of a held result: how many candidates, one digest each, and a digest of the whole."""
    digests = [candidate_digest(c) for c in candidates]
    return {
        "candidates": len(candidates),
        "candidate_digests": digests,
        "held_sha256": hashlib.sha256(canonical([case_id, digests]).encode()).hexdigest(),
    }


def create(session: Session, case: NewCase, candidates: list[dict[str, Any]]) -> Held:
    case_id = uuid.uuid4().hex
    stored = [{**c, "status": "pending", "nonce": secrets.token_hex(16)} for c in candidates]
    session.add(
        ReviewCaseRow(
            id=case_id,
            tenant=case.tenant,
            collection=case.collection,
            purpose=case.purpose,
            requested_by=case.requested_by,
            probe_sha256=case.probe_sha256,
            probe_thumbnail=case.probe_thumbnail,
            model_id=case.model_id,
            threshold=case.threshold,
            candidates=stored,
            status="pending" if stored else "rejected",
            reviewers_required=case.reviewers_required,
        )
    )
    return Held(case_id, seal(case_id, stored))


def load(session: Session, tenant: str, case_id: str) -> ReviewCase:
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
        [{k: v for k, v in c.items() if k != "nonce"} for c in row.candidates],
        row.status,
        actions,
        max(REVIEW_FLOOR, row.reviewers_required),
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
    now: datetime,
) -> Outcome:
    """Record one reviewer's decision on one candidate; returns the case's status afterwards.

    ``reviewer`` is an authenticated person (the caller checks); people are
    compared by their normalised names, so one person's two keys count once.
    """
    if action not in ("confirm", "reject"):
        raise InvalidInputError("a review action is 'confirm' or 'reject'")
    if not justification.strip():
        raise InvalidInputError("a review action needs a justification")
    row = session.get(ReviewCaseRow, case_id, with_for_update=True)
    if row is None or row.tenant != tenant:
        raise NotFoundError(f"review case '{case_id}' does not exist")
    if row.status != "pending":
        raise ConflictError(f"review case '{case_id}' is already {row.status}")
    if reviewer == normalise_actor(row.requested_by):
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
    if any(normalise_actor(a.reviewer) == reviewer for a in earlier):
        raise ConflictError(
            f"{reviewer} has already reviewed '{subject}'; a second confirmation must come from someone else"
        )
    session.add(
        ReviewActionRow(
            case_id=case_id, reviewer=reviewer, subject=subject, action=action, justification=justification, at=now
        )
    )
    confirmed_by = {normalise_actor(a.reviewer) for a in earlier if a.action == "confirm"}
    if action == "reject":
        target["status"] = "rejected"
    elif len(confirmed_by | {reviewer}) >= max(REVIEW_FLOOR, row.reviewers_required):
        target["status"] = "confirmed"
    row.candidates = candidates
    released: list[dict[str, Any]] = []
    if all(c["status"] != "pending" for c in candidates):
        row.status = "released" if any(c["status"] == "confirmed" for c in candidates) else "rejected"
        row.decided_at = now
        released = [{**_reveal(c), "nonce": c["nonce"]} for c in candidates if c["status"] == "confirmed"]
    return Outcome(row.status, candidate_digest(target), released)


def forget_subject(session: Session, tenant: str, subject: str, collections: list[str] | None) -> list[str]:
    """Remove an erased subject from the review cases that hold them; returns the cases voided.

    A pending case holding the subject is voided: its candidates and probe
    thumbnail go, so nobody can release it.  A decided case loses the
    subject's candidate entry (and its probe once no candidate is left).
    Review actions on the subject keep who acted and when, not whom on.
    """
    query = select(ReviewCaseRow).where(ReviewCaseRow.tenant == tenant)
    if collections is not None:
        query = query.where(ReviewCaseRow.collection.in_(collections))
    voided = []
    for row in list(session.scalars(query)):
        if not any(c["subject"] == subject for c in row.candidates):
            continue
        remaining = [dict(c) for c in row.candidates if c["subject"] != subject]
        if row.status == "pending":
            row.status, remaining = "voided", []
            voided.append(row.id)
        row.candidates = remaining
        if not remaining:
            row.probe_thumbnail = None
        session.execute(
            update(ReviewActionRow)
            .where(ReviewActionRow.case_id == row.id, ReviewActionRow.subject == subject)
            .values(subject="(erased)")
        )
    return voided


def holding(session: Session, tenant: str, subject: str) -> list[str]:
    """The tenant's review cases that still hold the subject as a candidate."""
    rows = session.scalars(select(ReviewCaseRow).where(ReviewCaseRow.tenant == tenant))
    return [r.id for r in rows if any(c["subject"] == subject for c in r.candidates)]


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
        "voided": sum(c.status == "voided" for c in cases),
        "confirm_actions": actions.count("confirm"),
        "reject_actions": actions.count("reject"),
        "median_hours_to_decision": round(statistics.median(hours), 2) if hours else None,
    }
