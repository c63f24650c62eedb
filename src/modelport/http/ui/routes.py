"""The dashboard's routes: `/ui/` (the page) and `/ui/assets/{name}` (a fixed set of files), nothing else.

Asset names are looked up in a table built from the package's own files, never joined
onto a filesystem path, so no spelling of a name can reach outside `static/`.
"""

from __future__ import annotations

from functools import cache
from importlib import resources

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from modelport.http.browser import UI_CSP

#: the files the dashboard is made of, with their content types
ASSETS: dict[str, str] = {
    "app.js": "text/javascript; charset=utf-8",
    "api.js": "text/javascript; charset=utf-8",
    "dom.js": "text/javascript; charset=utf-8",
    "charts.js": "text/javascript; charset=utf-8",
    "pages.js": "text/javascript; charset=utf-8",
    "monitor.js": "text/javascript; charset=utf-8",
    "app.css": "text/css; charset=utf-8",
    "favicon.svg": "image/svg+xml",
}
_HTML = "text/html; charset=utf-8"
# Set here as well as by the security middleware, so the page is locked down however it is mounted.
_HEADERS = {
    "content-security-policy": UI_CSP.decode(),
    "cache-control": "no-cache",
    "x-content-type-options": "nosniff",
}


@cache
def _read(name: str) -> bytes:
    """The bytes of one packaged file (read once per process)."""
    return resources.files("modelport.http.ui").joinpath("static", name).read_bytes()


def _error(status: int, message: str) -> Response:
    import orjson

    return Response(orjson.dumps({"error": message}), status, media_type="application/json", headers=_HEADERS)


async def index(request: Request) -> Response:
    """The dashboard page."""
    return Response(_read("index.html"), media_type=_HTML, headers=_HEADERS)


async def redirect(request: Request) -> Response:
    """`/ui` to `/ui/`, so the page's relative state (the hash) starts from one place."""
    return RedirectResponse("/ui/", status_code=308)


async def asset(request: Request) -> Response:
    """One file of the dashboard, by its exact name; anything else is 404."""
    name = request.path_params["name"]
    media = ASSETS.get(name)
    if media is None:
        return _error(404, f"dashboard asset {name!r} does not exist")
    return Response(_read(name), media_type=media, headers=_HEADERS)


def routes() -> list[BaseRoute]:
    """Plain Starlette routes (kept out of the OpenAPI description: they are not API)."""
    return [
        Route("/ui", redirect, methods=["GET", "HEAD"]),
        Route("/ui/", index, methods=["GET", "HEAD"]),
        Route("/ui/assets/{name}", asset, methods=["GET", "HEAD"]),
    ]
