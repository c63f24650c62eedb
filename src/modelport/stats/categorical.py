"""Comparing categorical samples: chi-squared test of homogeneity and total variation distance.

The test is one of homogeneity -- a 2 x K contingency table of reference and current counts --
not a goodness-of-fit test of the current counts against reference proportions: the latter treats
the reference shares as exact, and with many categories and a finite reference sample it rejects
far more often than its alpha. Categories whose expected count falls below `min_expected` are
merged into one "other" bucket so that the chi-squared approximation holds; categories the
reference never saw keep a bucket of their own so that they stay visible.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from modelport.stats.results import TestResult

OTHER = "__other__"
UNSEEN = "__unseen__"


@dataclass(frozen=True)
class CountTable:
    """Aligned reference and current counts over the same buckets."""

    buckets: tuple[str, ...]
    reference: tuple[int, ...]
    current: tuple[int, ...]


def align_counts(reference: Mapping[str, int], current: Mapping[str, int]) -> CountTable:
    """Put both samples' counts over the reference categories plus one bucket for unseen ones."""
    buckets = [str(k) for k in reference]
    seen = set(buckets)
    unseen = sum(int(v) for k, v in current.items() if str(k) not in seen)
    cur = [int(current.get(k, 0)) for k in reference]
    ref = [int(v) for v in reference.values()]
    if unseen:
        buckets.append(UNSEEN)
        ref.append(0)
        cur.append(unseen)
    return CountTable(tuple(buckets), tuple(ref), tuple(cur))


def merge_rare(table: CountTable, min_expected: float = 5.0) -> CountTable:
    """Merge buckets with an expected count below `min_expected` (in either row) into one "other" bucket.

    The unseen bucket is never merged. If the merged bucket itself stays rare it is folded into the
    smallest remaining bucket, so every expected count of the result passes the rule when possible.
    """
    ref, cur = np.asarray(table.reference, float), np.asarray(table.current, float)
    total_ref, total_cur = ref.sum(), cur.sum()
    if total_ref == 0 or total_cur == 0:
        return table
    column = ref + cur
    smaller_row = min(total_ref, total_cur) / (total_ref + total_cur)
    rare = (column * smaller_row < min_expected) & (np.asarray(table.buckets) != UNSEEN)
    if rare.sum() <= 1:
        return table
    keep = ~rare
    buckets = [b for b, k in zip(table.buckets, keep, strict=True) if k] + [OTHER]
    new_ref = [*ref[keep].astype(int).tolist(), int(ref[rare].sum())]
    new_cur = [*cur[keep].astype(int).tolist(), int(cur[rare].sum())]
    merged = CountTable(tuple(buckets), tuple(new_ref), tuple(new_cur))
    return _fold_small_other(merged, smaller_row, min_expected)


def _fold_small_other(table: CountTable, smaller_row: float, min_expected: float) -> CountTable:
    last = len(table.buckets) - 1
    if (table.reference[last] + table.current[last]) * smaller_row >= min_expected or last < 2:
        return table
    candidates = [i for i in range(last) if table.buckets[i] != UNSEEN]
    if not candidates:
        return table
    target = min(candidates, key=lambda i: table.reference[i] + table.current[i])
    ref, cur = list(table.reference), list(table.current)
    ref[target] += ref.pop()
    cur[target] += cur.pop()
    buckets = list(table.buckets[:last])
    buckets[target] = OTHER
    return CountTable(tuple(buckets), tuple(ref), tuple(cur))


def chi2_homogeneity(reference: Mapping[str, int], current: Mapping[str, int], *, min_expected: float = 5.0) -> TestResult:
    """Chi-squared test that two samples share one categorical distribution.

    Agrees with `scipy.stats.chi2_contingency([ref, cur], correction=False)` on the merged table;
    `details` holds the degrees of freedom and the buckets used. One bucket left: statistic 0, p 1.
    """
    table = merge_rare(align_counts(reference, current), min_expected)
    return chi2_table(np.asarray([table.reference, table.current], dtype=float), buckets=table.buckets)


def chi2_table(observed: np.ndarray, *, buckets: tuple[str, ...] = ()) -> TestResult:
    """Pearson's chi-squared test of homogeneity on an R x K table of counts (no continuity correction)."""
    from scipy.stats import chi2

    observed = observed[:, observed.sum(axis=0) > 0]
    rows, columns = observed.shape
    if rows < 2 or columns < 2 or (observed.sum(axis=1) == 0).any():
        return TestResult(0.0, 1.0, {"dof": 0, "buckets": list(buckets)})
    expected = np.outer(observed.sum(axis=1), observed.sum(axis=0)) / observed.sum()
    statistic = float(((observed - expected) ** 2 / expected).sum())
    dof = (rows - 1) * (columns - 1)
    return TestResult(statistic, float(chi2.sf(statistic, dof)), {"dof": dof, "buckets": list(buckets)})


def total_variation(reference: Mapping[str, int], current: Mapping[str, int]) -> float:
    """Total variation distance between two count mappings (half the L1 distance of their shares)."""
    table = align_counts(reference, current)
    ref, cur = np.asarray(table.reference, float), np.asarray(table.current, float)
    if ref.sum() == 0 or cur.sum() == 0:
        return 0.0
    return float(0.5 * np.abs(ref / ref.sum() - cur / cur.sum()).sum())
