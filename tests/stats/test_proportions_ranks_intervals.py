"""Two-proportion test, Mann-Whitney wrapper and confidence intervals against scipy and textbook values."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats as sps

from modelport.foundation.errors import InvalidInputError
from modelport.stats.intervals import bootstrap_interval, mean_interval, wilson_interval
from modelport.stats.proportions import two_proportion_test
from modelport.stats.ranks import mann_whitney


def test_two_proportion_z_squared_is_the_2x2_chi_squared() -> None:
    result = two_proportion_test(45, 500, 30, 520)
    chi2 = sps.chi2_contingency([[45, 455], [30, 490]], correction=False)
    assert result.statistic**2 == pytest.approx(chi2.statistic, rel=1e-9)
    assert result.p_value == pytest.approx(chi2.pvalue, rel=1e-9)


def test_two_proportion_one_sided() -> None:
    larger = two_proportion_test(60, 500, 30, 500, alternative="larger")
    smaller = two_proportion_test(60, 500, 30, 500, alternative="smaller")
    assert larger.p_value < 0.01 < smaller.p_value
    assert larger.p_value + smaller.p_value == pytest.approx(1.0)
    assert two_proportion_test(0, 10, 0, 10).p_value == 1.0


@pytest.mark.parametrize(("args", "kwargs", "match"), [
    ((5, 0, 1, 10), {}, "sample a"), ((1, 10, 11, 10), {}, "sample b"), ((1, 10, 1, 10), {"alternative": "up"}, "alternative"),
])
def test_two_proportion_bad_input(args: tuple[int, int, int, int], kwargs: dict[str, str], match: str) -> None:
    with pytest.raises(InvalidInputError, match=match):
        two_proportion_test(*args, **kwargs)


def test_mann_whitney_matches_scipy_and_reports_auc() -> None:
    rng = np.random.default_rng(1)
    a, b = rng.normal(0.3, 1, 300), rng.normal(0, 1, 250)
    expected = sps.mannwhitneyu(a, b)
    got = mann_whitney(a, b)
    assert got.p_value == pytest.approx(float(expected.pvalue), rel=1e-9)
    assert got.details["auc"] == pytest.approx(float(expected.statistic) / (300 * 250))
    with pytest.raises(InvalidInputError, match="sample b"):
        mann_whitney(a, [np.nan])
    with pytest.raises(InvalidInputError, match="alternative"):
        mann_whitney(a, b, alternative="sideways")


def test_wilson_interval_golden() -> None:
    # Wilson 95 % interval for 8 of 10: (0.4902, 0.9433) (Newcombe 1998, table I style)
    interval = wilson_interval(8, 10)
    assert (interval.low, interval.high) == pytest.approx((0.49016, 0.94332), abs=1e-5)
    assert wilson_interval(0, 20).low == 0.0
    with pytest.raises(InvalidInputError, match="successes"):
        wilson_interval(3, 2)
    with pytest.raises(InvalidInputError, match="confidence"):
        wilson_interval(1, 2, confidence=95)


def test_mean_interval_matches_scipy_t() -> None:
    values = np.array([1.0, 2.0, 4.0, 7.0])
    low, high = sps.t.interval(0.9, 3, loc=values.mean(), scale=sps.sem(values))
    got = mean_interval(values, confidence=0.9)
    assert (got.low, got.high) == pytest.approx((low, high), rel=1e-9)
    assert mean_interval([3.0]).low == 3.0
    with pytest.raises(InvalidInputError, match="at least one"):
        mean_interval([])


def test_bootstrap_interval_covers_the_mean_and_is_deterministic() -> None:
    values = np.random.default_rng(2).normal(5, 1, 400)
    first = bootstrap_interval(lambda idx: float(values[idx].mean()), [values], seed=4)
    assert first.low < 5.0 < first.high
    assert first == bootstrap_interval(lambda idx: float(values[idx].mean()), [values], seed=4)
    failing = bootstrap_interval(lambda idx: 1 / 0, [values], resamples=5)
    assert np.isnan(failing.low)
    with pytest.raises(InvalidInputError, match="at least one row"):
        bootstrap_interval(lambda idx: 0.0, [np.empty(0)])
