"""The one place where errors become HTTP status codes and `{"error": ...}` bodies."""

from __future__ import annotations

import logging
import math
import re
from typing import Any

import orjson
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from modelport.foundation.errors import (
    AuthenticationError,
    ConflictError,
    DeadlineExceededError,
    IntegrityError,
    InvalidInputError,
    LimitExceededError,
    ModelExecutionError,
    ModelportError,
    NotFoundError,
    OverloadedError,
    PermissionDeniedError,
    UnsafeArtifactError,
    UnsupportedFormatError,
    ValidationError,
)

log = logging.getLogger("modelport.http")

#: most specific first: the first class an error is an instance of decides its status
STATUS: tuple[tuple[type[ModelportError], int], ...] = (
    (LimitExceededError, 413),
    (ValidationError, 422),
    (InvalidInputError, 400),
    (NotFoundError, 404),
    (ConflictError, 409),
    (AuthenticationError, 401),
    (PermissionDeniedError, 403),
    (OverloadedError, 503),
    (DeadlineExceededError, 504),
    (UnsupportedFormatError, 415),
    (UnsafeArtifactError, 415),
    (ModelExecutionError, 500),
    (IntegrityError, 500),
)


class PayloadError(InvalidInputError):
    """The body is not in a format this route reads (malformed JSON, an unknown content type)."""

    def __init__(self, message: str, *, status: int = 400) -> None:
        super().__init__(message, field="body")
        self.status = status


def status_of(exc: BaseException) -> int:
    """The HTTP status for an error."""
    if isinstance(exc, PayloadError):
        return exc.status
    for cls, status in STATUS:
        if isinstance(exc, cls):
            return status
    return 500


def error_response(exc: BaseException) -> Response:
    """The JSON error answer for `exc`; internals of unexpected errors never leave the server."""
    status = status_of(exc)
    headers: dict[str, str] = {}
    if isinstance(exc, OverloadedError):
        headers["Retry-After"] = str(max(1, math.ceil(exc.retry_after)))
    if isinstance(exc, ModelportError):
        message = exc.message
    else:
        log.error("unexpected error", exc_info=exc)
        message = "internal server error; the server log has the details"
    return json_error(status, message, headers)


_FILESYSTEM_PATH = re.compile(
    r"(?<![\w/])(?:/(?:tmp|home|root|work|var|usr|opt|etc|srv|mnt|private|Users|proc|data)|[A-Za-z]:\\)"
    r"[^\s'\"]*?([^/\\\s'\"]+)(?=[\s'\",;)]|$)"
)


def scrub_paths(message: str) -> str:
    """Absolute server paths in a message shortened to their file name (they reveal the layout)."""
    return _FILESYSTEM_PATH.sub(lambda m: f"…/{m.group(1)}", message)


def json_error(status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    """A response in the error shape of every route (server paths scrubbed)."""
    body = orjson.dumps({"error": scrub_paths(message)})
    return Response(body, status, headers=headers, media_type="application/json")


async def _modelport_handler(request: Request, exc: Exception) -> Response:
    return error_response(exc)


async def _http_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    headers = dict(exc.headers or {})
    return json_error(exc.status_code, str(exc.detail), headers)


async def _validation_handler(request: Request, exc: Exception) -> Response:
    errors: Any = getattr(exc, "errors", lambda: [])()
    first = errors[0] if errors else {}
    where = ".".join(str(p) for p in first.get("loc", ()) if p != "body") or "body"
    return json_error(422, f"input '{where}': {first.get('msg', 'invalid request')}")


async def _unexpected_handler(request: Request, exc: Exception) -> Response:
    return error_response(exc)


def install_error_handlers(app: Any) -> None:
    """Make every error on every route answer `{"error": ...}` with its mapped status."""
    from fastapi.exceptions import RequestValidationError

    app.add_exception_handler(ModelportError, _modelport_handler)
    app.add_exception_handler(HTTPException, _http_handler)
    app.add_exception_handler(RequestValidationError, _validation_handler)
    app.add_exception_handler(Exception, _unexpected_handler)


def loads(body: bytes) -> Any:
    """Parse a JSON body or raise a 400 naming the problem."""
    if not body:
        raise PayloadError("the request body is empty; send a JSON object")
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise PayloadError(f"the request body is not valid JSON: {exc}") from None
