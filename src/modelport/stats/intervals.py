"""Confidence intervals: Wilson for proportions, Student's t for means, percentile bootstrap for anything."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from modelport.foundation.errors import InvalidInputError


@dataclass(frozen=True)
class Interval:
    """A two-sided interval at a confidence level."""

    low: float
    high: float
    confidence: float

    def to_dict(self) -> dict[str, float]:
        return {"low": self.low, "high": self.high, "confidence": self.confidence}


def wilson_interval(successes: int, total: int, *, confidence: float = 0.95) -> Interval:
    """Wilson score interval of a proportion (good near 0 and 1, unlike the normal approximation)."""
    _check_confidence(confidence)
    if total <= 0 or not 0 <= successes <= total:
        raise InvalidInputError(f"need 0 <= successes <= total and total > 0, got {successes} of {total}", field="total")
    z = _z(confidence)
    share = successes / total
    denominator = 1 + z * z / total
    centre = (share + z * z / (2 * total)) / denominator
    half = z * math.sqrt(share * (1 - share) / total + z * z / (4 * total * total)) / denominator
    return Interval(max(0.0, centre - half), min(1.0, centre + half), confidence)


def mean_interval(values: ArrayLike, *, confidence: float = 0.95) -> Interval:
    """Student's t interval of a mean (the point when there is one value)."""
    from scipy.stats import t

    _check_confidence(confidence)
    array = np.asarray(values, dtype=np.float64).ravel()
    if len(array) == 0:
        raise InvalidInputError("mean_interval needs at least one value", field="values")
    mean = float(array.mean())
    if len(array) == 1:
        return Interval(mean, mean, confidence)
    half = float(t.ppf((1 + confidence) / 2, len(array) - 1) * array.std(ddof=1) / math.sqrt(len(array)))
    return Interval(mean - half, mean + half, confidence)


def bootstrap_interval(
    statistic: Callable[[np.ndarray], float],
    columns: Sequence[ArrayLike],
    *,
    confidence: float = 0.95,
    resamples: int = 200,
    seed: int = 0,
) -> Interval:
    """Percentile bootstrap of `statistic(rows)` over rows resampled jointly from `columns`.

    `statistic` receives an index array into the columns; resamples where it fails (say, one class
    only for ROC AUC) are skipped. Deterministic for a given `seed`.
    """
    _check_confidence(confidence)
    size = len(np.asarray(columns[0]))
    if size == 0:
        raise InvalidInputError("bootstrap_interval needs at least one row", field="columns")
    rng = np.random.default_rng(seed)
    values = [v for v in (_safe(statistic, rng.integers(0, size, size)) for _ in range(resamples)) if v is not None]
    if not values:
        return Interval(math.nan, math.nan, confidence)
    tail = (1 - confidence) / 2 * 100
    low, high = np.percentile(values, [tail, 100 - tail])
    return Interval(float(low), float(high), confidence)


def _safe(statistic: Callable[[np.ndarray], float], index: np.ndarray) -> float | None:
    try:
        value = float(statistic(index))
    except (ValueError, ZeroDivisionError, FloatingPointError):
        return None
    return value if math.isfinite(value) else None


def _z(confidence: float) -> float:
    from scipy.stats import norm

    return float(norm.ppf((1 + confidence) / 2))


def _check_confidence(confidence: float) -> None:
    if not 0 < confidence < 1:
        raise InvalidInputError(f"confidence must be between 0 and 1, got {confidence}", field="confidence")
