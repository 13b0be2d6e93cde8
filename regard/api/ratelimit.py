"""Per-key rate limits: a token bucket per API key, in each worker process.

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
    """``allow(key)`` takes a token or says how long until one is there."""

    def __init__(
        self, rate_per_s: float, burst: int, workers: int = 1, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.rate = rate_per_s / workers
        self.burst = max(1.0, burst / workers)
        self._clock = clock
        self._buckets: dict[str, _Bucket] = {}
        self._lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        return self.rate > 0

    def allow(self, key: str) -> float:
        """0 when the call may go ahead (a token is taken), else the seconds to wait for the next token."""
        if not self.enabled:
            return 0.0
        now = self._clock()
        with self._lock:
            bucket = self._buckets.get(key)
            if bucket is None:
                bucket = self._buckets[key] = _Bucket(self.burst, now)
            bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.updated) * self.rate)
            bucket.updated = now
            if bucket.tokens >= 1.0:
                bucket.tokens -= 1.0
                return 0.0
            return (1.0 - bucket.tokens) / self.rate

    @staticmethod
    def retry_after(wait_s: float) -> str:
        """The Retry-After header: whole seconds, at least 1."""
        return str(max(1, math.ceil(wait_s)))
