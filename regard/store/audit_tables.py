"""Tables of the fairness audit: the reports Regard stored, and the outside auditors a tenant trusts."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from regard.store.tables import Base, utcnow


class AuditReportRow(Base):
    """A report produced here (an image audit, a score-file audit) or submitted signed by a trusted auditor."""

    __tablename__ = "audit_reports"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    tenant: Mapped[str] = mapped_column(String(128), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by: Mapped[str] = mapped_column(String(256))
    source: Mapped[str] = mapped_column(String(16))  # audit (run here) | submitted (signed elsewhere)
    route: Mapped[str] = mapped_column(String(32))  # the report's provenance route: images | score-file | ...
    system: Mapped[str] = mapped_column(String(256))
    system_version: Mapped[str] = mapped_column(String(64))
    threshold: Mapped[float] = mapped_column(Float)
    target_fmr: Mapped[float] = mapped_column(Float)
    dataset: Mapped[str] = mapped_column(String(256))
    evaluation_set_sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)
    report_sha256: Mapped[str] = mapped_column(String(64))  # of ``document``, as the ledger records it
    signature: Mapped[str | None] = mapped_column(String(128), nullable=True, index=True)
    key_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    ledger_seq: Mapped[int] = mapped_column(Integer)
    document: Mapped[str] = mapped_column(Text)  # the report's JSON, with its signature when signed


class AuditorRow(Base):
    """An outside auditor's Ed25519 public key: reports it signs are verified in this tenant."""

    __tablename__ = "auditors"
    __table_args__ = (UniqueConstraint("tenant", "name", name="uq_auditors_tenant_name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tenant: Mapped[str] = mapped_column(String(128), index=True)
    name: Mapped[str] = mapped_column(String(128))
    public_key: Mapped[str] = mapped_column(String(64))
    key_id: Mapped[str] = mapped_column(String(32))
    description: Mapped[str] = mapped_column(Text, default="")
    added_by: Mapped[str] = mapped_column(String(256))
    added_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(nullable=True)
