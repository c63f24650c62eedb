"""The app's front door: our ASGI layers wrapped once around FastAPI, prediction POSTs sent straight to their handler.

A prediction is the hot path of the server. Under FastAPI it crossed about fifteen ASGI layers
(Starlette's error and exception middleware, FastAPI's own, the router, per-route exception
wrapping) before reaching the handler, and those cost more than the rest of a one-row request.
Here our own layers (request id and metrics, security headers, keys, CSRF, and any extra
middleware the caller gives) wrap everything once, and a POST that matches a prediction route
goes from them to its handler directly; every other request continues into the full FastAPI app.
Both paths see the same layer instances (one rate limiter, one key cache) and the same error shapes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.routing import Match, Route

from modelport.http.errors import error_response
from modelport.http.middleware import ASGIApp, Message, Receive, Scope, Send

#: every prediction route starts with one of these; anything else skips the route matching
_PREFIXES = ("/v2/models/", "/v1/models/", "/invocations")


class PredictionRoutes:
    """Serve POSTs to `routes` by calling their endpoint; pass everything else to `fallback`."""

    def __init__(self, app: FastAPI, routes: Sequence[Route], fallback: ASGIApp) -> None:
        self.app = app
        self.routes = list(routes)
        self.fallback = fallback

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "POST" and scope["path"].startswith(_PREFIXES):
            for route in self.routes:
                match, child = route.matches(scope)
                if match is Match.FULL:
                    await self._serve(route, {**scope, **child, "app": self.app}, receive, send)
                    return
        await self.fallback(scope, receive, send)

    @staticmethod
    async def _serve(route: Route, scope: Scope, receive: Receive, send: Send) -> None:
        async def own_receive() -> Message:
            try:
                return await receive()
            except Exception as exc:  # e.g. an outer layer's body limit: that layer answers it
                raise _OuterError from exc

        request = Request(scope, own_receive, send)
        try:
            response = await route.endpoint(request)
        except _OuterError as wrapped:
            raise wrapped.__cause__ from None  # type: ignore[misc]
        except Exception as exc:  # the same answer the app's exception handlers give
            response = error_response(exc)
        await response(scope, receive, send)


class _OuterError(Exception):
    """An error an outer layer's `receive` raised: it goes back out to that layer, not to the error answer."""


class ServingApp(FastAPI):
    """FastAPI entered through `front_layers` (outermost first) and the direct prediction routes."""

    def __init__(
        self,
        *args: Any,
        front_layers: Sequence[Middleware] = (),
        prediction_routes: Sequence[Route] = (),
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.front_layers = list(front_layers)
        self.prediction_routes = list(prediction_routes)
        self._front: ASGIApp | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self._front is None:  # built on first use, like Starlette's own middleware stack
            self._front = self._build_front()
        await self._front(scope, receive, send)

    def _build_front(self) -> ASGIApp:
        inner: ASGIApp = PredictionRoutes(self, self.prediction_routes, super().__call__)
        for cls, args, kwargs in reversed(self.front_layers):
            inner = cls(inner, *args, **kwargs)
        return inner
