"""Setting up who may do what, and why: tenants, API keys, purposes, policies and applications."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Literal

from sqlalchemy.exc import SQLAlchemyError

from regard.context import CallContext
from regard.errors import InvalidInputError, PermissionDeniedError, PolicyDeniedError, RegardError
from regard.governance.keys import KeyInfo, NewKey
from regard.governance.policy import PolicyDecision
from regard.governance.purposes import Category, LegalBasis, Purpose
from regard.governance.repository import Application, PolicyVersion, utcnow
from regard.governance.roles import Operation, Role, check_roles
from regard.operations.collections import check_name
from regard.operations.parts import Parts


@dataclass(frozen=True)
class Readiness:
    """What a load balancer asks before sending calls: can this process serve them."""

    database: bool
    models: dict[str, bool]
    problems: list[str] = field(default_factory=list)

    @property
    def ready(self) -> bool:
        return self.database and all(self.models.values())


class AdministrationOperations:
    def __init__(self, parts: Parts) -> None:
        self._p = parts
        self._guard = parts.guard
        self._gov = parts.governance

    def readiness(self) -> Readiness:
        """The database answers a query, and the configured detector and embedder are installed."""
        problems = []
        try:
            database = self._p.store.ping()
        except (RegardError, SQLAlchemyError) as exc:
            database = False
            problems.append(f"database: {exc}")
        models = {}
        for model_id in (self._p.settings.detector, self._p.settings.embedder):
            try:
                models[model_id] = self._p.registry.available(model_id)
            except RegardError as exc:
                models[model_id] = False
                problems.append(f"model {model_id}: {exc}")
        return Readiness(database, models, problems)

    # -- tenants and keys ------------------------------------------------------------------------
    def create_tenant(self, tenant: str, ctx: CallContext, display_name: str = "") -> None:
        """A new tenant; only a system caller (the local operator or a system key) can make one."""
        decision = self._guard.allow(ctx, Operation.TENANTS)
        check_name("tenant", tenant)
        self._gov.create_tenant(tenant, display_name)
        # Recorded in the new tenant's own ledger: its history starts with who created it.
        self._guard.record(ctx.with_tenant(tenant), "create-tenant", decision, result={"tenant": tenant})

    def list_tenants(self, ctx: CallContext) -> list[str]:
        self._guard.require(ctx, Operation.TENANTS)
        return self._gov.tenants()

    def create_api_key(
        self,
        roles: list[str],
        ctx: CallContext,
        *,
        owner: str | None = None,
        label: str = "",
        expires_in_days: int | None = 365,
        tenant: str | None = None,
    ) -> NewKey:
        """A new key for ``tenant`` (default: the caller's); the token is returned once and never stored.

        ``owner`` is the person the key belongs to (default: the label); reviews
        and approvals count people, so one person's two keys count once.
        """
        decision = self._guard.allow(ctx, Operation.KEYS)
        target = tenant or ctx.tenant
        if target != ctx.tenant:
            try:
                self._guard.require(ctx, Operation.TENANTS)
            except PermissionDeniedError:
                raise PermissionDeniedError("a tenant's key can only make keys for its own tenant") from None
        granted = check_roles(roles, ctx)
        if expires_in_days is not None and expires_in_days < 1:
            raise InvalidInputError("expires_in_days must be at least 1 (or None for a key that never expires)")
        expires = utcnow() + timedelta(days=expires_in_days) if expires_in_days else None
        key = self._gov.create_key(target, granted, label, expires, owner)
        self._guard.record(
            ctx.with_tenant(target),
            "create-key",
            decision,
            result={"key_id": key.key_id, "tenant": target, "roles": granted, "owner": key.owner},
        )
        return key

    def list_api_keys(self, ctx: CallContext) -> list[KeyInfo]:
        self._guard.require(ctx, Operation.KEYS)
        return self._gov.list_keys(ctx.tenant)

    def revoke_api_key(self, key_id: str, ctx: CallContext) -> None:
        decision = self._guard.allow(ctx, Operation.KEYS)
        self._gov.revoke_key(ctx.tenant, key_id)
        self._guard.record(ctx, "revoke-key", decision, result={"key_id": key_id})

    def authenticate(
        self,
        token: str,
        purpose: str = "unspecified",
        case_reference: str | None = None,
        origin: str = "",
        remote: bool = False,
    ) -> CallContext:
        """The call context of an API key: its tenant, owner and roles, with the purpose the caller declares."""
        return self._gov.authenticate(token, purpose, case_reference, origin, remote)

    # -- purposes and policies -------------------------------------------------------------------
    def declare_purpose(
        self,
        name: str,
        ctx: CallContext,
        *,
        category: str,
        legal_basis: str,
        data_subjects: str,
        retention_days: int,
        max_collection_subjects: int,
        consequential: bool,
        description: str = "",
    ) -> Purpose:
        decision = self._guard.allow(ctx, Operation.DECLARE)
        check_name("purpose", name)
        try:
            purpose = Purpose(
                name,
                Category(category),
                LegalBasis(legal_basis),
                data_subjects,
                retention_days,
                max_collection_subjects,
                consequential,
                description,
                ctx.tenant,
                ctx.actor,
            )
        except ValueError as exc:
            raise InvalidInputError(
                f"{exc}; categories: {', '.join(c.value for c in Category)};"
                f" legal bases: {', '.join(b.value for b in LegalBasis)}"
            ) from None
        try:
            declared = self._gov.declare_purpose(purpose)
        except PolicyDeniedError as exc:
            refusal = PolicyDecision("deny", exc.rule_id, exc.reason, "built-in")
            self._guard.record(ctx, "declare-purpose", refusal, result={"purpose": name, "category": category})
            raise
        self._guard.record(
            ctx,
            "declare-purpose",
            decision,
            result={"purpose": name, "category": category, "legal_basis": legal_basis},
        )
        return declared

    def list_purposes(self, ctx: CallContext) -> list[Purpose]:
        self._guard.require(ctx, Operation.READ)
        return self._gov.purposes(ctx.tenant)

    def apply_policy(self, text: str, ctx: CallContext) -> PolicyVersion:
        decision = self._guard.allow(ctx, Operation.DECLARE)
        if not isinstance(text, str):
            raise InvalidInputError("a policy is YAML text")
        version = self._gov.apply_policy(ctx.tenant, text, ctx.actor)
        self._guard.record(ctx, "apply-policy", decision, result={"version": version.version, "sha256": version.sha256})
        return version

    def policy_history(self, ctx: CallContext) -> list[PolicyVersion]:
        self._guard.require(ctx, Operation.READ)
        return self._gov.policy_history(ctx.tenant)

    def policy_text(self, ctx: CallContext) -> str:
        self._guard.require(ctx, Operation.READ)
        return self._gov.policy(ctx.tenant)[1]

    def explain(
        self,
        ctx: CallContext,
        operation: Operation,
        collection: str | None = None,
        *,
        subjects_after: int | None = None,
        probe_faces: int = 1,
        source: str = "upload",
        provenance: str = "upload",
    ) -> PolicyDecision:
        """Dry run: what the policy engine would decide for this call, with its trace.  Records nothing."""
        self._guard.require(ctx, Operation.READ)
        ref = self._p.store.collection(ctx.tenant, collection) if collection else None
        return self._guard.evaluate(
            ctx,
            Operation(operation),
            ref,
            subjects_after=subjects_after,
            probe_faces=probe_faces,
            source=source,
            provenance=provenance,
            model_id=ref.model_id if ref else None,
        )

    # -- applications ----------------------------------------------------------------------------
    def submit_application(
        self,
        kind: Literal["scale", "category"],
        purpose: str,
        requested: dict[str, Any],
        justification: str,
        ctx: CallContext,
    ) -> Application:
        decision = self._guard.allow(ctx, Operation.APPLY)
        app = self._gov.submit_application(ctx, kind, purpose, requested, justification)
        self._guard.record(ctx, "submit-application", decision, result={"application": app.id, "kind": kind})
        return app

    def decide_application(
        self, application_id: int, approve: bool, reason: str, ctx: CallContext, valid_days: int = 365
    ) -> Application:
        decision = self._guard.allow(ctx, Operation.DECIDE)
        self._guard.person(ctx, "deciding an application")
        app = self._gov.decide_application(ctx, application_id, approve, reason, valid_days)
        self._guard.record(
            ctx,
            "decide-application",
            decision,
            result={"application": app.id, "status": app.status, "reason": reason},
        )
        return app

    def list_applications(self, ctx: CallContext) -> list[Application]:
        """The tenant's applications: for readers, and for the reviewers who decide them (who may read nothing else)."""
        self._guard.require(ctx, Operation.DECIDE if Role.REVIEWER in ctx.roles else Operation.READ)
        return self._gov.applications(ctx.tenant)
