"""The benchmark models: trained once on breast cancer, saved with joblib, and measured in process."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

#: name -> one-line description, in report order (fast model first)
MODELS = {
    "lr": "StandardScaler + LogisticRegression",
    "rf": "RandomForest, 200 trees, depth 10",
}
LOAD_ROWS = 64  # distinct rows the load scripts rotate through
CHECK_ROWS = 16  # rows each server must answer exactly like the in-process model


@dataclass(frozen=True)
class SavedModel:
    """One trained model, its joblib file, and the rows servers are checked and loaded with."""

    name: str
    path: Path
    rows: np.ndarray  # float64, shape (LOAD_ROWS, 30)
    expected: np.ndarray  # in-process predict() of `rows`


def build(name: str, seed: int = 0) -> Any:
    """A fresh, fitted estimator for model `name`, trained on numpy arrays (no feature names: no warnings)."""
    from sklearn.datasets import load_breast_cancer
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    x, y = load_breast_cancer(return_X_y=True)
    if name == "lr":
        model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
    elif name == "rf":
        # n_jobs=1: a server answers one row at a time; a joblib pool per call would only add overhead
        model = RandomForestClassifier(n_estimators=200, max_depth=10, random_state=seed, n_jobs=1)
    else:
        raise ValueError(f"unknown model {name!r}; choose one of {', '.join(MODELS)}")
    return model.fit(x, y)


def save_all(folder: Path) -> dict[str, SavedModel]:
    """Train every model, save it as `folder/<name>.joblib`, and keep the rows and their predictions."""
    import joblib
    from sklearn.datasets import load_breast_cancer

    folder.mkdir(parents=True, exist_ok=True)
    x, _ = load_breast_cancer(return_X_y=True)
    rows = np.ascontiguousarray(x[np.linspace(0, len(x) - 1, LOAD_ROWS).astype(int)], dtype=np.float64)
    saved = {}
    for name in MODELS:
        model = build(name)
        path = folder / f"{name}.joblib"
        joblib.dump(model, path)
        saved[name] = SavedModel(name, path, rows, model.predict(rows))
    return saved


def batched_rows_per_second(model: Any, rows: np.ndarray, batch: int = 64, seconds: float = 2.0) -> float:
    """Rows/s of predict() on batches of `batch` rows in this process: the model's own ceiling."""
    data = np.resize(rows, (batch, rows.shape[1]))
    model.predict(data)
    done, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        model.predict(data)
        done += batch
    return done / (time.perf_counter() - start)


def single_row_latency_us(model: Any, rows: np.ndarray, calls: int = 300) -> float:
    """Median microseconds of one predict() call on one row in this process."""
    times = []
    for i in range(calls):
        row = rows[i % len(rows)][None, :]
        start = time.perf_counter()
        model.predict(row)
        times.append(time.perf_counter() - start)
    return float(np.median(times) * 1e6)
