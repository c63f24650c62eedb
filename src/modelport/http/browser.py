"""What browsers need: security headers on every answer, CORS only for listed origins, and CSRF tokens.

The API authenticates with keys in headers, which a browser never attaches on its
own, so cross-site requests carry no ambient credential. The dashboard may use
cookies, so its state-changing actions must present a double-submit CSRF token
(cookie and header equal) from an allowed origin: `CSRFMiddleware` enforces it.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Sequence
from http.cookies import SimpleCookie
from typing import Any

from modelport.foundation.errors import InvalidInputError
from modelport.http.auth import ASGIApp, Message, Receive, Scope, Send, send_error

CSRF_COOKIE = "modelport_csrf"
CSRF_HEADER = b"x-csrf-token"
_UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})
API_CSP = b"default-src 'none'; frame-ancestors 'none'; base-uri 'none'"
UI_CSP = (b"default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
          b"object-src 'none'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'")
# Swagger UI and ReDoc load their scripts from jsDelivr and inline a small bootstrap.
DOCS_CSP = (b"default-src 'self'; script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
            b"style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; img-src 'self' data: https:; "
            b"worker-src 'self' blob:; object-src 'none'; frame-ancestors 'none'; base-uri 'self'")
HSTS = b"max-age=31536000; includeSubDomains"


def content_security_policy(path: str) -> bytes:
    """The CSP for a path: strict for the dashboard, CDN-aware for API docs, nothing-allowed for the API."""
    lowered = path.lower()
    if lowered == "/ui" or lowered.startswith("/ui/"):
        return UI_CSP
    if lowered.startswith(("/docs", "/redoc")):
        return DOCS_CSP
    return API_CSP


class SecurityHeadersMiddleware:
    """Add nosniff, referrer, framing and CSP headers (and HSTS under TLS) unless the route set its own."""

    def __init__(self, app: ASGIApp, *, tls: bool = False) -> None:
        self.app = app
        self.tls = tls

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = self._headers(scope)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                message["headers"] = [*message.get("headers", []), *((n, v) for n, v in extra if n not in present)]
            await send(message)

        await self.app(scope, receive, send_with_headers)

    def _headers(self, scope: Scope) -> list[tuple[bytes, bytes]]:
        headers = [
            (b"x-content-type-options", b"nosniff"),
            (b"referrer-policy", b"no-referrer"),
            (b"x-frame-options", b"DENY"),
            (b"cross-origin-opener-policy", b"same-origin"),
            (b"content-security-policy", content_security_policy(scope["path"])),
        ]
        if scope["path"].lower().startswith("/api/v1/keys"):
            headers.append((b"cache-control", b"no-store"))  # a new key's secret is in this answer
        if self.tls or scope.get("scheme") == "https":
            headers.append((b"strict-transport-security", HSTS))
        return headers


def cors_options(origins: Sequence[str]) -> dict[str, Any] | None:
    """Starlette CORSMiddleware arguments for an explicit origin allow-list, or None when CORS stays off."""
    if not origins:
        return None
    for origin in origins:
        if origin == "*" or not origin.startswith(("https://", "http://")) or origin.count("/") != 2:
            raise InvalidInputError(
                f"CORS origin {origin!r} is not allowed: list exact origins like https://app.example.com "
                "(no '*', no path)", field="MODELPORT_CORS_ORIGINS")
    return {
        "allow_origins": list(origins),
        "allow_methods": ["GET", "POST", "PUT", "DELETE"],
        "allow_headers": ["authorization", "x-api-key", "content-type", "x-csrf-token"],
        "allow_credentials": False,
        "max_age": 600,
    }


def new_csrf_token() -> str:
    """A fresh random token for the double-submit cookie."""
    return secrets.token_urlsafe(32)


def csrf_valid(cookie: str | None, header: str | None) -> bool:
    """Whether the header repeats the cookie's token (compared in constant time)."""
    return bool(cookie) and bool(header) and hmac.compare_digest(str(cookie), str(header))


class CSRFMiddleware:
    """Under `prefixes`, unsafe methods need a matching token and a same-site Origin; safe ones get the cookie."""

    def __init__(self, app: ASGIApp, *, prefixes: Sequence[str] = ("/ui",), trusted_origins: Sequence[str] = (),
                 secure_cookie: bool = False) -> None:
        self.app = app
        self.prefixes = tuple(p.lower() for p in prefixes)
        self.trusted = frozenset(trusted_origins)
        self.secure = secure_cookie

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "").lower()
        if scope["type"] != "http" or not any(path == p or path.startswith(p + "/") for p in self.prefixes):
            await self.app(scope, receive, send)
            return
        headers = {name.lower(): value.decode("latin-1") for name, value in scope["headers"]}
        cookie = _cookie(headers.get(b"cookie", ""), CSRF_COOKIE)
        if scope["method"] in _UNSAFE:
            problem = self._problem(headers, cookie)
            if problem:
                await send_error(send, 403, problem)
                return
            await self.app(scope, receive, send)
            return
        await self.app(scope, receive, send if cookie else self._setting_cookie(send))

    def _problem(self, headers: dict[bytes, str], cookie: str | None) -> str | None:
        origin = headers.get(b"origin")
        host = headers.get(b"host", "")
        if origin is not None and origin not in self.trusted and origin.split("://", 1)[-1] != host:
            return "cross-site request refused: the Origin is not this server"
        if not csrf_valid(cookie, headers.get(CSRF_HEADER)):
            return f"missing or wrong CSRF token: repeat the {CSRF_COOKIE} cookie in the X-CSRF-Token header"
        return None

    def _setting_cookie(self, send: Send) -> Send:
        value = f"{CSRF_COOKIE}={new_csrf_token()}; Path=/; SameSite=Strict" + ("; Secure" if self.secure else "")

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), (b"set-cookie", value.encode())]
            await send(message)

        return send_with_cookie


def _cookie(header: str, name: str) -> str | None:
    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(header)
    except Exception:  # a malformed Cookie header is just "no token"
        return None
    morsel = jar.get(name)
    return morsel.value if morsel is not None else None
