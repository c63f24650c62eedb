"""Install the security middleware on an app, in the one order that works."""

from __future__ import annotations

from typing import Any

from modelport.foundation.clock import Clock
from modelport.http.auth import AuthMiddleware
from modelport.http.browser import CSRFMiddleware, SecurityHeadersMiddleware, cors_options
from modelport.security.config import SecurityConfig
from modelport.security.keys import KeyStore


def install_guards(app: Any, *, keys: KeyStore | None, config: SecurityConfig | None = None,
                   clock: Clock | None = None, default_model: str | None = None) -> None:
    """Wrap `app` (FastAPI or Starlette): headers, then CORS, then the key check, then CSRF, then the routes.

    `keys=None` turns key checks off (only for --no-auth on loopback); everything else stays on.
    """
    from starlette.middleware.cors import CORSMiddleware

    config = config or SecurityConfig()
    # Starlette puts the middleware added last outermost, so this list reads from the inside out.
    app.add_middleware(CSRFMiddleware, prefixes=("/ui",), trusted_origins=config.cors_origins,
                       secure_cookie=config.tls)
    app.add_middleware(AuthMiddleware, keys=keys, config=config, clock=clock, default_model=default_model)
    options = cors_options(config.cors_origins)
    if options is not None:
        app.add_middleware(CORSMiddleware, **options)
    app.add_middleware(SecurityHeadersMiddleware, tls=config.tls)
