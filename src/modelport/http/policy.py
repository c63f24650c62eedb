"""Which credential each request needs: one table for the whole app, failing closed.

A path no rule names needs an `admin` key, so a route added later without a rule
here is locked rather than open. Paths are classified case-insensitively and
without a trailing slash, so no spelling of a path gets a weaker rule than
the one the router would dispatch it to.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

ANY_KEY: frozenset[str] = frozenset()
_READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# /ping and /health are MLflow scoring-server probes, public there too.
EXEMPT_PATHS = frozenset({"/v2/health/live", "/v2/health/ready", "/ping", "/health", "/metrics"})
# The dashboard's page and files are public (the page asks for the key); its data comes from /api/v1.
DASHBOARD_FILES = re.compile(r"^/ui(/assets/[^/]+)?$")
UPLOAD_PATH = re.compile(r"^/api/v1/models/[^/]+/versions$")
_ENCODED_FORBIDDEN = re.compile(rb"%(2f|5c|00|25|2e)", re.IGNORECASE)
_CONTROL = re.compile(r"[\x00-\x1f\x7f\\]")


@dataclass(frozen=True)
class Requirement:
    """What a request must present: a key holding any of `scopes` (none: any key) that may see `model`."""

    scopes: frozenset[str]
    model: str | None = None
    exempt: bool = False
    default_model: bool = False


def path_problem(path: str, raw_path: bytes | None) -> str | None:
    """Why a path is not in canonical form (dot segments, empty segments, encoded separators), or None."""
    if not path.startswith("/"):
        return "the path must start with '/'"
    if _CONTROL.search(path):
        return "the path contains control characters or backslashes"
    if raw_path is not None and _ENCODED_FORBIDDEN.search(raw_path):
        return "the path contains an encoded '/', '\\', '.', '%' or NUL"
    if "/." not in path and "//" not in path:  # no dot and no empty segment possible: the common case
        return None
    segments = path.split("/")[1:]
    if any(s in (".", "..") for s in segments):
        return "the path contains '.' or '..' segments"
    if "" in segments[:-1]:
        return "the path contains an empty segment ('//')"
    return None


def _model_of(segment: str) -> str:
    """The model (or deployment) name in a path segment that may carry `@alias`, `:version` or `:verb`."""
    return re.split(r"[@:]", segment, maxsplit=1)[0]


_RULES: tuple[tuple[re.Pattern[str], frozenset[str] | None, frozenset[str] | None], ...] = (
    # (pattern, scopes for read methods, scopes for other methods); a "model" group names the target.
    (re.compile(r"^/v2/models/(?P<model>[^/]+)(/versions/[^/]+)?/infer$"), frozenset({"predict"}),
     frozenset({"predict"})),
    (re.compile(r"^/v2/models/(?P<model>[^/]+)(/versions/[^/]+)?(/ready)?$"), frozenset({"predict", "read"}), None),
    (re.compile(r"^/v1/models$"), frozenset({"predict", "read"}), None),
    (re.compile(r"^/v1/models/(?P<model>[^/]+)(/versions/[^/]+)?$"), frozenset({"predict", "read"}),
     frozenset({"predict"})),
    (re.compile(r"^/invocations$"), frozenset({"predict"}), frozenset({"predict"})),
    (re.compile(r"^/v1/feedback$"), None, frozenset({"feedback"})),
    (re.compile(r"^/api/v1/(keys|audit)(/.*)?$"), frozenset({"admin"}), frozenset({"admin"})),
    (re.compile(r"^/api/v1/(models|deployments|rollouts|monitors|monitoring|alerts)/(?P<model>[^/]+)(/.*)?$"),
     frozenset({"read"}), frozenset({"manage"})),
    (re.compile(r"^/api/v1(/.*)?$"), frozenset({"read"}), frozenset({"manage"})),
    (re.compile(r"^/ui(/.*)?$"), frozenset({"read"}), frozenset({"manage"})),
    (re.compile(r"^/(v2|docs|redoc|openapi\.json)(/.*)?$"), ANY_KEY, None),
)
_ADMIN = Requirement(frozenset({"admin"}))


def requirement(method: str, path: str) -> Requirement:
    """The requirement for `method` on a canonical `path`; unknown routes need admin."""
    key = path.lower().rstrip("/") or "/"
    reading = method.upper() in _READ_METHODS
    if reading and (key in EXEMPT_PATHS or DASHBOARD_FILES.match(key)):
        return Requirement(ANY_KEY, exempt=True)
    for pattern, read_scopes, write_scopes in _RULES:
        match = pattern.match(key)
        if match is None:
            continue
        scopes = read_scopes if reading else write_scopes
        if scopes is None:
            return _ADMIN
        model = _model_of(match.group("model")) if "model" in pattern.groupindex else None
        return Requirement(scopes, model=model, default_model=key == "/invocations")
    return _ADMIN


def body_limit(method: str, path: str, *, body: int, upload: int) -> int:
    """The body size allowed: `upload` for model uploads, `body` for everything else."""
    if method.upper() == "POST" and UPLOAD_PATH.match(path.lower().rstrip("/")):
        return upload
    return body
