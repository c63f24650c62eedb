"""The one validation function: every case names the field and the reason."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from modelport.foundation.errors import ValidationError
from modelport.signatures import ColumnSpec, Signature, TensorSpec, infer_signature, validate

SIG = Signature(
    columns=(
        ColumnSpec("age", "float64"),
        ColumnSpec("visits", "int64"),
        ColumnSpec("plan", "string"),
        ColumnSpec("score", "float64", nullable=True),
    )
)


def rows(**overrides: object) -> pd.DataFrame:
    base = {"age": [31.0, 42.5], "visits": [3, 7], "plan": ["basic", "pro"], "score": [0.5, None]}
    base.update({k: v for k, v in overrides.items()})
    return pd.DataFrame(base)


def test_valid_frame_is_coerced_to_signature_order_and_dtypes() -> None:
    frame = rows()[["plan", "score", "visits", "age"]]
    result = validate(SIG, frame).data
    assert list(result.columns) == ["age", "visits", "plan", "score"]
    assert result["age"].dtype == np.float64 and result["visits"].dtype == np.int64
    assert result["score"].isna().tolist() == [False, True]


def test_ints_are_accepted_for_a_float_column() -> None:
    result = validate(SIG, rows(age=[31, 42])).data
    assert result["age"].dtype == np.float64 and result["age"].tolist() == [31.0, 42.0]


def test_missing_column_is_named() -> None:
    with pytest.raises(ValidationError, match=r"input 'plan': missing column \(the model expects: age, visits"):
        validate(SIG, rows().drop(columns=["plan"]))


def test_extra_column_is_named() -> None:
    with pytest.raises(ValidationError, match=r"input 'colour': unexpected column"):
        validate(SIG, rows().assign(colour=["red", "blue"]))


def test_wrong_dtype_is_named_with_expected_and_actual() -> None:
    with pytest.raises(ValidationError, match=r"input 'age': expected float64, got string \(row 1\)"):
        validate(SIG, rows(age=[31.0, "old"]))


def test_fractional_value_for_int_column_is_refused() -> None:
    with pytest.raises(ValidationError, match=r"input 'visits': expected int64, got a number with a fractional part"):
        validate(SIG, rows(visits=[3, 7.5]))


def test_bool_is_not_silently_a_number() -> None:
    with pytest.raises(ValidationError, match=r"input 'age': expected float64, got bool"):
        validate(SIG, rows(age=[True, 3.0]))


def test_number_for_string_column_is_refused() -> None:
    with pytest.raises(ValidationError, match=r"input 'plan': expected string, got int64"):
        validate(SIG, rows(plan=["basic", 5]))


def test_nan_where_not_allowed_is_refused() -> None:
    with pytest.raises(ValidationError, match=r"input 'age': missing value .* does not allow missing values"):
        validate(SIG, rows(age=[np.nan, 1.0]))


def test_nan_allowed_in_nullable_column() -> None:
    assert validate(SIG, rows(score=[None, None])).data["score"].isna().all()


def test_collect_mode_drops_bad_rows_with_reasons_and_keeps_positions() -> None:
    frame = pd.DataFrame(
        {"age": [1.0, "x", 3.0, None], "visits": [1, 2, 3.5, 4], "plan": ["a", "b", "c", "d"], "score": [1.0] * 4}
    )
    result = validate(SIG, frame, collect=True)
    assert result.positions is not None and result.positions.tolist() == [0]
    assert set(result.rejected) == {1, 2, 3}
    assert "input 'age': expected float64, got string" in result.rejected[1]
    assert "input 'visits'" in result.rejected[2]
    assert "missing value" in result.rejected[3]
    assert result.data["age"].tolist() == [1.0] and result.data["visits"].dtype == np.int64


def test_collect_mode_still_raises_on_structure() -> None:
    with pytest.raises(ValidationError, match="missing column"):
        validate(SIG, rows().drop(columns=["age"]), collect=True)


def test_positional_rows_map_to_columns_in_order() -> None:
    result = validate(SIG, [[31.0, 3, "basic", None], [40, 2, "pro", 0.1]]).data
    assert result["plan"].tolist() == ["basic", "pro"] and result["age"].tolist() == [31.0, 40.0]


def test_positional_rows_of_wrong_width_are_refused() -> None:
    with pytest.raises(ValidationError, match=r"input 'inputs': expected 4 values per row \(age, visits, plan, score\), got 3"):
        validate(SIG, [[1.0, 2, "a"]])


def test_ragged_rows_are_refused() -> None:
    with pytest.raises(ValidationError, match="input 'inputs'"):
        validate(SIG, [[1.0, 2, "a", None], [1.0]])


def test_records_and_column_dicts_are_accepted() -> None:
    records = [{"age": 1.0, "visits": 1, "plan": "a", "score": None}]
    assert validate(SIG, records).data.shape == (1, 4)
    assert validate(SIG, {"age": [1.0], "visits": [1], "plan": ["a"], "score": [None]}).data.shape == (1, 4)
    assert validate(SIG, records[0]).data.shape == (1, 4)


def test_columns_of_different_lengths_are_refused() -> None:
    with pytest.raises(ValidationError, match="different lengths"):
        validate(SIG, {"age": [1.0, 2.0], "visits": [1], "plan": ["a"], "score": [None]})


def test_duplicate_column_is_refused() -> None:
    frame = rows()
    frame.insert(1, "age", frame["age"], allow_duplicates=True)
    with pytest.raises(ValidationError, match="input 'age': column given more than once"):
        validate(SIG, frame)


TENSOR = Signature(tensor=TensorSpec("float32", (-1, 4)))


def test_tensor_shape_and_dtype() -> None:
    out = validate(TENSOR, np.ones((3, 4), dtype=np.float64)).data
    assert out.dtype == np.float32 and out.shape == (3, 4)


def test_tensor_wrong_rank_is_refused() -> None:
    with pytest.raises(ValidationError, match=r"input 'input': expected 2 dimensions \(\*, 4\), got shape \(4\)"):
        validate(TENSOR, np.ones(4))


def test_tensor_wrong_axis_is_refused() -> None:
    with pytest.raises(ValidationError, match=r"input 'input': axis 1 must have size 4, got 3"):
        validate(TENSOR, np.ones((2, 3)))


def test_tensor_strings_are_refused() -> None:
    with pytest.raises(ValidationError, match=r"input 'input': expected float32, got string"):
        validate(TENSOR, np.array([["a", "b", "c", "d"]]))


def test_infer_signature_from_mixed_frame() -> None:
    frame = pd.DataFrame({"a": [1.0, None], "b": [1, 2], "c": ["x", "y"], "d": [True, False]})
    sig = infer_signature(frame, output=np.array([0, 1]), classes=np.array([0, 1]))
    assert [(c.name, c.dtype, c.nullable) for c in sig.columns] == [
        ("a", "float64", True), ("b", "int64", False), ("c", "string", False), ("d", "bool", False)]
    assert sig.output is not None and sig.output.shape == (-1,) and sig.classes == (0, 1)
    assert Signature.from_dict(sig.to_dict()) == sig


def test_signature_from_malformed_dict_names_the_problem() -> None:
    from modelport.foundation.errors import InvalidInputError

    with pytest.raises(InvalidInputError, match=r"invalid signature: .*dtype 'complex'"):
        Signature.from_dict({"inputs": {"type": "columns", "columns": [{"name": "a", "dtype": "complex"}]}})
    with pytest.raises(InvalidInputError, match="invalid signature"):
        Signature.from_dict({"nothing": 1})


def test_exact_frames_take_the_fast_path_and_still_refuse_missing_values() -> None:
    sig = Signature(columns=(ColumnSpec("a", "float64"), ColumnSpec("b", "int64"), ColumnSpec("c", "bool")))
    frame = pd.DataFrame({"c": [True, False], "b": [1, 2], "a": [0.5, 1.5]})
    out = validate(sig, frame).data
    assert list(out.columns) == ["a", "b", "c"] and out["a"].tolist() == [0.5, 1.5]
    with pytest.raises(ValidationError, match="input 'a': missing value"):
        validate(sig, frame.assign(a=[np.nan, 1.0]))
    result = validate(sig, frame.assign(a=[np.nan, 1.0]), collect=True)
    assert result.positions.tolist() == [1] and "missing value" in result.rejected[0]


def test_the_block_check_for_missing_values_tells_inf_minus_inf_from_nan() -> None:
    # The fast path sums each float column: +inf and -inf sum to NaN without any value missing,
    # and huge values overflow to inf; neither is a missing value.
    sig = Signature(columns=(ColumnSpec("a", "float64"), ColumnSpec("b", "float64"), ColumnSpec("n", "float64", True)))
    frame = pd.DataFrame({"a": [np.inf, -np.inf, 1.0], "b": [1e308, 1e308, 1e308], "n": [np.nan, 1.0, 2.0]})
    out = validate(sig, frame)
    assert out.rejected == {} and out.data["a"].tolist() == [np.inf, -np.inf, 1.0]
    result = validate(sig, frame.assign(b=[1e308, np.nan, -np.inf]), collect=True)
    assert result.positions.tolist() == [0, 2] and "input 'b': missing value" in result.rejected[1]


@pytest.mark.parametrize("order", [["a", "b"], ["b", "a"]])
def test_an_exact_frame_comes_back_in_order_labelled_from_zero_and_writing_to_it_leaves_the_callers_alone(
    order: list[str],
) -> None:
    signature = Signature(columns=(ColumnSpec("a", "float64"), ColumnSpec("b", "int64")))
    frame = pd.DataFrame({"a": [1.5, 2.5, 3.5], "b": [1, 2, 3]}, index=[7, 8, 9])[order]
    data = validate(signature, frame).data
    assert list(data.columns) == ["a", "b"] and data.index.tolist() == [0, 1, 2]
    same = frame.reset_index(drop=True)
    data.iloc[0, 0] = -1.0  # a model that scribbles on its input
    assert frame["a"].tolist() == [1.5, 2.5, 3.5] and data is not same
    assert validate(signature, same).data is not same
