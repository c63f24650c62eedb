"""XGBoost in its native JSON/UBJ format: no pickle, so no trust decision is needed."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, ClassVar

from modelport.formats.base import package_versions, read_head, require
from modelport.formats.sklearn import EstimatorPredictor
from modelport.foundation.errors import InvalidInputError

#: objective prefixes that make a booster a classifier (probabilities out).
_CLASSIFIER_OBJECTIVES = ("binary:", "multi:")


def _is_xgboost_object(obj: Any) -> bool:
    return any(cls.__module__.startswith("xgboost") for cls in type(obj).__mro__)


def xgboost_predictor(model: Any) -> EstimatorPredictor:
    """A model loaded into XGBoost's scikit-learn wrapper, so predict/predict_proba match the original."""
    # A booster trained on a bare array refuses named columns it never saw.
    return EstimatorPredictor(model, wants_names=model.get_booster().feature_names is not None)


class XGBoostAdapter:
    """Boosters and the scikit-learn wrappers (XGBClassifier, XGBRegressor, ...), saved with `save_model`."""

    flavor: ClassVar[str] = "xgboost"
    needs_trust: ClassVar[bool] = False

    def accepts(self, obj: Any) -> bool:
        return _is_xgboost_object(obj) and hasattr(obj, "save_model")

    def save(self, obj: Any, directory: Path) -> Path:
        path = directory / "model.json"
        obj.save_model(str(path))
        return path

    def sniff(self, path: Path) -> bool:
        head = read_head(path, 64)
        # JSON: {"learner": ...}; UBJ: '{' then the length-prefixed key "learner".
        if head.lstrip().startswith(b"{") and b"learner" in head:
            return True
        return path.suffix.lower() in (".ubj", ".xgb")

    def load(self, path: Path, *, trusted: bool = False) -> EstimatorPredictor:
        xgb = require("xgboost", "xgboost")
        booster = xgb.Booster()
        booster.load_model(str(path))
        model = _wrapper_class(booster)()
        model.load_model(str(path))
        return xgboost_predictor(model)

    def requirements(self) -> dict[str, str]:
        return package_versions("xgboost", "numpy")


def _wrapper_class(booster: Any) -> Any:
    """The scikit-learn wrapper that reproduces the original model's predict."""
    import xgboost as xgb

    config = json.loads(booster.save_config())
    objective = str(config["learner"]["objective"]["name"])
    kind = _estimator_type(booster)
    if kind == "classifier" or (kind is None and objective.startswith(_CLASSIFIER_OBJECTIVES)):
        return xgb.XGBClassifier
    if kind == "ranker" or (kind is None and objective.startswith("rank:")):
        return xgb.XGBRanker
    if objective.startswith(("reg:", "count:", "survival:")) or kind in (None, "regressor"):
        return xgb.XGBRegressor
    raise InvalidInputError(f"XGBoost model with unsupported estimator type {kind!r}", field="model")


def _estimator_type(booster: Any) -> str | None:
    raw = booster.attr("scikit_learn")
    if not raw:
        return None
    value = json.loads(raw).get("_estimator_type")
    return str(value) if value else None
