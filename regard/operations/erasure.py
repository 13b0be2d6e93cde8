"""The right to erasure and retention: erase a subject, purge what expired, and prove what went and what stayed."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from regard.context import CallContext
from regard.domain import to_jsonable
from regard.errors import InvalidInputError
from regard.governance import consent, review
from regard.governance.ledger import LedgerEntry
from regard.governance.repository import utcnow
from regard.governance.roles import Operation
from regard.operations.parts import Parts
from regard.store.idempotency import IdempotencyRecords

if TYPE_CHECKING:
    from regard.store.repository import RemovedFace


@dataclass(frozen=True)
class ErasureReceipt:
    """What an erasure removed, what of the subject remains (per collection), and the ledger entry recording it.

    ``scope`` is the collections asked for (``None``: every collection of the
    tenant).  ``removed`` maps each collection to the templates deleted there,
    with their thumbnails and index entries; ``remaining`` maps each collection
    that still holds the subject to its templates there, counted after the
    erasure committed.  ``absent_from_scope``: nothing of the subject is left
    in the scope; ``verified_absent``: nothing is left in the tenant (no
    template, no subject, no review case holding them, no consent in force).
    ``storage_scrubbed``: the database's write-ahead log was emptied, so the
    deleted bytes are in no file (SQLite; see ``Store.scrub``).
    """

    tenant: str
    subject: str
    reason: str
    at: datetime
    scope: list[str] | None
    removed: dict[str, list[str]]
    remaining: dict[str, int]
    thumbnails: int
    index_entries: int
    review_cases_voided: list[str]
    consents_ended: int
    ledger_seq: int
    ledger_hash: str
    absent_from_scope: bool
    verified_absent: bool
    storage_scrubbed: bool

    @property
    def collections(self) -> list[str]:
        return sorted(self.removed)

    @property
    def face_ids(self) -> list[str]:
        return [face for faces in self.removed.values() for face in faces]


@dataclass(frozen=True)
class PurgeReport:
    at: datetime
    templates: int
    by_tenant: dict[str, int] = field(default_factory=dict)
    storage_scrubbed: bool = False


@dataclass
class _Erased:
    """What the erasure's transaction did, besides deleting templates."""

    entry: LedgerEntry | None = None
    voided: list[str] = field(default_factory=list)
    consents_ended: int = 0


class ErasureOperations:
    def __init__(self, parts: Parts) -> None:
        self._p = parts
        self._guard = parts.guard
        self._gov = parts.governance

    def erase_subject(
        self, subject: str, ctx: CallContext, *, collections: list[str] | None = None, reason: str = "request"
    ) -> ErasureReceipt:
        """Erase a subject's templates, thumbnails, index entries and review candidacies, in one transaction.

        A full erasure (no ``collections``) also ends the subject's consents.
        """
        decision = self._guard.allow(ctx, Operation.ERASE)
        if not isinstance(subject, str) or not subject.strip():
            raise InvalidInputError("subject id must be a non-empty string")
        scope = sorted(set(collections)) if collections is not None else None
        erased = _Erased()

        def in_transaction(session: Any, removed: list[RemovedFace]) -> None:
            erased.voided = review.forget_subject(session, ctx.tenant, subject, scope)
            IdempotencyRecords.forget_subject(session, ctx.tenant, subject)  # stored answers name the subject too
            erased.consents_ended = len(consent.end(session, ctx.tenant, subject, utcnow())) if scope is None else 0
            result = {
                "subject": subject,
                "reason": reason,
                "scope": scope,
                "faces": [r.face_id for r in removed],
                "collections": sorted({r.collection for r in removed}),
                "review_cases_voided": erased.voided,
                "consents_ended": erased.consents_ended,
            }
            erased.entry = self._guard.record(ctx, "erase", decision, session, result=result)

        with self._p.write_lock:
            removed = self._p.store.remove_faces_where(
                ctx.tenant, subject=subject, collections=scope, in_transaction=in_transaction
            )
            self._drop_from_indexes(ctx.tenant, removed)
        scrubbed = self._p.store.scrub()
        receipt = self._receipt(ctx.tenant, subject, reason, scope, removed, erased, scrubbed)
        self._gov.save_erasure(ctx.tenant, subject, reason, to_jsonable(receipt))
        return receipt

    def _receipt(
        self,
        tenant: str,
        subject: str,
        reason: str,
        scope: list[str] | None,
        removed: list[RemovedFace],
        erased: _Erased,
        scrubbed: bool,
    ) -> ErasureReceipt:
        """The receipt, with what remains counted afresh after the erasure committed."""
        remaining = self._p.store.subject_holdings(tenant, subject)
        with self._gov.tx() as s:
            cases = review.holding(s, tenant, subject)
            consents_open = consent.open_for(s, tenant, subject)
        in_scope = [c for c in remaining if scope is None or c in scope]
        by_collection: dict[str, list[str]] = {}
        for r in removed:
            by_collection.setdefault(r.collection, []).append(r.face_id)
        assert erased.entry is not None
        return ErasureReceipt(
            tenant=tenant,
            subject=subject,
            reason=reason,
            at=utcnow(),
            scope=scope,
            removed=by_collection,
            remaining=remaining,
            thumbnails=sum(r.had_thumbnail for r in removed),
            index_entries=len(removed),
            review_cases_voided=erased.voided,
            consents_ended=erased.consents_ended,
            ledger_seq=erased.entry.seq,
            ledger_hash=erased.entry.entry_hash,
            absent_from_scope=not in_scope and (scope is not None or not cases),
            verified_absent=not remaining and not cases and not consents_open,
            storage_scrubbed=scrubbed,
        )

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
        for tenant, items in by_tenant.items():
            self._guard.record(
                replace(ctx, tenant=tenant, purpose="retention"),
                "purge",
                decision,
                result={"templates": len(items), "faces": [r.face_id for r in items][:1000]},
            )
        dropped = self._p.store.idempotency.forget_before(when - timedelta(hours=self._p.settings.idempotency_ttl_h))
        scrubbed = self._p.store.scrub() if removed or dropped else False
        return PurgeReport(when, len(removed), {t: len(v) for t, v in by_tenant.items()}, scrubbed)
