"""The ledger, its verification, and the accountability report."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from regard.api.schemas.base import Timestamp, example
from regard.governance.ledger import LedgerEntry
from regard.governance.report import AccountabilityReport
from regard.governance.verification import Verification

ENTRY = {
    "tenant": "acme",
    "seq": 42,
    "at": "2026-11-29T10:00:00.000000+00:00",
    "fields": {"actor": "alice", "operation": "search", "decision": "allow", "rule_id": "PURPOSE-OK"},
    "prev_hash": "0" * 64,
    "entry_hash": "1" * 64,
}


class LedgerEntryOut(BaseModel):
    model_config = example(**ENTRY)
    tenant: str
    seq: int
    at: str
    fields: dict[str, Any] = Field(description="actor, purpose, operation, decision, rule_id, policy_version, ...")
    prev_hash: str
    entry_hash: str

    @classmethod
    def of(cls, e: LedgerEntry) -> LedgerEntryOut:
        return cls.model_validate(e, from_attributes=True)


class LedgerPage(BaseModel):
    """Entries after a sequence number (a cursor): pass ``next_after_seq`` back to read on."""

    model_config = example(
        items=[ENTRY],
        total=120,
        after_seq=41,
        limit=1,
        next_after_seq=42,
        next="/v1/ledger/entries?after_seq=42&limit=1",
    )
    items: list[LedgerEntryOut]
    total: int = Field(description="Entries in the tenant's ledger.")
    after_seq: int
    limit: int
    next_after_seq: int | None = Field(description="Cursor of the next page; null on the last.")
    next: str | None = Field(description="URL of the next page; null on the last.")


class VerificationOut(BaseModel):
    model_config = example(
        tenant="acme",
        entries=120,
        checkpoints=3,
        witnessed=120,
        trusted_key_id="0123456789abcdef",
        trusted_key_source="pinned by the caller",
        witnesses=["file:/var/lib/regard-witness/ledger.jsonl"],
        against_seq=None,
        ok=True,
        problems=[],
        notes=[],
    )
    tenant: str
    entries: int
    checkpoints: int
    witnessed: int = Field(description="Entries whose hash a witness holds.")
    trusted_key_id: str | None = Field(description="Id of the public key the checkpoints were checked against.")
    trusted_key_source: str = Field(description="Where that key came from (pinned, a report, the local key file).")
    witnesses: list[str] = Field(description="The witness sources that were read.")
    against_seq: int | None = Field(description="The entry a published report's checkpoint signs, when checked.")
    ok: bool = Field(description="The chain, every signed checkpoint, the witnesses and the report agree.")
    problems: list[str] = Field(description="What was found wrong: modified, deleted, inserted, truncated, re-signed.")
    notes: list[str] = Field(description="What limits the verification (e.g. the key is not pinned).")

    @classmethod
    def of(cls, v: Verification) -> VerificationOut:
        return cls.model_validate(v, from_attributes=True)


class PublicKeyOut(BaseModel):
    model_config = example(algorithm="Ed25519", public_key="ab" * 32)
    algorithm: str
    public_key: str = Field(description="Hex of the raw public key that signs the ledger's checkpoints.")


CHECKPOINT = {
    "tenant": "acme",
    "seq": 42,
    "entry_hash": "1" * 64,
    "at": "2026-11-29T10:00:00.000000+00:00",
    "key_id": "0123456789abcdef",
    "public_key": "ab" * 32,
    "signature": "cd" * 64,
}


class CheckpointOut(BaseModel):
    model_config = example(**CHECKPOINT)
    tenant: str
    seq: int
    entry_hash: str
    at: str
    key_id: str
    public_key: str
    signature: str


class VerifyAgainst(BaseModel):
    """A published accountability report (its text) to check the history against, and what to trust."""

    model_config = example(report="# Accountability report ...", public_key="ab" * 32, witness_copies={})
    report: str | None = Field(
        None, max_length=20_000_000, description="The report's text (Markdown, HTML or JSON), as published."
    )
    public_key: str | None = Field(
        None, pattern="^[0-9a-fA-F]{64}$", description="The public key to trust, 64 hex characters."
    )
    witness_copies: dict[str, str] = Field(
        default_factory=dict, description="Witness lines kept elsewhere (e.g. a log host's file), by name."
    )


class CheckpointResponse(BaseModel):
    model_config = example(checkpoint=CHECKPOINT)
    checkpoint: CheckpointOut | None = Field(description="null when the ledger is empty.")


class ReportOut(BaseModel):
    """The accountability report (sections of Washington SB 6280's report)."""

    model_config = example(
        tenant="acme",
        purpose_filter=None,
        generated_at="2026-11-29T10:00:00Z",
        policy_version="built-in",
        policy_history=[],
        purposes=[],
        calls_by_operation={"door": {"search": 12}},
        denials_by_rule={"GOV-SCALE-LIMIT": 1},
        reviews={},
        consent={"recorded": 3},
        retention={"stored": 30},
        erasures={"requests": 1},
        models=[],
        ledger={"entries": 120, "verified": True},
    )
    tenant: str
    purpose_filter: str | None
    generated_at: Timestamp
    policy_version: str
    policy_history: list[dict[str, Any]]
    purposes: list[dict[str, Any]]
    calls_by_operation: dict[str, dict[str, int]]
    denials_by_rule: dict[str, int]
    reviews: dict[str, Any]
    consent: dict[str, int]
    retention: dict[str, int]
    erasures: dict[str, int]
    models: list[dict[str, Any]]
    ledger: dict[str, Any]

    @classmethod
    def of(cls, r: AccountabilityReport) -> ReportOut:
        from regard.domain import to_jsonable

        return cls.model_validate(to_jsonable(r))
