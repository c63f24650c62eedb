"""Drift analysis of a window of data against a reference profile.

Each feature is judged by a two-sample test whose p-value is calibrated to the real sample sizes
AND by an effect-size floor, so that small windows do not cry wolf on noise and million-row windows
do not cry wolf on differences too small to matter. Numeric features: Kolmogorov-Smirnov (effect:
KS distance); categorical: chi-squared homogeneity (effect: total variation distance). The dataset
verdict controls the family-wise error across features with Holm (or Bonferroni).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from modelport.foundation.errors import InvalidInputError
from modelport.monitoring.profiles import (
    CategoricalProfile,
    FeatureProfile,
    NumericProfile,
    ReferenceProfile,
    as_frame,
    category_counts,
)
from modelport.stats.categorical import UNSEEN, chi2_homogeneity, total_variation
from modelport.stats.divergence import binned_counts, js_distance, psi, quantile_edges
from modelport.stats.ecdf import EXACT_KS_MAX_ROWS, compare_sorted, ks_p_value, ks_sorted, normed, sorted_finite
from modelport.stats.multiple import bonferroni_adjusted, holm_adjusted
from modelport.stats.proportions import two_proportion_test

#: Windows at least this long are analysed with `DriftConfig.workers` threads.
PARALLEL_ROWS = 50_000


@dataclass(frozen=True)
class DriftConfig:
    """Thresholds of drift analysis; the defaults and their reasons are in docs/monitoring.md."""

    alpha: float = 0.05
    correction: str = "holm"
    ks_floor: float = 0.1
    tvd_floor: float = 0.1
    min_rows: int = 100
    min_expected: float = 5.0
    bins: int = 10
    quality_floor: float = 0.05
    #: Threads over features for large windows (NumPy's sorts and searches release the GIL).
    workers: int = 2

    def __post_init__(self) -> None:
        if not 0 < self.alpha < 1:
            raise InvalidInputError(f"alpha must be between 0 and 1, got {self.alpha}", field="alpha")
        if self.correction not in ("holm", "bonferroni"):
            raise InvalidInputError(f"correction {self.correction!r}: use holm or bonferroni", field="correction")
        if self.min_rows < 1:
            raise InvalidInputError(f"min_rows must be at least 1, got {self.min_rows}", field="min_rows")


@dataclass(frozen=True)
class FeatureDrift:
    """The verdict on one feature; `score` is the effect size the floor applies to."""

    name: str
    role: str
    kind: str
    test: str
    status: str
    statistic: float | None = None
    p_value: float | None = None
    adjusted_p_value: float | None = None
    score: float | None = None
    drifted: bool = False
    reference_rows: int = 0
    current_rows: int = 0
    wasserstein: float | None = None
    jensen_shannon: float | None = None
    psi: float | None = None
    quality: dict[str, float] = field(default_factory=dict)
    quality_issues: tuple[str, ...] = ()
    histogram: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["quality_issues"] = list(self.quality_issues)
        return data


@dataclass(frozen=True)
class DriftReport:
    """Per-feature verdicts (ranked by effect) and the dataset verdicts."""

    dataset_drift: bool
    prediction_drift: bool
    features: tuple[FeatureDrift, ...]
    reference_rows: int
    current_rows: int
    config: DriftConfig
    multivariate: dict[str, Any] | None = None

    @property
    def drift_share(self) -> float:
        judged = [f for f in self.features if f.role == "input" and f.status != "insufficient_data"]
        return sum(f.drifted for f in judged) / len(judged) if judged else 0.0

    @property
    def quality_issues(self) -> list[str]:
        return [f"{f.name}:{issue}" for f in self.features for issue in f.quality_issues]

    def to_dict(self, *, histograms: bool = False) -> dict[str, Any]:
        features = [f.to_dict() for f in self.features]
        if not histograms:
            for item in features:
                item.pop("histogram")
        return {"dataset_drift": self.dataset_drift, "prediction_drift": self.prediction_drift,
                "drift_share": self.drift_share, "drifted_features": [f.name for f in self.features if f.drifted],
                "quality_issues": self.quality_issues, "features": features, "reference_rows": self.reference_rows,
                "current_rows": self.current_rows, "config": asdict(self.config), "multivariate": self.multivariate}


def analyse_drift(profile: ReferenceProfile, current: Any, *, outputs: pd.DataFrame | None = None,
                  config: DriftConfig | None = None) -> DriftReport:
    """Compare a window (`current` inputs, optional model `outputs`) with the reference profile."""
    config = config or DriftConfig()
    frame = as_frame(current, "current")
    inputs = _judge_family(_each_feature(profile.inputs, frame, "input", config), config)
    out_frame = outputs if outputs is not None else pd.DataFrame(index=frame.index)
    produced = [feature_drift(n, p, out_frame[n], "output", config)
                for n, p in profile.outputs.items() if n in out_frame.columns]
    results = _judge_family(produced, config)
    ranked = sorted([*inputs, *results], key=lambda f: (-(f.drifted), -(f.score or 0.0)))
    return DriftReport(dataset_drift=any(f.drifted for f in inputs), prediction_drift=any(f.drifted for f in results),
                       features=tuple(ranked), reference_rows=profile.rows, current_rows=len(frame), config=config)


def _each_feature(profiles: dict[str, FeatureProfile], frame: pd.DataFrame, role: str,
                  config: DriftConfig) -> list[FeatureDrift]:
    jobs = [(name, profile, frame.get(name)) for name, profile in profiles.items()]
    if config.workers <= 1 or len(frame) < PARALLEL_ROWS:
        return [feature_drift(n, p, s, role, config) for n, p, s in jobs]
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=config.workers, thread_name_prefix="modelport-drift") as pool:
        return list(pool.map(lambda job: feature_drift(job[0], job[1], job[2], role, config), jobs))


def _judge_family(features: list[FeatureDrift], config: DriftConfig) -> list[FeatureDrift]:
    tested = [i for i, f in enumerate(features) if f.p_value is not None]
    raw = [features[i].p_value or 0.0 for i in tested]
    adjusted = holm_adjusted(raw) if config.correction == "holm" else bonferroni_adjusted(raw)
    out = list(features)
    for i, p in zip(tested, adjusted, strict=True):
        floor = config.ks_floor if features[i].kind == "numeric" else config.tvd_floor
        drifted = p <= config.alpha and (features[i].score or 0.0) >= floor
        out[i] = replace(features[i], adjusted_p_value=p, drifted=drifted, status="drifted" if drifted else "ok")
    return out


def feature_drift(name: str, profile: FeatureProfile, series: pd.Series | None, role: str,
                  config: DriftConfig) -> FeatureDrift:
    """Test one feature of the window against its profile (no multiple-testing correction yet)."""
    column = series if series is not None else pd.Series([np.nan] * 0, dtype=float)
    if isinstance(profile, NumericProfile):
        return _numeric(name, profile, column, role, config)
    return _categorical(name, profile, column, role, config)


def _numeric(name: str, profile: NumericProfile, series: pd.Series, role: str, config: DriftConfig) -> FeatureDrift:
    values = pd.to_numeric(series, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    current = sorted_finite(values)
    quality = _numeric_quality(profile, values, current, config)
    base = FeatureDrift(name, role, "numeric", "ks", "insufficient_data", reference_rows=len(profile.sample),
                        current_rows=len(current), quality=quality[0], quality_issues=quality[1])
    if len(current) < config.min_rows or len(profile.sample) < config.min_rows:
        return base
    both = compare_sorted(profile.sample, current)
    if max(len(profile.sample), len(current)) <= EXACT_KS_MAX_ROWS:
        p_value = ks_sorted(profile.sample, current).p_value
    else:
        p_value = ks_p_value(both.ks, len(profile.sample), len(current))
    edges = quantile_edges(profile.sample, config.bins)
    ref_bins, cur_bins = binned_counts(profile.sample, edges), binned_counts(current, edges)
    return replace(base, status="ok", statistic=both.ks, p_value=p_value, score=both.ks,
                   wasserstein=normed(both.wasserstein, float(np.std(profile.sample))),
                   jensen_shannon=js_distance(ref_bins, cur_bins), psi=psi(ref_bins, cur_bins),
                   histogram=_histogram(profile.sample, current))


def _numeric_quality(profile: NumericProfile, values: np.ndarray, current: np.ndarray,
                     config: DriftConfig) -> tuple[dict[str, float], tuple[str, ...]]:
    missing = int(len(values) - len(current))
    outside = int(np.searchsorted(current, profile.minimum, "left") + len(current)
                  - np.searchsorted(current, profile.maximum, "right")) if len(current) and profile.sample.size else 0
    quality = {"missing_share": missing / len(values) if len(values) else 1.0,
               "reference_missing_share": profile.missing / profile.rows if profile.rows else 0.0,
               "out_of_range_share": outside / len(current) if len(current) else 0.0}
    issues = _missing_issue(profile.missing, profile.rows, missing, len(values), config)
    if quality["out_of_range_share"] > config.quality_floor:
        issues.append("out_of_range_share")
    return quality, tuple(issues)


def _missing_issue(ref_missing: int, ref_rows: int, cur_missing: int, cur_rows: int, config: DriftConfig) -> list[str]:
    if cur_rows == 0 or ref_rows == 0 or cur_missing / cur_rows - ref_missing / ref_rows <= config.quality_floor:
        return []
    test = two_proportion_test(cur_missing, cur_rows, ref_missing, ref_rows, alternative="larger")
    return ["missing_share"] if test.p_value <= config.alpha else []


def _categorical(name: str, profile: CategoricalProfile, series: pd.Series, role: str,
                 config: DriftConfig) -> FeatureDrift:
    counts, missing = category_counts(series.astype("string") if len(series) else series)
    present = sum(counts.values())
    unseen = sum(v for k, v in counts.items() if k not in profile.counts)
    quality = {"missing_share": missing / len(series) if len(series) else 1.0,
               "reference_missing_share": profile.missing / profile.rows if profile.rows else 0.0,
               "unseen_share": unseen / present if present else 0.0}
    issues = _missing_issue(profile.missing, profile.rows, missing, len(series), config)
    if quality["unseen_share"] > config.quality_floor:
        issues.append("unseen_share")
    reference_rows = sum(profile.counts.values())
    base = FeatureDrift(name, role, "categorical", "chi2", "insufficient_data", reference_rows=reference_rows,
                        current_rows=present, quality=quality, quality_issues=tuple(issues))
    if present < config.min_rows or reference_rows < config.min_rows:
        return base
    test = chi2_homogeneity(profile.counts, counts, min_expected=config.min_expected)
    ref_shares, cur_shares = _aligned(profile.counts, counts)
    return replace(base, status="ok", statistic=test.statistic, p_value=test.p_value,
                   score=total_variation(profile.counts, counts), jensen_shannon=js_distance(ref_shares, cur_shares),
                   psi=psi(ref_shares, cur_shares), histogram=_category_histogram(profile.counts, counts))


def _aligned(reference: dict[str, int], current: dict[str, int]) -> tuple[list[int], list[int]]:
    unseen = sum(v for k, v in current.items() if k not in reference)
    return [*reference.values(), 0], [*(current.get(k, 0) for k in reference), unseen]


def _histogram(reference: np.ndarray, current: np.ndarray, bins: int = 20) -> dict[str, Any]:
    low, high = float(min(reference[0], current[0])), float(max(reference[-1], current[-1]))
    edges = np.linspace(low, high, bins + 1) if high > low else np.array([low, low + 1.0])
    inner = edges[1:-1]
    return {"edges": edges.tolist(), "reference": _shares(binned_counts(reference, inner)),
            "current": _shares(binned_counts(current, inner))}


def _category_histogram(reference: dict[str, int], current: dict[str, int], top: int = 20) -> dict[str, Any]:
    names = sorted(reference, key=lambda k: -reference[k])[:top]
    unseen = sum(v for k, v in current.items() if k not in reference)
    ref = [reference[k] for k in names]
    cur = [current.get(k, 0) for k in names]
    if unseen:
        names, ref, cur = [*names, UNSEEN], [*ref, 0], [*cur, unseen]
    return {"categories": names, "reference": _shares(np.asarray(ref)), "current": _shares(np.asarray(cur))}


def _shares(counts: np.ndarray) -> list[float]:
    total = counts.sum()
    return (counts / total).tolist() if total else [0.0] * len(counts)
