"""Model performance over a window: realized metrics where feedback has arrived, estimates where not."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from modelport.monitoring import metrics as m
from modelport.stats.intervals import Interval, bootstrap_interval, mean_interval, wilson_interval

#: Above this many labelled rows bootstrap intervals are skipped (their cost grows with the window).
BOOTSTRAP_MAX_ROWS = 20_000
BOOTSTRAP_RESAMPLES = 200


def classification_report(y_true: np.ndarray, y_pred: np.ndarray, probabilities: np.ndarray | None,
                          classes: Sequence[Any] | None, *, intervals_wanted: bool = True) -> dict[str, Any]:
    """Accuracy, precision, recall, F1, ROC AUC and log loss with 95 % intervals."""
    labels = list(classes) if classes is not None else sorted(set(y_true.tolist()) | set(y_pred.tolist()), key=str)
    hits = int(np.sum(y_true == y_pred))
    values: dict[str, float | None] = {"accuracy": hits / len(y_true)}
    intervals: dict[str, Interval | None] = {"accuracy": wilson_interval(hits, len(y_true))}
    precision, recall, f1 = m.precision_recall_f1(y_true, y_pred, labels)
    values.update(precision=precision, recall=recall, f1=f1)
    usable = probabilities is not None and probabilities.shape[1] == len(labels)
    functions: dict[str, Callable[[np.ndarray], float]] = {
        "precision": lambda i: m.precision_recall_f1(y_true[i], y_pred[i], labels)[0],
        "recall": lambda i: m.precision_recall_f1(y_true[i], y_pred[i], labels)[1],
        "f1": lambda i: m.precision_recall_f1(y_true[i], y_pred[i], labels)[2],
    }
    if usable and probabilities is not None:
        proba = probabilities
        values["roc_auc"] = _or_none(lambda: m.roc_auc(y_true, proba, labels))
        values["log_loss"] = _or_none(lambda: m.log_loss(y_true, proba, labels))
        functions["roc_auc"] = lambda i: m.roc_auc(y_true[i], proba[i], labels)
        functions["log_loss"] = lambda i: m.log_loss(y_true[i], proba[i], labels)
    for name, function in functions.items():
        wanted = intervals_wanted and values.get(name) is not None
        intervals[name] = _bootstrap(function, len(y_true)) if wanted else None
    return _package(values, intervals)


def regression_report(y_true: np.ndarray, y_pred: np.ndarray, *, intervals_wanted: bool = True) -> dict[str, Any]:
    """MAE, RMSE and R2 with 95 % intervals."""
    values: dict[str, float | None] = dict(m.regression_metrics(y_true, y_pred))
    if not intervals_wanted:
        return _package(values, {})
    intervals: dict[str, Interval | None] = {"mae": mean_interval(np.abs(y_pred - y_true))}
    intervals["rmse"] = _bootstrap(lambda i: m.regression_metrics(y_true[i], y_pred[i])["rmse"], len(y_true))
    intervals["r2"] = _bootstrap(lambda i: m.regression_metrics(y_true[i], y_pred[i])["r2"], len(y_true))
    return _package(values, intervals)


def _or_none(compute: Callable[[], float]) -> float | None:
    try:
        return compute()
    except ValueError:
        return None


def _bootstrap(function: Callable[[np.ndarray], float], rows: int) -> Interval | None:
    if rows > BOOTSTRAP_MAX_ROWS or rows < 2:
        return None
    return bootstrap_interval(function, [np.arange(rows)], resamples=BOOTSTRAP_RESAMPLES)


def _package(values: dict[str, float | None], intervals: dict[str, Interval | None]) -> dict[str, Any]:
    return {"metrics": {k: v for k, v in values.items() if v is not None},
            "intervals": {k: v.to_dict() for k, v in intervals.items() if v is not None and values.get(k) is not None}}


def estimate(probabilities: np.ndarray | None) -> dict[str, Any]:
    """The confidence-based accuracy estimate over all predictions of the window (labelled or not)."""
    if probabilities is None or len(probabilities) == 0:
        return {}
    return {"accuracy": m.estimated_accuracy(probabilities), "method": "confidence", "rows": len(probabilities),
            "is_estimate": True}


def probability_matrix(outputs: pd.DataFrame) -> np.ndarray | None:
    """The `proba_*` columns of an output frame as a matrix, or None."""
    columns = [c for c in outputs.columns if str(c).startswith("proba_")]
    return outputs[columns].to_numpy(dtype=np.float64) if columns else None


def is_regression(predictions: pd.Series) -> bool:
    """A model whose predictions are non-integer floats is treated as a regressor."""
    values = predictions.dropna()
    if values.empty or not pd.api.types.is_float_dtype(values.dtype):
        return False
    return not bool(np.all(np.mod(values.to_numpy(dtype=np.float64), 1) == 0))
