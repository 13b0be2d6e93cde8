"""Tenants, keys, purposes, policies and applications."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from regard.api.schemas.base import Timestamp, example
from regard.governance.keys import KeyInfo, NewKey
from regard.governance.policy import PolicyDecision
from regard.governance.purposes import Purpose
from regard.governance.repository import Application, PolicyVersion
from regard.governance.roles import Operation

NOW = "2026-11-29T10:00:00Z"


class TenantCreate(BaseModel):
    model_config = example(tenant="acme", display_name="ACME Corp.")
    tenant: str = Field(min_length=1, max_length=128)
    display_name: str = Field("", max_length=256)


class TenantOut(BaseModel):
    model_config = example(tenant="acme")
    tenant: str


class KeyCreate(BaseModel):
    model_config = example(roles=["operator"], owner="alice", label="door app", expires_in_days=365, tenant=None)
    roles: list[str] = Field(
        min_length=1, description="Some of admin, operator, reviewer, auditor (system: system only)."
    )
    owner: str | None = Field(None, max_length=256, description="The person the key belongs to.")
    label: str = Field("", max_length=256)
    expires_in_days: int | None = Field(365, ge=1, le=36500, description="null: never expires.")
    tenant: str | None = Field(None, max_length=128, description="Another tenant's key (system role only).")


class NewKeyOut(BaseModel):
    model_config = example(key_id="a1b2c3d4e5f6", token="rgk_a1b2c3d4e5f6_" + "x" * 43, owner="alice")
    key_id: str
    token: str = Field(description="Shown once: only a hash of its secret is stored.")
    owner: str

    @classmethod
    def of(cls, k: NewKey) -> NewKeyOut:
        return cls(key_id=k.key_id, token=k.token, owner=k.owner)


class KeyOut(BaseModel):
    model_config = example(
        key_id="a1b2c3d4e5f6",
        tenant="acme",
        label="door app",
        owner="alice",
        roles=["operator"],
        created_at=NOW,
        expires_at="2027-11-29T10:00:00Z",
        revoked_at=None,
    )
    key_id: str
    tenant: str
    label: str
    owner: str
    roles: list[str]
    created_at: Timestamp
    expires_at: Timestamp | None
    revoked_at: Timestamp | None

    @classmethod
    def of(cls, k: KeyInfo) -> KeyOut:
        return cls.model_validate(k, from_attributes=True)


PURPOSE = {
    "name": "door",
    "category": "access-control",
    "legal_basis": "consent",
    "data_subjects": "staff who opted in",
    "retention_days": 365,
    "max_collection_subjects": 500,
    "consequential": False,
    "description": "",
}


class PurposeCreate(BaseModel):
    model_config = example(**PURPOSE)
    name: str = Field(min_length=1, max_length=128)
    category: str = Field(description="photo-organisation, access-control, identity-verification, ...")
    legal_basis: str = Field(description="consent, contract, legal-obligation, legitimate-interests, ...")
    data_subjects: str = Field(max_length=4000)
    retention_days: int = Field(ge=1, le=100000)
    max_collection_subjects: int = Field(ge=1, le=1_000_000_000)
    consequential: bool
    description: str = Field("", max_length=4000)


class PurposeOut(PurposeCreate):
    model_config = example(**PURPOSE, declared_by="alice")
    declared_by: str

    @classmethod
    def of(cls, p: Purpose) -> PurposeOut:
        return cls.model_validate(p, from_attributes=True)


POLICY_YAML = "version: '2026-02'\nconsequential:\n  reviewers: 2\n"


class PolicyApply(BaseModel):
    model_config = example(document=POLICY_YAML)
    document: str = Field(max_length=1_000_000, description="The policy, YAML (format: docs/governance.md).")


class PolicyVersionOut(BaseModel):
    model_config = example(version="2026-02", sha256="0" * 64, applied_by="alice", created_at=NOW, document=POLICY_YAML)
    version: str
    sha256: str
    applied_by: str
    created_at: Timestamp
    document: str

    @classmethod
    def of(cls, v: PolicyVersion) -> PolicyVersionOut:
        return cls.model_validate(v, from_attributes=True)


class PolicyOut(BaseModel):
    model_config = example(document=POLICY_YAML)
    document: str = Field(description="The policy in force (the built-in default until one is applied).")


class ExplainRequest(BaseModel):
    model_config = example(operation="search", collection="staff", probe_faces=1, source="upload")
    operation: Operation
    collection: str | None = Field(None, max_length=128)
    subjects_after: int | None = Field(None, ge=0)
    probe_faces: int = Field(1, ge=1, le=1000)
    source: str = Field("upload", max_length=64, description="upload, stream or bulk.")
    provenance: str = Field("upload", max_length=64)


class DecisionTraceOut(BaseModel):
    model_config = example(
        effect="allow",
        rule_id="PURPOSE-OK",
        reason="purpose 'door' allows search",
        policy_version="built-in",
        min_score=None,
        reviewers=0,
        trace=[["GOV-PROHIBITED", "pass"]],
    )
    effect: str = Field(description="allow, deny or review.")
    rule_id: str
    reason: str
    policy_version: str
    min_score: float | None
    reviewers: int
    trace: list[list[str]] = Field(description="Each rule checked and its outcome, in order.")

    @classmethod
    def of(cls, d: PolicyDecision) -> DecisionTraceOut:
        return cls(
            effect=d.effect,
            rule_id=d.rule_id,
            reason=d.reason,
            policy_version=d.policy_version,
            min_score=d.min_score,
            reviewers=d.reviewers,
            trace=[list(t) for t in d.trace],
        )


class ApplicationCreate(BaseModel):
    model_config = example(kind="scale", purpose="door", requested={"max_subjects": 2000}, justification="new site")
    kind: Literal["scale", "category"]
    purpose: str = Field(max_length=128)
    requested: dict[str, Any] = Field(description="scale: max_subjects, max_searches_per_day; category: category.")
    justification: str = Field(max_length=4000)


class ApplicationDecide(BaseModel):
    model_config = example(approve=True, reason="the new site is staffed", valid_days=365)
    approve: bool
    reason: str = Field(max_length=4000)
    valid_days: int = Field(365, ge=1, le=3650)


class ApplicationOut(BaseModel):
    model_config = example(
        id=1,
        kind="scale",
        purpose="door",
        requested={"max_subjects": 2000},
        justification="new site",
        status="pending",
        submitted_by="alice",
        submitted_at=NOW,
        decided_by=None,
        decision_reason=None,
        expires_at=None,
    )
    id: int
    kind: str
    purpose: str
    requested: dict[str, Any]
    justification: str
    status: str
    submitted_by: str
    submitted_at: Timestamp
    decided_by: str | None
    decision_reason: str | None
    expires_at: Timestamp | None

    @classmethod
    def of(cls, a: Application) -> ApplicationOut:
        return cls.model_validate(a, from_attributes=True)
