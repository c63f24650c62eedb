"""The floors: a bare ASGI app calling the model once per request, or answering a constant.

Run: BENCH_MODEL_PATH=lr.joblib python -m uvicorn bench.common.floor_app:create --factory \
       --loop uvloop --http httptools --no-access-log --port 8000
Without BENCH_MODEL_PATH it answers `{"predictions":[0]}` after reading the body: the HTTP limit
of the machine (uvicorn + one JSON parse), which no Python model server can beat.
"""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import numpy as np
import orjson

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

_HEADERS = [(b"content-type", b"application/json")]
CONSTANT = b'{"predictions":[0]}'


async def _body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            return b"".join(chunks)


async def _reply(send: Send, status: int, body: bytes) -> None:
    await send({"type": "http.response.start", "status": status, "headers": _HEADERS})
    await send({"type": "http.response.body", "body": body})


def make_app(model: Any | None) -> ASGIApp:
    """The floor app; `model=None` answers the constant."""

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        if scope["method"] == "GET":
            await _reply(send, 200, b'{"ready":true}')
            return
        payload = orjson.loads(await _body(receive))
        if model is None:
            await _reply(send, 200, CONSTANT)
            return
        rows = np.asarray(payload["instances"], dtype=np.float64)
        labels = model.predict(rows)
        await _reply(send, 200, orjson.dumps({"predictions": labels}, option=orjson.OPT_SERIALIZE_NUMPY))

    return app


def create() -> ASGIApp:
    """The app uvicorn builds (`--factory`): the model of BENCH_MODEL_PATH, or the constant floor."""
    path = os.environ.get("BENCH_MODEL_PATH")
    if not path:
        return make_app(None)
    import joblib

    return make_app(joblib.load(path))
