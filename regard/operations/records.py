"""The record of use: the ledger (entries, verification, export, checkpoints) and the accountability report."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

from regard.context import CallContext
from regard.governance import ledger, review
from regard.governance.ledger import LedgerEntry, Verification
from regard.governance.report import AccountabilityReport, ReportInputs, build_report
from regard.governance.repository import utcnow
from regard.governance.roles import Operation
from regard.operations.models import ModelOperations
from regard.operations.oversight import OversightOperations
from regard.operations.parts import Parts


class RecordOperations:
    def __init__(self, parts: Parts, oversight: OversightOperations, models: ModelOperations) -> None:
        self._p = parts
        self._guard = parts.guard
        self._gov = parts.governance
        self._oversight = oversight
        self._models = models

    def verify_ledger(self, ctx: CallContext) -> Verification:
        self._guard.require(ctx, Operation.AUDIT)
        with self._gov.tx() as s:
            return ledger.verify(
                s, ctx.tenant, self._gov.signer.public_key_hex, self._p.settings.resolved_ledger_witness_file()
            )

    def ledger_entries(self, ctx: CallContext, after_seq: int = 0, limit: int | None = None) -> list[LedgerEntry]:
        self._guard.require(ctx, Operation.AUDIT)
        with self._gov.tx() as s:
            return list(ledger.entries(s, ctx.tenant, after_seq, limit))

    def ledger_length(self, ctx: CallContext) -> int:
        self._guard.require(ctx, Operation.AUDIT)
        with self._gov.tx() as s:
            return ledger.length(s, ctx.tenant)

    def export_ledger(self, ctx: CallContext, batch: int = 1000) -> Iterator[str]:
        """The tenant's ledger as JSON Lines, one canonical line per entry, read in batches (for streaming)."""
        self._guard.require(ctx, Operation.AUDIT)
        after = 0
        while True:
            entries = self.ledger_entries(ctx, after, batch)
            for entry in entries:
                yield ledger.canonical(entry.as_json()) + "\n"
            if len(entries) < batch:
                return
            after = entries[-1].seq

    def checkpoint_ledger(self, ctx: CallContext) -> dict[str, Any] | None:
        self._guard.require(ctx, Operation.AUDIT)
        with self._gov.tx() as s:
            return ledger.checkpoint(s, ctx.tenant, self._gov.signer, self._p.settings.resolved_ledger_witness_file())

    def ledger_public_key(self, ctx: CallContext) -> str:
        self._guard.require(ctx, Operation.AUDIT)
        return self._gov.signer.public_key_hex

    def accountability_report(self, ctx: CallContext, purpose: str | None = None) -> AccountabilityReport:
        """What the tenant declared, did, was refused and reviewed (optionally for one purpose)."""
        self._guard.require(ctx, Operation.AUDIT)
        now = utcnow()
        stored, due = self._p.store.retention_counts(ctx.tenant, purpose, now + timedelta(days=30))
        with self._gov.tx() as s:
            reviews = review.summary(s, ctx.tenant, purpose)
        inputs = ReportInputs(
            tenant=ctx.tenant,
            purpose_filter=purpose,
            now=now,
            policy_version=self._gov.policy(ctx.tenant)[0].version,
            policy_history=self._gov.policy_history(ctx.tenant),
            purposes=self._gov.purposes(ctx.tenant),
            entries=self.ledger_entries(ctx),
            consents=self._oversight.list_consents(ctx),
            erasures=self._gov.erasures(ctx.tenant),
            reviews=reviews,
            templates_stored=stored,
            templates_due_30_days=due,
            models=self._models.models_in_use(ctx),
            verification=self.verify_ledger(ctx),
        )
        return build_report(inputs)
