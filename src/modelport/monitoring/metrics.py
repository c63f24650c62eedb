"""Classification and regression metrics in NumPy (they agree with scikit-learn's; see the tests).

Binary problems use the second class as the positive one (scikit-learn's convention for
`predict_proba`); multiclass precision, recall and F1 are macro averages, ROC AUC is one-vs-rest
macro and log loss clips probabilities away from 0 and 1.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from modelport.foundation.errors import InvalidInputError


def accuracy(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Share of predictions equal to the truth."""
    return float(np.mean(y_true == y_pred))


def precision_recall_f1(y_true: np.ndarray, y_pred: np.ndarray, classes: Sequence[Any]) -> tuple[float, float, float]:
    """Precision, recall and F1: of the positive class when there are two classes, else macro averages."""
    labels = list(classes)
    chosen = labels[1:] if len(labels) == 2 else labels
    scores = np.array([_prf(y_true == c, y_pred == c) for c in chosen])
    return float(scores[:, 0].mean()), float(scores[:, 1].mean()), float(scores[:, 2].mean())


def _prf(truth: np.ndarray, predicted: np.ndarray) -> tuple[float, float, float]:
    hits = float(np.sum(truth & predicted))
    precision = hits / predicted.sum() if predicted.sum() else 0.0
    recall = hits / truth.sum() if truth.sum() else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def binary_auc(positive: np.ndarray, scores: np.ndarray) -> float:
    """ROC AUC of `scores` for a boolean truth: the Mann-Whitney probability with ties counted half."""
    from scipy.stats import rankdata

    n_pos, n_neg = int(positive.sum()), int((~positive).sum())
    if n_pos == 0 or n_neg == 0:
        raise ValueError("ROC AUC needs both classes in the truth")
    ranks = rankdata(scores)
    return float((ranks[positive].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def roc_auc(y_true: np.ndarray, probabilities: np.ndarray, classes: Sequence[Any]) -> float:
    """Binary ROC AUC on the second class's probability, or the one-vs-rest macro average."""
    labels = list(classes)
    if len(labels) == 2:
        return binary_auc(y_true == labels[1], probabilities[:, 1])
    return float(np.mean([binary_auc(y_true == c, probabilities[:, i]) for i, c in enumerate(labels)]))


def log_loss(y_true: np.ndarray, probabilities: np.ndarray, classes: Sequence[Any]) -> float:
    """Mean negative log-likelihood of the true class; rows renormalised, probabilities clipped by float eps."""
    index = {c: i for i, c in enumerate(classes)}
    try:
        rows = np.array([index[v] for v in y_true.tolist()])
    except KeyError as exc:
        raise ValueError(f"label {exc.args[0]!r} is not one of the model's classes") from exc
    eps = np.finfo(probabilities.dtype).eps
    normed = probabilities / probabilities.sum(axis=1, keepdims=True)
    chosen = np.clip(normed[np.arange(len(rows)), rows], eps, 1 - eps)
    return float(-np.mean(np.log(chosen)))


def regression_metrics(y_true: np.ndarray, y_pred: np.ndarray) -> dict[str, float]:
    """MAE, RMSE and R2 (R2 is 0 when the truth is constant and matched, -inf-free)."""
    errors = y_pred - y_true
    total = float(np.sum((y_true - y_true.mean()) ** 2))
    residual = float(np.sum(errors**2))
    r2 = 1 - residual / total if total > 0 else (1.0 if residual == 0 else 0.0)
    return {"mae": float(np.mean(np.abs(errors))), "rmse": float(np.sqrt(np.mean(errors**2))), "r2": r2}


def estimated_accuracy(probabilities: np.ndarray) -> float:
    """Confidence-based estimate of accuracy: the mean top-class probability (exact if calibrated)."""
    if probabilities.ndim != 2 or len(probabilities) == 0:
        raise InvalidInputError("estimated accuracy needs a non-empty matrix of class probabilities",
                                field="probabilities")
    return float(np.mean(probabilities.max(axis=1)))
