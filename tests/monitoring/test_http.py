"""Monitoring over HTTP: served predictions are logged, feedback joins them, drift/performance/health answer."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import numpy as np
import pytest

from modelport.foundation.settings import Settings
from modelport.http.app import create_app
from modelport.monitoring.service import Monitoring
from modelport.registry.service import Registry
from modelport.serving.config import ServerConfig

pytestmark = pytest.mark.anyio


async def serve(settings: Settings) -> tuple[Any, Registry, Monitoring]:
    registry = Registry.open(settings)
    monitoring = Monitoring(registry)
    sink = monitoring.sink(flush_interval=3600)  # flushed by the test, not by time
    app = create_app(settings, registry=registry, sink=sink, config=ServerConfig(access_log=False), watch=False,
                     no_auth=True)
    return app, registry, monitoring


async def test_predict_log_feedback_and_monitor(iris_settings: Settings, iris) -> None:  # type: ignore[no-untyped-def]
    x, y = iris
    app, registry, monitoring = await serve(iris_settings)
    shifted = x.copy()
    shifted["petal length (cm)"] = shifted["petal length (cm)"] + 3.0
    async with app.router.lifespan_context(app), httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://localhost") as http:
        await app.state.dataplane.wait_ready()
        answer = await http.post("/v1/models/iris:predict", json={"instances": shifted.to_numpy().tolist()})
        assert answer.status_code == 200, answer.text
        ids, predictions = answer.json()["prediction_ids"], answer.json()["predictions"]
        await flush_log(app, monitoring, len(ids))
        items = [{"prediction_id": pid, "label": int(label)} for pid, label in zip(ids, y, strict=True)]
        items.append({"prediction_id": "unknown", "label": 1})
        fed = await http.post("/v1/feedback", json={"feedback": items})
        assert fed.status_code == 200 and fed.json()["accepted"] == len(ids)
        assert fed.json()["items"][-1]["status"] == "unknown_id"
        drift = (await http.get("/api/v1/monitoring/iris/drift", params={"window": "1h"})).json()
        assert drift["dataset_drift"] and drift["current_rows"] == len(ids) and drift["reference_rows"] == len(x)
        top = drift["features"][0]
        assert {"name", "test", "statistic", "p_value", "score", "drifted"} <= top.keys()
        assert top["drifted"] and top["name"] in {"petal length (cm)", "prediction", "proba_0", "proba_1", "proba_2"}
        performance = (await http.get("/api/v1/monitoring/iris/performance", params={"window": "1h"})).json()
        expected = float(np.mean(np.asarray(predictions) == y.to_numpy()))
        assert performance["labelled_rows"] == len(ids) and performance["metrics"]["accuracy"] == pytest.approx(expected)
        assert performance["estimated"] == {}  # v1 answers without probabilities: nothing to estimate from
        health = (await http.get("/api/v1/monitoring/iris/health", params={"window": "1h"})).json()
        assert health["requests"] == len(ids) and health["error_rate"] == 0.0
        page = await http.get("/api/v1/monitoring/iris/report", params={"window": "1h"})
        assert page.status_code == 200 and "<svg" in page.text
    registry.close()


async def flush_log(app: Any, monitoring: Monitoring, rows: int) -> None:
    """Hand queued records to the sink and write them (what the 1 s timers do in production)."""
    import anyio

    feeder = app.state.dataplane.sink
    for _ in range(200):  # a shadow copy may still be predicting: wait on the real condition
        feeder.flush_through()
        if monitoring.log.count("iris") >= rows:
            return
        await anyio.sleep(0.05)
    raise AssertionError(f"only {monitoring.log.count('iris')} of {rows} rows reached the log")


async def test_bad_requests_name_the_problem(iris_settings: Settings) -> None:
    app, registry, _ = await serve(iris_settings)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://localhost") as http:
        cases = [
            (await http.post("/v1/feedback", content=b"{nope"), 400, "not valid JSON"),
            (await http.post("/v1/feedback", json={"items": []}), 400, "feedback"),
            (await http.get("/api/v1/monitoring/iris/drift", params={"window": "forever"}), 400, "window"),
            (await http.get("/api/v1/monitoring/ghost/drift"), 404, "no reference data"),
            (await http.get("/api/v1/monitoring/Bad!/health"), 400, "model name"),
            (await http.put("/api/v1/alerts/iris/rules/x", json={"signal": "cpu", "op": ">", "threshold": 1}), 400,
             "unknown signal"),
            (await http.delete("/api/v1/alerts/iris/rules/none"), 404, "does not exist"),
        ]
    for response, status, text in cases:
        assert response.status_code == status, response.text
        assert text in response.json()["error"]
    registry.close()


async def test_alert_rules_and_events_over_http(iris_settings: Settings) -> None:
    app, registry, _ = await serve(iris_settings)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://localhost") as http:
        put = await http.put("/api/v1/alerts/iris/rules/drift", json={"signal": "drift.share", "op": ">", "threshold": 0.3})
        assert put.status_code == 200 and put.json()["model"] == "iris"
        assert [r["name"] for r in (await http.get("/api/v1/alerts/iris/rules")).json()["rules"]] == ["drift"]
        assert (await http.get("/api/v1/alerts/iris/events")).json() == {"events": []}
        assert (await http.delete("/api/v1/alerts/iris/rules/drift")).json() == {"deleted": "drift"}
    registry.close()


async def test_a_graceful_stop_writes_every_served_row_whatever_the_protocol(iris_settings: Settings, iris) -> None:  # type: ignore[no-untyped-def]
    x, _ = iris
    app = create_app(iris_settings, config=ServerConfig(access_log=False), watch=False, no_auth=True)  # owns its log
    rows = x.to_numpy()[:3]
    tensor = {"inputs": [{"name": "x", "shape": [3, 4], "datatype": "FP64", "data": rows.ravel().tolist()}]}
    by_column = {"inputs": [{"name": name, "shape": [3], "datatype": "FP64", "data": x[name].head(3).tolist()}
                            for name in x.columns]}
    async with app.router.lifespan_context(app), httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://localhost") as http:
        await app.state.dataplane.wait_ready()
        answers = [await http.post("/v2/models/iris/infer", json=tensor),
                   await http.post("/v2/models/iris/infer", json=by_column),
                   await http.post("/v1/models/iris:predict", json={"instances": rows.tolist()}),
                   await http.post("/v1/models/iris:predict", json={"instances": [[1.0, "x", 2.0, 3.0]]})]
        assert [a.status_code for a in answers] == [200, 200, 200, 422]
    registry = Registry.open(iris_settings)
    try:
        window = Monitoring(registry).log.window("iris", timedelta(hours=1), ok_only=False)
    finally:
        registry.close()
    assert len(window) == 10 and window.meta["status"].tolist().count("ok") == 9
    assert window.inputs["petal length (cm)"].head(9).tolist() == x["petal length (cm)"].head(3).tolist() * 3
