"""The data subject's rights and the record of use: consent, erasure, retention, review, ledger, deployment gate.

Mixed into ``Regard`` on top of ``AdminOperations`` (whose checks and ledger helpers it uses).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from regard.admin import AdminOperations
from regard.backends.calibration import fmr_at
from regard.context import LOCAL, CallContext
from regard.domain import to_jsonable
from regard.errors import PolicyDeniedError
from regard.governance import consent, ledger, review
from regard.governance.guard import utcnow
from regard.governance.ledger import LedgerEntry, Verification
from regard.governance.policy import PolicyDecision
from regard.governance.roles import Operation, require

if TYPE_CHECKING:
    from regard.store.repository import RemovedFace


@dataclass(frozen=True)
class ErasureReceipt:
    """What an erasure removed, the ledger entry that records it, and the check that nothing remains."""

    tenant: str
    subject: str
    reason: str
    at: datetime
    collections: list[str]
    face_ids: list[str]
    thumbnails: int
    index_entries: int
    ledger_seq: int
    ledger_hash: str
    verified_absent: bool
    consents_withdrawn: int = 0


@dataclass(frozen=True)
class PurgeReport:
    at: datetime
    templates: int
    by_tenant: dict[str, int] = field(default_factory=dict)


class OversightOperations(AdminOperations):
    # -- consent, erasure, retention -------------------------------------------------------------
    def record_consent(
        self,
        subject: str,
        purposes: list[str],
        evidence_ref: str,
        ctx: CallContext = LOCAL,
        *,
        scope: str = "",
        given_at: datetime | None = None,
        expires_at: datetime | None = None,
    ) -> consent.Consent:
        require(ctx, Operation.CONSENT)
        for name in purposes:
            if self.governance.purpose(ctx.tenant, name) is None:
                from regard.errors import NotFoundError

                raise NotFoundError(f"purpose '{name}' is not declared")

        def work(session: Any) -> consent.Consent:
            record = consent.record(
                session, ctx.tenant, subject, purposes, scope, evidence_ref, given_at or utcnow(), expires_at, ctx.actor
            )
            self.governance.record(
                ctx.tenant,
                self.ledger_fields(
                    ctx,
                    "record-consent",
                    self.admin_decision(),
                    result={"subject": subject, "purposes": purposes, "evidence_ref": evidence_ref},
                ),
                session,
            )
            return record

        result: consent.Consent = self.governance.in_transaction(work)
        return result

    def list_consents(self, ctx: CallContext = LOCAL) -> list[consent.Consent]:
        require(ctx, Operation.READ)
        with self.governance.tx() as s:
            return consent.listing(s, ctx.tenant)

    def withdraw_consent(self, subject: str, ctx: CallContext = LOCAL) -> ErasureReceipt:
        """Withdraw every consent of the subject and erase their templates everywhere in the tenant."""
        require(ctx, Operation.CONSENT)
        with self.governance.tx() as s:
            withdrawn = consent.withdraw(s, ctx.tenant, subject, utcnow())
        receipt = self.erase_subject(subject, ctx, reason="consent-withdrawn")
        return replace(receipt, consents_withdrawn=len(withdrawn))

    def erase_subject(
        self, subject: str, ctx: CallContext = LOCAL, *, collections: list[str] | None = None, reason: str = "request"
    ) -> ErasureReceipt:
        """Erase a subject's templates, thumbnails and index entries; the receipt proves what went."""
        require(ctx, Operation.ERASE)
        entry_box: list[LedgerEntry] = []

        def record(session: Any, removed: list[RemovedFace]) -> None:
            fields = self.ledger_fields(
                ctx,
                "erase",
                self.admin_decision(),
                result={
                    "subject": subject,
                    "reason": reason,
                    "faces": [r.face_id for r in removed],
                    "collections": sorted({r.collection for r in removed}),
                },
            )
            entry_box.append(self.governance.record(ctx.tenant, fields, session))

        with self._write_lock:
            removed = self.store.remove_faces_where(
                ctx.tenant, subject=subject, collections=collections, in_transaction=record
            )
            self._drop_from_indexes(ctx.tenant, removed)
        remaining = self.store.subject_remains(ctx.tenant, subject) if collections is None else 0
        entry = entry_box[0]
        receipt = ErasureReceipt(
            tenant=ctx.tenant,
            subject=subject,
            reason=reason,
            at=utcnow(),
            collections=sorted({r.collection for r in removed}),
            face_ids=[r.face_id for r in removed],
            thumbnails=sum(r.had_thumbnail for r in removed),
            index_entries=len(removed),
            ledger_seq=entry.seq,
            ledger_hash=entry.entry_hash,
            verified_absent=remaining == 0,
        )
        self.governance.save_erasure(ctx.tenant, subject, reason, to_jsonable(receipt))
        return receipt

    def _drop_from_indexes(self, tenant: str, removed: list[RemovedFace]) -> None:
        by_collection: dict[str, list[int]] = {}
        for r in removed:
            by_collection.setdefault(r.collection, []).append(r.row_id)
        for name, rows in by_collection.items():
            ref = self.store.collection(tenant, name)
            self.indexes.apply(ref, lambda index, rows=rows: index.remove(rows))  # type: ignore[misc]

    def purge(self, ctx: CallContext = LOCAL, *, now: datetime | None = None, all_tenants: bool = False) -> PurgeReport:
        """Delete every template past its delete-by date (the caller's tenant, or all for the scheduler)."""
        require(ctx, Operation.PURGE)
        when = now or utcnow()
        with self._write_lock:
            removed = self.store.remove_faces_where(None if all_tenants else ctx.tenant, expired_before=when)
            by_tenant: dict[str, list[RemovedFace]] = {}
            for r in removed:
                by_tenant.setdefault(r.tenant, []).append(r)
            for tenant, items in by_tenant.items():
                self._drop_from_indexes(tenant, items)
        for tenant, items in by_tenant.items():
            tenant_ctx = CallContext(actor=ctx.actor, tenant=tenant, purpose="retention", roles=ctx.roles)
            self.log(
                tenant_ctx,
                "purge",
                self.admin_decision(),
                result={"templates": len(items), "faces": [r.face_id for r in items][:1000]},
            )
        return PurgeReport(when, len(removed), {t: len(v) for t, v in by_tenant.items()})

    # -- human review ----------------------------------------------------------------------------
    def _reviewers_required(self, tenant: str) -> int:
        return self.governance.policy(tenant)[0].consequential.reviewers

    def pending_reviews(self, ctx: CallContext = LOCAL) -> list[str]:
        require(ctx, Operation.REVIEW)
        with self.governance.tx() as s:
            return review.pending(s, ctx.tenant)

    def review_case(self, case_id: str, ctx: CallContext = LOCAL) -> review.ReviewCase:
        """The probe, candidates, operating threshold and the model's measured error rates."""
        require(ctx, Operation.REVIEW)
        return self._load_case(ctx.tenant, case_id)

    def _load_case(self, tenant: str, case_id: str) -> review.ReviewCase:
        with self.governance.tx() as s:
            row_case = review.load(s, tenant, case_id, self._reviewers_required(tenant))
        spec = self.registry.spec(row_case.model_id)
        rates = dict(spec.measured)
        fmr = fmr_at(row_case.threshold, spec.thresholds)
        if fmr is not None:
            rates["fmr_at_threshold"] = fmr
        return replace(row_case, model_error_rates=rates)

    def review_candidate(
        self,
        case_id: str,
        subject: str,
        action: Literal["confirm", "reject"],
        justification: str,
        ctx: CallContext = LOCAL,
    ) -> str:
        """One reviewer's confirm or reject on one candidate; returns the case status."""
        require(ctx, Operation.REVIEW)
        required = self._reviewers_required(ctx.tenant)

        def work(session: Any) -> str:
            status = review.act(
                session, ctx.tenant, case_id, ctx.actor, subject, action, justification, required, utcnow()
            )
            fields = self.ledger_fields(
                ctx,
                "review",
                self.admin_decision(),
                review_info={
                    "case": case_id,
                    "subject": subject,
                    "action": action,
                    "justification": justification,
                    "case_status": status,
                },
            )
            self.governance.record(ctx.tenant, fields, session)
            return status

        status: str = self.governance.in_transaction(work)
        return status

    def review_result(self, case_id: str, ctx: CallContext = LOCAL) -> review.ReviewCase:
        """The case as the requester sees it: only candidates confirmed by enough reviewers are released."""
        require(ctx, Operation.SEARCH)
        return self._load_case(ctx.tenant, case_id)

    # -- ledger ----------------------------------------------------------------------------------
    def verify_ledger(self, ctx: CallContext = LOCAL) -> Verification:
        require(ctx, Operation.AUDIT)
        with self.governance.tx() as s:
            return ledger.verify(
                s, ctx.tenant, self.governance.signer.public_key_hex, self.settings.resolved_ledger_witness_file()
            )

    def ledger_entries(
        self, ctx: CallContext = LOCAL, after_seq: int = 0, limit: int | None = None
    ) -> list[LedgerEntry]:
        require(ctx, Operation.AUDIT)
        with self.governance.tx() as s:
            return list(ledger.entries(s, ctx.tenant, after_seq, limit))

    def export_ledger(self, target: Path, ctx: CallContext = LOCAL) -> int:
        """Write the tenant's ledger as JSON Lines; returns the number of entries."""
        entries = self.ledger_entries(ctx)
        with target.open("w") as handle:
            for entry in entries:
                handle.write(ledger.canonical(entry.as_json()) + "\n")
        return len(entries)

    def checkpoint_ledger(self, ctx: CallContext = LOCAL) -> dict[str, Any] | None:
        require(ctx, Operation.AUDIT)
        with self.governance.tx() as s:
            return ledger.checkpoint(
                s, ctx.tenant, self.governance.signer, self.settings.resolved_ledger_witness_file()
            )

    def ledger_public_key(self) -> str:
        return self.governance.signer.public_key_hex

    # -- deployment gate -------------------------------------------------------------------------
    def activate_model(
        self, model_id: str, report_path: Path, ctx: CallContext = LOCAL, *, fmr: float | None = None
    ) -> dict[str, Any]:
        """Activate a model at an operating point, if its fairness audit passes the tenant's gate.

        The report must audit this model at the threshold it will run at
        (``fmr``, default the settings' operating point).  Refused with the
        failing rules listed, and recorded either way.
        """
        import hashlib

        from regard.backends.calibration import threshold_for
        from regard.errors import InvalidInputError
        from regard.fairness.gate import FairnessPolicy, evaluate_gate
        from regard.fairness.report import load_report

        require(ctx, Operation.DECLARE)
        spec = self.registry.spec(model_id)
        point = fmr or self.settings.default_fmr
        threshold = threshold_for(spec.thresholds, point, spec.id)
        report = load_report(report_path)
        if report.system != model_id:
            raise InvalidInputError(f"{report_path} audits '{report.system}', not '{model_id}'")
        if abs(report.threshold - threshold) > 1e-4:
            raise InvalidInputError(
                f"{report_path} audits threshold {report.threshold:.4f};"
                f" {model_id} runs at {threshold:.4f} (FMR {point:g})"
            )
        document = self.governance.policy(ctx.tenant)[0]
        gate_rule = document.fairness_gate
        policy = (
            FairnessPolicy.from_mapping(dict(gate_rule.limits), "policy fairness_gate")
            if gate_rule.limits
            else (FairnessPolicy())
        )
        result = evaluate_gate(report, policy)
        summary = {
            "dataset": report.dataset.name,
            "groups": [g.group for g in report.groups],
            "fmr_max_min": report.differentials_adequate.fmr_max_min,
            "fnmr_max_min": report.differentials_adequate.fnmr_max_min,
            "gate": [
                {"rule": r.id, "measured": r.measured, "limit": r.limit, "passed": r.passed} for r in result.rules
            ],
            "excluded_groups": result.excluded_groups,
        }
        sha = hashlib.sha256(report_path.read_bytes()).hexdigest()
        if not result.passed:
            failing = "; ".join(
                f"{r.id} {r.measured if r.measured is not None else 'unmeasurable'} > {r.limit}"
                for r in result.rules
                if not r.passed
            )
            decision = PolicyDecision("deny", gate_rule.id, f"fairness gate failed: {failing}", document.version)
            self.log(
                ctx,
                "activate-model",
                decision,
                model=model_id,
                threshold=threshold,
                result={"report_sha256": sha, **summary},
            )
            raise PolicyDeniedError(decision.reason, decision.rule_id, decision.policy_version)
        self.governance.activate(ctx.tenant, model_id, point, threshold, sha, summary, ctx.actor)
        allow = PolicyDecision("allow", gate_rule.id, "fairness gate passed", document.version)
        self.log(
            ctx, "activate-model", allow, model=model_id, threshold=threshold, result={"report_sha256": sha, **summary}
        )
        return summary

    def deployments(self, ctx: CallContext = LOCAL) -> list[dict[str, Any]]:
        require(ctx, Operation.READ)
        return self.governance.deployments(ctx.tenant)

    def fairness_summary(self, model_id: str, tenant: str = "default") -> str | None:
        """One line on the model's active fairness audit, for the accountability report."""
        active = [d for d in self.governance.deployments(tenant, active_only=True) if d["model"] == model_id]
        if not active:
            return None
        d = active[-1]
        return (
            f"activated {d['activated_at']} at threshold {d['threshold']:.4f} on {d['dataset']}: "
            f"FMR max/min {d['fmr_max_min']}, FNMR max/min {d['fnmr_max_min']}, report sha256 {d['report_sha256'][:12]}"
        )
