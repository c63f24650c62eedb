"""Request ids, the body limit, HTTP metrics and JSON logs, in-process."""

from __future__ import annotations

import json
import logging

import pytest

from modelport.http.app import create_app
from modelport.http.middleware import JsonLogFormatter, handler_of, request_id_from
from modelport.serving.config import ServerConfig

pytestmark = pytest.mark.anyio


async def test_request_ids_are_echoed_or_made(client) -> None:
    given = await client.get("/v2/health/live", headers={"X-Request-ID": "abc-123"})
    assert given.headers["x-request-id"] == "abc-123"
    made = await client.get("/v2/health/live", headers={"X-Request-ID": "bad id\twith spaces"})
    assert len(made.headers["x-request-id"]) == 32 and made.headers["x-request-id"] != "bad id\twith spaces"


async def test_a_streamed_body_over_the_limit_is_413_without_reading_it_all(served_settings, serve_app) -> None:
    config = ServerConfig(body_limit_bytes=1000, access_log=False)
    app = create_app(served_settings, refs=["iris"], config=config, no_auth=True, watch=False)
    chunks_read = []

    async def chunks():  # no Content-Length: the limit must hold while streaming
        for i in range(100):
            chunks_read.append(i)
            yield b"x" * 500

    async with serve_app(app) as http:
        declared = await http.post("/v1/models/iris:predict", content=b"x" * 2000)
        streamed = await http.post("/v1/models/iris:predict", content=chunks())
        text = (await http.get("/metrics")).text
    assert declared.status_code == streamed.status_code == 413
    assert "larger than the limit of 1000 bytes" in streamed.json()["error"]
    assert len(chunks_read) < 100
    assert 'modelport_http_requests_total{handler="v1_predict",status="413"} 2.0' in text


async def test_access_logs_are_json_with_the_request_id_and_no_inputs(served_settings, serve_app, caplog) -> None:
    app = create_app(served_settings, refs=["iris"], watch=False, no_auth=True)
    caplog.set_level(logging.INFO, logger="modelport.access")
    async with serve_app(app) as http:
        # values no timing or size field can contain ("1.0" matched a latency of 11.05 ms: a flaky test)
        await http.post("/v1/models/iris:predict", json={"instances": [[5.137913, 3.246821, 1.489127, 0.273619]]},
                        headers={"X-Request-ID": "req-7"})
    (record,) = [r for r in caplog.records if r.name == "modelport.access"]
    line = json.loads(JsonLogFormatter().format(record))
    assert line["request_id"] == "req-7" and line["status"] == 200 and line["path"] == "/v1/models/iris:predict"
    assert "body" not in line and not any(v in json.dumps(line) for v in ("5.137913", "3.246821", "1.489127"))


def test_handler_labels_keep_model_names_out_of_http_metrics() -> None:
    assert handler_of("/v2/models/secret-name/infer") == "v2_infer"
    assert handler_of("/v1/models/secret-name:predict") == "v1_predict"
    assert handler_of("/nowhere") == "other"
    assert request_id_from([(b"x-request-id", b"x" * 200)]) != "x" * 200
