"""The call context every biometric operation carries: who asks, for whom, why, with which rights."""

from __future__ import annotations

from dataclasses import dataclass, field

DEFAULT_TENANT = "default"
ALL_ROLES = frozenset({"admin", "operator", "reviewer", "auditor"})


@dataclass(frozen=True)
class CallContext:
    """Actor, tenant, declared purpose and roles of one call.

    ``purpose`` names a purpose the tenant has declared; the policy engine
    decides every biometric call on it.  ``case_reference`` documents the
    individual target of an investigative search.  Contexts built from an API
    key carry that key's roles; the default (a local, trusted caller such as
    the server's own operator at a shell) carries all roles.
    """

    actor: str = "local"
    tenant: str = DEFAULT_TENANT
    purpose: str = "unspecified"
    roles: frozenset[str] = field(default=ALL_ROLES)
    case_reference: str | None = None


LOCAL = CallContext()
