"""The guard every call passes through: the caller's role, the policy decision, and the ledger entry.

One object, one place: an operation asks ``check`` (role, then policy; a
denial is recorded before it is raised) or ``allow`` (role only, for
administrative calls), does its work, and ``record``s what happened — in the
same transaction as the change when there is one.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from regard.context import CallContext
from regard.errors import InvalidInputError, NotFoundError, PermissionDeniedError, PolicyDeniedError
from regard.governance import consent
from regard.governance.ledger import LedgerEntry, LedgerFields
from regard.governance.policy import SEARCHES_PER_DAY, LimitReachedError, PolicyDecision, PolicyRequest
from regard.governance.purposes import Purpose
from regard.governance.repository import Governance, utcnow
from regard.governance.roles import Operation, require

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from regard.backends.registry import ModelRegistry
    from regard.store.repository import CollectionRef
    from regard.vision.decode import ImageSource

ADMIN_RULE = "ROLE-CHECK"


class Guard:
    """Role checks, policy decisions and ledger records for every operation of the service."""

    def __init__(self, governance: Governance, registry: ModelRegistry) -> None:
        self._governance = governance
        self._registry = registry

    # -- before the call -------------------------------------------------------------------------
    @staticmethod
    def require(ctx: CallContext, operation: Operation) -> None:
        require(ctx, operation)

    def allow(self, ctx: CallContext, operation: Operation) -> PolicyDecision:
        """An administrative call: the role decides, and the ledger cites the role check."""
        require(ctx, operation)
        return PolicyDecision("allow", ADMIN_RULE, "administrative operation allowed by role", "n/a")

    def person(self, ctx: CallContext, act: str) -> None:
        """Review and approval are acts of an authenticated person: the caller's own valid key, in this tenant.

        The local operator is refused: ``local`` is whoever can open the data
        directory, not a person the record can name, so it can never be one of
        the people a confirmation or an approval needs.  Nor is a caller that
        only names itself (a ``CallContext`` built without a key), or one whose
        key was revoked or expired since it authenticated.
        """
        owner = self._governance.key_owner(ctx.tenant, ctx.key_id) if ctx.key_id else None
        if owner is None or owner != ctx.actor:
            raise PermissionDeniedError(
                f"{act} needs a person authenticated by their own API key (regard --api-key KEY ...);"
                f" {ctx.actor} is not one here"
            )

    @staticmethod
    def image(ctx: CallContext, source: ImageSource) -> ImageSource:
        """Remote callers send the image itself: the service never reads its own disk on their behalf."""
        if isinstance(source, str | Path) and ctx.remote:
            raise InvalidInputError("send the image's bytes; file paths are read only for callers in this process")
        return source

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
        decision = self.evaluate(
            ctx,
            operation,
            ref,
            subjects_after=subjects_after,
            probe_faces=probe_faces,
            source=source,
            provenance=provenance,
            model_id=model,
        )
        if not decision.allowed:
            self.deny(
                ctx,
                operation.value,
                decision,
                collection=ref.name if ref else None,
                inputs=inputs,
                model=model,
                result={"denied": decision.reason},
            )
        return decision

    def evaluate(
        self,
        ctx: CallContext,
        operation: Operation,
        ref: CollectionRef | None = None,
        *,
        subjects_after: int | None = None,
        probe_faces: int = 1,
        source: str = "upload",
        provenance: str = "upload",
        model_id: str | None = None,
    ) -> PolicyDecision:
        """What the policy engine decides for this call; records nothing (``explain`` shows it as is)."""
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

        return self._governance.evaluate(ctx.tenant, ctx.purpose, now, make_request, model_id)

    def require_consent(self, ctx: CallContext, subject: str, collection: str) -> None:
        """Under a consent-based purpose, the subject must have a consent in force."""
        purpose = self._governance.purpose(ctx.tenant, ctx.purpose)
        if purpose is None or not purpose.needs_consent:
            return
        with self._governance.tx() as s:
            ok = consent.has_valid(s, ctx.tenant, subject, purpose.name, utcnow())
        if not ok:
            decision = PolicyDecision(
                "deny",
                "GOV-CONSENT-REQUIRED",
                f"purpose '{purpose.name}' relies on consent and '{subject}' has none in force",
                self._governance.policy(ctx.tenant)[0].version,
            )
            self.deny(ctx, "enroll", decision, collection=collection, result={"subject": subject})

    # -- after the call --------------------------------------------------------------------------
    def fields(
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
        """What the ledger keeps of one call (the input by its hash, never its pixels)."""
        version = None
        if model:
            with contextlib.suppress(NotFoundError):  # a model no longer registered is recorded without a version
                version = self._registry.spec(model).version
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
            key_id=ctx.key_id,
            origin=ctx.origin,
        )

    def record(
        self, ctx: CallContext, operation: str, decision: PolicyDecision, session: Session | None = None, **details: Any
    ) -> LedgerEntry:
        """Append to the tenant's ledger; inside ``session`` so it commits with the change it records.

        A search's daily volume is counted again in the transaction that records it
        (``LimitReachedError`` past the decision's limit: see ``limits``).
        """
        fields = self.fields(ctx, operation, decision, **details)
        return self._governance.record(ctx.tenant, fields, session, admission(decision, SEARCHES_PER_DAY))

    @contextlib.contextmanager
    def limits(self, ctx: CallContext, operation: str, **details: Any) -> Iterator[None]:
        """Around a write that re-checks its decision's limits: a limit reached meanwhile is recorded and raised.

        The write's transaction has rolled back by the time the error gets here, so
        the refusal is recorded on its own, like any other denial.
        """
        try:
            yield
        except LimitReachedError as exc:
            self.deny(ctx, operation, exc.decision, **details, result={"denied": exc.decision.reason})

    def deny(self, ctx: CallContext, operation: str, decision: PolicyDecision, **details: Any) -> NoReturn:
        """Record a refusal, then raise it."""
        self.record(ctx, operation, decision, **details)
        raise PolicyDeniedError(decision.reason, decision.rule_id, decision.policy_version)


def admission(decision: PolicyDecision, kind: str) -> Callable[[int], None] | None:
    """What a write calls with its count, taken under the write lock: raises once a ``kind`` limit is passed."""
    if not any(limit.kind == kind for limit in decision.limits):
        return None

    def admit(count: int) -> None:
        breach = decision.breach(kind, count)
        if breach is not None:
            raise LimitReachedError(breach)

    return admit
