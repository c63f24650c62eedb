"""An always-valid two-sample test (mixture SPRT) for A/B tests that are looked at whenever anyone likes.

The statistic is the normal-mixture sequential probability ratio of Johari, Koomen, Pekelis and
Walsh ("Always valid inference", 2017/2022) on the difference of two means, with the variance of
that difference estimated from the data:

    V = s_a^2 / n_a + s_b^2 / n_b,   d = mean_b - mean_a,   tau^2 = (effect * pooled sd)^2
    Lambda = sqrt(V / (V + tau^2)) * exp(d^2 tau^2 / (2 V (V + tau^2)))

`1 / Lambda` is a p-value that stays valid under continuous monitoring once the running minimum
is kept (stopping at the first look where it is <= alpha keeps the false-positive rate <= alpha),
and {d : Lambda(d) < 1 / alpha} is a confidence sequence. `effect` sets where power is greatest:
0.1 standard deviations suits conversion-like metrics. Every function takes arrays too, so
simulations run vectorised.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from modelport.foundation.errors import InvalidInputError

DEFAULT_EFFECT = 0.1
_TINY = 1e-12


@dataclass(frozen=True)
class ArmSummary:
    """Outcomes of one arm: how many, their mean and their (unbiased) variance."""

    n: int
    mean: float
    variance: float

    @classmethod
    def of(cls, outcomes: ArrayLike) -> ArmSummary:
        values = np.asarray(outcomes, dtype=np.float64).ravel()
        if len(values) == 0:
            return cls(0, 0.0, 0.0)
        return cls(len(values), float(values.mean()), float(values.var(ddof=1)) if len(values) > 1 else 0.0)


@dataclass(frozen=True)
class SequentialResult:
    """Where an A/B comparison of B against A stands."""

    n_a: int
    n_b: int
    mean_a: float
    mean_b: float
    difference: float
    low: float
    high: float
    p_value: float
    decision: str  # "b_better", "a_better" or "continue"

    @property
    def lift(self) -> float | None:
        """Relative lift of B over A (None when A's mean is 0)."""
        return None if self.mean_a == 0 else self.difference / abs(self.mean_a)

    def to_dict(self) -> dict[str, Any]:
        scale = abs(self.mean_a) if self.mean_a else None
        return {"n_a": self.n_a, "n_b": self.n_b, "mean_a": self.mean_a, "mean_b": self.mean_b,
                "difference": self.difference, "interval": [self.low, self.high], "p_value": self.p_value,
                "lift": self.lift,
                "lift_interval": [self.low / scale, self.high / scale] if scale else None,
                "decision": self.decision}


def mixture_statistic(n_a: ArrayLike, mean_a: ArrayLike, var_a: ArrayLike, n_b: ArrayLike, mean_b: ArrayLike,
                      var_b: ArrayLike, *, alpha: float = 0.05,
                      effect: float = DEFAULT_EFFECT) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """(p-value 1/Lambda at this look, half-width of the confidence sequence), elementwise over arrays."""
    _check(alpha, effect)
    na, nb = np.asarray(n_a, dtype=np.float64), np.asarray(n_b, dtype=np.float64)
    va, vb = np.asarray(var_a, dtype=np.float64), np.asarray(var_b, dtype=np.float64)
    variance = np.maximum(va / np.maximum(na, 1) + vb / np.maximum(nb, 1), _TINY)
    pooled = np.maximum((va * np.maximum(na - 1, 0) + vb * np.maximum(nb - 1, 0)) / np.maximum(na + nb - 2, 1), _TINY)
    tau2 = effect * effect * pooled
    difference = np.asarray(mean_b, dtype=np.float64) - np.asarray(mean_a, dtype=np.float64)
    log_lambda = 0.5 * np.log(variance / (variance + tau2)) + difference**2 * tau2 / (2 * variance * (variance + tau2))
    p_value = np.minimum(1.0, np.exp(-log_lambda))
    half = np.sqrt(variance * (variance + tau2) / tau2 * (2 * math.log(1 / alpha) + np.log((variance + tau2) / variance)))
    return p_value, half


def sequential_test(a: ArmSummary, b: ArmSummary, *, alpha: float = 0.05, effect: float = DEFAULT_EFFECT,
                    previous_p: float = 1.0, min_samples: int = 100) -> SequentialResult:
    """Look once more at an A/B test; `previous_p` is the running minimum from earlier looks."""
    if a.n < min_samples or b.n < min_samples:
        return SequentialResult(a.n, b.n, a.mean, b.mean, b.mean - a.mean, -math.inf, math.inf,
                                min(1.0, previous_p), "continue")
    p_now, half = mixture_statistic(a.n, a.mean, a.variance, b.n, b.mean, b.variance, alpha=alpha, effect=effect)
    p_value = min(float(p_now), previous_p)
    difference = b.mean - a.mean
    decision = "continue"
    if p_value <= alpha:
        decision = "b_better" if difference > 0 else "a_better"
    return SequentialResult(a.n, b.n, a.mean, b.mean, difference, difference - float(half), difference + float(half),
                            p_value, decision)


def _check(alpha: float, effect: float) -> None:
    if not 0 < alpha < 1:
        raise InvalidInputError(f"alpha must be in (0, 1), got {alpha!r}", field="alpha")
    if not effect > 0:
        raise InvalidInputError(f"effect must be > 0 (in standard deviations), got {effect!r}", field="effect")
