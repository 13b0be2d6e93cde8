"""The record of use: the ledger (entries, verification, export, checkpoints) and the accountability report."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import timedelta

from regard.context import CallContext
from regard.governance import ledger, review
from regard.governance.ledger import LedgerEntry
from regard.governance.report import AccountabilityReport, ReportInputs, build_report, embedded_checkpoint
from regard.governance.repository import utcnow
from regard.governance.roles import Operation
from regard.governance.signing import SignedCheckpoint, canonical
from regard.governance.verification import Verification, verify
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

    def verify_ledger(
        self,
        ctx: CallContext,
        *,
        against: str | None = None,
        public_key: str | None = None,
        witness_copies: Mapping[str, str] | None = None,
    ) -> Verification:
        """Check the chain, the checkpoints against a trusted public key, the witnesses and a published report.

        ``against`` is an accountability report's text (Markdown, HTML or JSON):
        the history up to its checkpoint must be the one it published.
        ``public_key`` pins the key to trust (hex, or a file holding it);
        ``witness_copies`` are witness lines kept elsewhere (name -> text), such
        as a syslog server's file.  Never creates a signing key.
        """
        self._guard.require(ctx, Operation.AUDIT)
        claim = embedded_checkpoint(against) if against is not None else None
        keeper = self._gov.ledger
        trusted = keeper.trusted_key(public_key, claim, files=not ctx.remote)
        with self._gov.tx() as s:
            result = verify(s, ctx.tenant, trusted, keeper.witness_sources(witness_copies), claim)
        if keeper.key_beside_data():
            result.notes.append("the signing key lives in the data directory: a copy of it can re-sign the ledger")
        return result

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
                yield canonical(entry.as_json()) + "\n"
            if len(entries) < batch:
                return
            after = entries[-1].seq

    def checkpoint_ledger(self, ctx: CallContext) -> SignedCheckpoint | None:
        self._guard.require(ctx, Operation.AUDIT)
        return self._gov.ledger.checkpoint(ctx.tenant)

    def ledger_public_key(self, ctx: CallContext) -> str:
        """The signing key's public half (hex), to pin where verification runs."""
        self._guard.require(ctx, Operation.AUDIT)
        return self._gov.ledger.signer.public_key_hex

    def seal(self) -> None:
        """On shutdown: checkpoint every tenant this process wrote to since its last checkpoint."""
        self._gov.ledger.seal()

    def accountability_report(self, ctx: CallContext, purpose: str | None = None) -> AccountabilityReport:
        """What the tenant declared, did, was refused and reviewed (optionally for one purpose)."""
        self._guard.require(ctx, Operation.AUDIT)
        now = utcnow()
        stored, due = self._p.store.retention_counts(ctx.tenant, purpose, now + timedelta(days=30))
        with self._gov.tx() as s:
            reviews = review.summary(s, ctx.tenant, purpose)
        entries = self.ledger_entries(ctx)
        # The report publishes a signature of the ledger as it stands, so it can later prove the history unchanged.
        checkpoint = self._gov.ledger.checkpoint(ctx.tenant, reuse=True)
        inputs = ReportInputs(
            tenant=ctx.tenant,
            purpose_filter=purpose,
            now=now,
            policy_version=self._gov.policy(ctx.tenant)[0].version,
            policy_history=self._gov.policy_history(ctx.tenant),
            purposes=self._gov.purposes(ctx.tenant),
            entries=entries,
            consents=self._oversight.list_consents(ctx),
            erasures=self._gov.erasures(ctx.tenant),
            reviews=reviews,
            templates_stored=stored,
            templates_due_30_days=due,
            models=self._models.models_in_use(ctx),
            verification=self.verify_ledger(ctx),
            checkpoint=checkpoint,
        )
        return build_report(inputs)
