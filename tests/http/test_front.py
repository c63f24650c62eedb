"""The front door (http/front.py): prediction POSTs go straight to their handler, with every layer and error shape."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.middleware import Middleware

from modelport.http.app import create_app
from modelport.serving.config import ServerConfig

pytestmark = pytest.mark.anyio


class Tagging:
    """A caller's extra middleware: it must see prediction requests too."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.paths: list[str] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            self.paths.append(scope["path"])
        await self.app(scope, receive, send)


async def test_prediction_answers_carry_every_layers_headers(client, rows) -> None:
    answer = await client.post("/v1/models/cancer:predict", json={"instances": rows[:1]},
                               headers={"X-Request-ID": "front-1"})
    assert answer.status_code == 200 and answer.headers["x-request-id"] == "front-1"
    assert answer.headers["x-content-type-options"] == "nosniff"  # the security headers layer ran


async def test_bad_prediction_input_gets_the_usual_error_shape_through_the_front_door(client) -> None:
    answer = await client.post("/v2/models/cancer/infer", content=b"{not json")
    assert answer.status_code == 400 and "not valid JSON" in answer.json()["error"]
    unknown = await client.post("/v2/models/nowhere/infer", json={"inputs": [
        {"name": "x", "shape": [1, 1], "datatype": "FP64", "data": [1.0]}]})
    assert unknown.status_code == 404 and "nowhere" in unknown.json()["error"]


async def test_other_methods_and_paths_still_reach_the_fastapi_app(client) -> None:
    assert (await client.get("/v2/models/cancer")).status_code == 200  # metadata: a FastAPI route
    wrong_method = await client.get("/v2/models/cancer/infer")
    assert wrong_method.status_code == 405 and "error" in wrong_method.json()


async def test_a_callers_middleware_sees_prediction_requests(served_settings, serve_app, rows) -> None:
    app = create_app(served_settings, refs=["cancer"], config=ServerConfig(access_log=False), watch=False,
                     no_auth=True, middleware=[Middleware(Tagging)])
    async with serve_app(app) as http:
        assert (await http.post("/v1/models/cancer:predict", json={"instances": rows[:1]})).status_code == 200
    tagging = app._front
    while not isinstance(tagging, Tagging):
        tagging = tagging.app  # type: ignore[union-attr]
    assert "/v1/models/cancer:predict" in tagging.paths
