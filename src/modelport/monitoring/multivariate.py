"""Multivariate drift: can a classifier tell reference rows from current rows?

A random forest is cross-validated on a balanced sample of both; its out-of-fold scores give an
AUC (0.5 when the two are indistinguishable) whose significance is the Mann-Whitney test of the
scores of current rows against those of reference rows. Its feature importances say which features
carry the difference. Requires scikit-learn (the `sklearn` extra).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from modelport.foundation.errors import InvalidInputError
from modelport.stats.ranks import mann_whitney

MAX_ROWS_PER_SIDE = 5_000
AUC_FLOOR = 0.55


def domain_classifier(reference: pd.DataFrame, current: pd.DataFrame, *, alpha: float = 0.05,
                      auc_floor: float = AUC_FLOOR, seed: int = 0, folds: int = 5) -> dict[str, Any]:
    """Cross-validated AUC of reference-vs-current, its p-value, the verdict and feature importances."""
    try:
        from sklearn.ensemble import RandomForestClassifier
        from sklearn.model_selection import StratifiedKFold, cross_val_predict
    except ImportError as exc:  # pragma: no cover - the sklearn extra is part of every test install
        raise InvalidInputError("multivariate drift needs scikit-learn: pip install 'modelport[sklearn]'",
                                field="multivariate") from exc
    columns = [c for c in reference.columns if c in current.columns]
    ref = reference[columns].sample(min(len(reference), MAX_ROWS_PER_SIDE), random_state=seed)
    cur = current[columns].sample(min(len(current), MAX_ROWS_PER_SIDE), random_state=seed)
    if min(len(ref), len(cur)) < folds * 2 or not columns:
        return {"status": "insufficient_data", "drifted": False, "reference_rows": len(ref), "current_rows": len(cur)}
    features = _encode(pd.concat([ref, cur], ignore_index=True))
    target = np.r_[np.zeros(len(ref)), np.ones(len(cur))]
    model = RandomForestClassifier(n_estimators=60, max_depth=8, random_state=seed, n_jobs=1)
    scores = cross_val_predict(model, features, target, cv=StratifiedKFold(folds, shuffle=True, random_state=seed),
                               method="predict_proba")[:, 1]
    test = mann_whitney(scores[len(ref):], scores[: len(ref)], alternative="greater")
    auc = float(test.details["auc"])
    importances = model.fit(features, target).feature_importances_
    ranked = sorted(zip(columns, importances.tolist(), strict=True), key=lambda item: -item[1])
    return {"status": "ok", "auc": auc, "p_value": test.p_value, "drifted": test.p_value <= alpha and auc >= auc_floor,
            "importances": dict(ranked), "reference_rows": len(ref), "current_rows": len(cur)}


def _encode(frame: pd.DataFrame) -> np.ndarray:
    encoded = []
    for name in frame.columns:
        column = frame[name]
        if pd.api.types.is_numeric_dtype(column.dtype) and not pd.api.types.is_bool_dtype(column.dtype):
            encoded.append(pd.to_numeric(column, errors="coerce").fillna(-1e12).to_numpy(np.float64))
        else:
            codes, _ = pd.factorize(column.astype("string"), use_na_sentinel=True)
            encoded.append(codes.astype(np.float64))
    return np.column_stack(encoded)
