"""The call context every operation carries: who asks, for whom, why, with which rights.

There is no default context.  A method that acts on people's data takes its
caller explicitly, so a server can never reach an all-powerful caller by
forgetting an argument.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field, replace

DEFAULT_TENANT = "default"
TENANT_ROLES = frozenset({"admin", "operator", "reviewer", "auditor"})
SYSTEM_ROLE = "system"
LOCAL_ACTOR = "local"


def normalise_actor(name: str) -> str:
    """One spelling per person: Unicode NFKC, surrounding and repeated whitespace removed, case folded.

    ``"rev1"``, ``"rev1 "`` and ``"REV1"`` are the same reviewer.
    """
    return " ".join(unicodedata.normalize("NFKC", name).split()).casefold()


@dataclass(frozen=True)
class CallContext:
    """Actor, tenant, declared purpose and roles of one call.

    ``actor`` is the accountable person (normalised); ``key_id`` the API key
    that authenticated them, ``None`` for the local operator.  ``purpose``
    names a purpose the tenant has declared; the policy engine decides every
    biometric call on it.  ``case_reference`` documents the individual target
    of an investigative search.  ``origin`` says where the call came from
    (``cli:alice``, ``api``) for the ledger; it never identifies anyone.
    ``remote`` marks a caller outside this process (the API): the service
    never reads files on its own disk for them.
    """

    actor: str
    tenant: str = DEFAULT_TENANT
    purpose: str = "unspecified"
    roles: frozenset[str] = field(default=frozenset())
    case_reference: str | None = None
    key_id: str | None = None
    origin: str = ""
    remote: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "actor", normalise_actor(self.actor))
        if isinstance(self.case_reference, str):
            object.__setattr__(self, "case_reference", self.case_reference.strip())

    @classmethod
    def local(
        cls,
        tenant: str = DEFAULT_TENANT,
        purpose: str = "unspecified",
        *,
        case_reference: str | None = None,
        origin: str = "library",
    ) -> CallContext:
        """The local operator: whoever holds the data directory, with every role, the system role included.

        However they call themselves (``$USER``), they are one person, ``local``:
        they count once among the reviewers of a case and cannot approve their
        own application.
        """
        return cls(
            actor=LOCAL_ACTOR,
            tenant=tenant,
            purpose=purpose,
            roles=TENANT_ROLES | {SYSTEM_ROLE},
            case_reference=case_reference,
            origin=origin,
        )

    @property
    def is_local(self) -> bool:
        return self.key_id is None and self.actor == LOCAL_ACTOR

    def with_purpose(self, purpose: str) -> CallContext:
        return replace(self, purpose=purpose)

    def with_tenant(self, tenant: str) -> CallContext:
        """The same caller acting in another tenant (only system operations do this)."""
        return replace(self, tenant=tenant)
