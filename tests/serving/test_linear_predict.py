"""The linear fast path (formats/linear.py): bit-for-bit the classifier's own predict, or its own predict."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from sklearn.datasets import load_breast_cancer, load_iris
from sklearn.linear_model import LogisticRegression, RidgeClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler, StandardScaler

from modelport.batch.sources import arrow_frame
from modelport.formats.linear import LinearPredictor, _frame_columns
from modelport.formats.sklearn import EstimatorPredictor


def _data(name: str) -> tuple[np.ndarray, np.ndarray]:
    x, y = (load_breast_cancer if name == "cancer" else load_iris)(return_X_y=True)
    return np.asarray(x, dtype=np.float64), np.asarray(y)


def _inputs(x: np.ndarray) -> list[np.ndarray]:
    rng = np.random.default_rng(11)
    noisy = x + rng.normal(0, 1, x.shape) * x.std(axis=0)
    wide = rng.uniform(x.min(axis=0) - 3 * x.std(axis=0), x.max(axis=0) + 3 * x.std(axis=0), (3000, x.shape[1]))
    # Column-major blocks too (what batch scoring builds from Parquet columns): scikit-learn keeps their order.
    return [x, noisy, wide, x[:1], noisy[7:8], wide[:64], np.asfortranarray(noisy), np.asfortranarray(wide)]


@pytest.mark.parametrize("dataset", ["cancer", "iris"])  # two classes, and three (argmax)
@pytest.mark.parametrize("make", [
    lambda: make_pipeline(StandardScaler(), LogisticRegression(max_iter=5000)),
    lambda: make_pipeline(StandardScaler(with_mean=False), StandardScaler(with_std=False),
                          LogisticRegression(C=0.1, max_iter=5000)),
    lambda: LogisticRegression(max_iter=5000, fit_intercept=False),
])
def test_the_fast_path_equals_the_models_own_predict_bit_for_bit(dataset, make) -> None:
    x, y = _data(dataset)
    model = make().fit(x, y)
    fast = LinearPredictor.of(model)
    assert fast is not None
    for rows in _inputs(x):
        assert np.array_equal(fast.predict(rows), model.predict(rows))
        assert np.array_equal(EstimatorPredictor(model).predict(rows), model.predict(rows))


def test_string_class_labels_come_back_as_the_model_gives_them() -> None:
    x, y = _data("iris")
    labels = np.asarray(["setosa", "versicolor", "virginica"])[y]
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=5000)).fit(x, labels)
    assert np.array_equal(LinearPredictor.of(model).predict(x), model.predict(x))  # type: ignore[union-attr]


@pytest.mark.parametrize(("make", "fit"), [
    (lambda: make_pipeline(MinMaxScaler(), LogisticRegression()), True),  # another step
    (lambda: RidgeClassifier(), True),  # another classifier
    (lambda: make_pipeline(StandardScaler(), LogisticRegression()), False),  # not fitted
])
def test_other_models_do_not_take_the_fast_path(make, fit) -> None:
    x, y = _data("iris")
    model = make().fit(x, y) if fit else make()
    assert LinearPredictor.of(model) is None


@pytest.mark.parametrize("rows", [
    np.asarray([[1.0, np.nan, 2.0, 3.0]]), np.asarray([[1.0, np.inf, 2.0, 3.0]]), np.ones((2, 4), dtype=np.float32),
    np.ones((2, 3)), np.ones((2, 4), dtype=np.int64), [[1.0, 2.0, 3.0, 4.0]],
])
def test_unusual_input_goes_to_the_models_own_predict(rows) -> None:
    x, y = _data("iris")
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=5000)).fit(x, y)
    assert LinearPredictor.of(model).predict(rows) is None  # type: ignore[union-attr]
    assert _outcome(EstimatorPredictor(model).predict, rows) == _outcome(model.predict, rows)


def test_a_model_fitted_on_named_columns_takes_frames_with_those_names_and_leaves_arrays_to_sklearn() -> None:
    x, y = _data("iris")
    names = ["a", "b", "c", "d"]
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=5000)).fit(pd.DataFrame(x, columns=names), y)
    wrapped = EstimatorPredictor(model)
    frame = pd.DataFrame(x, columns=names)
    assert np.array_equal(wrapped.predict(frame), model.predict(frame))
    assert wrapped._fast_input(x) is None  # scikit-learn would warn about missing names: its own path


def test_probabilities_always_come_from_the_model() -> None:
    x, y = _data("cancer")
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=5000)).fit(x, y)
    assert LinearPredictor.of(model).predict_proba(x) is None  # type: ignore[union-attr]
    assert np.array_equal(EstimatorPredictor(model).predict_proba(x), model.predict_proba(x))


def _outcome(predict, rows):  # type: ignore[no-untyped-def]
    try:
        return predict(rows).tolist()
    except ValueError as exc:
        return type(exc), str(exc)


@pytest.mark.parametrize("l1", [False, True])  # an L1 penalty leaves coefficients at zero: x * 0 hides nothing
def test_a_missing_or_infinite_value_in_a_large_block_goes_to_the_models_own_predict(l1: bool) -> None:
    x, y = _data("cancer")
    classifier = LogisticRegression(l1_ratio=1, solver="liblinear", C=0.05) if l1 else LogisticRegression(max_iter=5000)
    model = make_pipeline(StandardScaler(), classifier).fit(x, y)
    coef = model[-1].coef_[0]
    assert bool((coef == 0).any()) is l1
    fast = LinearPredictor.of(model)
    assert fast is not None and np.array_equal(fast.predict(x), model.predict(x))
    for column in {int(np.argmin(np.abs(coef))), int(np.argmax(np.abs(coef)))}:
        for value in (np.nan, np.inf, -np.inf):
            rows = np.asfortranarray(x)  # a large block, as batch scoring hands it over
            rows[417, column] = value
            assert fast.predict(rows) is None, (column, value)


def test_a_large_block_whose_scores_overflow_goes_to_the_models_own_predict() -> None:
    x, y = _data("cancer")
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=5000)).fit(x, y)
    rows = x.copy()
    rows[2, :] = 1e306  # finite, but its scaled sum is not
    assert LinearPredictor.of(model).predict(rows) is None  # type: ignore[union-attr]
    with np.errstate(all="ignore"):
        assert _outcome(EstimatorPredictor(model).predict, rows) == _outcome(model.predict, rows)


def test_a_frame_for_a_model_fitted_on_an_array_takes_the_fast_path_as_its_columns() -> None:
    """Batch scoring hands the model its validated rows as a frame: the fast path must see them, not sklearn's."""
    x, y = _data("cancer")
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=5000)).fit(x, y)
    wrapped = EstimatorPredictor(model)
    frame = pd.DataFrame(np.asfortranarray(x), columns=[f"f{i}" for i in range(x.shape[1])])
    assert wrapped._fast_input(frame) is frame
    columns = _frame_columns(frame)
    assert columns is not None and all(np.shares_memory(c, frame.to_numpy()) for c in columns)  # nothing copied
    assert np.array_equal(wrapped.predict(frame), model.predict(frame.to_numpy()))


def _column_frame(rows: np.ndarray) -> pd.DataFrame:
    """A frame of separate 1-D columns, one block each, as batch scoring makes of Parquet (batch/sources.py)."""
    frame = arrow_frame(pa.record_batch({f"f{i}": rows[:, i] for i in range(rows.shape[1])}))
    assert frame.shape == rows.shape
    return frame


@pytest.mark.parametrize("dataset", ["cancer", "iris"])
@pytest.mark.parametrize("make", [
    lambda: make_pipeline(StandardScaler(), LogisticRegression(max_iter=5000)),
    lambda: make_pipeline(StandardScaler(with_mean=False), StandardScaler(with_std=False),
                          LogisticRegression(C=0.1, max_iter=5000)),
    lambda: LogisticRegression(max_iter=5000, fit_intercept=False),  # no scaler: the columns copied as they are
])
def test_a_frames_columns_are_scored_bit_for_bit_as_the_model_scores_the_frame(dataset, make) -> None:
    x, y = _data(dataset)
    model = make().fit(x, y)
    fast = LinearPredictor.of(model)
    assert fast is not None
    for rows in _inputs(x)[:3]:
        frame = _column_frame(rows)
        columns = _frame_columns(frame)
        assert columns is not None
        standardized = fast._standardized(columns)
        assert standardized.flags.f_contiguous  # the order of the frame's to_numpy(), so the product sums alike
        scores = standardized @ fast.coef_t + fast.intercept
        assert np.array_equal(scores.reshape(model.decision_function(frame.to_numpy()).shape),
                              model.decision_function(frame.to_numpy()))
        assert np.array_equal(fast.predict(frame), model.predict(frame.to_numpy()))
        assert np.array_equal(EstimatorPredictor(model).predict(frame), model.predict(frame.to_numpy()))


@pytest.mark.parametrize("change", ["nan", "inf", "int column", "float32 column"])
def test_a_large_frame_with_a_missing_value_or_another_dtype_goes_to_the_models_own_predict(change: str) -> None:
    x, y = _data("cancer")
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=5000)).fit(x, y)
    frame = pd.DataFrame(x.copy(), columns=[f"f{i}" for i in range(x.shape[1])])
    if change in ("nan", "inf"):
        frame.iloc[5, 3] = np.nan if change == "nan" else np.inf
    else:
        frame["f3"] = frame["f3"].astype(np.int64 if change == "int column" else np.float32)
    assert LinearPredictor.of(model).predict(frame) is None  # type: ignore[union-attr]
    with np.errstate(all="ignore"):
        assert _outcome(EstimatorPredictor(model).predict, frame) == _outcome(model.predict, frame.to_numpy())
