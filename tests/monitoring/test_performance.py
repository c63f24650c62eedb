"""Performance metrics against scikit-learn's, realized per version, estimated without labels, and health."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest
from sklearn import metrics as skm

from modelport.foundation.clock import ManualClock
from modelport.foundation.errors import InvalidInputError
from modelport.monitoring import metrics as m
from modelport.monitoring.performance import classification_report, regression_report
from modelport.monitoring.service import Monitoring

from .builders import START, record


@pytest.mark.parametrize("classes", [[0, 1], ["a", "b", "c"]])
def test_classification_metrics_match_scikit_learn(classes: list) -> None:  # type: ignore[type-arg]
    rng = np.random.default_rng(0)
    proba = rng.dirichlet(np.ones(len(classes)), 400)
    y_true = np.asarray(classes)[rng.integers(0, len(classes), 400)]
    y_pred = np.asarray(classes)[proba.argmax(axis=1)]
    report = classification_report(y_true, y_pred, proba, classes)["metrics"]
    average = "binary" if len(classes) == 2 else "macro"
    extra = {"pos_label": classes[1]} if len(classes) == 2 else {}
    assert report["accuracy"] == pytest.approx(skm.accuracy_score(y_true, y_pred), abs=1e-12)
    assert report["precision"] == pytest.approx(skm.precision_score(y_true, y_pred, average=average, **extra), abs=1e-12)
    assert report["recall"] == pytest.approx(skm.recall_score(y_true, y_pred, average=average, **extra), abs=1e-12)
    assert report["f1"] == pytest.approx(skm.f1_score(y_true, y_pred, average=average, **extra), abs=1e-12)
    auc = skm.roc_auc_score(y_true, proba[:, 1]) if len(classes) == 2 else skm.roc_auc_score(
        y_true, proba, multi_class="ovr", average="macro", labels=classes)
    assert report["roc_auc"] == pytest.approx(auc, abs=1e-12)
    assert report["log_loss"] == pytest.approx(skm.log_loss(y_true, proba, labels=classes), abs=1e-12)


def test_regression_metrics_match_scikit_learn() -> None:
    rng = np.random.default_rng(1)
    y_true = rng.normal(10, 3, 300)
    y_pred = y_true + rng.normal(0, 1, 300)
    report = regression_report(y_true, y_pred)
    assert report["metrics"]["mae"] == pytest.approx(skm.mean_absolute_error(y_true, y_pred), abs=1e-12)
    assert report["metrics"]["rmse"] == pytest.approx(skm.root_mean_squared_error(y_true, y_pred), abs=1e-12)
    assert report["metrics"]["r2"] == pytest.approx(skm.r2_score(y_true, y_pred), abs=1e-12)
    low, high = report["intervals"]["mae"]["low"], report["intervals"]["mae"]["high"]
    assert low < report["metrics"]["mae"] < high


def test_edge_cases() -> None:
    assert m.regression_metrics(np.ones(3), np.ones(3))["r2"] == 1.0
    with pytest.raises(ValueError, match="both classes"):
        m.binary_auc(np.ones(3, dtype=bool), np.ones(3))
    with pytest.raises(ValueError, match="not one of"):
        m.log_loss(np.array(["z"]), np.array([[0.5, 0.5]]), ["a", "b"])
    with pytest.raises(InvalidInputError, match="probabilities"):
        m.estimated_accuracy(np.empty((0, 2)))
    one_class = classification_report(np.array([1, 1]), np.array([1, 0]), np.array([[0.2, 0.8], [0.6, 0.4]]), [0, 1])
    assert "roc_auc" not in one_class["metrics"] and one_class["metrics"]["accuracy"] == 0.5


def test_realized_per_version_and_estimate_without_labels(monitoring: Monitoring, clock: ManualClock, iris,
                                                           iris_pipeline) -> None:
    x, y = iris
    proba = iris_pipeline.predict_proba(x)
    predicted = iris_pipeline.predict(x)
    rows = [record("iris", version=1, inputs=x.iloc[i].to_dict(), outputs=int(predicted[i]),
                   probabilities=proba[i].tolist(), at=START - timedelta(minutes=1 + i % 50)) for i in range(len(x))]
    monitoring.log.write(rows)
    labelled = range(0, len(x), 2)
    result = monitoring.submit_feedback([{"prediction_id": rows[i].prediction_id, "label": int(y.iloc[i])} for i in labelled])
    assert result.accepted == len(labelled)
    report = monitoring.performance("iris", "1h")
    idx = list(labelled)
    assert report["labelled_rows"] == len(idx) and report["predictions"] == len(x)
    assert report["metrics"]["accuracy"] == pytest.approx(skm.accuracy_score(y.iloc[idx], predicted[idx]))
    assert report["metrics"]["log_loss"] == pytest.approx(skm.log_loss(y.iloc[idx], proba[idx], labels=[0, 1, 2]))
    assert report["intervals"]["accuracy"]["low"] <= report["metrics"]["accuracy"] <= report["intervals"]["accuracy"]["high"]
    assert report["estimated"]["is_estimate"] and report["estimated"]["accuracy"] == pytest.approx(proba.max(axis=1).mean())
    assert report["estimated"]["on_labelled_rows"] == pytest.approx(proba[idx].max(axis=1).mean())
    assert set(report["versions"]) == {"1"} and len(report["timeline"]) == 12
    empty = monitoring.performance("iris", "1h", end=START - timedelta(days=3))
    assert empty["labelled_rows"] == 0 and empty["metrics"] == {} and empty["estimated"] == {}


def test_regression_performance_from_the_log(monitoring: Monitoring) -> None:
    monitoring.log.write([record(prediction_id=f"r{i}", outputs=i + 0.5) for i in range(30)])
    monitoring.submit_feedback([{"prediction_id": f"r{i}", "value": float(i)} for i in range(30)])
    report = monitoring.performance("m", "1h")
    assert report["task"] == "regression" and report["metrics"]["mae"] == pytest.approx(0.5)


def test_health_rates_errors_and_latency_percentiles(monitoring: Monitoring) -> None:
    rows = [record(latency_ms=float(i), version=1 + i % 2) for i in range(1, 101)]
    rows += [record(status="ModelExecutionError", error="boom", version=2, latency_ms=1.0) for _ in range(25)]
    monitoring.log.write(rows)
    health = monitoring.health("m", "1h")
    assert health["requests"] == 125 and health["errors"] == 25 and health["error_rate"] == pytest.approx(0.2)
    assert health["rate_per_second"] == pytest.approx(125 / 3600)
    assert health["latency_ms"]["p99"] == pytest.approx(np.percentile([*range(1, 101), *[1.0] * 25], 99))
    assert health["versions"]["2"]["errors"] == 25 and health["versions"]["1"]["errors"] == 0
    assert monitoring.health("m", "1h", end=START - timedelta(days=1))["requests"] == 0
    with pytest.raises(InvalidInputError, match="model name"):
        monitoring.health("Bad Name", "1h")
