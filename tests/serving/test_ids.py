"""Prediction ids."""

from __future__ import annotations

from modelport.serving.ids import PredictionIds


def test_prediction_ids_are_unique_32_hex_and_time_ordered() -> None:
    first, second = PredictionIds(), PredictionIds()
    ids = first.new(5000) + second.new(5000)
    assert len(set(ids)) == 10_000 and all(len(i) == 32 and int(i, 16) >= 0 for i in ids)
    assert first.new(1)[0][:12] >= ids[0][:12]  # the millisecond prefix never goes back


def test_prediction_ids_stay_unique_across_many_refills_of_the_random_buffer() -> None:
    ids = PredictionIds()
    # one-row calls and a call larger than the 4 KiB block, so the buffer refills many times
    made = [i for _ in range(3000) for i in ids.new(1)] + ids.new(1000) + [i for _ in range(500) for i in ids.new(3)]
    assert len(set(made)) == len(made) == 5500
