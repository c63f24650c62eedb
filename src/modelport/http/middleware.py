"""The outermost ASGI layer: request ids, the body limit, HTTP metrics and JSON access logs."""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Awaitable, Callable, MutableMapping
from contextvars import ContextVar
from typing import Any

import orjson

from modelport.security.logs import redact
from modelport.serving.ids import PredictionIds
from modelport.serving.metrics import ServingMetrics

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

access_log = logging.getLogger("modelport.access")
#: the id of the request being served, for log records written while serving it
request_id_var: ContextVar[str | None] = ContextVar("modelport_request_id", default=None)
_SAFE_ID = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")
_LOGGED_BODY = 4096


class _BodyTooLarge(Exception):
    """The streamed body passed the limit."""


def handler_of(path: str) -> str:
    """A low-cardinality label for a path (model names stay out of the HTTP metrics)."""
    if path.startswith("/v2/models/"):
        return "v2_infer" if path.endswith("/infer") else "v2_metadata"
    if path.startswith("/v2"):
        return "v2_health" if path.startswith("/v2/health") else "v2_server"
    if path.startswith("/v1/models/"):
        return "v1_predict" if path.endswith(":predict") else "v1_metadata"
    for prefix, label in (("/invocations", "invocations"), ("/metrics", "metrics"), ("/api/", "api"),
                          ("/v1/feedback", "feedback"), ("/docs", "docs"), ("/openapi", "docs"), ("/ui", "ui")):
        if path.startswith(prefix):
            return label
    return "other"


def request_id_from(headers: list[tuple[bytes, bytes]], ids: PredictionIds | None = None) -> str:
    """The caller's X-Request-ID when it is a sane token, else a fresh one."""
    for name, value in headers:
        if name == b"x-request-id":
            text = value.decode("latin-1")
            if _SAFE_ID.match(text):
                return text
    return (ids or PredictionIds()).new(1)[0]


class ServingMiddleware:
    """Tags every response with X-Request-ID, refuses bodies over the limit with 413, counts and logs."""

    def __init__(self, app: ASGIApp, *, metrics: ServingMetrics, body_limit: int, access_log: bool = True,
                 log_inputs: bool = False, upload_limit: int | None = None) -> None:
        self.app = app
        self.metrics = metrics
        self.body_limit = body_limit
        # model uploads (POST /api/v1/models/.../versions) may be larger than prediction bodies
        self.upload_limit = upload_limit
        self._ids = PredictionIds()
        self.access_log = access_log
        self.log_inputs = log_inputs

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        request_id = request_id_from(scope["headers"], self._ids)
        token = request_id_var.set(request_id)
        state: dict[str, Any] = {"status": 500, "started": False, "body": bytearray(), "seen": 0}
        try:
            await self._serve(scope, receive, send, request_id, state)
        finally:
            request_id_var.reset(token)
            self._account(scope, request_id, state, time.perf_counter() - start)

    async def _serve(self, scope: Scope, receive: Receive, send: Send, request_id: str, state: dict[str, Any]) -> None:
        id_header = (b"x-request-id", request_id.encode())
        limit = self._limit(scope)
        state["limit"] = limit
        declared = _content_length(scope["headers"])
        if declared is not None and declared > limit:
            await self._too_large(send, id_header, state)
            return

        async def counted_receive() -> Message:
            message = await receive()
            chunk = message.get("body", b"")
            state["seen"] += len(chunk)
            if state["seen"] > limit:
                raise _BodyTooLarge
            if self.log_inputs and len(state["body"]) < _LOGGED_BODY:
                state["body"] += chunk[: _LOGGED_BODY - len(state["body"])]
            return message

        async def tagged_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                state["status"] = message["status"]
                state["started"] = True
                message["headers"] = [*message.get("headers", []), id_header]
            await send(message)

        try:
            await self.app(scope, counted_receive, tagged_send)
        except _BodyTooLarge:
            if not state["started"]:
                await self._too_large(send, id_header, state)

    def _limit(self, scope: Scope) -> int:
        if self.upload_limit is None:
            return self.body_limit
        from modelport.http.policy import body_limit

        return body_limit(scope["method"], scope["path"], body=self.body_limit, upload=self.upload_limit)

    async def _too_large(self, send: Send, id_header: tuple[bytes, bytes], state: dict[str, Any]) -> None:
        state["status"] = 413
        limit = state.get("limit", self.body_limit)
        body = orjson.dumps({"error": f"the request body is larger than the limit of {limit} bytes"})
        await send({"type": "http.response.start", "status": 413, "headers": [
            (b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
            (b"connection", b"close"), id_header]})
        await send({"type": "http.response.body", "body": body})

    def _account(self, scope: Scope, request_id: str, state: dict[str, Any], seconds: float) -> None:
        handler = handler_of(scope["path"])
        status = str(state["status"])
        self.metrics.child(self.metrics.http, handler, status).inc()
        self.metrics.child(self.metrics.http_latency, handler).observe(seconds)
        if self.access_log and access_log.isEnabledFor(logging.INFO):
            fields: dict[str, Any] = {
                "request_id": request_id, "method": scope["method"], "path": scope["path"],
                "status": state["status"], "ms": round(seconds * 1000, 3), "bytes_in": state["seen"],
                "client": (scope.get("client") or ("", 0))[0]}
            if self.log_inputs:
                fields["body"] = bytes(state["body"]).decode("utf-8", "replace")
            access_log.info("request", extra={"fields": fields})


def _content_length(headers: list[tuple[bytes, bytes]]) -> int | None:
    for name, value in headers:
        if name == b"content-length" and value.strip().isdigit():
            return int(value)
    return None


class JsonLogFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request id and any structured fields."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {"time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"), "level": record.levelname,
                                 "logger": record.name, "message": record.getMessage()}
        request_id = request_id_var.get()
        if request_id is not None:
            entry["request_id"] = request_id
        entry.update(getattr(record, "fields", {}))
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        # JSON escapes control characters (no forged lines); keys, tokens and passwords are redacted.
        return redact(orjson.dumps(entry, default=str).decode())
