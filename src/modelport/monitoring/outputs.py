"""Model outputs as drift features: the predicted label and one column per class probability."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

PREDICTION = "prediction"


def proba_column(label: Any) -> str:
    """The feature name of the probability of class `label`."""
    return f"proba_{label}"


def output_frame(predictions: Any, probabilities: Any = None, classes: Sequence[Any] | None = None) -> pd.DataFrame:
    """A frame with `prediction` and, when given, `proba_<class>` columns (one row per prediction)."""
    values = np.asarray(predictions)
    columns: dict[str, Any] = {PREDICTION: values.ravel() if values.ndim <= 1 or values.shape[1] == 1 else values[:, 0]}
    if probabilities is not None:
        matrix = np.asarray(probabilities, dtype=np.float64)
        if matrix.ndim == 2:
            labels = list(classes) if classes is not None and len(classes) == matrix.shape[1] else range(matrix.shape[1])
            for index, label in enumerate(labels):
                columns[proba_column(label)] = matrix[:, index]
    return pd.DataFrame(columns)
