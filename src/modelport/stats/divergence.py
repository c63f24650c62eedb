"""Distances between binned distributions: Jensen-Shannon and the population stability index."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

#: Share given to an empty bin before PSI's logarithm (the convention of most PSI tools).
PSI_EPSILON = 1e-4


def shares(counts: ArrayLike) -> NDArray[np.float64]:
    """Counts as shares summing to one (all zeros stay zeros)."""
    array = np.asarray(counts, dtype=np.float64)
    total = array.sum()
    return array / total if total > 0 else array


def js_distance(p: ArrayLike, q: ArrayLike) -> float:
    """Jensen-Shannon distance in base 2 (0 identical .. 1 disjoint); equals scipy's `jensenshannon(p, q, base=2)`."""
    left, right = shares(p), shares(q)
    middle = (left + right) / 2
    divergence = (_kl_bits(left, middle) + _kl_bits(right, middle)) / 2
    return float(np.sqrt(max(divergence, 0.0)))


def _kl_bits(p: NDArray[np.float64], q: NDArray[np.float64]) -> float:
    mask = p > 0
    return float(np.sum(p[mask] * np.log2(p[mask] / q[mask])))


def psi(reference: ArrayLike, current: ArrayLike, *, epsilon: float = PSI_EPSILON) -> float:
    """Population stability index: sum((cur - ref) * ln(cur / ref)) over bins, empty bins set to `epsilon`."""
    ref = np.clip(shares(reference), epsilon, None)
    cur = np.clip(shares(current), epsilon, None)
    return float(np.sum((cur - ref) * np.log(cur / ref)))


def quantile_edges(sorted_values: NDArray[np.float64], bins: int = 10) -> NDArray[np.float64]:
    """Inner bin edges at the reference's quantiles (duplicates dropped), for `binned_counts`."""
    if len(sorted_values) == 0:
        return np.empty(0)
    quantiles = np.quantile(sorted_values, np.linspace(0, 1, bins + 1)[1:-1])
    return np.unique(quantiles)


def binned_counts(sorted_values: NDArray[np.float64], edges: NDArray[np.float64]) -> NDArray[np.int64]:
    """Counts of a sorted sample in the bins (-inf, e1], (e1, e2], ..., (ek, inf)."""
    cuts = np.searchsorted(sorted_values, edges, side="right")
    bounds = np.concatenate([[0], cuts, [len(sorted_values)]])
    return np.diff(bounds).astype(np.int64)
