"""Multiple-testing corrections: Holm's step-down and Bonferroni's, both controlling the family-wise error."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from modelport.foundation.errors import InvalidInputError


def bonferroni(p_values: Sequence[float], alpha: float = 0.05) -> list[bool]:
    """Which hypotheses Bonferroni rejects at family-wise level `alpha`."""
    _check_alpha(alpha)
    count = len(p_values)
    return [p <= alpha / count for p in p_values]


def holm(p_values: Sequence[float], alpha: float = 0.05) -> list[bool]:
    """Which hypotheses Holm's step-down procedure rejects at family-wise level `alpha`."""
    _check_alpha(alpha)
    return [p <= alpha for p in holm_adjusted(p_values)]


def holm_adjusted(p_values: Sequence[float]) -> list[float]:
    """Holm-adjusted p-values (as `statsmodels.multipletests(method="holm")` computes them)."""
    values = np.asarray(p_values, dtype=np.float64)
    count = len(values)
    if count == 0:
        return []
    order = np.argsort(values, kind="stable")
    scaled = (count - np.arange(count)) * values[order]
    adjusted_sorted = np.minimum(np.maximum.accumulate(scaled), 1.0)
    adjusted = np.empty(count)
    adjusted[order] = adjusted_sorted
    return [float(v) for v in adjusted]


def bonferroni_adjusted(p_values: Sequence[float]) -> list[float]:
    """Bonferroni-adjusted p-values: each times the number of tests, capped at 1."""
    count = len(p_values)
    return [min(1.0, float(p) * count) for p in p_values]


def _check_alpha(alpha: float) -> None:
    if not 0 < alpha < 1:
        raise InvalidInputError(f"alpha must be between 0 and 1, got {alpha}", field="alpha")
