"""Input preparation: the fast path accepts only what validate() accepts, identically."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from modelport.foundation.errors import ValidationError
from modelport.serving.inputs import InputPreparer, cache_key
from modelport.signatures.schema import ColumnSpec, Signature, TensorSpec
from modelport.signatures.validate import validate

FLOATS = Signature(columns=(ColumnSpec("a", "float64"), ColumnSpec("b", "float64")))
MIXED = Signature(columns=(ColumnSpec("a", "float64"), ColumnSpec("s", "string")))


@pytest.mark.parametrize("data", [
    [[1, 2.5], [3, 4]], np.asarray([[1.0, 2.0]]), [1.0, 2.0], {"a": np.asarray([1.0]), "b": np.asarray([2])},
])
def test_fast_path_matches_validate(data) -> None:
    fast = InputPreparer(FLOATS).fast(data)
    assert fast is not None
    slow = validate(FLOATS, data).data
    assert np.array_equal(fast, slow.to_numpy()) and fast.dtype == np.float64


@pytest.mark.parametrize("data", [
    [[1, True]], [[1, "2"]], [[1, None]], np.asarray([[1.0, np.nan]]), [[1, 2, 3]], [], [{"a": 1, "b": 2}],
])
def test_anything_unusual_goes_to_validate(data) -> None:
    assert InputPreparer(FLOATS).fast(data) is None


def test_rejections_come_from_validate_with_their_message() -> None:
    with pytest.raises(ValidationError, match="input 'b': expected float64, got bool"):
        InputPreparer(FLOATS).slow([[1, True]])


def test_mixed_signatures_use_validate_and_combine_frames() -> None:
    prep = InputPreparer(MIXED)
    assert prep.fast([[1.0, "x"]]) is None
    parts = [prep.slow([[1.0, "x"]]), prep.slow([{"a": 2.0, "s": "y"}])]
    combined = prep.combine(parts)
    assert combined.to_dict(orient="list") == {"a": [1.0, 2.0], "s": ["x", "y"]}


def test_combine_keeps_order_and_column_names() -> None:
    prep = InputPreparer(FLOATS)
    frame = prep.combine([np.asarray([[1.0, 2.0]]), np.asarray([[3.0, 4.0], [5.0, 6.0]])])
    assert isinstance(frame, pd.DataFrame) and list(frame.columns) == ["a", "b"]
    assert frame["a"].tolist() == [1.0, 3.0, 5.0]


def test_tensor_signatures_concatenate_arrays() -> None:
    prep = InputPreparer(Signature(tensor=TensorSpec("float32", (-1, 2))))
    assert prep.fast([[1, 2]]) is None
    parts = [prep.slow([[1, 2]]), prep.slow([[3, 4]])]
    assert prep.combine(parts).tolist() == [[1, 2], [3, 4]]


def test_cache_key_is_the_same_for_the_same_data_whatever_the_wire_form() -> None:
    prep = InputPreparer(FLOATS)
    from_lists = prep.fast([[1, 2]])
    from_columns = prep.fast({"a": np.asarray([1.0]), "b": np.asarray([2.0])})
    assert cache_key(from_lists) == cache_key(from_columns) != cache_key(prep.fast([[1, 3]]))



TENSOR = Signature(tensor=TensorSpec("float64", (-1, 3), name="x"))


@pytest.mark.parametrize("data", [np.ones((2, 3)), np.arange(3, dtype=np.int64).reshape(1, 3)])
def test_a_numeric_tensor_is_validated_on_the_fast_path_exactly_as_validate_does(data) -> None:
    fast = InputPreparer(TENSOR).fast(data)
    slow = validate(TENSOR, data).data
    assert fast is not None and fast.dtype == slow.dtype == np.float64 and np.array_equal(fast, slow)


def test_a_tensor_of_the_wrong_shape_is_refused_on_the_fast_path_with_validates_message() -> None:
    with pytest.raises(ValidationError, match=r"input 'x': axis 1 must have size 3, got 4"):
        InputPreparer(TENSOR).fast(np.ones((1, 4)))


@pytest.mark.parametrize("data", [[[1.0, 2.0, 3.0]], np.asarray([["a", "b", "c"]]), np.asarray([[True, False, True]])])
def test_tensor_input_that_is_not_a_numeric_array_goes_to_validate(data) -> None:
    assert InputPreparer(TENSOR).fast(data) is None
