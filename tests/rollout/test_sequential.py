"""The always-valid sequential test: golden values, false positives on A/A under peeking, power on A/B."""

from __future__ import annotations

import math

import numpy as np
import pytest

from modelport.foundation.errors import InvalidInputError
from modelport.rollout.sequential import ArmSummary, mixture_statistic, sequential_test

ALPHA = 0.05


def _simulate(p_a: float, p_b: float, *, sims: int = 2000, looks: int = 40, per_look: int = 100,
              seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Peek after every `per_look` users per arm; return (rejected?, difference at the first rejection)."""
    rng = np.random.default_rng(seed)
    n = per_look * np.arange(1, looks + 1)
    mean_a = rng.binomial(per_look, p_a, size=(sims, looks)).cumsum(axis=1) / n
    mean_b = rng.binomial(per_look, p_b, size=(sims, looks)).cumsum(axis=1) / n
    var_a, var_b = mean_a * (1 - mean_a) * n / (n - 1), mean_b * (1 - mean_b) * n / (n - 1)
    p_value, _ = mixture_statistic(n, mean_a, var_a, n, mean_b, var_b, alpha=ALPHA)
    rejected = np.minimum.accumulate(p_value, axis=1) <= ALPHA
    first = rejected.argmax(axis=1)
    return rejected.any(axis=1), (mean_b - mean_a)[np.arange(sims), first]


def test_aa_false_positive_rate_stays_below_alpha_however_often_it_is_looked_at() -> None:
    for seed, rate in enumerate((0.05, 0.3, 0.7)):
        rejected, _ = _simulate(rate, rate, seed=seed)
        assert rejected.mean() <= ALPHA  # 40 peeks each: a fixed-horizon z-test would reach ~25%


def test_a_known_lift_is_found_in_the_right_direction() -> None:
    rejected, difference = _simulate(0.70, 0.75, seed=7)
    assert rejected.mean() > 0.95
    assert np.all(difference[rejected] > 0)  # every decision names B, the truly better arm
    rejected, difference = _simulate(0.40, 0.35, seed=8)
    assert rejected.mean() > 0.9 and np.all(difference[rejected] < 0)


def test_golden_value_of_the_mixture_ratio() -> None:
    v = 0.25 / 1000 + 0.21 / 1000
    tau2 = 0.01 * (0.25 * 999 + 0.21 * 999) / 1998
    d = 0.05
    expected = 1 / (math.sqrt(v / (v + tau2)) * math.exp(d * d * tau2 / (2 * v * (v + tau2))))
    p_value, half = mixture_statistic(1000, 0.5, 0.25, 1000, 0.55, 0.21, alpha=0.05, effect=0.1)
    assert float(p_value) == pytest.approx(expected, rel=1e-12)
    assert float(half) == pytest.approx(math.sqrt(v * (v + tau2) / tau2 * (2 * math.log(20) + math.log((v + tau2) / v))))


def test_the_result_reports_lift_interval_and_keeps_the_running_minimum() -> None:
    rng = np.random.default_rng(3)
    a = ArmSummary.of(rng.binomial(1, 0.5, 4000))
    b = ArmSummary.of(rng.binomial(1, 0.6, 4000))
    result = sequential_test(a, b)
    assert result.decision == "b_better" and result.low > 0 and result.low < result.difference < result.high
    shown = result.to_dict()
    assert shown["lift"] == pytest.approx(result.difference / a.mean)
    assert shown["lift_interval"][0] > 0
    later = sequential_test(a, a, previous_p=0.01)
    assert (later.p_value == 0.01 and later.decision == "a_better") or later.p_value == 0.01


def test_too_few_samples_means_continue_and_bad_settings_are_refused() -> None:
    small = sequential_test(ArmSummary.of([1, 0, 1]), ArmSummary.of([1, 1, 1]))
    assert small.decision == "continue" and small.p_value == 1.0 and small.lift == pytest.approx(0.5)
    with pytest.raises(InvalidInputError, match="alpha"):
        mixture_statistic(10, 0.5, 0.25, 10, 0.5, 0.25, alpha=1.5)
    with pytest.raises(InvalidInputError, match="effect"):
        mixture_statistic(10, 0.5, 0.25, 10, 0.5, 0.25, effect=0)
    assert ArmSummary.of([]).n == 0
