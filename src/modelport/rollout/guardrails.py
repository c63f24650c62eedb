"""Canary guardrails: the canary against the stable version on the same window, one check at a time.

Each check is a pure function of the two samples and returns its numbers and a verdict: `pass`,
`fail` or `insufficient` (too few samples to say). A check fails only when the difference is both
statistically significant AND larger than a tolerance that matters in practice, so that big
windows do not roll back over harmless differences and small ones do not over noise. Defaults
and their reasons are in docs/rollouts.md.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from typing import Any

import numpy as np

from modelport.foundation.errors import InvalidInputError
from modelport.stats.categorical import chi2_homogeneity, total_variation
from modelport.stats.ecdf import ks_2samp
from modelport.stats.proportions import two_proportion_test
from modelport.stats.ranks import mann_whitney


@dataclass(frozen=True)
class Guardrails:
    """Thresholds of the canary checks (all configurable per rollout)."""

    #: significance level of each check at each look
    alpha: float = 0.01
    #: error-rate increase (absolute) tolerated before a significant one fails: 1 point
    max_error_increase: float = 0.01
    #: P(canary slower than stable) above which a significant Mann-Whitney result fails
    max_latency_auc: float = 0.6
    #: canary p99 / stable p99 above which latency fails ...
    max_p99_ratio: float = 1.5
    #: ... unless the two p99s are closer than this (scheduler noise on fast models)
    latency_floor_ms: float = 10.0
    #: prediction drift (total variation for labels, KS distance for scores) that fails when significant
    max_prediction_drift: float = 0.2
    #: drop of the feedback metric (accuracy, absolute) tolerated before a significant one fails
    max_metric_drop: float = 0.02
    #: fewest rows per version before the latency, drift and error checks give a verdict
    min_samples: int = 30
    #: fewest labelled rows per version before the feedback check gives a verdict
    min_labels: int = 50
    #: fewest requests per version before the p99 ratio counts: the p99 of fewer is about their maximum,
    #: so one pause of the machine would decide (the rank test still judges smaller samples)
    min_tail_samples: int = 200

    def __post_init__(self) -> None:
        if not 0 < self.alpha < 1:
            raise InvalidInputError(f"guardrail alpha must be in (0, 1), got {self.alpha!r}", field="alpha")
        for name in ("max_error_increase", "max_metric_drop", "latency_floor_ms", "max_prediction_drift",
                     "min_tail_samples"):
            if getattr(self, name) < 0:
                raise InvalidInputError(f"guardrail {name} must be >= 0", field=name)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> Guardrails:
        """Defaults overridden by the keys given; unknown keys are refused by name."""
        known = {f.name for f in fields(cls)}
        unknown = set(data or {}) - known
        if unknown:
            raise InvalidInputError(f"unknown guardrail settings {sorted(unknown)}; known: {sorted(known)}",
                                    field="guardrails")
        return cls(**dict(data or {}))


def _verdict(name: str, status: str, reason: str, **numbers: Any) -> dict[str, Any]:
    return {"check": name, "status": status, "reason": reason, **numbers}


def error_rate(canary_errors: int, canary_total: int, stable_errors: int, stable_total: int,
               g: Guardrails) -> dict[str, Any]:
    """Fails when the canary's error rate is significantly higher (one-sided two-proportion z-test)."""
    if canary_total < g.min_samples or stable_total < g.min_samples:
        return _verdict("error_rate", "insufficient", f"need {g.min_samples} requests per version",
                        canary_total=canary_total, stable_total=stable_total)
    test = two_proportion_test(canary_errors, canary_total, stable_errors, stable_total, alternative="larger")
    increase = test.details["difference"]
    failed = test.p_value < g.alpha and increase > g.max_error_increase
    reason = (f"canary error rate {test.details['share_a']:.2%} vs stable {test.details['share_b']:.2%} "
              f"(p={test.p_value:.2g})")
    return _verdict("error_rate", "fail" if failed else "pass", reason, canary_rate=test.details["share_a"],
                    stable_rate=test.details["share_b"], p_value=test.p_value, canary_total=canary_total,
                    stable_total=stable_total)


def latency(canary_ms: np.ndarray, stable_ms: np.ndarray, g: Guardrails) -> dict[str, Any]:
    """Fails on a significant, sizeable shift (Mann-Whitney U) or a p99 above the ratio bound."""
    if len(canary_ms) < g.min_samples or len(stable_ms) < g.min_samples:
        return _verdict("latency", "insufficient", f"need {g.min_samples} requests per version",
                        canary_total=len(canary_ms), stable_total=len(stable_ms))
    test = mann_whitney(canary_ms, stable_ms, alternative="greater")
    p99_c, p99_s = float(np.percentile(canary_ms, 99)), float(np.percentile(stable_ms, 99))
    ratio = p99_c / p99_s if p99_s > 0 else float("inf")
    beyond_floor = p99_c - p99_s > g.latency_floor_ms
    shifted = test.p_value < g.alpha and test.details["auc"] > g.max_latency_auc and beyond_floor
    measurable = min(len(canary_ms), len(stable_ms)) >= g.min_tail_samples
    tail = measurable and ratio > g.max_p99_ratio and beyond_floor
    reason = f"canary p99 {p99_c:.1f} ms vs stable {p99_s:.1f} ms (ratio {ratio:.2f}, P(slower)={test.details['auc']:.2f})"
    return _verdict("latency", "fail" if shifted or tail else "pass", reason, canary_p99_ms=p99_c,
                    stable_p99_ms=p99_s, p99_ratio=ratio, auc=test.details["auc"], p_value=test.p_value)


def prediction_drift(canary: np.ndarray, stable: np.ndarray, g: Guardrails) -> dict[str, Any]:
    """Fails when the canary's outputs are distributed unlike the stable version's on the same traffic."""
    if len(canary) < g.min_samples or len(stable) < g.min_samples:
        return _verdict("prediction_drift", "insufficient", f"need {g.min_samples} predictions per version",
                        canary_total=len(canary), stable_total=len(stable))
    if _numeric(canary) and _numeric(stable) and len(np.unique(np.concatenate([canary, stable]))) > 20:
        test = ks_2samp(np.asarray(stable, dtype=np.float64), np.asarray(canary, dtype=np.float64))
        effect, kind = test.statistic, "ks"
    else:
        ref, cur = _counts(stable), _counts(canary)
        test = chi2_homogeneity(ref, cur)
        effect, kind = total_variation(ref, cur), "total_variation"
    failed = test.p_value < g.alpha and effect > g.max_prediction_drift
    reason = f"prediction drift {kind}={effect:.3f} (p={test.p_value:.2g})"
    return _verdict("prediction_drift", "fail" if failed else "pass", reason, measure=kind, effect=effect,
                    p_value=test.p_value)


def feedback_metric(canary_correct: np.ndarray, stable_correct: np.ndarray, g: Guardrails) -> dict[str, Any]:
    """Fails when the canary's accuracy on labelled rows is significantly lower by more than the tolerance."""
    if len(canary_correct) < g.min_labels or len(stable_correct) < g.min_labels:
        return _verdict("feedback", "insufficient", f"need {g.min_labels} labels per version",
                        canary_labels=len(canary_correct), stable_labels=len(stable_correct))
    c, s = int(np.sum(canary_correct)), int(np.sum(stable_correct))
    test = two_proportion_test(c, len(canary_correct), s, len(stable_correct), alternative="smaller")
    drop = -test.details["difference"]
    failed = test.p_value < g.alpha and drop > g.max_metric_drop
    reason = f"canary accuracy {test.details['share_a']:.2%} vs stable {test.details['share_b']:.2%} (p={test.p_value:.2g})"
    return _verdict("feedback", "fail" if failed else "pass", reason, canary_accuracy=test.details["share_a"],
                    stable_accuracy=test.details["share_b"], p_value=test.p_value)


def _numeric(values: np.ndarray) -> bool:
    return np.asarray(values).dtype.kind in "fiu"


def _counts(values: np.ndarray) -> dict[str, int]:
    labels, counts = np.unique(np.asarray(values).astype(str), return_counts=True)
    return {str(k): int(v) for k, v in zip(labels, counts, strict=True)}
