"""The call context every biometric operation carries: who asks, for whom, and why."""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_TENANT = "default"


@dataclass(frozen=True)
class CallContext:
    """Actor, tenant and declared purpose of one call.

    The core records these with every operation; the governance layer decides
    calls on them.  ``purpose`` is free text until purposes are declared per tenant.
    """

    actor: str = "local"
    tenant: str = DEFAULT_TENANT
    purpose: str = "unspecified"


LOCAL = CallContext()
