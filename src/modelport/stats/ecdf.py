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
    """The finite values of `values` as a new sorted float64 array (NaN and +-inf dropped)."""
    array = np.asarray(values, dtype=np.float64).ravel()
    finite = np.isfinite(array)
    # Skipping the boolean copy when nothing is missing saves a pass over million-row columns.
    return np.sort(array if finite.all() else array[finite])


def compare_sorted(reference: Floats, current: Floats) -> EcdfComparison:
    """KS and Wasserstein distances of two sorted, finite, non-empty samples.

    The KS distance is read at the reference's distinct values (right values and left limits),
    which is where the supremum of |F_ref - F_cur| is attained: O(n log m). The Wasserstein distance
    integrates |Q_ref - Q_cur| over the quantile axis in one vectorised pass over the larger sample.
    """
    n, m = len(reference), len(current)
    if n == 0 or m == 0:
        raise InvalidInputError("compare_sorted needs two non-empty samples", field="sample")
    return EcdfComparison(ks_distance_sorted(reference, current), wasserstein_sorted(reference, current), n, m)


def ks_distance_sorted(reference: Floats, current: Floats) -> float:
    """sup |F_ref - F_cur| of two sorted samples, evaluated where it can be attained."""
    n, m = len(reference), len(current)
    starts = np.flatnonzero(np.concatenate([[True], reference[1:] != reference[:-1]]))
    distinct = reference[starts]
    ref_left = starts / n
    ref_right = np.append(starts[1:], n) / n
    below = np.searchsorted(current, distinct, side="left")
    at_most = below.copy()
    # Only values the current sample also holds need a second search (rare for continuous data).
    tied = np.flatnonzero(current[np.minimum(below, m - 1)] == distinct)
    at_most[tied] = np.searchsorted(current, distinct[tied], side="right")
    return float(max(np.abs(ref_right - at_most / m).max(), np.abs(ref_left - below / m).max()))


def wasserstein_sorted(reference: Floats, current: Floats) -> float:
    """1-Wasserstein distance of two sorted samples: the integral of |Q_a(t) - Q_b(t)| over t in (0, 1)."""
    small, large = (reference, current) if len(reference) <= len(current) else (current, reference)
    n, m = len(small), len(large)
    # Quantile cell j of the larger sample, (j/m, (j+1)/m], lies in cell floor(jn/m) of the smaller
    # one, except where a boundary i/n of the smaller falls strictly inside it (m >= n: at most one).
    i = np.arange(n + 1, dtype=np.int64)
    first_cell = -((-i * m) // n)
    repeated = np.repeat(small, np.diff(first_cell))
    total = float(np.abs(large - repeated).sum()) / m
    inner = i[1:-1]
    cell = (inner * m) // n
    straddle = (inner * m) % n != 0
    inner, cell = inner[straddle], cell[straddle]
    values = large[cell]
    # Re-charge the part of the cell above the boundary to the next quantile of the smaller sample.
    moved = np.abs(values - small[inner]) - np.abs(values - small[inner - 1])
    return total + float(np.sum(moved * ((cell + 1) / m - inner / n)))


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
