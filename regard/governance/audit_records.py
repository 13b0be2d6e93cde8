"""Stored fairness audit reports and the registry of outside auditors, per tenant (functions over a session)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from regard.errors import AlreadyExistsError, NotFoundError
from regard.store.audit_tables import AuditorRow, AuditReportRow
from regard.store.tables import utcnow


@dataclass(frozen=True)
class AuditRecord:
    """A stored report's facts; ``document`` is the report's JSON exactly as stored (signed or not)."""

    id: str
    tenant: str
    created_at: datetime
    created_by: str
    source: str  # audit: run here | submitted: signed elsewhere, received here
    route: str
    system: str
    system_version: str
    threshold: float
    target_fmr: float
    dataset: str
    evaluation_set_sha256: str | None
    report_sha256: str
    signature: str | None
    key_id: str | None
    ledger_seq: int
    document: str


@dataclass(frozen=True)
class Auditor:
    """An outside auditor whose signed reports a tenant accepts (until revoked)."""

    name: str
    public_key: str
    key_id: str
    description: str
    added_by: str
    added_at: datetime
    revoked_at: datetime | None

    @property
    def active(self) -> bool:
        return self.revoked_at is None


def _record(row: AuditReportRow) -> AuditRecord:
    return AuditRecord(
        row.id,
        row.tenant,
        row.created_at,
        row.created_by,
        row.source,
        row.route,
        row.system,
        row.system_version,
        row.threshold,
        row.target_fmr,
        row.dataset,
        row.evaluation_set_sha256,
        row.report_sha256,
        row.signature,
        row.key_id,
        row.ledger_seq,
        row.document,
    )


def _auditor(row: AuditorRow) -> Auditor:
    return Auditor(row.name, row.public_key, row.key_id, row.description, row.added_by, row.added_at, row.revoked_at)


def new_report_id() -> str:
    return "audit-" + secrets.token_hex(6)


def save_report(session: Session, record: AuditRecord) -> AuditRecord:
    """Store a report (in the caller's transaction, with the ledger entry that records it)."""
    session.add(AuditReportRow(**record.__dict__))
    session.flush()
    return record


def report(session: Session, tenant: str, report_id: str) -> AuditRecord:
    row = session.scalar(select(AuditReportRow).where(AuditReportRow.tenant == tenant, AuditReportRow.id == report_id))
    if row is None:
        raise NotFoundError(f"no audit report '{report_id}' in this tenant")
    return _record(row)


def report_with_signature(session: Session, tenant: str, signature: str) -> AuditRecord | None:
    row = session.scalar(
        select(AuditReportRow).where(AuditReportRow.tenant == tenant, AuditReportRow.signature == signature).limit(1)
    )
    return _record(row) if row is not None else None


def reports(session: Session, tenant: str) -> list[AuditRecord]:
    query = select(AuditReportRow).where(AuditReportRow.tenant == tenant).order_by(AuditReportRow.created_at)
    return [_record(row) for row in session.scalars(query)]


def add_auditor(
    session: Session, tenant: str, name: str, public_key: str, key_id: str, description: str, actor: str
) -> Auditor:
    row = AuditorRow(
        tenant=tenant, name=name, public_key=public_key, key_id=key_id, description=description, added_by=actor
    )
    session.add(row)
    try:
        session.flush()
    except IntegrityError:
        raise AlreadyExistsError(
            f"an auditor named '{name}' is already registered (revoked ones keep their name)"
        ) from None
    return _auditor(row)


def auditors(session: Session, tenant: str) -> list[Auditor]:
    query = select(AuditorRow).where(AuditorRow.tenant == tenant).order_by(AuditorRow.id)
    return [_auditor(row) for row in session.scalars(query)]


def revoke_auditor(session: Session, tenant: str, name: str) -> Auditor:
    row = session.scalar(select(AuditorRow).where(AuditorRow.tenant == tenant, AuditorRow.name == name))
    if row is None or row.revoked_at is not None:
        raise NotFoundError(f"no active auditor named '{name}'")
    row.revoked_at = utcnow()
    session.flush()
    return _auditor(row)
