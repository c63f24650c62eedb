"""Drift analysis: planted shifts are found, unshifted data rarely alarms, guards hold on odd columns."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from modelport.foundation.errors import InvalidInputError
from modelport.monitoring.drift import DriftConfig, analyse_drift
from modelport.monitoring.multivariate import domain_classifier
from modelport.monitoring.profiles import build_profile


def frame(rng: np.random.Generator, rows: int, *, shift: float = 0.0, cat_p: tuple[float, ...] = (0.5, 0.3, 0.2)) -> pd.DataFrame:
    data = {f"x{i}": rng.normal(shift if i == 0 else 0.0, 1.0, rows) for i in range(6)}
    data["city"] = rng.choice(["a", "b", "c"], rows, p=list(cat_p))
    data["tier"] = rng.choice(["gold", "silver"], rows)
    return pd.DataFrame(data)


def by_name(report, name: str):  # type: ignore[no-untyped-def]
    return next(f for f in report.features if f.name == name)


def test_planted_numeric_and_categorical_shifts_are_found_and_ranked() -> None:
    rng = np.random.default_rng(1)
    profile = build_profile(frame(rng, 5_000))
    report = analyse_drift(profile, frame(rng, 2_000, shift=0.6, cat_p=(0.2, 0.3, 0.5)))
    assert report.dataset_drift
    assert {f.name for f in report.features if f.drifted} == {"x0", "city"}
    assert report.features[0].name in {"x0", "city"}
    x0 = by_name(report, "x0")
    assert x0.test == "ks" and x0.p_value < 1e-6 and x0.score > 0.2 and x0.wasserstein > 0.4
    assert by_name(report, "city").test == "chi2"
    payload = report.to_dict()
    assert {"dataset_drift", "features", "reference_rows", "current_rows"} <= payload.keys()
    assert {"name", "test", "statistic", "p_value", "score", "drifted"} <= payload["features"][0].keys()


@pytest.mark.parametrize(("correction", "runs"), [("holm", 150), ("bonferroni", 60)])
def test_dataset_false_alarm_rate_stays_near_alpha(correction: str, runs: int) -> None:
    rng = np.random.default_rng(2)
    config = DriftConfig(alpha=0.1, correction=correction, ks_floor=0.0, tvd_floor=0.0)
    alarms = 0
    for _ in range(runs):
        profile = build_profile(frame(rng, 600))
        alarms += analyse_drift(profile, frame(rng, 300), config=config).dataset_drift
    assert alarms / runs <= 0.1 + 0.06  # calibrated: at most alpha, plus simulation noise
    assert alarms / runs >= 0.02  # and not uselessly conservative


def test_effect_floor_silences_trivial_shifts_in_huge_windows() -> None:
    rng = np.random.default_rng(3)
    profile = build_profile(frame(rng, 100_000))
    report = analyse_drift(profile, frame(rng, 200_000, shift=0.03))
    x0 = by_name(report, "x0")
    assert x0.p_value < 1e-6 and not x0.drifted and not report.dataset_drift


def test_small_windows_say_insufficient_data() -> None:
    rng = np.random.default_rng(4)
    profile = build_profile(frame(rng, 1_000))
    report = analyse_drift(profile, frame(rng, 20, shift=3.0))
    assert {f.status for f in report.features} == {"insufficient_data"}
    assert not report.dataset_drift and report.drift_share == 0.0


def test_empty_constant_and_missing_columns_never_crash() -> None:
    rng = np.random.default_rng(5)
    reference = pd.DataFrame({"const": np.ones(500), "x": rng.normal(size=500), "c": rng.choice(["a", "b"], 500)})
    current = pd.DataFrame({"const": np.ones(400), "x": [np.nan] * 400, "c": [None] * 400})
    report = analyse_drift(build_profile(reference), current)
    assert by_name(report, "const").status == "ok" and not by_name(report, "const").drifted
    assert by_name(report, "x").status == "insufficient_data"
    assert "missing_share" in by_name(report, "x").quality_issues
    assert "missing_share" in by_name(report, "c").quality_issues
    absent = analyse_drift(build_profile(reference), pd.DataFrame({"const": np.ones(400)}))
    assert by_name(absent, "x").status == "insufficient_data"


def test_unseen_categories_and_out_of_range_values_are_signals() -> None:
    rng = np.random.default_rng(6)
    reference = pd.DataFrame({"x": rng.uniform(0, 1, 2_000), "c": rng.choice(["a", "b"], 2_000)})
    current = pd.DataFrame({"x": rng.uniform(0, 1.5, 1_000), "c": rng.choice(["a", "b", "zz"], 1_000)})
    report = analyse_drift(build_profile(reference), current)
    c, x = by_name(report, "c"), by_name(report, "x")
    assert c.quality["unseen_share"] > 0.25 and "unseen_share" in c.quality_issues and c.drifted
    assert x.quality["out_of_range_share"] > 0.25 and "out_of_range_share" in x.quality_issues


def test_prediction_drift_is_reported_apart_from_data_drift() -> None:
    rng = np.random.default_rng(7)
    reference = frame(rng, 2_000)
    ref_out = pd.DataFrame({"prediction": rng.choice(["no", "yes"], 2_000, p=[0.8, 0.2]), "proba_yes": rng.beta(2, 8, 2_000)})
    profile = build_profile(reference, outputs=ref_out)
    cur_out = pd.DataFrame({"prediction": rng.choice(["no", "yes"], 1_000, p=[0.4, 0.6]), "proba_yes": rng.beta(6, 4, 1_000)})
    report = analyse_drift(profile, frame(rng, 1_000), outputs=cur_out)
    assert report.prediction_drift and not report.dataset_drift
    assert {f.name for f in report.features if f.drifted} == {"prediction", "proba_yes"}
    assert {f.role for f in report.features if f.drifted} == {"output"}


def test_config_is_checked() -> None:
    with pytest.raises(InvalidInputError, match="alpha"):
        DriftConfig(alpha=0)
    with pytest.raises(InvalidInputError, match="correction"):
        DriftConfig(correction="bh")
    with pytest.raises(InvalidInputError, match="min_rows"):
        DriftConfig(min_rows=0)
    with pytest.raises(InvalidInputError, match="current"):
        analyse_drift(build_profile(pd.DataFrame({"x": [1.0]})), 7)


def test_domain_classifier_finds_a_change_of_correlation_the_marginals_hide() -> None:
    rng = np.random.default_rng(8)
    a = rng.normal(size=1_500)
    reference = pd.DataFrame({"a": a, "b": a + rng.normal(0, 0.3, 1_500), "noise": rng.normal(size=1_500)})
    c = rng.normal(size=1_500)
    current = pd.DataFrame({"a": c, "b": -c + rng.normal(0, 0.3, 1_500), "noise": rng.normal(size=1_500)})
    assert not analyse_drift(build_profile(reference), current).dataset_drift
    result = domain_classifier(reference, current)
    assert result["drifted"] and result["auc"] > 0.8
    assert result["importances"]["noise"] < min(result["importances"]["a"], result["importances"]["b"])
    same = domain_classifier(reference, reference.sample(frac=1.0, random_state=1).assign(noise=rng.normal(size=1_500)))
    assert not same["drifted"]
    assert domain_classifier(reference.head(3), current.head(3))["status"] == "insufficient_data"
