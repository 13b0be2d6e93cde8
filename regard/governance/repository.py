"""Governance: the object the service consults before, and records after, every call.

It owns tenants, API keys, purposes, policies and applications, asks the
policy engine for a decision, and writes the ledger.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from sqlalchemy import Connection, Engine, bindparam, func, insert, select, update
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from regard.context import CallContext, normalise_actor
from regard.errors import (
    AlreadyExistsError,
    AuthenticationError,
    ConflictError,
    InvalidInputError,
    NotFoundError,
    PermissionDeniedError,
)
from regard.governance import keys, ledger
from regard.governance.keeper import LedgerKeeper
from regard.governance.policy import (
    DEFAULT_POLICY_YAML,
    Approval,
    PolicyDecision,
    PolicyDocument,
    PolicyEngine,
    PolicyRequest,
    check_applicable,
    parse_policy,
    policy_sha256,
)
from regard.governance.purposes import Category, LegalBasis, Purpose, validate
from regard.settings import Settings
from regard.store.governance_tables import (
    ApiKeyRow,
    ApplicationRow,
    DeploymentRow,
    ErasureRow,
    PolicyRow,
    PurposeRow,
    TenantRow,
    UsageRow,
)
from regard.store.locking import begin_write


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


@dataclass(frozen=True)
class Application:
    id: int
    tenant: str
    kind: str
    purpose: str
    requested: dict[str, Any]
    justification: str
    status: str
    submitted_by: str
    submitted_at: datetime
    decided_by: str | None
    decision_reason: str | None
    expires_at: datetime | None


@dataclass(frozen=True)
class PolicyVersion:
    version: str
    sha256: str
    applied_by: str
    created_at: datetime
    document: str


# Built once: these run before every call, and building expressions costs more than running them.
_PURPOSE = select(PurposeRow.__table__).where(
    PurposeRow.tenant == bindparam("tenant"), PurposeRow.name == bindparam("name")
)
_POLICY_TEXT = (
    select(PolicyRow.document).where(PolicyRow.tenant == bindparam("tenant")).order_by(PolicyRow.id.desc()).limit(1)
)
_KEY = select(ApiKeyRow.__table__).where(ApiKeyRow.id == bindparam("id"))
_APPROVED = select(ApplicationRow.__table__).where(
    ApplicationRow.tenant == bindparam("tenant"), ApplicationRow.status == "approved"
)
_SEARCHES_TODAY = select(func.coalesce(func.sum(UsageRow.count), 0)).where(
    UsageRow.tenant == bindparam("tenant"), UsageRow.day == bindparam("day"), UsageRow.operation == "search"
)
_ACTIVE = (
    select(DeploymentRow.id)
    .where(DeploymentRow.tenant == bindparam("tenant"), DeploymentRow.model_id == bindparam("model"))
    .where(DeploymentRow.active.is_(True))
    .limit(1)
)
_BUMP_USAGE = (
    update(UsageRow)
    .where(
        UsageRow.tenant == bindparam("t"),
        UsageRow.purpose == bindparam("p"),
        UsageRow.day == bindparam("d"),
        UsageRow.operation == bindparam("o"),
    )
    .values(count=UsageRow.count + 1)
    .execution_options(synchronize_session=False)
)
_INSERT_USAGE = insert(UsageRow)


def _purpose(row: Any) -> Purpose:
    return Purpose(
        row.name,
        Category(row.category),
        LegalBasis(row.legal_basis),
        row.data_subjects,
        row.retention_days,
        row.max_collection_subjects,
        row.consequential,
        row.description,
        row.tenant,
        row.declared_by,
    )


def _owner(row: Any) -> str:
    return row.owner or f"key:{row.id}"


def _application(row: ApplicationRow) -> Application:
    return Application(
        row.id,
        row.tenant,
        row.kind,
        row.purpose,
        dict(row.requested),
        row.justification,
        row.status,
        row.submitted_by,
        row.submitted_at,
        row.decided_by,
        row.decision_reason,
        row.expires_at,
    )


class Governance:
    def __init__(self, engine: Engine, settings: Settings) -> None:
        self._engine = engine
        self._sessions = sessionmaker(engine, expire_on_commit=False)
        self._settings = settings
        self.ledger = LedgerKeeper(engine, settings)
        self._lock = threading.Lock()
        self._policy_cache: dict[str, PolicyDocument] = {}

    @contextmanager
    def tx(self) -> Iterator[Session]:
        with self._sessions.begin() as session:
            yield session

    # -- tenants and keys ----------------------------------------------------------------------
    def create_tenant(self, tenant: str, display_name: str = "") -> None:
        try:
            with self.tx() as s:
                s.add(TenantRow(id=tenant, display_name=display_name or tenant))
        except IntegrityError:
            raise AlreadyExistsError(f"tenant '{tenant}' already exists") from None

    def tenants(self) -> list[str]:
        with self.tx() as s:
            return list(s.scalars(select(TenantRow.id).order_by(TenantRow.id)))

    def create_key(
        self, tenant: str, roles: list[str], label: str, expires_at: datetime | None, owner: str | None = None
    ) -> keys.NewKey:
        """Store a new key (roles already checked by the caller); returns its token, shown once."""
        with self.tx() as s:
            if s.get(TenantRow, tenant) is None:
                raise NotFoundError(
                    f"tenant '{tenant}' does not exist; the local operator creates it: regard tenant create {tenant}"
                )
            key_id, token, digest = keys.generate()
            person = keys.owner_of(owner, key_id)
            s.add(
                ApiKeyRow(
                    id=key_id,
                    tenant=tenant,
                    label=label,
                    owner=person,
                    roles=roles,
                    secret_hash=digest,
                    expires_at=expires_at,
                )
            )
        return keys.NewKey(key_id, token, person)

    def list_keys(self, tenant: str) -> list[keys.KeyInfo]:
        with self.tx() as s:
            rows = s.scalars(select(ApiKeyRow).where(ApiKeyRow.tenant == tenant).order_by(ApiKeyRow.created_at))
            return [
                keys.KeyInfo(
                    r.id, r.tenant, r.label, tuple(r.roles), r.created_at, r.expires_at, r.revoked_at, _owner(r)
                )
                for r in rows
            ]

    def key_owner(self, tenant: str, key_id: str) -> str | None:
        """The owner of a key of ``tenant`` that is in force now (not revoked, not expired), else None."""
        with self.tx() as s:
            row = s.get(ApiKeyRow, key_id)
        if row is None or row.tenant != tenant or row.revoked_at is not None:
            return None
        if row.expires_at is not None and utcnow() >= row.expires_at:
            return None
        return normalise_actor(_owner(row))

    def revoke_key(self, tenant: str, key_id: str) -> None:
        with self.tx() as s:
            row = s.get(ApiKeyRow, key_id)
            if row is None or row.tenant != tenant:
                raise NotFoundError(f"key '{key_id}' does not exist")
            row.revoked_at = row.revoked_at or utcnow()

    def authenticate(
        self,
        token: str,
        purpose: str = "unspecified",
        case_reference: str | None = None,
        origin: str = "",
        remote: bool = False,
    ) -> CallContext:
        """The call context of an API key: its tenant, owner and roles, the purpose the caller declares."""
        parsed = keys.parse(token) if isinstance(token, str) else None
        if parsed is None:
            raise AuthenticationError("malformed API key")
        key_id, secret = parsed
        with self._engine.connect() as conn:  # every API request comes here: one prebuilt read, no ORM session
            row = conn.execute(_KEY, {"id": key_id}).first()
        now = utcnow()
        if row is None or not keys.matches(secret, row.secret_hash):
            raise AuthenticationError("unknown API key")
        if row.revoked_at is not None:
            raise AuthenticationError("this API key was revoked")
        if row.expires_at is not None and now >= row.expires_at:
            raise AuthenticationError("this API key has expired")
        return CallContext(
            actor=_owner(row),
            tenant=row.tenant,
            purpose=purpose,
            roles=frozenset(row.roles),
            case_reference=case_reference,
            key_id=key_id,
            origin=origin,
            remote=remote,
        )

    # -- purposes ------------------------------------------------------------------------------
    def declare_purpose(self, purpose: Purpose) -> Purpose:
        validate(purpose)
        row = PurposeRow(
            tenant=purpose.tenant,
            name=purpose.name,
            category=purpose.category.value,
            legal_basis=purpose.legal_basis.value,
            data_subjects=purpose.data_subjects,
            retention_days=purpose.retention_days,
            max_collection_subjects=purpose.max_collection_subjects,
            consequential=purpose.consequential,
            description=purpose.description,
            declared_by=purpose.declared_by,
        )
        try:
            with self.tx() as s:
                s.add(row)
        except IntegrityError:
            raise AlreadyExistsError(f"purpose '{purpose.name}' is already declared") from None
        return _purpose(row)

    def purpose(self, tenant: str, name: str) -> Purpose | None:
        with self.tx() as s:
            row = s.scalar(select(PurposeRow).where(PurposeRow.tenant == tenant, PurposeRow.name == name))
            return _purpose(row) if row else None

    def purposes(self, tenant: str) -> list[Purpose]:
        with self.tx() as s:
            return [
                _purpose(r)
                for r in s.scalars(select(PurposeRow).where(PurposeRow.tenant == tenant).order_by(PurposeRow.name))
            ]

    # -- policies ------------------------------------------------------------------------------
    def apply_policy(self, tenant: str, text: str, actor: str) -> PolicyVersion:
        document = parse_policy(text)
        check_applicable(document)
        try:
            with self.tx() as s:
                row = PolicyRow(
                    tenant=tenant, version=document.version, document=text, sha256=policy_sha256(text), applied_by=actor
                )
                s.add(row)
        except IntegrityError:
            raise AlreadyExistsError(
                f"policy version '{document.version}' was already applied; bump 'version'"
            ) from None
        return PolicyVersion(row.version, row.sha256, row.applied_by, row.created_at, row.document)

    def policy_history(self, tenant: str) -> list[PolicyVersion]:
        with self.tx() as s:
            rows = s.scalars(select(PolicyRow).where(PolicyRow.tenant == tenant).order_by(PolicyRow.id))
            return [PolicyVersion(r.version, r.sha256, r.applied_by, r.created_at, r.document) for r in rows]

    def policy(self, tenant: str) -> tuple[PolicyDocument, str]:
        """The document in force (the last applied, else the built-in default) and its text."""
        with self.tx() as s:
            row = s.scalar(select(PolicyRow).where(PolicyRow.tenant == tenant).order_by(PolicyRow.id.desc()).limit(1))
        text = row.document if row else DEFAULT_POLICY_YAML
        return self._parsed(text), text

    # -- applications --------------------------------------------------------------------------
    def submit_application(
        self,
        ctx: CallContext,
        kind: Literal["scale", "category"],
        purpose: str,
        requested: dict[str, Any],
        justification: str,
    ) -> Application:
        if kind not in ("scale", "category"):
            raise InvalidInputError("an application is of kind 'scale' or 'category'")
        if self.purpose(ctx.tenant, purpose) is None:
            raise NotFoundError(f"purpose '{purpose}' is not declared")
        if not justification.strip():
            raise InvalidInputError("an application needs a justification")
        with self.tx() as s:
            row = ApplicationRow(
                tenant=ctx.tenant,
                kind=kind,
                purpose=purpose,
                requested=requested,
                justification=justification,
                submitted_by=ctx.actor,
            )
            s.add(row)
            s.flush()
            return _application(row)

    def decide_application(
        self, ctx: CallContext, application_id: int, approve: bool, reason: str, valid_days: int
    ) -> Application:
        if not reason.strip():
            raise InvalidInputError("a decision needs a justification")
        with self.tx() as s:
            row = s.get(ApplicationRow, application_id)
            if row is None or row.tenant != ctx.tenant:
                raise NotFoundError(f"application {application_id} does not exist")
            if row.status != "pending":
                raise ConflictError(f"application {application_id} is already {row.status}")
            if normalise_actor(row.submitted_by) == ctx.actor:
                raise PermissionDeniedError("an application cannot be decided by the person who submitted it")
            row.status = "approved" if approve else "rejected"
            row.decided_by, row.decided_at, row.decision_reason = ctx.actor, utcnow(), reason
            row.expires_at = utcnow() + timedelta(days=valid_days) if approve else None
            return _application(row)

    def applications(self, tenant: str) -> list[Application]:
        with self.tx() as s:
            return [
                _application(r)
                for r in s.scalars(
                    select(ApplicationRow).where(ApplicationRow.tenant == tenant).order_by(ApplicationRow.id)
                )
            ]

    # -- decisions and the ledger ----------------------------------------------------------------
    def evaluate(
        self,
        tenant: str,
        purpose_name: str,
        now: datetime,
        make_request: Callable[[Purpose | None, int, bool], PolicyRequest],
        model_id: str | None = None,
    ) -> PolicyDecision:
        """Decide a call with every fact read in one round trip (this runs before every biometric call)."""
        with self._engine.connect() as conn:
            purpose_row = conn.execute(_PURPOSE, {"tenant": tenant, "name": purpose_name}).first()
            text = conn.scalar(_POLICY_TEXT, {"tenant": tenant})
            approved = conn.execute(_APPROVED, {"tenant": tenant}).all()
            searches = conn.scalar(_SEARCHES_TODAY, {"tenant": tenant, "day": now.date().isoformat()})
            activated = model_id is not None and conn.scalar(_ACTIVE, {"tenant": tenant, "model": model_id}) is not None
        approvals = tuple(
            Approval("scale" if r.kind == "scale" else "category", r.purpose, dict(r.requested))
            for r in approved
            if r.expires_at is None or now < r.expires_at
        )
        purpose = _purpose(purpose_row) if purpose_row is not None else None
        request = make_request(purpose, int(searches or 0), activated)
        return PolicyEngine(self._parsed(text or DEFAULT_POLICY_YAML), approvals).decide(request)

    def _parsed(self, text: str) -> PolicyDocument:
        # Policy documents are immutable once applied: parse each text once.
        document = self._policy_cache.get(text)
        if document is None:
            document = parse_policy(text)
            with self._lock:
                self._policy_cache[text] = document
        return document

    def record(
        self,
        tenant: str,
        fields: ledger.LedgerFields,
        session: Session | None = None,
        admit_searches: Callable[[int], None] | None = None,
    ) -> ledger.LedgerEntry:
        """Append to the ledger (in ``session`` when given, so it commits with the change it records).

        ``admit_searches`` gets the tenant's searches today, this one counted,
        inside the transaction that counts it; raising there undoes both.
        Witness lines are written once the entry has committed.
        """
        if session is not None:
            entry, records = self._record(session, tenant, fields, admit_searches)
            self.ledger.publish_after_commit(session, records)
            return entry
        for attempt in range(8):
            try:
                with self._engine.begin() as conn:
                    begin_write(conn)
                    entry, records = self._record(conn, tenant, fields, admit_searches)
            except (IntegrityError, OperationalError):
                if attempt == 7:
                    raise
            else:
                self.ledger.publish(records)
                return entry
        raise AssertionError("unreachable")

    def _record(
        self,
        s: Session | Connection,
        tenant: str,
        fields: ledger.LedgerFields,
        admit_searches: Callable[[int], None] | None = None,
    ) -> tuple[ledger.LedgerEntry, list[dict[str, Any]]]:
        entry, records = self.ledger.append(s, tenant, fields)
        if fields.decision != "deny":
            self._count_usage(s, tenant, fields.purpose, fields.operation, entry.at[:10])
            if admit_searches is not None:
                admit_searches(int(s.scalar(_SEARCHES_TODAY, {"tenant": tenant, "day": entry.at[:10]}) or 0))
        return entry, records

    @staticmethod
    def _count_usage(s: Session | Connection, tenant: str, purpose: str, operation: str, day: str) -> None:
        changed = s.execute(_BUMP_USAGE, {"t": tenant, "p": purpose, "d": day, "o": operation}).rowcount  # type: ignore[attr-defined]
        if not changed:
            row = {"tenant": tenant, "purpose": purpose, "day": day, "operation": operation, "count": 1}
            s.execute(_INSERT_USAGE, row)

    def activate(
        self,
        tenant: str,
        model_id: str,
        fmr: float,
        threshold: float,
        report_sha256: str,
        summary: dict[str, Any],
        actor: str,
    ) -> None:
        """Record an activation; it replaces the model's earlier one."""
        with self.tx() as s:
            s.execute(
                update(DeploymentRow)
                .where(DeploymentRow.tenant == tenant, DeploymentRow.model_id == model_id)
                .values(active=False)
            )
            s.add(
                DeploymentRow(
                    tenant=tenant,
                    model_id=model_id,
                    fmr=fmr,
                    threshold=threshold,
                    report_sha256=report_sha256,
                    summary=summary,
                    activated_by=actor,
                )
            )

    def deployments(self, tenant: str, active_only: bool = False) -> list[dict[str, Any]]:
        with self.tx() as s:
            query = select(DeploymentRow).where(DeploymentRow.tenant == tenant).order_by(DeploymentRow.id)
            if active_only:
                query = query.where(DeploymentRow.active.is_(True))
            return [
                {
                    "model": r.model_id,
                    "fmr": r.fmr,
                    "threshold": r.threshold,
                    "report_sha256": r.report_sha256,
                    "activated_by": r.activated_by,
                    "activated_at": r.activated_at.isoformat(timespec="seconds"),
                    "active": r.active,
                    **dict(r.summary),
                }
                for r in s.scalars(query)
            ]

    def save_erasure(self, tenant: str, subject: str, reason: str, receipt: dict[str, Any]) -> None:
        with self.tx() as s:
            s.add(ErasureRow(tenant=tenant, subject=subject, reason=reason, receipt=receipt))

    def erasures(self, tenant: str) -> list[dict[str, Any]]:
        with self.tx() as s:
            return [
                dict(r.receipt)
                for r in s.scalars(select(ErasureRow).where(ErasureRow.tenant == tenant).order_by(ErasureRow.id))
            ]

    def in_transaction(self, work: Callable[[Session], Any]) -> Any:
        """Run ``work`` in one write transaction, holding the write lock from its first read."""
        with self.tx() as s:
            begin_write(s)
            return work(s)
