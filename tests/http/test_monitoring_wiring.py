"""The server logs what it serves: predictions land in the log, feedback joins them, performance is computed."""

from __future__ import annotations

import pytest

from modelport.foundation.settings import Settings
from modelport.http.app import create_app
from modelport.serving.config import ServerConfig

from .conftest import running

pytestmark = pytest.mark.anyio


async def test_served_predictions_are_logged_and_joined_with_feedback(served_settings: Settings, cancer) -> None:
    x, y = cancer
    app = create_app(served_settings, config=ServerConfig(access_log=False), watch=False, no_auth=True)
    rows = x.head(40)
    async with running(app) as http:
        answer = await http.post("/v1/models/cancer:predict", json={"instances": rows.to_numpy().tolist()})
        assert answer.status_code == 200, answer.text
        ids = answer.json()["prediction_ids"]
        bad = await http.post("/v1/models/cancer:predict", json={"instances": [["not", "numbers"]]})
        assert bad.status_code in (400, 422)
        # no flush here: feedback right after a prediction must find it (the route writes the buffer first)
        labels = [{"prediction_id": pid, "label": int(label)} for pid, label in zip(ids, y.head(40), strict=True)]
        labels.append({"prediction_id": "no-such-id", "label": 1})
        feedback = await http.post("/v1/feedback", json={"feedback": labels})
        assert feedback.status_code == 200, feedback.text
        outcome = feedback.json()
        performance = await http.get("/api/v1/monitoring/cancer/performance", params={"window": "1h"})
    assert performance.status_code == 200, performance.text
    assert outcome["accepted"] == 40 and outcome["counts"]["accepted"] == 40
    assert outcome["items"][-1]["status"] == "unknown_id"
    body = performance.json()
    assert body["labelled_rows"] == 40 and 0.8 <= body["metrics"]["accuracy"] <= 1.0


async def test_prediction_log_can_be_turned_off(served_settings: Settings) -> None:
    app = create_app(served_settings, config=ServerConfig(access_log=False, prediction_log=False), watch=False,
                     no_auth=True)
    assert app.state.monitoring is None and app.state.alert_gauges is None
