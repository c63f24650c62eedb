"""Prediction ids."""

from __future__ import annotations

from modelport.serving.ids import PredictionIds


def test_prediction_ids_are_unique_32_hex_and_time_ordered() -> None:
    first, second = PredictionIds(), PredictionIds()
    ids = first.new(5000) + second.new(5000)
    assert len(set(ids)) == 10_000 and all(len(i) == 32 and int(i, 16) >= 0 for i in ids)
    assert first.new(1)[0][:12] >= ids[0][:12]  # the millisecond prefix never goes back
