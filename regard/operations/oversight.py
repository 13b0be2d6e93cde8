"""The data subject's rights and human oversight: consent, erasure, retention and review."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal

from regard.backends.calibration import fmr_at
from regard.context import CallContext
from regard.domain import to_jsonable
from regard.errors import NotFoundError
from regard.governance import consent, review
from regard.governance.ledger import LedgerEntry
from regard.governance.repository import utcnow
from regard.governance.roles import Operation
from regard.operations.parts import Parts

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


class OversightOperations:
    def __init__(self, parts: Parts) -> None:
        self._p = parts
        self._guard = parts.guard
        self._gov = parts.governance

    # -- consent ---------------------------------------------------------------------------------
    def record_consent(
        self,
        subject: str,
        purposes: list[str],
        evidence_ref: str,
        ctx: CallContext,
        *,
        scope: str = "",
        given_at: datetime | None = None,
        expires_at: datetime | None = None,
    ) -> consent.Consent:
        decision = self._guard.allow(ctx, Operation.CONSENT)
        for name in purposes:
            if self._gov.purpose(ctx.tenant, name) is None:
                raise NotFoundError(f"purpose '{name}' is not declared")

        def work(session: Any) -> consent.Consent:
            record = consent.record(
                session, ctx.tenant, subject, purposes, scope, evidence_ref, given_at or utcnow(), expires_at, ctx.actor
            )
            self._guard.record(
                ctx,
                "record-consent",
                decision,
                session,
                result={"subject": subject, "purposes": purposes, "evidence_ref": evidence_ref},
            )
            return record

        result: consent.Consent = self._gov.in_transaction(work)
        return result

    def list_consents(self, ctx: CallContext) -> list[consent.Consent]:
        self._guard.require(ctx, Operation.READ)
        with self._gov.tx() as s:
            return consent.listing(s, ctx.tenant)

    def withdraw_consent(self, subject: str, ctx: CallContext) -> ErasureReceipt:
        """Withdraw every consent of the subject and erase their templates everywhere in the tenant."""
        self._guard.require(ctx, Operation.CONSENT)
        with self._gov.tx() as s:
            withdrawn = consent.withdraw(s, ctx.tenant, subject, utcnow())
        receipt = self.erase_subject(subject, ctx, reason="consent-withdrawn")
        return replace(receipt, consents_withdrawn=len(withdrawn))

    # -- erasure and retention -------------------------------------------------------------------
    def erase_subject(
        self, subject: str, ctx: CallContext, *, collections: list[str] | None = None, reason: str = "request"
    ) -> ErasureReceipt:
        """Erase a subject's templates, thumbnails and index entries; the receipt proves what went."""
        decision = self._guard.allow(ctx, Operation.ERASE)
        entry_box: list[LedgerEntry] = []

        def record(session: Any, removed: list[RemovedFace]) -> None:
            result = {
                "subject": subject,
                "reason": reason,
                "faces": [r.face_id for r in removed],
                "collections": sorted({r.collection for r in removed}),
            }
            entry_box.append(self._guard.record(ctx, "erase", decision, session, result=result))

        with self._p.write_lock:
            removed = self._p.store.remove_faces_where(
                ctx.tenant, subject=subject, collections=collections, in_transaction=record
            )
            self._drop_from_indexes(ctx.tenant, removed)
        if collections is None:  # a stored answer to a retried enrollment names the subject too
            self._p.store.idempotency.forget_subject(ctx.tenant, subject)
        remaining = self._p.store.subject_remains(ctx.tenant, subject) if collections is None else 0
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
        self._gov.save_erasure(ctx.tenant, subject, reason, to_jsonable(receipt))
        return receipt

    def erasures(self, ctx: CallContext) -> list[dict[str, Any]]:
        """Every erasure receipt of the tenant, oldest first."""
        self._guard.require(ctx, Operation.AUDIT)
        return self._gov.erasures(ctx.tenant)

    def _drop_from_indexes(self, tenant: str, removed: list[RemovedFace]) -> None:
        by_collection: dict[str, list[int]] = {}
        for r in removed:
            by_collection.setdefault(r.collection, []).append(r.row_id)
        for name, rows in by_collection.items():
            ref = self._p.store.collection(tenant, name)
            self._p.indexes.apply(ref, lambda index, rows=rows: index.remove(rows))  # type: ignore[misc]

    def purge(self, ctx: CallContext, *, now: datetime | None = None, all_tenants: bool = False) -> PurgeReport:
        """Delete every template past its delete-by date: the caller's tenant, or every tenant (system role)."""
        decision = self._guard.allow(ctx, Operation.TENANTS if all_tenants else Operation.PURGE)
        when = now or utcnow()
        with self._p.write_lock:
            removed = self._p.store.remove_faces_where(None if all_tenants else ctx.tenant, expired_before=when)
            by_tenant: dict[str, list[RemovedFace]] = {}
            for r in removed:
                by_tenant.setdefault(r.tenant, []).append(r)
            for tenant, items in by_tenant.items():
                self._drop_from_indexes(tenant, items)
        self._p.store.idempotency.forget_before(when - timedelta(hours=self._p.settings.idempotency_ttl_h))
        for tenant, items in by_tenant.items():
            self._guard.record(
                replace(ctx, tenant=tenant, purpose="retention"),
                "purge",
                decision,
                result={"templates": len(items), "faces": [r.face_id for r in items][:1000]},
            )
        return PurgeReport(when, len(removed), {t: len(v) for t, v in by_tenant.items()})

    # -- human review ----------------------------------------------------------------------------
    def _reviewers_required(self, tenant: str) -> int:
        return self._gov.policy(tenant)[0].consequential.reviewers

    def pending_reviews(self, ctx: CallContext) -> list[str]:
        self._guard.require(ctx, Operation.REVIEW)
        with self._gov.tx() as s:
            return review.pending(s, ctx.tenant)

    def review_case(self, case_id: str, ctx: CallContext) -> review.ReviewCase:
        """The probe, candidates, operating threshold and the model's measured error rates."""
        self._guard.require(ctx, Operation.REVIEW)
        return self._load_case(ctx.tenant, case_id)

    def _load_case(self, tenant: str, case_id: str) -> review.ReviewCase:
        with self._gov.tx() as s:
            row_case = review.load(s, tenant, case_id, self._reviewers_required(tenant))
        spec = self._p.registry.spec(row_case.model_id)
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
        ctx: CallContext,
    ) -> str:
        """One reviewer's confirm or reject on one candidate; returns the case status."""
        decision = self._guard.allow(ctx, Operation.REVIEW)
        required = self._reviewers_required(ctx.tenant)

        def work(session: Any) -> str:
            status = review.act(
                session, ctx.tenant, case_id, ctx.actor, subject, action, justification, required, utcnow()
            )
            info = {
                "case": case_id,
                "subject": subject,
                "action": action,
                "justification": justification,
                "case_status": status,
            }
            self._guard.record(ctx, "review", decision, session, review_info=info)
            return status

        status: str = self._gov.in_transaction(work)
        return status

    def review_image(self, case_id: str, ctx: CallContext, subject: str | None = None) -> bytes | None:
        """The probe's thumbnail, or a candidate's best face's (None when thumbnails were not kept)."""
        self._guard.require(ctx, Operation.REVIEW)
        case = self._load_case(ctx.tenant, case_id)
        if subject is None:
            return case.probe_thumbnail
        candidate = next((c for c in case.candidates if c["subject"] == subject), None)
        if candidate is None:
            raise NotFoundError(f"'{subject}' is not a candidate of case '{case_id}'")
        try:
            return self._p.store.face(ctx.tenant, candidate["face_id"])[0].thumbnail_jpeg
        except NotFoundError:  # erased since the search: nothing left to show
            return None

    def review_result(self, case_id: str, ctx: CallContext) -> review.ReviewCase:
        """The case as the requester sees it: only candidates confirmed by enough reviewers are released."""
        self._guard.require(ctx, Operation.SEARCH)
        return self._load_case(ctx.tenant, case_id)
