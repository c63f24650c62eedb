"""Per-key rate limits: one token bucket per key, on an injected clock."""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass

from modelport.foundation.clock import Clock, SystemClock
from modelport.foundation.errors import InvalidInputError, OverloadedError


@dataclass
class _Bucket:
    tokens: float
    stamp: float


class RateLimiter:
    """Allow `rate` requests per second per key on average, with bursts up to `burst`."""

    def __init__(self, rate: float, burst: float | None = None, *, clock: Clock | None = None,
                 max_keys: int = 100_000) -> None:
        if rate <= 0:
            raise InvalidInputError(f"rate limit must be positive, got {rate!r}", field="rate_limit")
        self.rate = float(rate)
        self.burst = float(burst if burst is not None else max(1.0, rate))
        if self.burst < 1:
            raise InvalidInputError(f"burst must be at least 1, got {burst!r}", field="rate_burst")
        self.clock = clock or SystemClock()
        # Bounded so that a flood of distinct keys cannot grow memory without limit.
        self._buckets: OrderedDict[str, _Bucket] = OrderedDict()
        self._max_keys = max_keys
        self._lock = threading.Lock()

    def wait_time(self, key: str) -> float:
        """Take one token for `key` and return 0, or return the seconds until one is available."""
        now = self.clock.monotonic()
        with self._lock:
            bucket = self._buckets.pop(key, None) or _Bucket(self.burst, now)
            self._buckets[key] = bucket
            if len(self._buckets) > self._max_keys:
                self._buckets.popitem(last=False)
            bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.stamp) * self.rate)
            bucket.stamp = now
            if bucket.tokens >= 1:
                bucket.tokens -= 1
                return 0.0
            return (1 - bucket.tokens) / self.rate

    def check(self, key: str) -> None:
        """Take one token for `key` or raise OverloadedError with the seconds to wait."""
        wait = self.wait_time(key)
        if wait > 0:
            raise OverloadedError(f"rate limit of {self.rate:g} requests per second exceeded for key {key}",
                                  retry_after=wait)
