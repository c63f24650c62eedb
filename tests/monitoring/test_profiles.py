"""Reference profiles: what they keep, their serialisation, their storage per version."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from modelport.foundation.errors import InvalidInputError, NotFoundError
from modelport.monitoring.profiles import (
    MAX_SAMPLE,
    CategoricalProfile,
    NumericProfile,
    build_profile,
    profile_from_bytes,
    profile_to_bytes,
)
from modelport.monitoring.references import ReferenceStore, attach_reference
from modelport.registry.service import Registry


def test_numeric_and_categorical_profiles() -> None:
    frame = pd.DataFrame({"x": [3.0, 1.0, np.nan, 2.0], "c": ["a", "b", "a", None], "flag": [True, False, True, True]})
    profile = build_profile(frame)
    x, c = profile.inputs["x"], profile.inputs["c"]
    assert isinstance(x, NumericProfile) and x.sample.tolist() == [1.0, 2.0, 3.0]
    assert (x.missing, x.minimum, x.maximum, x.mean) == (1, 1.0, 3.0, 2.0)
    assert isinstance(c, CategoricalProfile) and c.counts == {"a": 2, "b": 1} and c.missing == 1
    assert isinstance(profile.inputs["flag"], CategoricalProfile)


def test_large_columns_keep_a_bounded_sorted_sample() -> None:
    values = np.random.default_rng(0).normal(size=MAX_SAMPLE + 5_000)
    profile = build_profile(pd.DataFrame({"x": values}))
    sample = profile.inputs["x"].sample  # type: ignore[union-attr]
    assert len(sample) == MAX_SAMPLE and np.all(np.diff(sample) >= 0)
    assert profile.inputs["x"].rows == MAX_SAMPLE + 5_000


def test_round_trip_without_pickles_and_with_an_all_missing_column() -> None:
    frame = pd.DataFrame({"x": np.arange(50.0), "empty": [np.nan] * 50, "c": ["u", "v"] * 25})
    outputs = pd.DataFrame({"prediction": ["u"] * 50, "proba_u": np.linspace(0, 1, 50)})
    profile = build_profile(frame, outputs=outputs)
    again = profile_from_bytes(profile_to_bytes(profile))
    assert again.to_dict()["inputs"]["x"] == profile.to_dict()["inputs"]["x"]
    assert again.to_dict()["inputs"]["c"] == profile.to_dict()["inputs"]["c"]
    assert np.array_equal(again.inputs["x"].sample, profile.inputs["x"].sample)  # type: ignore[union-attr]
    assert np.isnan(again.inputs["empty"].mean)  # type: ignore[union-attr]
    assert again.outputs["prediction"].counts == {"u": 50}  # type: ignore[union-attr]
    assert again.joint is not None and list(again.joint.columns) == ["x", "empty", "c"]


def test_bad_reference_data_is_refused() -> None:
    with pytest.raises(InvalidInputError, match="no rows"):
        build_profile(pd.DataFrame({"x": []}))
    with pytest.raises(InvalidInputError, match="expected a table"):
        build_profile(42)
    with pytest.raises(InvalidInputError, match="not a reference profile"):
        import io

        buffer = io.BytesIO()
        np.savez(buffer, header=np.frombuffer(b'{"format": "other"}', dtype=np.uint8))
        profile_from_bytes(buffer.getvalue())


def test_attach_reference_profiles_inputs_and_predictions(sqlite_registry: Registry, iris, iris_pipeline) -> None:
    x, _ = iris
    record = sqlite_registry.register(iris_pipeline, name="iris", input_example=x.head(5))
    info = attach_reference(sqlite_registry, record, x)
    assert (info.model, info.version, info.rows) == ("iris", 1, 150)
    store = ReferenceStore(sqlite_registry.store.engine, sqlite_registry.artifacts)
    loaded_info, profile = store.load("iris")
    assert loaded_info.digest == info.digest and sqlite_registry.artifacts.exists(info.digest)
    assert set(profile.inputs) == set(x.columns)
    assert {"prediction", "proba_0", "proba_1", "proba_2"} <= set(profile.outputs)


def test_attach_reference_refuses_data_the_model_cannot_read(sqlite_registry: Registry, iris, iris_pipeline) -> None:
    x, _ = iris
    record = sqlite_registry.register(iris_pipeline, name="iris", input_example=x.head(5))
    with pytest.raises(InvalidInputError, match="reference_data does not fit"):
        attach_reference(sqlite_registry, record, pd.DataFrame({"other": [1.0, 2.0]}))


def test_missing_reference_says_how_to_add_one(sqlite_registry: Registry) -> None:
    store = ReferenceStore(sqlite_registry.store.engine, sqlite_registry.artifacts)
    with pytest.raises(NotFoundError, match="reference_data="):
        store.load("nope", 3)
