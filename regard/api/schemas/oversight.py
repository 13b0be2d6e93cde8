"""Consent, erasure, retention and human review."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from regard.api.schemas.base import InputTime, Timestamp, example
from regard.governance.consent import Consent
from regard.governance.review import ReviewCase
from regard.operations.erasure import ErasureReceipt, PurgeReport

NOW = "2026-11-29T10:00:00Z"


class ConsentCreate(BaseModel):
    model_config = example(subject="eileen", purposes=["door"], evidence_ref="form 2026-117", scope="", expires_at=None)
    subject: str = Field(min_length=1, max_length=256)
    purposes: list[str] = Field(min_length=1)
    evidence_ref: str = Field(max_length=1000, description="Where the evidence is (signed form, log entry).")
    scope: str = Field("", max_length=4000)
    given_at: InputTime | None = None
    expires_at: InputTime | None = None


class ConsentOut(BaseModel):
    model_config = example(
        id=1,
        subject="eileen",
        scope="",
        purposes=["door"],
        given_at=NOW,
        evidence_ref="form 2026-117",
        expires_at=None,
        withdrawn_at=None,
    )
    id: int
    subject: str
    scope: str
    purposes: list[str]
    given_at: Timestamp
    evidence_ref: str
    expires_at: Timestamp | None
    withdrawn_at: Timestamp | None

    @classmethod
    def of(cls, c: Consent) -> ConsentOut:
        return cls.model_validate(c, from_attributes=True)


class ErasureRequest(BaseModel):
    model_config = example(subject="eileen", collections=None, reason="request")
    subject: str = Field(min_length=1, max_length=256)
    collections: list[str] | None = Field(None, description="Only these collections (default: every one).")
    reason: str = Field("request", max_length=256)


RECEIPT: dict[str, Any] = {
    "tenant": "acme",
    "subject": "eileen",
    "reason": "request",
    "at": NOW,
    "scope": None,
    "removed": {"staff": ["3f1c2b9a8e7d4c6b5a4f3e2d1c0b9a87"]},
    "remaining": {},
    "thumbnails": 1,
    "index_entries": 1,
    "review_cases_voided": [],
    "consents_ended": 1,
    "ledger_seq": 42,
    "ledger_hash": "0" * 64,
    "absent_from_scope": True,
    "verified_absent": True,
    "storage_scrubbed": True,
}


class ErasureReceiptOut(BaseModel):
    """What an erasure removed and what of the subject remains, per collection, and the ledger entry recording it."""

    model_config = example(**RECEIPT)
    tenant: str
    subject: str
    reason: str
    at: Timestamp
    scope: list[str] | None = Field(description="The collections asked for; null: every collection of the tenant.")
    removed: dict[str, list[str]] = Field(description="Per collection, the face ids of the templates deleted there.")
    remaining: dict[str, int] = Field(description="Per collection still holding the subject, its templates there.")
    thumbnails: int
    index_entries: int
    review_cases_voided: list[str] = Field(description="Pending review cases voided because they held the subject.")
    consents_ended: int
    ledger_seq: int
    ledger_hash: str
    absent_from_scope: bool = Field(description="Nothing of the subject is left in the collections asked for.")
    verified_absent: bool = Field(description="Nothing of the subject is left anywhere in the tenant.")
    storage_scrubbed: bool = Field(description="The database's write-ahead log was emptied after the deletion.")

    @classmethod
    def of(cls, r: ErasureReceipt | dict[str, Any]) -> ErasureReceiptOut:
        return cls.model_validate(r, from_attributes=not isinstance(r, dict))


class PurgeOut(BaseModel):
    model_config = example(at=NOW, templates=3, by_tenant={"acme": 3}, storage_scrubbed=True)
    at: Timestamp
    templates: int = Field(description="Templates past their delete-by date that were deleted.")
    by_tenant: dict[str, int]
    storage_scrubbed: bool = Field(description="The database's write-ahead log was emptied after the deletion.")

    @classmethod
    def of(cls, r: PurgeReport) -> PurgeOut:
        return cls.model_validate(r, from_attributes=True)


CANDIDATE = {
    "subject": "eileen",
    "display_name": "Eileen Collins",
    "face_id": "3f1c2b9a8e7d4c6b5a4f3e2d1c0b9a87",
    "similarity": 0.61,
    "score": 91.4,
    "status": "pending",
    "thumbnail": "/v1/reviews/5d1e/candidates/eileen/thumbnail",
}


class CandidateOut(BaseModel):
    model_config = example(**CANDIDATE)
    subject: str
    display_name: str
    face_id: str
    similarity: float
    score: float
    status: str = Field(description="pending, confirmed or rejected.")
    thumbnail: str = Field(description="URL of the candidate's face thumbnail (404 when none was kept).")


class ReviewActionOut(BaseModel):
    model_config = example(reviewer="rev1", subject="eileen", action="confirm", justification="same scar", at=NOW)
    reviewer: str
    subject: str
    action: str
    justification: str
    at: Timestamp


class ReviewCaseOut(BaseModel):
    """What a reviewer sees: the probe, the candidates, and how far to trust the numbers."""

    model_config = example(
        id="5d1e",
        collection="staff",
        purpose="investigation",
        requested_by="alice",
        created_at=NOW,
        probe_sha256="0" * 64,
        probe_thumbnail="/v1/reviews/5d1e/probe",
        model="sface",
        threshold=0.4244,
        candidates=[CANDIDATE],
        status="pending",
        actions=[],
        reviewers_required=2,
        model_error_rates={"lfw_accuracy": 0.994, "fmr_at_threshold": 0.0001},
    )
    id: str
    collection: str
    purpose: str
    requested_by: str
    created_at: Timestamp
    probe_sha256: str
    probe_thumbnail: str = Field(description="URL of the probe's face thumbnail.")
    model: str
    threshold: float
    candidates: list[CandidateOut]
    status: str = Field(description="pending, released or rejected.")
    actions: list[ReviewActionOut]
    reviewers_required: int
    model_error_rates: dict[str, float]

    @classmethod
    def of(cls, c: ReviewCase, base: str) -> ReviewCaseOut:
        return cls(
            id=c.id,
            collection=c.collection,
            purpose=c.purpose,
            requested_by=c.requested_by,
            created_at=c.created_at,
            probe_sha256=c.probe_sha256,
            probe_thumbnail=f"{base}/probe",
            model=c.model_id,
            threshold=c.threshold,
            candidates=[candidate(x, base) for x in c.candidates],
            status=c.status,
            actions=[
                ReviewActionOut(
                    reviewer=a.reviewer, subject=a.subject, action=a.action, justification=a.justification, at=a.at
                )
                for a in c.actions
            ],
            reviewers_required=c.reviewers_required,
            model_error_rates=dict(c.model_error_rates),
        )


def candidate(c: dict[str, Any], base: str) -> CandidateOut:
    return CandidateOut(
        subject=c["subject"],
        display_name=c.get("display_name", ""),
        face_id=c.get("face_id", ""),
        similarity=c["similarity"],
        score=c["score"],
        status=c.get("status", "pending"),
        thumbnail=f"{base}/candidates/{c['subject']}/thumbnail",
    )


class ReviewAct(BaseModel):
    model_config = example(action="confirm", justification="same scar above the left eyebrow")
    action: Literal["confirm", "reject"]
    justification: str = Field(max_length=4000)


class ReviewStatusOut(BaseModel):
    model_config = example(case="5d1e", status="pending")
    case: str
    status: str


class ReviewResultOut(BaseModel):
    """What the requester may see: only candidates confirmed by enough reviewers."""

    model_config = example(
        case="5d1e", status="released", matched=True, released=[{**CANDIDATE, "status": "confirmed"}]
    )
    case: str
    status: str
    matched: bool
    released: list[CandidateOut]
