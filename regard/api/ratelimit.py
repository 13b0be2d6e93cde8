"""Per-key rate limits: a token bucket per API key (or per client address), in each worker process.

Each worker holds ``1/workers`` of the configured rate and burst, so with the
kernel spreading connections over the workers a key gets about the configured
rate in total.  The buckets are not shared between processes on purpose: a
shared bucket (in the database) would add a write, and with SQLite a lock, to
every call, which costs more than the limit protects.  The price: a client that
lands every call on one worker is limited at its share, and one that spreads
calls perfectly gets at most the configured rate, never more.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class _Bucket:
    tokens: float
    updated: float


class RateLimiter:
    """``allow(key)`` takes a token or says how long until one is there; ``wait_s(key)`` only says.

    Keys are API keys for the API and the dashboard, client addresses for the dashboard's failed logins.
    """

    # Buckets that refilled are forgotten once there are this many (a full bucket is the same as none), so keys
    # an attacker makes up (client addresses) cannot grow the table for ever.
    SWEEP_AT = 4096

    def __init__(
        self, rate_per_s: float, burst: int, workers: int = 1, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.rate = rate_per_s / workers
        self.burst = max(1.0, burst / workers)
        self._clock = clock
        self._buckets: dict[str, _Bucket] = {}
        self._sweep_at = self.SWEEP_AT
        self._lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        return self.rate > 0

    def allow(self, key: str) -> float:
        """0 when the call may go ahead (a token is taken), else the seconds to wait for the next token."""
        return self._wait(key, take=True)

    def wait_s(self, key: str) -> float:
        """The seconds until ``allow(key)`` would let a call through (0: now), taking no token."""
        return self._wait(key, take=False)

    def _wait(self, key: str, take: bool) -> float:
        if not self.enabled:
            return 0.0
        now = self._clock()
        with self._lock:
            bucket = self._buckets.get(key)
            if bucket is None:
                if not take:
                    return 0.0
                if len(self._buckets) >= self._sweep_at:
                    self._sweep(now)
                bucket = self._buckets[key] = _Bucket(self.burst, now)
            self._refill(bucket, now)
            if bucket.tokens >= 1.0:
                if take:
                    bucket.tokens -= 1.0
                return 0.0
            return (1.0 - bucket.tokens) / self.rate

    def _refill(self, bucket: _Bucket, now: float) -> None:
        bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.updated) * self.rate)
        bucket.updated = now

    def _sweep(self, now: float) -> None:
        full = [k for k, b in self._buckets.items() if b.tokens + (now - b.updated) * self.rate >= self.burst]
        for key in full:
            del self._buckets[key]
        # Amortised: the next sweep waits until the table has doubled again.
        self._sweep_at = max(self.SWEEP_AT, 2 * len(self._buckets))

    @staticmethod
    def retry_after(wait_s: float) -> str:
        """The Retry-After header: whole seconds, at least 1."""
        return str(max(1, math.ceil(wait_s)))
