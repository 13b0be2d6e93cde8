"""The governed side of the service: checks and records around every call; tenants, keys, purposes, policies.

Mixed into ``Regard`` (through ``OversightOperations``); kept apart so ``service.py`` reads as the
biometric operations alone.
"""

from __future__ import annotations

import contextlib
import threading
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Literal

from regard.context import LOCAL, CallContext
from regard.errors import NotFoundError, PolicyDeniedError
from regard.governance import consent
from regard.governance.guard import Application, Governance, PolicyVersion, utcnow
from regard.governance.keys import KeyInfo, NewKey
from regard.governance.ledger import LedgerEntry, LedgerFields
from regard.governance.policy import PolicyDecision, PolicyRequest
from regard.governance.purposes import Category, LegalBasis, Purpose
from regard.governance.roles import Operation, require

if TYPE_CHECKING:
    from regard.backends.registry import ModelRegistry
    from regard.engine import FaceEngine
    from regard.index.catalog import IndexCatalog
    from regard.settings import Settings
    from regard.store.repository import CollectionRef, Store


class AdminOperations:
    settings: Settings
    store: Store
    registry: ModelRegistry
    engine: FaceEngine
    indexes: IndexCatalog
    governance: Governance
    _write_lock: threading.Lock

    # -- checks and records used by every operation ---------------------------------------------
    def require(self, ctx: CallContext, operation: Operation) -> None:
        require(ctx, operation)

    @staticmethod
    def admin_decision() -> PolicyDecision:
        return PolicyDecision("allow", "ROLE-CHECK", "administrative operation allowed by role", "n/a")

    def check(
        self,
        ctx: CallContext,
        operation: Operation,
        ref: CollectionRef | None = None,
        *,
        subjects_after: int | None = None,
        probe_faces: int = 1,
        source: str = "upload",
        provenance: str = "upload",
        inputs: list[str] | None = None,
        model_id: str | None = None,
    ) -> PolicyDecision:
        """Role, then policy.  A denial is written to the ledger before it is raised."""
        require(ctx, operation)
        model = model_id or (ref.model_id if ref else None)
        decision = self._evaluate(ctx, operation, ref, subjects_after, probe_faces, source, provenance, model)
        if not decision.allowed:
            self.log(
                ctx,
                operation.value,
                decision,
                collection=ref.name if ref else None,
                inputs=inputs,
                model=model,
                result={"denied": decision.reason},
            )
            raise PolicyDeniedError(decision.reason, decision.rule_id, decision.policy_version)
        return decision

    def _evaluate(
        self,
        ctx: CallContext,
        operation: Operation,
        ref: CollectionRef | None,
        subjects_after: int | None,
        probe_faces: int,
        source: str,
        provenance: str,
        model_id: str | None,
    ) -> PolicyDecision:
        now = utcnow()

        def make_request(purpose: Purpose | None, searches_today: int, activated: bool) -> PolicyRequest:
            return PolicyRequest(
                operation=operation,
                purpose_name=ctx.purpose,
                purpose=purpose,
                now=now,
                collection=ref.name if ref else None,
                collection_purpose=(ref.purpose or None) if ref else None,
                subjects_after=subjects_after,
                searches_today=searches_today + 1 if operation is Operation.SEARCH else 0,
                probe_faces=probe_faces,
                source=source,
                provenance=provenance,
                case_reference=ctx.case_reference,
                model_id=model_id,
                model_activated=activated,
            )

        return self.governance.evaluate(ctx.tenant, ctx.purpose, now, make_request, model_id)

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
        ref = self.store.collection(ctx.tenant, collection) if collection else None
        model = ref.model_id if ref else None
        return self._evaluate(ctx, operation, ref, subjects_after, probe_faces, source, provenance, model)

    def ledger_fields(
        self,
        ctx: CallContext,
        operation: str,
        decision: PolicyDecision,
        *,
        collection: str | None = None,
        inputs: list[str] | None = None,
        model: str | None = None,
        threshold: float | None = None,
        result: dict[str, Any] | None = None,
        review_info: dict[str, Any] | None = None,
    ) -> LedgerFields:
        version = None
        if model:
            with contextlib.suppress(NotFoundError):  # a model no longer registered is recorded without a version
                version = self.registry.spec(model).version
        return LedgerFields(
            actor=ctx.actor,
            purpose=ctx.purpose,
            operation=operation,
            decision=decision.effect,
            rule_id=decision.rule_id,
            policy_version=decision.policy_version,
            collection=collection,
            input_sha256=list(inputs or []),
            model_id=model,
            model_version=version,
            threshold=round(threshold, 6) if threshold is not None else None,
            result=result or {},
            review=review_info,
        )

    def log(self, ctx: CallContext, operation: str, decision: PolicyDecision, **details: Any) -> LedgerEntry:
        return self.governance.record(ctx.tenant, self.ledger_fields(ctx, operation, decision, **details))

    def require_consent(self, ctx: CallContext, subject: str, collection: str) -> None:
        purpose = self.governance.purpose(ctx.tenant, ctx.purpose)
        if purpose is None or not purpose.needs_consent:
            return
        with self.governance.tx() as s:
            ok = consent.has_valid(s, ctx.tenant, subject, purpose.name, utcnow())
        if not ok:
            decision = PolicyDecision(
                "deny",
                "GOV-CONSENT-REQUIRED",
                f"purpose '{purpose.name}' relies on consent and '{subject}' has none in force",
                self.governance.policy(ctx.tenant)[0].version,
            )
            self.log(ctx, "enroll", decision, collection=collection, result={"subject": subject})
            raise PolicyDeniedError(decision.reason, decision.rule_id, decision.policy_version)

    # -- tenants and keys ------------------------------------------------------------------------
    def create_tenant(self, tenant: str, ctx: CallContext = LOCAL, display_name: str = "") -> None:
        require(ctx, Operation.KEYS)
        self.governance.create_tenant(tenant, display_name)
        self.log(ctx, "create-tenant", self.admin_decision(), result={"tenant": tenant})

    def create_api_key(
        self,
        roles: list[str],
        ctx: CallContext = LOCAL,
        *,
        label: str = "",
        expires_in_days: int | None = 365,
        tenant: str | None = None,
    ) -> NewKey:
        """A new key for ``tenant`` (default: the caller's); the token is returned once and never stored."""
        require(ctx, Operation.KEYS)
        target = tenant or ctx.tenant
        if target != ctx.tenant and ctx.actor != "local":
            from regard.errors import PermissionDeniedError

            raise PermissionDeniedError("keys for another tenant can only be made locally")
        expires = utcnow() + timedelta(days=expires_in_days) if expires_in_days else None
        key = self.governance.create_key(target, roles, label, expires)
        self.log(
            ctx, "create-key", self.admin_decision(), result={"key_id": key.key_id, "tenant": target, "roles": roles}
        )
        return key

    def list_api_keys(self, ctx: CallContext = LOCAL) -> list[KeyInfo]:
        require(ctx, Operation.KEYS)
        return self.governance.list_keys(ctx.tenant)

    def revoke_api_key(self, key_id: str, ctx: CallContext = LOCAL) -> None:
        require(ctx, Operation.KEYS)
        self.governance.revoke_key(ctx.tenant, key_id)
        self.log(ctx, "revoke-key", self.admin_decision(), result={"key_id": key_id})

    def authenticate(self, token: str, purpose: str = "unspecified", case_reference: str | None = None) -> CallContext:
        return self.governance.authenticate(token, purpose, case_reference)

    # -- purposes and policies -------------------------------------------------------------------
    def declare_purpose(
        self,
        name: str,
        ctx: CallContext = LOCAL,
        *,
        category: str,
        legal_basis: str,
        data_subjects: str,
        retention_days: int,
        max_collection_subjects: int,
        consequential: bool,
        description: str = "",
    ) -> Purpose:
        require(ctx, Operation.DECLARE)
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
            from regard.errors import InvalidInputError

            raise InvalidInputError(
                f"{exc}; categories: {', '.join(c.value for c in Category)};"
                f" legal bases: {', '.join(b.value for b in LegalBasis)}"
            ) from None
        try:
            declared = self.governance.declare_purpose(purpose)
        except PolicyDeniedError as exc:
            self.log(
                ctx,
                "declare-purpose",
                PolicyDecision("deny", exc.rule_id, exc.reason, "built-in"),
                result={"purpose": name, "category": category},
            )
            raise
        self.log(
            ctx,
            "declare-purpose",
            self.admin_decision(),
            result={"purpose": name, "category": category, "legal_basis": legal_basis},
        )
        return declared

    def list_purposes(self, ctx: CallContext = LOCAL) -> list[Purpose]:
        require(ctx, Operation.READ)
        return self.governance.purposes(ctx.tenant)

    def apply_policy(self, text: str, ctx: CallContext = LOCAL) -> PolicyVersion:
        require(ctx, Operation.DECLARE)
        version = self.governance.apply_policy(ctx.tenant, text, ctx.actor)
        self.log(
            ctx, "apply-policy", self.admin_decision(), result={"version": version.version, "sha256": version.sha256}
        )
        return version

    def policy_history(self, ctx: CallContext = LOCAL) -> list[PolicyVersion]:
        require(ctx, Operation.READ)
        return self.governance.policy_history(ctx.tenant)

    def policy_text(self, ctx: CallContext = LOCAL) -> str:
        require(ctx, Operation.READ)
        return self.governance.policy(ctx.tenant)[1]

    # -- applications ----------------------------------------------------------------------------
    def submit_application(
        self,
        kind: Literal["scale", "category"],
        purpose: str,
        requested: dict[str, Any],
        justification: str,
        ctx: CallContext = LOCAL,
    ) -> Application:
        require(ctx, Operation.APPLY)
        app = self.governance.submit_application(ctx, kind, purpose, requested, justification)
        self.log(ctx, "submit-application", self.admin_decision(), result={"application": app.id, "kind": kind})
        return app

    def decide_application(
        self, application_id: int, approve: bool, reason: str, ctx: CallContext = LOCAL, valid_days: int = 365
    ) -> Application:
        require(ctx, Operation.DECIDE)
        app = self.governance.decide_application(ctx, application_id, approve, reason, valid_days)
        self.log(
            ctx,
            "decide-application",
            self.admin_decision(),
            result={"application": app.id, "status": app.status, "reason": reason},
        )
        return app

    def list_applications(self, ctx: CallContext = LOCAL) -> list[Application]:
        require(ctx, Operation.READ)
        return self.governance.applications(ctx.tenant)
