"""A small app shaped like modelport's routes, with the guards installed, and a raw ASGI driver."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import anyio
import httpx
import pytest
from fastapi import FastAPI, Request

from modelport.foundation.clock import ManualClock
from modelport.http.auth import principal_of
from modelport.http.guards import install_guards
from modelport.security.config import SecurityConfig
from modelport.security.keys import KeyStore
from modelport.storage.database import make_engine, upgrade


def shaped_app() -> FastAPI:
    """Routes with the same paths and methods as the real server, each echoing who called."""
    app = FastAPI()

    async def echo(request: Request) -> dict[str, Any]:
        body = await request.body()
        return {"key": principal_of(request.scope).id, "bytes": len(body)}

    for path, methods in [
        ("/v2", ["GET"]), ("/v2/health/live", ["GET"]), ("/v2/health/ready", ["GET"]), ("/metrics", ["GET"]),
        ("/v2/models/{name}", ["GET"]), ("/v2/models/{name}/ready", ["GET"]),
        ("/v2/models/{name}/infer", ["POST"]), ("/v2/models/{name}/versions/{v}/infer", ["POST"]),
        ("/v1/models/{name}:predict", ["POST"]), ("/invocations", ["POST"]), ("/v1/feedback", ["POST"]),
        ("/api/v1/models", ["GET"]), ("/api/v1/models/{name}", ["GET", "DELETE"]),
        ("/api/v1/models/{name}/versions", ["POST", "GET"]), ("/api/v1/keys", ["GET", "POST"]),
        ("/api/v1/keys/{key_id}", ["DELETE"]), ("/api/v1/audit", ["GET"]), ("/ui/models", ["GET", "POST"]),
    ]:
        app.add_api_route(path, echo, methods=methods)
    return app


class ASGIClient:
    """A synchronous client over httpx's ASGI transport (Starlette's TestClient is deprecated with httpx)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        async def go() -> httpx.Response:
            transport = httpx.ASGITransport(app=self.app)
            async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as client:
                return await client.request(method, url, **kwargs)

        return anyio.run(go)

    def get(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("POST", url, **kwargs)

    def put(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("PUT", url, **kwargs)

    def delete(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("DELETE", url, **kwargs)


@dataclass
class Guarded:
    client: ASGIClient
    app: FastAPI
    keys: KeyStore
    clock: ManualClock
    tokens: dict[str, str] = field(default_factory=dict)

    def as_(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}"}


@pytest.fixture
def guarded(tmp_path: Any) -> Iterator[Guarded]:
    engine = make_engine(f"sqlite:///{tmp_path / 'keys.db'}")
    upgrade(engine)
    clock = ManualClock()
    keys = KeyStore(engine, clock=clock)
    app = shaped_app()
    config = SecurityConfig(rate_limit=1000, rate_burst=1000, max_body_bytes=1000, max_upload_bytes=5000)
    install_guards(app, keys=keys, config=config, clock=clock, default_model="churn")
    g = Guarded(ASGIClient(app), app, keys, clock)
    for who, scopes, models in [("admin", ["admin"], []), ("manage", ["manage"], []), ("read", ["read"], []),
                                ("predict", ["predict"], []), ("feedback", ["feedback"], []),
                                ("churn", ["predict", "read"], ["churn*"]), ("fraud", ["predict"], ["fraud"])]:
        g.tokens[who] = keys.create(scopes, models=models).token
    yield g
    engine.dispose()


def call_asgi(app: Any, method: str, raw_path: bytes, headers: list[tuple[bytes, bytes]] = (),  # type: ignore[assignment]
              body: bytes = b"", chunks: int = 1) -> tuple[int, dict[bytes, bytes], bytes]:
    """Drive the ASGI app with an exact raw path (clients normalise paths; attackers do not)."""
    from urllib.parse import unquote

    path_bytes, _, query = raw_path.partition(b"?")
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method,
             "scheme": "http", "path": unquote(path_bytes.decode("latin-1")), "raw_path": path_bytes,
             "query_string": query, "headers": [(b"host", b"localhost"), *headers], "client": ("127.0.0.1", 5000),
             "server": ("testserver", 80), "root_path": ""}
    size = max(1, len(body) // chunks + 1)
    parts = [body[i:i + size] for i in range(0, len(body), size)] or [b""]
    messages = [{"type": "http.request", "body": p, "more_body": i < len(parts) - 1} for i, p in enumerate(parts)]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    anyio.run(app, scope, receive, send)
    start = next(m for m in sent if m["type"] == "http.response.start")
    body_out = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return start["status"], dict(start["headers"]), body_out
