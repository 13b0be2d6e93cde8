"""Fairness audits as the API shows them: stored reports with their verification, auditors, gate results."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from regard.api.schemas.base import Timestamp, example
from regard.fairness.gate import GateResult
from regard.fairness.signing import ReportVerification
from regard.governance.audit_records import Auditor
from regard.operations.audits import StoredAudit

NOW = "2026-11-29T10:00:00Z"


class VerificationOut(BaseModel):
    model_config = example(status="verified", reason="signed by this instance", signer="this instance", key_id="ab12")
    status: str = Field(description="verified (a trusted key signed it), unverified (no trusted signature) or invalid.")
    reason: str
    signer: str | None = Field(description="Whose trusted key signed it: this instance or a registered auditor.")
    key_id: str | None

    @classmethod
    def of(cls, v: ReportVerification) -> VerificationOut:
        return cls(status=v.status, reason=v.reason, signer=v.signer, key_id=v.key_id)


AUDIT: dict[str, Any] = {
    "id": "7c0f3e9a1b2d4c5e",
    "created_at": NOW,
    "created_by": "lab-1",
    "source": "submitted",
    "route": "scores",
    "system": "sface",
    "system_version": "2021dec",
    "threshold": 0.4244,
    "target_fmr": 1e-4,
    "dataset": "score file",
    "evaluation_set_sha256": None,
    "report_sha256": "0" * 64,
    "ledger_seq": 17,
    "verification": {"status": "unverified", "reason": "not signed", "signer": None, "key_id": None},
    "groups": ["female", "male"],
    "fmr_max_min": 2.13,
    "fnmr_max_min": 9.85,
    "label_source": "assigned-by-people",
}


class AuditOut(BaseModel):
    """A stored audit report: what it audits, where it came from, and whether a trusted key signed it."""

    model_config = example(**AUDIT)
    id: str
    created_at: Timestamp
    created_by: str
    source: str = Field(description="audit: run here from images | submitted: received (a score file or a report).")
    route: str = Field(description="How it was made: images, scores or signed-report.")
    system: str = Field(description="The audited system or model id.")
    system_version: str
    threshold: float = Field(description="The operating threshold the error rates are measured at.")
    target_fmr: float
    dataset: str
    evaluation_set_sha256: str | None = Field(description="Digest of the manifest and every image (image audits).")
    report_sha256: str
    ledger_seq: int = Field(description="The ledger entry that recorded the report.")
    verification: VerificationOut
    groups: list[str]
    fmr_max_min: float | None
    fnmr_max_min: float | None
    label_source: str = Field(description="How the group labels were assigned (their provenance).")

    @classmethod
    def of(cls, stored: StoredAudit) -> AuditOut:
        record, report = stored.record, stored.report
        return cls(
            id=record.id,
            created_at=record.created_at,
            created_by=record.created_by,
            source=record.source,
            route=record.route,
            system=record.system,
            system_version=record.system_version,
            threshold=record.threshold,
            target_fmr=record.target_fmr,
            dataset=record.dataset,
            evaluation_set_sha256=record.evaluation_set_sha256,
            report_sha256=record.report_sha256,
            ledger_seq=record.ledger_seq,
            verification=VerificationOut.of(stored.verification),
            groups=[g.group for g in report.groups],
            fmr_max_min=report.differentials_adequate.fmr_max_min,
            fnmr_max_min=report.differentials_adequate.fnmr_max_min,
            label_source=report.dataset.labels.source,
        )


class CheckedReportOut(BaseModel):
    """Whether an uploaded report's signature holds for a key the tenant trusts."""

    model_config = example(system="sface", threshold=0.4244, verification=AUDIT["verification"], signature_key_id=None)
    system: str
    threshold: float
    verification: VerificationOut
    signature_key_id: str | None = Field(description="The key that signed it, trusted or not; null when unsigned.")


class GateRuleOut(BaseModel):
    model_config = example(
        id="fmr_ratio", description="FMR max/min <= 2", measured=2.13, limit=2.0, passed=False, note=""
    )
    id: str
    description: str
    measured: float | None
    limit: float
    passed: bool
    note: str


class GateOut(BaseModel):
    """The tenant's fairness gate on one report: each rule's measured value and limit."""

    model_config = example(
        passed=False,
        rules=[
            {
                "id": "fmr_ratio",
                "description": "FMR max/min <= 2",
                "measured": 2.13,
                "limit": 2.0,
                "passed": False,
                "note": "",
            }
        ],
        excluded_groups=[],
        switched_off=[],
    )
    passed: bool
    rules: list[GateRuleOut]
    excluded_groups: list[str] = Field(description="Groups too small to judge, left out of every rule.")
    switched_off: list[str] = Field(description="Limits the tenant's policy switched off explicitly.")

    @classmethod
    def of(cls, result: GateResult) -> GateOut:
        return cls(
            passed=result.passed,
            rules=[GateRuleOut.model_validate(r, from_attributes=True) for r in result.rules],
            excluded_groups=list(result.excluded_groups),
            switched_off=list(result.switched_off),
        )


class AuditorIn(BaseModel):
    model_config = example(name="lab-1", public_key="ab" * 32, description="University lab, contract 2026-14")
    name: str = Field(max_length=128)
    public_key: str = Field(pattern="^[0-9a-fA-F]{64}$", description="The auditor's raw Ed25519 public key, hex.")
    description: str = Field("", max_length=1000)


class AuditorOut(BaseModel):
    model_config = example(
        name="lab-1",
        public_key="ab" * 32,
        key_id="0123456789abcdef",
        description="University lab",
        added_by="alice",
        added_at=NOW,
        revoked_at=None,
        active=True,
    )
    name: str
    public_key: str
    key_id: str
    description: str
    added_by: str
    added_at: Timestamp
    revoked_at: Timestamp | None
    active: bool

    @classmethod
    def of(cls, a: Auditor) -> AuditorOut:
        return cls(
            name=a.name,
            public_key=a.public_key,
            key_id=a.key_id,
            description=a.description,
            added_by=a.added_by,
            added_at=a.added_at,
            revoked_at=a.revoked_at,
            active=a.active,
        )
