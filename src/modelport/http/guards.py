"""Install the security middleware on an app, in the one order that works."""

from __future__ import annotations

from typing import Any

from starlette.middleware import Middleware

from modelport.foundation.clock import Clock
from modelport.http.auth import AuthMiddleware
from modelport.http.browser import CSRFMiddleware, SecurityHeadersMiddleware, cors_options
from modelport.security.config import SecurityConfig
from modelport.security.keys import KeyStore


def guard_middleware(*, keys: KeyStore | None, config: SecurityConfig | None = None, clock: Clock | None = None,
                     default_model: str | None = None) -> list[Middleware]:
    """Outermost first: security headers, CORS (only with an allow-list), the key check, then CSRF.

    `keys=None` turns key checks off (only for --no-auth on loopback); everything else stays on.
    """
    from starlette.middleware.cors import CORSMiddleware

    config = config or SecurityConfig()
    stack = [Middleware(SecurityHeadersMiddleware, tls=config.tls)]
    options = cors_options(config.cors_origins)
    if options is not None:
        stack.append(Middleware(CORSMiddleware, **options))
    stack.append(Middleware(AuthMiddleware, keys=keys, config=config, clock=clock, default_model=default_model))
    stack.append(Middleware(CSRFMiddleware, prefixes=("/ui",), trusted_origins=config.cors_origins,
                            secure_cookie=config.tls))
    return stack


def install_guards(app: Any, *, keys: KeyStore | None, config: SecurityConfig | None = None,
                   clock: Clock | None = None, default_model: str | None = None) -> None:
    """Wrap an existing FastAPI or Starlette app with `guard_middleware`."""
    # Starlette puts the middleware added last outermost, so they are added from the inside out.
    for layer in reversed(guard_middleware(keys=keys, config=config, clock=clock, default_model=default_model)):
        app.add_middleware(layer.cls, *layer.args, **layer.kwargs)
