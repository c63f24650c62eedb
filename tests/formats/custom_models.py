"""Custom Python models the format tests package with their source (numpy only, so loading stays light)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np


class NearestCentroid:
    """A custom Python model: labels by the nearest class centroid, state kept in a .npy file."""

    def __init__(self) -> None:
        self.centroids = np.zeros((0, 0))
        self.classes_ = np.zeros(0, dtype=np.int64)

    def fit(self, x: Any, y: Any) -> NearestCentroid:
        x, y = np.asarray(x, dtype=float), np.asarray(y)
        self.classes_ = np.unique(y)
        self.centroids = np.vstack([x[y == c].mean(axis=0) for c in self.classes_])
        return self

    def predict(self, data: Any) -> np.ndarray:
        x = np.asarray(data, dtype=float)
        distances = ((x[:, None, :] - self.centroids[None, :, :]) ** 2).sum(axis=2)
        return self.classes_[np.argmin(distances, axis=1)]

    def save(self, path: str) -> None:
        np.save(Path(path) / "centroids.npy", self.centroids)
        np.save(Path(path) / "classes.npy", self.classes_)

    def load(self, path: str) -> None:
        self.centroids = np.load(Path(path) / "centroids.npy", allow_pickle=False)
        self.classes_ = np.load(Path(path) / "classes.npy", allow_pickle=False)


class Doubler:
    """A stateless custom model (no load/save needed)."""

    def predict(self, data: Any) -> np.ndarray:
        return np.asarray(data, dtype=float).sum(axis=1) * 2
