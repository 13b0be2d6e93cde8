"""Failed dashboard logins, throttled per client address with the API's token bucket (``RateLimiter``).

Each failed login takes a token from its address's bucket, and an address whose bucket is empty is answered 429
before its key is even looked at, so guessing keys through the login form costs time.  A successful login takes
no token here (a whole office behind one address logs in freely); it draws on its key's rate limit instead,
like every page.  An IPv6 client is counted by its /64 network: a host is usually given a whole /64 and could
otherwise take a new address for every guess.  Behind a proxy the address is the proxy's, unless uvicorn trusts
the proxy's headers (``--forwarded-allow-ips``).
"""

from __future__ import annotations

import ipaddress
import time
from collections.abc import Callable

from fastapi import Request

from regard.api.ratelimit import RateLimiter
from regard.settings import Settings


class LoginThrottle:
    """``failures`` failed logins per client address, refilled evenly over ``window_s`` (0 failures: off)."""

    def __init__(
        self, failures: int, window_s: float, workers: int = 1, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._limiter = RateLimiter(failures / window_s, failures, workers, clock)

    @classmethod
    def from_settings(cls, settings: Settings) -> LoginThrottle:
        return cls(settings.dashboard_login_failures, settings.dashboard_login_window_min * 60, settings.serve_workers)

    def wait_s(self, client: str) -> float:
        """Seconds before ``client`` may try to log in again (0: now)."""
        return self._limiter.wait_s(client)

    def failed(self, client: str) -> None:
        """Count one failed login of ``client``."""
        self._limiter.allow(client)


def client_of(request: Request) -> str:
    """The address a login came from: an IPv4 address, or an IPv6 address's /64 network."""
    host = request.client.host if request.client else ""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host or "unknown"  # not an address (a test client, a Unix socket): counted by its name
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:  # an IPv4 client on a dual-stack socket
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return str(address)
