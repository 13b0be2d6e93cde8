"""Consent records: who agreed to what, when, with what evidence, until when."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from regard.errors import InvalidInputError
from regard.store.governance_tables import ConsentRow


@dataclass(frozen=True)
class Consent:
    id: int
    tenant: str
    subject: str
    scope: str
    purposes: tuple[str, ...]
    given_at: datetime
    evidence_ref: str
    expires_at: datetime | None
    withdrawn_at: datetime | None

    def valid_for(self, purpose: str, now: datetime) -> bool:
        return (
            purpose in self.purposes
            and self.withdrawn_at is None
            and self.given_at <= now
            and (self.expires_at is None or now < self.expires_at)
        )


def _consent(row: ConsentRow) -> Consent:
    return Consent(
        row.id,
        row.tenant,
        row.subject,
        row.scope,
        tuple(row.purposes),
        row.given_at,
        row.evidence_ref,
        row.expires_at,
        row.withdrawn_at,
    )


def record(
    session: Session,
    tenant: str,
    subject: str,
    purposes: list[str],
    scope: str,
    evidence_ref: str,
    given_at: datetime,
    expires_at: datetime | None,
    recorded_by: str,
) -> Consent:
    if not purposes:
        raise InvalidInputError("a consent names at least one purpose")
    if not evidence_ref.strip():
        raise InvalidInputError("a consent needs an evidence reference (signed form id, log entry, ...)")
    if expires_at is not None and expires_at <= given_at:
        raise InvalidInputError("a consent must expire after it was given")
    row = ConsentRow(
        tenant=tenant,
        subject=subject,
        scope=scope,
        purposes=purposes,
        given_at=given_at,
        evidence_ref=evidence_ref,
        expires_at=expires_at,
        recorded_by=recorded_by,
    )
    session.add(row)
    session.flush()
    return _consent(row)


def for_subject(session: Session, tenant: str, subject: str) -> list[Consent]:
    rows = session.scalars(select(ConsentRow).where(ConsentRow.tenant == tenant, ConsentRow.subject == subject))
    return [_consent(r) for r in rows]


def has_valid(session: Session, tenant: str, subject: str, purpose: str, now: datetime) -> bool:
    return any(c.valid_for(purpose, now) for c in for_subject(session, tenant, subject))


def end(session: Session, tenant: str, subject: str, now: datetime) -> list[Consent]:
    """Mark every open consent of the subject withdrawn (an erasure ends them too); returns them."""
    rows = list(
        session.scalars(
            select(ConsentRow).where(
                ConsentRow.tenant == tenant, ConsentRow.subject == subject, ConsentRow.withdrawn_at.is_(None)
            )
        )
    )
    for row in rows:
        row.withdrawn_at = now
    return [_consent(r) for r in rows]


def open_for(session: Session, tenant: str, subject: str) -> list[Consent]:
    """The subject's consents not withdrawn (expired ones included: they are still records of consent)."""
    return [c for c in for_subject(session, tenant, subject) if c.withdrawn_at is None]


def listing(session: Session, tenant: str) -> list[Consent]:
    return [
        _consent(r)
        for r in session.scalars(select(ConsentRow).where(ConsentRow.tenant == tenant).order_by(ConsentRow.id))
    ]
