"""The forest fast path (formats/forest.py): bit-for-bit the forest's own answers, or the forest's own predict."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_breast_cancer, load_iris
from sklearn.ensemble import ExtraTreesClassifier, RandomForestClassifier, RandomForestRegressor

from modelport.formats.forest import ForestPredictor
from modelport.formats.sklearn import EstimatorPredictor


def _data(name: str) -> tuple[np.ndarray, np.ndarray]:
    x, y = (load_breast_cancer if name == "cancer" else load_iris)(return_X_y=True)
    return np.asarray(x), np.asarray(y)


def _inputs(x: np.ndarray) -> list[np.ndarray]:
    """The training rows, noisy rows well off them, single rows, and values sitting exactly on the splits."""
    rng = np.random.default_rng(7)
    noisy = x + rng.normal(0, 1, x.shape) * x.std(axis=0)
    wide = rng.uniform(x.min(axis=0) - x.std(axis=0), x.max(axis=0) + x.std(axis=0), (2000, x.shape[1]))
    return [x, noisy, wide, x[:1], noisy[5:6], x[:64].astype(np.float32)]


@pytest.mark.parametrize("dataset", ["cancer", "iris"])
@pytest.mark.parametrize("make", [
    lambda: RandomForestClassifier(n_estimators=60, max_depth=10, random_state=0, n_jobs=1),
    lambda: RandomForestClassifier(n_estimators=25, random_state=1, n_jobs=1),  # unbounded depth
    lambda: ExtraTreesClassifier(n_estimators=40, random_state=2, n_jobs=1),
])
def test_the_fast_path_equals_the_forests_own_predict_bit_for_bit(dataset, make) -> None:
    x, y = _data(dataset)
    forest = make().fit(x, y)
    fast = ForestPredictor(forest)
    for whole in _inputs(x):
        for start in range(0, len(whole), 512):  # the fast path takes up to 512 rows
            rows = whole[start : start + 512]
            proba = fast.predict_proba(rows)
            assert proba is not None and proba.dtype == np.float64
            assert np.array_equal(proba, forest.predict_proba(rows))  # exactly: no tolerance
            assert np.array_equal(fast.predict(rows), forest.predict(rows))


def test_a_batch_of_more_than_512_rows_goes_to_the_forests_own_predict() -> None:
    # Batch scoring sends 100,000 rows at once: there scikit-learn's own tree walk is the faster one.
    x, y = _data("cancer")
    forest = RandomForestClassifier(n_estimators=10, random_state=0, n_jobs=1).fit(x, y)
    assert ForestPredictor(forest).predict_proba(x[:513]) is None
    assert ForestPredictor(forest).predict_proba(x[:512]) is not None
    assert np.array_equal(EstimatorPredictor(forest).predict(x), forest.predict(x))


def test_split_thresholds_are_compared_in_float32_widened_as_the_trees_do() -> None:
    x, y = _data("cancer")
    forest = RandomForestClassifier(n_estimators=30, max_depth=10, random_state=3, n_jobs=1).fit(x, y)
    tree = forest.estimators_[0].tree_
    inner = np.flatnonzero(tree.children_left != -1)
    rows = np.repeat(x[:1], len(inner), axis=0)
    rows[np.arange(len(inner)), tree.feature[inner]] = tree.threshold[inner]  # exactly on each split of tree 0
    assert np.array_equal(ForestPredictor(forest).predict_proba(rows), forest.predict_proba(rows))


@pytest.mark.parametrize("bad", [np.nan, np.inf, 1e39])  # 1e39 overflows float32 to inf
def test_missing_or_infinite_values_go_to_the_forests_own_predict(bad) -> None:
    x, y = _data("iris")
    forest = RandomForestClassifier(n_estimators=10, random_state=0).fit(x, y)
    rows = x[:3].copy()
    rows[1, 2] = bad
    assert ForestPredictor(forest).predict_proba(rows) is None
    assert _outcome(EstimatorPredictor(forest).predict, rows) == _outcome(forest.predict, rows)


def _outcome(predict, rows):  # type: ignore[no-untyped-def]
    """The answer as a list, or the error's type and message: whatever scikit-learn does, the wrapper must do."""
    try:
        with np.errstate(over="ignore"):
            return predict(rows).tolist()
    except ValueError as exc:
        return type(exc), str(exc)


def test_the_wrong_number_of_columns_gets_the_forests_own_error() -> None:
    x, y = _data("iris")
    forest = RandomForestClassifier(n_estimators=10, random_state=0).fit(x, y)
    assert ForestPredictor(forest).predict(x[:2, :3]) is None
    with pytest.raises(ValueError, match="features"):
        EstimatorPredictor(forest).predict(x[:2, :3])


def test_only_single_output_forest_classifiers_take_the_fast_path() -> None:
    x, y = _data("iris")
    assert not ForestPredictor.supports(RandomForestRegressor(n_estimators=5).fit(x, y.astype(float)))
    assert not ForestPredictor.supports(RandomForestClassifier(n_estimators=5))  # not fitted
    assert not ForestPredictor.supports(RandomForestClassifier(n_estimators=5).fit(x, np.column_stack([y, y])))
    assert ForestPredictor.supports(RandomForestClassifier(n_estimators=5).fit(x, y))


def test_frames_with_the_fitted_names_take_the_fast_path_and_others_get_sklearns_checks() -> None:
    x, y = _data("iris")
    names = ["a", "b", "c", "d"]
    forest = RandomForestClassifier(n_estimators=10, random_state=0).fit(pd.DataFrame(x, columns=names), y)
    wrapped = EstimatorPredictor(forest)
    frame = pd.DataFrame(x[:20], columns=names)
    assert np.array_equal(wrapped.predict_proba(frame), forest.predict_proba(frame))
    assert np.array_equal(wrapped._fast_input(frame), frame.to_numpy())
    renamed = frame.rename(columns={"a": "z"})
    assert wrapped._fast_input(renamed) is None
    with pytest.raises(ValueError, match="feature names"):
        wrapped.predict(renamed)
