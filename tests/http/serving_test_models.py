"""Custom Python models for serving tests (packaged with their source by the python flavor)."""

from __future__ import annotations

import time
from typing import Any

import numpy as np


class SlowDoubler:
    """Doubles `x` after sleeping the batch's largest `delay` (seconds): in-flight requests on demand."""

    def predict(self, data: Any) -> np.ndarray:
        time.sleep(float(data["delay"].max()))
        return np.asarray(data["x"], dtype="float64") * 2


class PickyDoubler:
    """Doubles `x`, but raises on any negative `x` (a model that fails on some rows)."""

    def predict(self, data: Any) -> np.ndarray:
        values = np.asarray(data["x"], dtype="float64")
        if (values < 0).any():
            raise ValueError("negative input reached the model")
        return values * 2
