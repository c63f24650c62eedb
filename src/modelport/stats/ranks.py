"""Mann-Whitney U test with its effect size, for latencies and scores that are far from normal."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from modelport.foundation.errors import InvalidInputError
from modelport.stats.results import TestResult


def mann_whitney(a: ArrayLike, b: ArrayLike, *, alternative: str = "two-sided") -> TestResult:
    """Mann-Whitney U of `a` vs `b` (scipy, asymptotic with tie correction for large samples).

    Details: `auc` = P(a > b) + P(a = b) / 2 (the common-language effect) and `rank_biserial` = 2 auc - 1.
    """
    from scipy.stats import mannwhitneyu

    x, y = _finite(a, "a"), _finite(b, "b")
    if alternative not in ("two-sided", "less", "greater"):
        raise InvalidInputError(f"alternative {alternative!r}: use two-sided, less or greater", field="alternative")
    result = mannwhitneyu(x, y, alternative=alternative)
    auc = float(result.statistic) / (len(x) * len(y))
    return TestResult(float(result.statistic), float(result.pvalue), {"auc": auc, "rank_biserial": 2 * auc - 1})


def _finite(values: ArrayLike, which: str) -> np.ndarray:
    array = np.asarray(values, dtype=np.float64).ravel()
    array = array[np.isfinite(array)]
    if len(array) == 0:
        raise InvalidInputError(f"sample {which} has no finite values", field=f"sample_{which}")
    return array
