"""XGBoost and LightGBM in their native formats: wrappers and raw boosters, classes and probabilities."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from modelport.formats.lightgbm import LightGBMAdapter, read_classes, with_classes
from modelport.formats.xgboost import XGBoostAdapter
from modelport.foundation.errors import InvalidInputError
from modelport.registry.service import Registry


def _roundtrip(adapter: Any, model: Any, tmp_path: Path) -> Any:
    assert adapter.accepts(model)
    path = adapter.save(model, tmp_path)
    assert adapter.sniff(path)
    return adapter.load(path)


def test_xgboost_classifier_keeps_labels_and_probabilities(xgb_classifier: Any, iris: Any, tmp_path: Path) -> None:
    x, _ = iris
    loaded = _roundtrip(XGBoostAdapter(), xgb_classifier, tmp_path)
    assert loaded.predict(x).tolist() == xgb_classifier.predict(x).tolist()
    np.testing.assert_array_equal(loaded.predict_proba(x), xgb_classifier.predict_proba(x))
    assert loaded.classes == [0, 1, 2]


def test_xgboost_regressor_and_raw_booster(diabetes: Any, cancer: Any, tmp_path: Path) -> None:
    import xgboost as xgb

    x, y = diabetes
    regressor = xgb.XGBRegressor(n_estimators=5, max_depth=3).fit(x, y)
    loaded = _roundtrip(XGBoostAdapter(), regressor, tmp_path)
    np.testing.assert_array_equal(loaded.predict(x), regressor.predict(x))
    assert loaded.predict_proba(x) is None and loaded.classes is None

    cx, cy = cancer
    booster = xgb.train({"objective": "binary:logistic", "max_depth": 2}, xgb.DMatrix(cx, label=cy), 5)
    (tmp_path / "raw").mkdir()
    raw = _roundtrip(XGBoostAdapter(), booster, tmp_path / "raw")
    probability = booster.predict(xgb.DMatrix(cx))
    np.testing.assert_array_equal(raw.predict_proba(cx)[:, 1], probability)
    assert raw.predict(cx).tolist() == (probability > 0.5).astype(int).tolist()
    assert raw.classes == [0, 1]


def test_xgboost_ubj_and_array_trained_models(iris: Any, tmp_path: Path) -> None:
    import xgboost as xgb

    x, y = iris
    model = xgb.XGBClassifier(n_estimators=4, max_depth=2).fit(x.to_numpy(), y)
    path = tmp_path / "model.ubj"
    model.save_model(str(path))
    adapter = XGBoostAdapter()
    assert adapter.sniff(path)
    # trained on a bare array, it still takes a DataFrame
    assert adapter.load(path).predict(x).tolist() == model.predict(x.to_numpy()).tolist()


def test_xgboost_sniff_refuses_other_json(tmp_path: Path) -> None:
    path = tmp_path / "config.json"
    path.write_text('{"name": "not a model"}')
    assert not XGBoostAdapter().sniff(path)
    assert not XGBoostAdapter().accepts(object())


def test_lightgbm_classifier_keeps_string_labels(lgbm_classifier: Any, iris: Any, tmp_path: Path) -> None:
    x, _ = iris
    loaded = _roundtrip(LightGBMAdapter(), lgbm_classifier, tmp_path)
    assert loaded.predict(x).tolist() == lgbm_classifier.predict(x).tolist()
    np.testing.assert_array_equal(loaded.predict_proba(x), lgbm_classifier.predict_proba(x))
    assert loaded.classes == ["setosa", "versicolor", "virginica"]


def test_lightgbm_binary_booster_and_regressor(cancer: Any, diabetes: Any, tmp_path: Path) -> None:
    import lightgbm as lgb

    x, y = cancer
    booster = lgb.train({"objective": "binary", "verbose": -1, "num_leaves": 7}, lgb.Dataset(x, y), 5)
    loaded = _roundtrip(LightGBMAdapter(), booster, tmp_path)
    assert loaded.classes == [0, 1]
    np.testing.assert_array_equal(loaded.predict_proba(x)[:, 1], booster.predict(x))

    dx, dy = diabetes
    regressor = lgb.LGBMRegressor(n_estimators=5, verbose=-1).fit(dx, dy)
    (tmp_path / "r").mkdir()
    loaded = _roundtrip(LightGBMAdapter(), regressor, tmp_path / "r")
    np.testing.assert_array_equal(loaded.predict(dx), regressor.predict(dx))
    assert loaded.classes is None


def test_lightgbm_class_line_roundtrip_and_errors() -> None:
    text = "tree\nversion=v4\n\nend of parameters\n\npandas_categorical:null\n"
    marked = with_classes(text, ["a", 2])
    assert read_classes(marked) == ["a", 2]
    assert marked.endswith("pandas_categorical:null\n")
    assert read_classes(text) is None
    with pytest.raises(InvalidInputError, match="JSON values"):
        with_classes(text, [object()])
    with pytest.raises(InvalidInputError, match="not valid JSON"):
        read_classes(text + "\nmodelport_classes:[oops\n")


@pytest.mark.parametrize("adapter_class", [XGBoostAdapter, LightGBMAdapter])
def test_corrupted_booster_files_get_a_clear_error(adapter_class: Any, sqlite_registry: Registry,
                                                   tmp_path: Path) -> None:
    path = tmp_path / ("model.json" if adapter_class is XGBoostAdapter else "model.txt")
    path.write_text('{"learner": {"broken' if adapter_class is XGBoostAdapter else "tree\nversion=v4\ngarbage")
    flavor = adapter_class.flavor
    with pytest.raises(InvalidInputError, match=f"does not load as flavor '{flavor}'"):
        sqlite_registry.register(path, name="broken")


def test_booster_versions_need_no_trust(xgb_classifier: Any, lgbm_classifier: Any, iris: Any,
                                        sqlite_registry: Registry) -> None:
    x, _ = iris
    for name, model in (("xgb", xgb_classifier), ("lgbm", lgbm_classifier)):
        record = sqlite_registry.register(model, name=name, input_example=x.head(3))
        assert record.flavor in ("xgboost", "lightgbm") and not record.trusted
        assert sqlite_registry.load(record).predict(x.head(3)).tolist() == model.predict(x.head(3)).tolist()
