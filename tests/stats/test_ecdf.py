"""KS and Wasserstein against scipy, on exact and asymptotic sample sizes, with ties and NaN."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats as sps

from modelport.foundation.errors import InvalidInputError
from modelport.stats.ecdf import compare_sorted, ks_2samp, ks_sorted, sorted_finite, wasserstein_normed

RNG = np.random.default_rng(7)
CASES = [
    ("small", RNG.normal(size=80), RNG.normal(0.3, 1, size=120)),
    ("exact-limit", RNG.normal(size=10_000), RNG.normal(0.02, 1, size=3_000)),
    ("asymp", RNG.normal(size=20_000), RNG.normal(0.01, 1.1, size=50_000)),
    ("ties", RNG.integers(0, 5, size=15_000).astype(float), RNG.integers(0, 6, size=12_000).astype(float)),
    ("identical", np.arange(50.0), np.arange(50.0)),
]


@pytest.mark.parametrize(("label", "ref", "cur"), CASES, ids=[c[0] for c in CASES])
def test_ks_matches_scipy(label: str, ref: np.ndarray, cur: np.ndarray) -> None:
    expected = sps.ks_2samp(ref, cur, method="auto")
    got = ks_2samp(ref, cur)
    assert got.statistic == pytest.approx(float(expected.statistic), abs=1e-12)
    assert got.p_value == pytest.approx(float(expected.pvalue), rel=1e-9, abs=1e-12)


@pytest.mark.parametrize(("label", "ref", "cur"), CASES, ids=[c[0] for c in CASES])
def test_linear_pass_matches_scipy_distances(label: str, ref: np.ndarray, cur: np.ndarray) -> None:
    both = compare_sorted(np.sort(ref), np.sort(cur))
    assert both.ks == pytest.approx(float(sps.ks_2samp(ref, cur).statistic), abs=1e-12)
    assert both.wasserstein == pytest.approx(sps.wasserstein_distance(ref, cur), rel=1e-9, abs=1e-12)


def test_wasserstein_normed_divides_by_reference_std() -> None:
    ref, cur = RNG.normal(0, 2, 500), RNG.normal(1, 2, 700)
    expected = sps.wasserstein_distance(ref, cur) / np.std(ref)
    assert wasserstein_normed(ref, cur) == pytest.approx(expected, rel=1e-9)


def test_constant_reference_is_not_a_division_by_zero() -> None:
    assert wasserstein_normed(np.ones(10), np.full(10, 3.0)) == pytest.approx(2.0)


def test_nan_and_infinities_are_dropped() -> None:
    ref = np.array([1.0, np.nan, 2.0, np.inf, 3.0])
    assert sorted_finite(ref).tolist() == [1.0, 2.0, 3.0]
    assert ks_2samp(ref, [1.0, 2.0, 3.0]).statistic == 0.0


def test_empty_sample_is_refused_with_a_reason() -> None:
    with pytest.raises(InvalidInputError, match="non-empty"):
        ks_2samp([np.nan], [1.0, 2.0])
    with pytest.raises(InvalidInputError, match="non-empty"):
        ks_sorted(np.empty(0), np.ones(3))
    with pytest.raises(InvalidInputError, match="non-empty"):
        compare_sorted(np.ones(3), np.empty(0))


def test_ks_false_alarms_near_alpha_and_finds_planted_shift() -> None:
    rng = np.random.default_rng(11)
    null = [ks_2samp(rng.normal(size=300), rng.normal(size=200)).p_value < 0.05 for _ in range(400)]
    shifted = [ks_2samp(rng.normal(size=300), rng.normal(0.5, 1, size=200)).p_value < 0.05 for _ in range(50)]
    assert 0.02 <= np.mean(null) <= 0.08
    assert np.mean(shifted) >= 0.95
