"""Roles and what each may do.  Checked by the service for every call, whatever the edge."""

from __future__ import annotations

from enum import StrEnum

from regard.context import CallContext
from regard.errors import InvalidInputError, PermissionDeniedError


class Role(StrEnum):
    ADMIN = "admin"  # tenant set-up: keys, purposes, policy, collections
    OPERATOR = "operator"  # enroll, search, compare, detect
    REVIEWER = "reviewer"  # human review and application decisions
    AUDITOR = "auditor"  # read-only: ledger, reports
    SYSTEM = "system"  # across tenants: create and list tenants, purge every tenant; no tenant key holds it


class Operation(StrEnum):
    DETECT = "detect"
    COMPARE = "compare"
    ENROLL = "enroll"
    SEARCH = "search"
    MANAGE = "manage"  # create/delete collections, delete faces and subjects
    READ = "read"  # list collections, subjects, faces
    CONSENT = "consent"
    ERASE = "erase"
    PURGE = "purge"
    DECLARE = "declare"  # purposes, policies
    KEYS = "keys"
    APPLY = "apply"  # submit an application
    DECIDE = "decide"  # approve or reject an application
    REVIEW = "review"
    AUDIT = "audit"
    TENANTS = "tenants"  # create and list tenants, keys for another tenant, purge across tenants


BIOMETRIC = frozenset({Operation.DETECT, Operation.COMPARE, Operation.ENROLL, Operation.SEARCH})

_A, _O, _R, _U, _S = Role.ADMIN, Role.OPERATOR, Role.REVIEWER, Role.AUDITOR, Role.SYSTEM
PERMISSIONS: dict[Operation, frozenset[Role]] = {
    Operation.DETECT: frozenset({_O}),
    Operation.COMPARE: frozenset({_O}),
    Operation.ENROLL: frozenset({_O}),
    Operation.SEARCH: frozenset({_O}),
    Operation.MANAGE: frozenset({_A, _O}),
    Operation.READ: frozenset({_A, _O, _U}),
    Operation.CONSENT: frozenset({_A, _O}),
    Operation.ERASE: frozenset({_A, _O}),
    Operation.PURGE: frozenset({_A}),
    Operation.DECLARE: frozenset({_A}),
    Operation.KEYS: frozenset({_A}),
    Operation.APPLY: frozenset({_A, _O}),
    Operation.DECIDE: frozenset({_R}),
    Operation.REVIEW: frozenset({_R}),
    Operation.AUDIT: frozenset({_A, _U}),
    Operation.TENANTS: frozenset({_S}),
}


def require(ctx: CallContext, operation: Operation) -> None:
    """Raise PermissionDeniedError unless one of the caller's roles allows ``operation``."""
    if not isinstance(ctx, CallContext):
        raise InvalidInputError(f"every call needs a CallContext, got {type(ctx).__name__}")
    allowed = PERMISSIONS[operation]
    if not allowed & ctx.roles:
        wanted = " or ".join(sorted(allowed))
        raise PermissionDeniedError(
            f"'{operation}' needs the {wanted} role; {ctx.actor} has {sorted(ctx.roles) or 'none'}"
        )


def check_roles(roles: list[str], grantor: CallContext) -> list[str]:
    """The roles a new key may carry: known ones, and ``system`` only when a system caller grants it."""
    unknown = set(roles) - {r.value for r in Role}
    if not roles or unknown:
        raise InvalidInputError(
            f"roles must be some of admin, operator, reviewer, auditor (got {sorted(unknown) or 'none'})"
        )
    if Role.SYSTEM in roles and Role.SYSTEM not in grantor.roles:
        raise PermissionDeniedError("only a caller with the system role can grant it")
    return sorted(set(roles))
