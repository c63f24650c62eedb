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
    """Allow `rate` requests per second per key on average, with bursts up to `burst`.

    A key may carry its own rate (`check(key, rate=...)`, bursts up to one second of it); with
    `rate=None` only such keys are limited.
    """

    def __init__(self, rate: float | None, burst: float | None = None, *, clock: Clock | None = None,
                 max_keys: int = 100_000) -> None:
        if rate is not None and rate <= 0:
            raise InvalidInputError(f"rate limit must be positive, got {rate!r}", field="rate_limit")
        self.rate = None if rate is None else float(rate)
        self.burst = float(burst if burst is not None else max(1.0, rate or 1.0))
        if self.burst < 1:
            raise InvalidInputError(f"burst must be at least 1, got {burst!r}", field="rate_burst")
        self.clock = clock or SystemClock()
        # Bounded so that a flood of distinct keys cannot grow memory without limit.
        self._buckets: OrderedDict[str, _Bucket] = OrderedDict()
        self._max_keys = max_keys
        self._lock = threading.Lock()

    def wait_time(self, key: str, rate: float | None = None) -> float:
        """Take one token for `key` and return 0, or return the seconds until one is available.

        `rate` is the key's own limit (None: the default); without either, the key is not limited.
        """
        if rate is None and self.rate is None:
            return 0.0
        per_second, burst = (self.rate, self.burst) if rate is None else (rate, max(1.0, rate))
        assert per_second is not None
        now = self.clock.monotonic()
        with self._lock:
            bucket = self._buckets.pop(key, None) or _Bucket(burst, now)
            self._buckets[key] = bucket
            if len(self._buckets) > self._max_keys:
                self._buckets.popitem(last=False)
            bucket.tokens = min(burst, bucket.tokens + (now - bucket.stamp) * per_second)
            bucket.stamp = now
            if bucket.tokens >= 1:
                bucket.tokens -= 1
                return 0.0
            return (1 - bucket.tokens) / per_second

    def check(self, key: str, rate: float | None = None) -> None:
        """Take one token for `key` (limited to its own `rate`, else the default) or raise OverloadedError."""
        wait = self.wait_time(key, rate)
        if wait > 0:
            limit = rate if rate is not None else self.rate
            raise OverloadedError(f"rate limit of {limit:g} requests per second exceeded for key {key}",
                                  retry_after=wait)
