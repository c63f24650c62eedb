"""A custom Python model for batch tests (packaged with its source by the python flavor)."""

from __future__ import annotations

from typing import Any

import numpy as np


class InPlaceIris:
    """Iris by petal length, after writing into the frame it is given, as careless user code does."""

    def predict(self, data: Any) -> np.ndarray:
        data.loc[:, "petal length (cm)"] = data["petal length (cm)"] * 10.0  # in place, in its own input
        petal = np.asarray(data["petal length (cm)"], dtype="float64")
        return np.where(petal < 25.0, 0, np.where(petal < 48.5, 1, 2))
