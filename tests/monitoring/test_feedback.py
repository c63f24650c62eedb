"""Feedback joins: late, duplicate, unknown and mistyped items, each reported on its own."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from modelport.foundation.clock import ManualClock
from modelport.foundation.errors import InvalidInputError
from modelport.foundation.settings import Settings
from modelport.monitoring.feedback import MAX_ITEMS
from modelport.monitoring.service import Monitoring, feedback, open_monitoring

from .builders import START, record


def statuses(result) -> list[str]:  # type: ignore[no-untyped-def]
    return [o.status for o in result.outcomes]


def test_late_feedback_joins_its_prediction(any_db_monitoring: Monitoring, clock: ManualClock) -> None:
    any_db_monitoring.log.write([record(prediction_id="p1", outputs="yes", at=START - timedelta(minutes=5))])
    clock.advance(30 * 86400)  # a month later
    result = any_db_monitoring.submit_feedback([{"prediction_id": "p1", "label": "yes"}])
    assert statuses(result) == ["accepted"] and result.accepted == 1
    performance = any_db_monitoring.performance("m", "31d")
    assert performance["labelled_rows"] == 1 and performance["metrics"]["accuracy"] == 1.0


def test_duplicates_unknown_ids_and_invalid_items_are_reported_per_item(any_db_monitoring: Monitoring) -> None:
    any_db_monitoring.log.write([record(prediction_id="p1", outputs=1), record(prediction_id="p2", outputs=0)])
    result = any_db_monitoring.submit_feedback([
        {"prediction_id": "p1", "label": 1},
        {"prediction_id": "p1", "label": 0},
        {"prediction_id": "nope", "label": 1},
        {"label": 1},
        {"prediction_id": "p2"},
        {"prediction_id": "p2", "label": 1, "value": 1.0},
        "not a mapping",
    ])
    assert statuses(result) == ["accepted", "duplicate", "unknown_id", "invalid", "invalid", "invalid", "invalid"]
    again = any_db_monitoring.submit_feedback([{"prediction_id": "p1", "label": 1}, {"prediction_id": "p2", "label": 0}])
    assert statuses(again) == ["duplicate", "accepted"]
    assert again.to_dict()["counts"] == {"duplicate": 1, "accepted": 1}


def test_type_mismatches(monitoring: Monitoring) -> None:
    monitoring.log.write([record(prediction_id="reg", outputs=12.75), record(prediction_id="cls", outputs="cat"),
                          record(prediction_id="num", outputs=3)])
    result = monitoring.submit_feedback([
        {"prediction_id": "reg", "label": "12.75"},
        {"prediction_id": "cls", "value": 1.0},
        {"prediction_id": "cls", "label": 7},
        {"prediction_id": "num", "label": [1, 2]},
        {"prediction_id": "reg", "value": "high"},
    ])
    assert statuses(result) == ["type_mismatch"] * 5
    assert "send value" in result.outcomes[0].reason
    good = monitoring.submit_feedback([{"prediction_id": "reg", "value": 13.0}, {"prediction_id": "cls", "label": "dog"}])
    assert statuses(good) == ["accepted", "accepted"]


def test_too_many_items_is_refused(monitoring: Monitoring) -> None:
    with pytest.raises(InvalidInputError, match="at most"):
        monitoring.submit_feedback([{"prediction_id": str(i), "label": 1} for i in range(MAX_ITEMS + 1)])


def test_public_feedback_function(home: Path) -> None:
    registry, monitoring = open_monitoring(Settings.at(home))
    try:
        monitoring.log.write([record(prediction_id="p9", outputs=1)])
    finally:
        registry.close()
    assert statuses(feedback({"prediction_id": "p9", "label": 1})) == ["accepted"]
    assert statuses(feedback([{"prediction_id": "p9", "label": 1}])) == ["duplicate"]
