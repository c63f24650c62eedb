"""Prediction records: one per served row, with plain values whatever form the request's inputs took."""

from __future__ import annotations

from datetime import datetime, timezone

import numpy as np
import pandas as pd
import pytest

from modelport.serving.predictions import build_records

NOW = datetime(2026, 1, 2, tzinfo=timezone.utc)
COLUMNS = ["age", "city", "score"]


@pytest.mark.parametrize("inputs", [
    [[31.0, "Oslo", 2], [45.5, "Lima", 7]],  # v1 instances as lists
    {"age": np.array([31.0, 45.5]), "city": np.array(["Oslo", "Lima"], dtype=object), "score": np.array([2, 7])},
    pd.DataFrame({"age": [31.0, 45.5], "city": ["Oslo", "Lima"], "score": [2, 7]}),  # CSV / dataframe_split
])
def test_every_input_form_gives_the_same_plain_rows(inputs: object) -> None:
    records = build_records(("churn", 3), ["a", "b"], inputs, COLUMNS, NOW, 4.5, predictions=np.array([0, 1]),
                            probabilities=np.array([[0.9, 0.1], [0.2, 0.8]]))
    assert [r.inputs for r in records] == [{"age": 31.0, "city": "Oslo", "score": 2},
                                           {"age": 45.5, "city": "Lima", "score": 7}]
    assert {type(v) for r in records for v in r.inputs.values()} == {float, str, int}
    assert [(r.prediction_id, r.outputs, r.probabilities) for r in records] == [
        ("a", 0, [0.9, 0.1]), ("b", 1, [0.2, 0.8])]
    assert {type(r.outputs) for r in records} == {int} and records[0].version == 3 and records[1].status == "ok"


def test_a_numeric_tensor_keeps_its_numbers_and_string_labels_stay_strings() -> None:
    records = build_records(("m", 1), None, np.array([[1, 2, 3]], dtype=np.int32), COLUMNS, NOW, 1.0,
                            predictions=np.array(["yes"], dtype=object))
    assert records[0].inputs == {"age": 1, "city": 2, "score": 3} and records[0].outputs == "yes"
    assert len(records[0].prediction_id) == 32 and records[0].probabilities is None


def test_a_failed_request_is_recorded_with_its_error_and_unreadable_inputs_without_rows() -> None:
    failed = build_records(("m", 1), None, [[1.0, "x", 3]], COLUMNS, NOW, 2.0, error=ValueError("boom"))
    assert (failed[0].status, failed[0].error, failed[0].outputs) == ("ValueError", "boom", None)
    assert failed[0].inputs == {"age": 1.0, "city": "x", "score": 3}
    ragged = build_records(("m", 1), None, {"age": [1.0, 2.0], "city": ["x"]}, COLUMNS, NOW, 2.0,
                           error=ValueError("ragged"))
    assert len(ragged) == 1 and ragged[0].inputs == {}
