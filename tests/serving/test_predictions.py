"""Prediction records: one per served row, with plain values whatever form the request's inputs took."""

from __future__ import annotations

from datetime import datetime, timezone

import numpy as np
import pandas as pd
import pytest

from modelport.serving.ids import PredictionIds
from modelport.serving.predictions import PredictionBlock, SinkFeeder, build_records, failure_block, new_block

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
    ids = PredictionIds(seed=b"t").new
    failed = failure_block("m", 1, "primary", NOW, 2.0, [[1.0, "x", 3]], COLUMNS, ValueError("boom"), ids).records()
    assert (failed[0].status, failed[0].error, failed[0].outputs) == ("ValueError", "boom", None)
    assert failed[0].inputs == {"age": 1.0, "city": "x", "score": 3} and len(failed[0].prediction_id) == 32
    ragged = failure_block("m", 1, "shadow", NOW, 2.0, {"age": [1.0, 2.0], "city": ["x"]}, COLUMNS,
                           ValueError("ragged"), ids, prediction_ids=["p-s2"]).records()
    assert len(ragged) == 1 and ragged[0].inputs == {} and (ragged[0].prediction_id, ragged[0].route) == ("p-s2", "shadow")


def test_a_block_holds_the_request_as_given_and_expands_to_the_same_records() -> None:
    inputs, predictions = np.array([[31.0, 1.0, 2.0], [45.5, 0.0, 7.0]]), np.array([0, 1])
    block = PredictionBlock("churn", 3, "primary", NOW, 4.5, ["a", "b"], inputs, COLUMNS, predictions)
    assert block.inputs is inputs and block.predictions is predictions and block.rows == 2
    assert block.records() == build_records(("churn", 3), ["a", "b"], inputs, COLUMNS, NOW, 4.5,
                                            predictions=predictions)


class Failing:
    def record(self, rows: list[object]) -> None:
        raise RuntimeError("disk full")


def test_the_feeder_hands_blocks_over_at_once_and_a_broken_sink_never_breaks_serving(
        caplog: pytest.LogCaptureFixture) -> None:
    taken: list[object] = []

    class Taking:
        def record(self, rows: list[object]) -> None:
            taken.extend(rows)

    block = PredictionBlock("m", 1, "primary", NOW, 1.0, ["a"], np.zeros((1, 3)), COLUMNS, np.array([1]))
    SinkFeeder(Taking()).put(block)
    assert taken == [block]
    SinkFeeder(Failing()).put(block)  # logged, not raised
    assert "prediction sink failed" in caplog.text and "disk full" in caplog.text


def test_the_feeder_hands_each_block_to_the_intake_of_a_sink_that_has_one() -> None:
    taken: list[object] = []

    class Queueing:
        def __init__(self) -> None:
            self.intake = taken.append  # the prediction log's sink: its queue's own append

        def record(self, rows: list[object]) -> None:
            raise AssertionError("a sink with an intake gets each block by its intake")

    two = PredictionBlock("m", 1, "primary", NOW, 1.0, ["a", "b"], np.zeros((2, 3)), COLUMNS, np.array([1, 0]))
    failed = failure_block("m", 1, "primary", NOW, 1.0, [[1]], COLUMNS, ValueError("bad"), lambda n: ["x"] * n)
    feeder = SinkFeeder(Queueing())
    assert feeder.put == taken.append  # no Python frame of the feeder's between the request and the queue
    feeder.put(two)
    feeder.put(failed)
    assert taken == [two, failed]


def test_new_block_is_the_named_tuple_built_from_every_field_in_order() -> None:
    fields = ("m", 2, "shadow", NOW, 1.5, ["a"], np.zeros((1, 3)), COLUMNS, np.array([1]), None, "ok", None, None)
    assert len(fields) == len(PredictionBlock._fields)
    made = new_block(fields)
    assert type(made) is PredictionBlock and made.rows == 1 and made.route == "shadow" and made.status == "ok"
    assert made == PredictionBlock(*fields)
