"""Thompson sampling over versions: traffic follows the probability that each arm is the best.

Rewards from feedback are either binary (correct / converted: Beta(1 + s, 1 + f) posteriors) or
continuous (a business reward: a normal posterior of the mean with the arm's sample variance).
An exploration floor keeps every arm learning, so a version that was unlucky early can recover.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from modelport.foundation.errors import InvalidInputError

DEFAULT_FLOOR = 0.05
DRAWS = 4000


@dataclass(frozen=True)
class Arm:
    """What is known of one version: rewards observed, their sum and sum of squares."""

    version: int
    n: int = 0
    total: float = 0.0
    squares: float = 0.0

    @classmethod
    def of(cls, version: int, rewards: ArrayLike) -> Arm:
        values = np.asarray(rewards, dtype=np.float64).ravel()
        return cls(version, len(values), float(values.sum()), float((values**2).sum()))

    @property
    def mean(self) -> float:
        return self.total / self.n if self.n else 0.0


@dataclass(frozen=True)
class Allocation:
    """Traffic shares per version, the posterior chance each is best, and the estimated regret."""

    shares: dict[int, float]
    best_probability: dict[int, float]
    means: dict[int, float]
    regret: float

    def to_dict(self) -> dict[str, Any]:
        return {"allocation": {str(v): round(100 * s, 2) for v, s in self.shares.items()},
                "p_best": {str(v): p for v, p in self.best_probability.items()},
                "means": {str(v): m for v, m in self.means.items()}, "regret": self.regret}


def allocate(arms: Sequence[Arm], *, binary: bool, floor: float = DEFAULT_FLOOR, seed: int = 0,
             draws: int = DRAWS) -> Allocation:
    """Thompson allocation: P(arm is best) from posterior draws, mixed with an exploration floor."""
    if len(arms) < 2:
        raise InvalidInputError("a bandit needs at least two versions", field="versions")
    if not 0 <= floor * len(arms) <= 1:
        raise InvalidInputError(f"exploration floor {floor!r} x {len(arms)} arms must be within [0, 1]", field="floor")
    rng = np.random.default_rng(seed)
    samples = _beta_draws(arms, rng, draws) if binary else _normal_draws(arms, rng, draws)
    wins = np.bincount(samples.argmax(axis=1), minlength=len(arms)) / draws
    shares = floor + (1 - floor * len(arms)) * wins
    means = {a.version: a.mean for a in arms}
    return Allocation({a.version: float(s) for a, s in zip(arms, shares, strict=True)},
                      {a.version: float(w) for a, w in zip(arms, wins, strict=True)}, means, regret(arms))


def _beta_draws(arms: Sequence[Arm], rng: np.random.Generator, draws: int) -> np.ndarray:
    successes = np.array([a.total for a in arms])
    counts = np.array([a.n for a in arms], dtype=np.float64)
    if np.any(successes < 0) or np.any(successes > counts):
        raise InvalidInputError("binary rewards must be 0 or 1; use metric 'reward' for other values", field="metric")
    return rng.beta(1 + successes, 1 + counts - successes, size=(draws, len(arms)))


def _normal_draws(arms: Sequence[Arm], rng: np.random.Generator, draws: int) -> np.ndarray:
    counts = np.array([a.n for a in arms], dtype=np.float64)
    means = np.array([a.mean for a in arms])
    pooled = _pooled_variance(arms)
    # an arm with no data gets a wide prior around the others' mean: it is explored, not ignored
    centre = float(np.average(means, weights=counts)) if counts.sum() else 0.0
    means = np.where(counts > 0, means, centre)
    scale = np.sqrt(pooled / np.maximum(counts, 1)) * np.where(counts > 0, 1.0, 10.0)
    return rng.normal(means, scale, size=(draws, len(arms)))


def _pooled_variance(arms: Sequence[Arm]) -> float:
    n = sum(a.n for a in arms)
    if n < 2:
        return 1.0
    deviations = sum(a.squares - a.n * a.mean**2 for a in arms)
    return max(deviations / max(n - len(arms), 1), 1e-9)


def regret(arms: Sequence[Arm]) -> float:
    """Estimated cumulative regret: rewards lost by not always serving the best arm seen so far."""
    served = [a for a in arms if a.n]
    if not served:
        return 0.0
    best = max(a.mean for a in served)
    return float(sum(a.n * (best - a.mean) for a in served))


def shares_to_weights(shares: Mapping[int, float]) -> dict[int, float]:
    """Traffic percents that sum to exactly 100 (rounded to 0.01)."""
    weights = {v: round(100 * s, 2) for v, s in shares.items()}
    top = max(weights, key=lambda v: weights[v])
    weights[top] = round(weights[top] + 100 - sum(weights.values()), 2)
    return weights
