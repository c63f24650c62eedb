"""The latency guardrail alone: a shift of the whole distribution, or a new tail measured on enough requests."""

from __future__ import annotations

import numpy as np
import pytest

from modelport.foundation.errors import InvalidInputError
from modelport.rollout.guardrails import Guardrails, latency


def _fast(n: int, seed: int) -> np.ndarray:
    return 5.0 + np.random.default_rng(seed).exponential(0.5, n)


def test_one_pause_among_few_requests_does_not_roll_back() -> None:
    canary = _fast(60, 1)
    canary[7] = 250.0  # a garbage-collection or scheduler pause: the p99 of 60 requests is about their maximum
    verdict = latency(canary, _fast(60, 2), Guardrails())
    assert verdict["status"] == "pass" and verdict["p99_ratio"] > 1.5


def test_a_new_tail_on_enough_requests_rolls_back() -> None:
    canary = _fast(400, 3)
    canary[::40] = 120.0  # 2.5% of requests become slow: the median barely moves, the p99 does
    verdict = latency(canary, _fast(400, 4), Guardrails())
    assert verdict["status"] == "fail" and verdict["auc"] < 0.6 and verdict["p99_ratio"] > 1.5


def test_a_shift_of_the_whole_distribution_rolls_back_even_on_few_requests() -> None:
    verdict = latency(_fast(40, 5) + 30.0, _fast(40, 6), Guardrails())
    assert verdict["status"] == "fail" and verdict["auc"] > 0.9


def test_the_tail_bound_is_configurable_and_checked() -> None:
    canary = _fast(60, 7)
    canary[3] = 250.0
    assert latency(canary, _fast(60, 8), Guardrails(min_tail_samples=50))["status"] == "fail"
    with pytest.raises(InvalidInputError, match="min_tail_samples must be >= 0"):
        Guardrails(min_tail_samples=-1)
