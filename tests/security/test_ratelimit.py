"""Token-bucket rate limits per key on a manual clock."""

from __future__ import annotations

import pytest

from modelport.foundation.clock import ManualClock
from modelport.foundation.errors import InvalidInputError, OverloadedError
from modelport.security.ratelimit import RateLimiter


def test_burst_then_refill() -> None:
    clock = ManualClock()
    limiter = RateLimiter(2, burst=3, clock=clock)
    assert [limiter.wait_time("k") for _ in range(3)] == [0, 0, 0]
    assert limiter.wait_time("k") == pytest.approx(0.5)
    clock.advance(0.5)
    assert limiter.wait_time("k") == 0
    with pytest.raises(OverloadedError, match="rate limit of 2 requests per second exceeded for key k") as info:
        limiter.check("k")
    assert info.value.retry_after == pytest.approx(0.5)


def test_keys_have_separate_buckets() -> None:
    limiter = RateLimiter(1, clock=ManualClock())
    limiter.check("a")
    limiter.check("b")
    with pytest.raises(OverloadedError, match="for key a"):
        limiter.check("a")


def test_idle_time_does_not_bank_more_than_the_burst() -> None:
    clock = ManualClock()
    limiter = RateLimiter(1, burst=2, clock=clock)
    limiter.check("k")
    clock.advance(3600)
    assert [limiter.wait_time("k") for _ in range(3)][:2] == [0, 0]


def test_the_number_of_tracked_keys_is_bounded() -> None:
    limiter = RateLimiter(1, clock=ManualClock(), max_keys=10)
    for i in range(100):
        limiter.check(f"k{i}")
    assert len(limiter._buckets) == 10


@pytest.mark.parametrize(("rate", "burst", "message"), [(0, None, "rate limit must be positive"),
                                                         (-1, None, "rate limit must be positive"),
                                                         (1, 0.5, "burst must be at least 1")])
def test_bad_settings_are_refused(rate: float, burst: float | None, message: str) -> None:
    with pytest.raises(InvalidInputError, match=message):
        RateLimiter(rate, burst)


def test_a_key_with_its_own_rate_uses_it_and_keys_without_one_the_default() -> None:
    clock = ManualClock()
    limiter = RateLimiter(1, clock=clock)
    assert [limiter.wait_time("fast", 5) for _ in range(5)] == [0] * 5  # its own burst: one second of its rate
    with pytest.raises(OverloadedError, match="rate limit of 5 requests per second exceeded for key fast"):
        limiter.check("fast", 5)
    limiter.check("slow")
    with pytest.raises(OverloadedError, match="rate limit of 1 requests per second"):
        limiter.check("slow")
    clock.advance(0.2)
    limiter.check("fast", 5)


def test_without_a_default_only_keys_with_their_own_rate_are_limited() -> None:
    limiter = RateLimiter(None, clock=ManualClock())
    assert all(limiter.wait_time("free") == 0 for _ in range(1000))
    limiter.check("capped", 1)
    with pytest.raises(OverloadedError, match="for key capped"):
        limiter.check("capped", 1)
