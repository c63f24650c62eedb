"""Two-sample comparisons of numeric samples through their empirical distribution functions.

The reference side of a drift check is sorted once (in its profile), so these functions take
sorted arrays and do the rest in linear time after one sort of the current sample: the two
samples are merged with `searchsorted` + `insert`, and the KS distance and the Wasserstein
distance are both read off the cumulative counts of that merge.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from modelport.foundation.errors import InvalidInputError
from modelport.stats.results import TestResult

#: Up to this many rows per sample scipy's `ks_2samp(method="auto")` uses the exact distribution.
EXACT_KS_MAX_ROWS = 10_000

Floats = NDArray[np.float64]


@dataclass(frozen=True)
class EcdfComparison:
    """KS distance and 1-Wasserstein distance between two samples, with their sizes."""

    ks: float
    wasserstein: float
    n_reference: int
    n_current: int


def sorted_finite(values: ArrayLike) -> Floats:
    """The finite values of `values` as a sorted float64 array (NaN and +-inf dropped)."""
    array = np.asarray(values, dtype=np.float64).ravel()
    return np.sort(array[np.isfinite(array)])


def compare_sorted(reference: Floats, current: Floats) -> EcdfComparison:
    """KS and Wasserstein distances of two sorted, finite, non-empty samples in one linear pass."""
    n, m = len(reference), len(current)
    if n == 0 or m == 0:
        raise InvalidInputError("compare_sorted needs two non-empty samples", field="sample")
    positions = np.searchsorted(current, reference, side="left")
    merged = np.insert(current, positions, reference)
    is_reference = np.zeros(n + m, dtype=np.int64)
    is_reference[positions + np.arange(n)] = 1
    count_reference = np.cumsum(is_reference)
    count_current = np.arange(1, n + m + 1) - count_reference
    # The ECDFs are right-continuous: read them at the last element of each run of equal values.
    last_of_run = np.empty(n + m, dtype=bool)
    np.not_equal(merged[1:], merged[:-1], out=last_of_run[:-1])
    last_of_run[-1] = True
    gap = np.abs(count_reference / n - count_current / m)
    ks = float(gap[last_of_run].max())
    wasserstein = float(np.dot(gap[:-1], np.diff(merged)))
    return EcdfComparison(ks=ks, wasserstein=wasserstein, n_reference=n, n_current=m)


def ks_p_value(statistic: float, n_reference: int, n_current: int) -> float:
    """Two-sided p-value of a two-sample KS distance by Smirnov's asymptotic law (scipy's "asymp")."""
    from scipy.stats import kstwo

    big, small = sorted([float(n_reference), float(n_current)], reverse=True)
    effective = np.round(big * small / (big + small))
    return float(np.clip(kstwo.sf(statistic, effective), 0.0, 1.0))


def ks_2samp(reference: ArrayLike, current: ArrayLike) -> TestResult:
    """Two-sided two-sample KS test; agrees with `scipy.stats.ks_2samp(method="auto")`.

    Exact p-values up to 10,000 rows per sample, Smirnov's asymptotic law above. NaN are dropped.
    """
    ref, cur = sorted_finite(reference), sorted_finite(current)
    return ks_sorted(ref, cur)


def ks_sorted(reference: Floats, current: Floats) -> TestResult:
    """`ks_2samp` for samples that are already sorted and finite (the drift engine's fast path)."""
    if len(reference) == 0 or len(current) == 0:
        raise InvalidInputError("the KS test needs two non-empty samples (all values were missing?)", field="sample")
    if max(len(reference), len(current)) <= EXACT_KS_MAX_ROWS:
        from scipy.stats import ks_2samp as scipy_ks

        exact = scipy_ks(reference, current, method="auto")
        return TestResult(float(exact.statistic), float(exact.pvalue), {"method": "exact"})
    distance = compare_sorted(reference, current).ks
    return TestResult(distance, ks_p_value(distance, len(reference), len(current)), {"method": "asymp"})


def wasserstein_normed(reference: ArrayLike, current: ArrayLike) -> float:
    """1-Wasserstein distance divided by the reference's standard deviation (0 when it is constant)."""
    ref, cur = sorted_finite(reference), sorted_finite(current)
    return normed(compare_sorted(ref, cur).wasserstein, float(np.std(ref)))


def normed(distance: float, scale: float) -> float:
    """`distance / scale`, or the raw distance when the scale is zero (a constant reference)."""
    return distance / scale if scale > 0 else distance
