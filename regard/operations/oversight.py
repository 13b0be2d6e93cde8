"""The data subject's consent and human oversight of consequential matches (erasure is in ``erasure``)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any, Literal

from regard.backends.calibration import fmr_at
from regard.context import CallContext
from regard.errors import NotFoundError, PermissionDeniedError
from regard.governance import consent, review
from regard.governance.repository import utcnow
from regard.governance.roles import Operation
from regard.operations.erasure import ErasureOperations, ErasureReceipt
from regard.operations.parts import Parts


class OversightOperations:
    def __init__(self, parts: Parts, erasure: ErasureOperations) -> None:
        self._p = parts
        self._guard = parts.guard
        self._gov = parts.governance
        self._erasure = erasure

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
            if not consent.open_for(s, ctx.tenant, subject):
                raise NotFoundError(f"no open consent for subject '{subject}'")
        return self._erasure.erase_subject(subject, ctx, reason="consent-withdrawn")

    # -- human review ----------------------------------------------------------------------------
    def pending_reviews(self, ctx: CallContext) -> list[str]:
        self._guard.require(ctx, Operation.REVIEW)
        with self._gov.tx() as s:
            return review.pending(s, ctx.tenant)

    def review_case(self, case_id: str, ctx: CallContext) -> review.ReviewCase:
        """The probe, candidates, operating threshold and the model's measured error rates.

        Not for the person who ran the search, whatever roles they hold: what is
        held is held from them until it is released (``review_result``).
        """
        self._guard.require(ctx, Operation.REVIEW)
        case = self._load_case(ctx.tenant, case_id)
        if ctx.actor == case.requested_by:
            raise PermissionDeniedError(
                "the person who ran the search cannot see its held candidates; review_result shows what was released"
            )
        return case

    def _load_case(self, tenant: str, case_id: str) -> review.ReviewCase:
        with self._gov.tx() as s:
            row_case = review.load(s, tenant, case_id)
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
        """One authenticated reviewer's confirm or reject on one candidate; returns the case status.

        The ledger names the candidate by its digest (see ``review.seal``); the
        release, once enough distinct people confirmed, reveals the confirmed
        candidates in an entry of its own.
        """
        decision = self._guard.allow(ctx, Operation.REVIEW)
        self._guard.person(ctx, "reviewing a match")

        def work(session: Any) -> str:
            outcome = review.act(session, ctx.tenant, case_id, ctx.actor, subject, action, justification, utcnow())
            info = {
                "case": case_id,
                "candidate": outcome.candidate_digest,
                "action": action,
                "justification": justification,
                "case_status": outcome.status,
            }
            self._guard.record(ctx, "review", decision, session, review_info=info)
            if outcome.released:
                released = {"case": case_id, "released": outcome.released}
                self._guard.record(ctx, "release", decision, session, result=released)
            return outcome.status

        status: str = self._gov.in_transaction(work)
        return status

    def review_image(self, case_id: str, ctx: CallContext, subject: str | None = None) -> bytes | None:
        """The probe's thumbnail, or a candidate's best face's (None when thumbnails were not kept)."""
        case = self.review_case(case_id, ctx)  # the same rules as the case itself: not for its requester
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
        """The case as the requester sees it: only the candidates confirmed by enough reviewers, and what was
        done on them; nothing of a candidate still pending or rejected."""
        self._guard.require(ctx, Operation.SEARCH)
        case = self._load_case(ctx.tenant, case_id)
        released = case.released
        names = {c["subject"] for c in released}
        return replace(case, candidates=released, actions=[a for a in case.actions if a.subject in names])
