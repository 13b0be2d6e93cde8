"""Roles and what each may do.  Checked by the service for every call, whatever the edge."""

from __future__ import annotations

from enum import StrEnum

from regard.context import CallContext
from regard.errors import PermissionDeniedError


class Role(StrEnum):
    ADMIN = "admin"  # tenant set-up: keys, purposes, policy, collections
    OPERATOR = "operator"  # enroll, search, compare, detect
    REVIEWER = "reviewer"  # human review and application decisions
    AUDITOR = "auditor"  # read-only: ledger, reports


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


BIOMETRIC = frozenset({Operation.DETECT, Operation.COMPARE, Operation.ENROLL, Operation.SEARCH})

_A, _O, _R, _U = Role.ADMIN, Role.OPERATOR, Role.REVIEWER, Role.AUDITOR
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
}


def require(ctx: CallContext, operation: Operation) -> None:
    """Raise PermissionDeniedError unless one of the caller's roles allows ``operation``."""
    allowed = PERMISSIONS[operation]
    if not allowed & ctx.roles:
        wanted = " or ".join(sorted(allowed))
        raise PermissionDeniedError(
            f"'{operation}' needs the {wanted} role; {ctx.actor} has {sorted(ctx.roles) or 'none'}"
        )
