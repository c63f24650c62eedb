"""Custom Python models for rollout tests (packaged with their source by the python flavor)."""

from __future__ import annotations

from typing import Any

import numpy as np

PETAL_LENGTH = "petal length (cm)"


def _rules(data: Any) -> np.ndarray:
    petal = np.asarray(data[PETAL_LENGTH], dtype="float64")
    return np.where(petal < 2.5, 0, np.where(petal < 4.85, 1, 2))


class RuleIris:
    """Iris by petal length alone (about 95% accurate): a good version."""

    def predict(self, data: Any) -> np.ndarray:
        return _rules(data)


class FlakyIris:
    """The same rules, but it raises on flowers with petals longer than 5.5 cm (about 1 in 6)."""

    def predict(self, data: Any) -> np.ndarray:
        if (np.asarray(data[PETAL_LENGTH], dtype="float64") > 5.5).any():
            raise ValueError("petal too long for this version")
        return _rules(data)


class ConstantIris:
    """Always setosa: right on a third of iris, a bad arm for a bandit."""

    def predict(self, data: Any) -> np.ndarray:
        return np.zeros(len(data), dtype="int64")
