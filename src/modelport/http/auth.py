"""The one guard in front of the whole app: path hygiene, keys, scopes, model visibility, rate and body limits.

It is plain ASGI middleware wrapped around the entire application, so it sees every
method, every mount and every spelling of every path before any route does; see
`policy.py` for the table of what each path needs.
"""

from __future__ import annotations

import contextlib
import hashlib
import math
from collections.abc import Awaitable, Callable, MutableMapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import anyio.to_thread
import orjson

from modelport.foundation.clock import Clock, SystemClock
from modelport.foundation.errors import AuthenticationError, OverloadedError
from modelport.http.loopback import browser_problem
from modelport.http.policy import Requirement, body_limit, path_problem, requirement
from modelport.security.config import SecurityConfig
from modelport.security.keys import SCOPES, ApiKey, KeyStore
from modelport.security.ratelimit import RateLimiter

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

PRINCIPAL = "api_key"
NO_AUTH_KEY = ApiKey("no-auth", "started with --no-auth", frozenset(SCOPES), (), "local",
                     datetime(2000, 1, 1, tzinfo=timezone.utc))
_PICKLE_HINTS = ("pickle", "joblib", "x-python-serialize", "dill", "x-torch")
_CHALLENGE = (b"www-authenticate", b'Bearer realm="modelport", charset="UTF-8"')


class _BodyTooLarge(Exception):
    """Raised inside the guard when a streamed body passes its limit."""


@dataclass
class _Cached:
    key: ApiKey
    until: float


def principal_of(scope: Scope) -> ApiKey:
    """The key the guard admitted this request with (an admin stand-in under --no-auth)."""
    found = scope.get("state", {}).get(PRINCIPAL)
    return found if isinstance(found, ApiKey) else NO_AUTH_KEY


def presented_token(headers: list[tuple[bytes, bytes]]) -> str | None:
    """The key sent as `Authorization: Bearer` or `X-API-Key`; both must agree when both are sent."""
    found: set[str] = set()
    for name, value in headers:
        text = value.decode("latin-1").strip()
        if name.lower() == b"authorization" and text[:7].lower() == "bearer ":
            found.add(text[7:].strip())
        elif name.lower() == b"x-api-key":
            found.add(text)
    if len(found) != 1:
        return None
    return found.pop()


async def send_error(send: Send, status: int, message: str, headers: Sequence[tuple[bytes, bytes]] = ()) -> None:
    """A JSON error answer in the shape every modelport route uses."""
    body = orjson.dumps({"error": message})
    await send({"type": "http.response.start", "status": status, "headers": [
        (b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()), *headers]})
    await send({"type": "http.response.body", "body": body})


class AuthMiddleware:
    """Admit a request only with a key that holds the scope and may see the model the path names."""

    def __init__(self, app: ASGIApp, *, keys: KeyStore | None, config: SecurityConfig | None = None,
                 clock: Clock | None = None, default_model: str | None = None) -> None:
        self.app = app
        self.keys = keys
        self.config = config or SecurityConfig()
        self.clock = clock or SystemClock()
        self.default_model = default_model
        rate = self.config.rate_limit
        # Always there: keys may carry their own limit even when the server's default is off.
        self.limiter = RateLimiter(rate or None, self.config.rate_burst, clock=self.clock)
        self._cache: dict[str, _Cached] = {}
        self._revocations: tuple[int, datetime | None] | None = None
        self._revocations_checked = -math.inf

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)  # lifespan; websockets are not served
            return
        refusal = await self._refusal(scope)
        if refusal is not None:
            await send_error(send, *refusal)
            return
        await self._call_limited(scope, receive, send)

    async def _refusal(self, scope: Scope) -> tuple[int, str, list[tuple[bytes, bytes]]] | None:
        method, path = scope["method"], scope["path"]
        problem = path_problem(path, scope.get("raw_path"))
        if problem is not None:
            return 400, f"{problem}; send the plain path", []
        if _is_pickle(scope["headers"]):
            return 415, "pickled request bodies are never accepted; send JSON (or a model file to the upload route)", []
        need = requirement(method, path)
        if need.exempt:
            return None
        if self.keys is None:  # --no-auth on loopback: still refuse what a web page made a browser send
            problem = browser_problem(scope["headers"], self.config.cors_origins)
            if problem is not None:
                return 403, problem, []
            scope.setdefault("state", {})[PRINCIPAL] = NO_AUTH_KEY
            return None
        try:
            key = await self._authenticate(presented_token(scope["headers"]))
            self._check_rate(key)
        except AuthenticationError as exc:
            return 401, exc.message, [_CHALLENGE]
        except OverloadedError as exc:
            return 429, exc.message, [(b"retry-after", str(max(1, math.ceil(exc.retry_after))).encode())]
        scope.setdefault("state", {})[PRINCIPAL] = key
        return self._authorise(key, need)

    def _authorise(self, key: ApiKey, need: Requirement) -> tuple[int, str, list[tuple[bytes, bytes]]] | None:
        if need.scopes and not any(key.allows(s) for s in need.scopes):
            wanted = " or ".join(sorted(need.scopes))
            return 403, f"API key {key.id} lacks the scope {wanted}; ask an admin for a key with it", []
        model = self.default_model if need.default_model else need.model
        if self._hidden(key, model, need):
            # The same answer as for a model that does not exist, so names cannot be probed.
            return 404, f"model {model or '(default)'!r} is not found", []
        return None

    @staticmethod
    def _hidden(key: ApiKey, model: str | None, need: Requirement) -> bool:
        if not key.models:
            return False
        if model is None:
            return need.default_model  # a limited key cannot reach an unnamed default model
        return not key.may_see(model)

    async def _authenticate(self, token: str | None) -> ApiKey:
        if not token or self.keys is None:
            raise AuthenticationError("an API key is required: send 'Authorization: Bearer <key>' or 'X-API-Key: <key>'")
        digest = hashlib.sha256(token.encode()).hexdigest()
        now = self.clock.monotonic()
        if now - self._revocations_checked >= self.config.revocation_check_seconds:
            await self._forget_on_revocation(now)
        cached = self._cache.get(digest)
        if cached is not None and cached.until > now:
            return cached.key
        key = await anyio.to_thread.run_sync(self.keys.authenticate, token)
        if len(self._cache) > 10_000:
            self._cache.clear()
        self._cache[digest] = _Cached(key, now + self.config.key_cache_seconds)
        if key.expires_at is not None:
            # Never keep a key in the cache past its expiry.
            left = (key.expires_at - self.clock.now()).total_seconds()
            self._cache[digest].until = min(self._cache[digest].until, now + left)
        return key

    async def _forget_on_revocation(self, now: float) -> None:
        """Empty the key cache when any key was revoked since the last look, by any replica or the CLI.

        One cheap query per interval instead of one per request; a revoked key stops working within
        `revocation_check_seconds`, not `key_cache_seconds`.
        """
        assert self.keys is not None
        self._revocations_checked = now  # first: the requests that arrive while this one asks do not ask too
        seen = await anyio.to_thread.run_sync(self.keys.revocations)
        if seen != self._revocations:
            self._cache.clear()
            self._revocations = seen

    def _check_rate(self, key: ApiKey) -> None:
        self.limiter.check(key.id, key.rate_limit)

    async def _call_limited(self, scope: Scope, receive: Receive, send: Send) -> None:
        limit = body_limit(scope["method"], scope["path"], body=self.config.max_body_bytes,
                           upload=self.config.max_upload_bytes)
        declared = _content_length(scope["headers"])
        if declared is not None and declared > limit:
            await send_error(send, 413, f"the request body is larger than the limit of {limit} bytes")
            return
        started = overflowed = False
        seen = 0

        async def counted_receive() -> Message:
            nonlocal seen, overflowed
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > limit:
                overflowed = True
                raise _BodyTooLarge
            return message

        async def tracked_send(message: Message) -> None:
            nonlocal started
            if overflowed:
                return  # whatever the app made of the cut-off body, the answer is 413
            started = started or message["type"] == "http.response.start"
            await send(message)

        with contextlib.suppress(_BodyTooLarge):
            await self.app(scope, counted_receive, tracked_send)
        if overflowed and not started:
            await send_error(send, 413, f"the request body is larger than the limit of {limit} bytes")


def _content_length(headers: list[tuple[bytes, bytes]]) -> int | None:
    for name, value in headers:
        if name.lower() == b"content-length" and value.strip().isdigit():
            return int(value)
    return None


def _is_pickle(headers: list[tuple[bytes, bytes]]) -> bool:
    for name, value in headers:
        if name.lower() == b"content-type":
            lowered = value.decode("latin-1").lower()
            return any(hint in lowered for hint in _PICKLE_HINTS)
    return False
