"""LightGBM in its native text format: no pickle, so no trust decision is needed.

A classifier's labels are not part of LightGBM's format (it stores encoded 0..k-1),
so `save` writes them on one extra `modelport_classes:` line after the parameters
block, a place LightGBM's own loader skips.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from modelport.formats.base import class_labels, package_versions, read_head, require
from modelport.foundation.errors import InvalidInputError

CLASSES_KEY = "modelport_classes:"
_TAIL_MARKER = "pandas_categorical:"


def _is_lightgbm_object(obj: Any) -> bool:
    return any(cls.__module__.startswith("lightgbm") for cls in type(obj).__mro__)


class LightGBMPredictor:
    """A LightGBM booster; for classifiers, labels and probabilities as LGBMClassifier gives them."""

    def __init__(self, booster: Any, classes: list[Any] | None) -> None:
        self.booster = booster
        self._classes = classes

    def _raw(self, data: Any) -> np.ndarray:
        return np.asarray(self.booster.predict(data))

    def predict(self, data: Any) -> np.ndarray:
        if self._classes is None:
            return self._raw(data)
        proba = self._probabilities(self._raw(data))
        return np.asarray(np.asarray(self._classes)[np.argmax(proba, axis=1)])

    def predict_proba(self, data: Any) -> np.ndarray | None:
        if self._classes is None:
            return None
        return self._probabilities(self._raw(data))

    @staticmethod
    def _probabilities(raw: np.ndarray) -> np.ndarray:
        if raw.ndim == 1:  # binary: the booster gives P(class 1)
            return np.column_stack([1.0 - raw, raw])
        return raw

    @property
    def classes(self) -> list[Any] | None:
        return None if self._classes is None else list(self._classes)


class LightGBMAdapter:
    """Boosters and the scikit-learn wrappers (LGBMClassifier, LGBMRegressor, ...), as model text."""

    flavor: ClassVar[str] = "lightgbm"
    needs_trust: ClassVar[bool] = False

    def accepts(self, obj: Any) -> bool:
        return _is_lightgbm_object(obj) and (hasattr(obj, "model_to_string") or hasattr(obj, "booster_"))

    def save(self, obj: Any, directory: Path) -> Path:
        booster = obj if hasattr(obj, "model_to_string") else obj.booster_
        text = booster.model_to_string()
        classes = class_labels(obj)
        if classes is not None:
            text = with_classes(text, classes)
        path = directory / "model.txt"
        path.write_text(text, encoding="utf-8")
        return path

    def sniff(self, path: Path) -> bool:
        return read_head(path, 32).startswith(b"tree\nversion=")

    def load(self, path: Path, *, trusted: bool = False) -> LightGBMPredictor:
        lgb = require("lightgbm", "lightgbm")
        text = path.read_text(encoding="utf-8")
        booster = lgb.Booster(model_str=text)
        classes = read_classes(text)
        if classes is None and _is_classification(booster):
            classes = list(range(max(2, int(booster.params.get("num_class", 1)))))
        return LightGBMPredictor(booster, classes)

    def requirements(self) -> dict[str, str]:
        return package_versions("lightgbm", "numpy")


def with_classes(text: str, classes: list[Any]) -> str:
    """Model text with the class labels written where LightGBM's loader ignores them."""
    try:
        line = CLASSES_KEY + json.dumps(classes) + "\n\n"
    except TypeError as exc:
        raise InvalidInputError(f"LightGBM class labels must be JSON values (numbers, strings): {exc}",
                                field="model") from exc
    at = text.rfind(_TAIL_MARKER)
    return text[:at] + line + text[at:] if at >= 0 else text + "\n" + line


def read_classes(text: str) -> list[Any] | None:
    """The labels written by `with_classes`, or None."""
    at = text.rfind("\n" + CLASSES_KEY)
    if at < 0:
        return None
    line = text[at + 1 + len(CLASSES_KEY):].split("\n", 1)[0]
    try:
        labels = json.loads(line)
    except json.JSONDecodeError as exc:
        raise InvalidInputError(f"the LightGBM model's {CLASSES_KEY} line is not valid JSON: {exc}",
                                field="model") from exc
    return list(labels)


def _is_classification(booster: Any) -> bool:
    objective = str(booster.params.get("objective", ""))
    return objective.startswith(("binary", "multiclass"))
