"""What a server without keys (`--no-auth`, loopback only) still refuses: requests a web page made the browser send.

Without keys, anything that reaches the socket is trusted, and a browser on the same
machine is a way in: a page on another site can post a form to 127.0.0.1 (a "simple"
cross-origin request, sent without a preflight), or rebind its own DNS name to 127.0.0.1
and then read the answers (DNS rebinding, which MLflow 3.5 closed in its server with
allowed hosts and origins). Two checks close both: the Host header must name a loopback host, and a
request that carries an Origin must come from a loopback origin (or one the operator
listed in MODELPORT_CORS_ORIGINS). Clients that are not browsers send no Origin and name
the host they dialled, so they are not affected.
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlsplit

_LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})


def is_loopback_name(host: str) -> bool:
    """True for localhost, *.localhost, 127.0.0.0/8 and ::1 (without a port)."""
    host = host.lower().rstrip(".")
    if host in _LOOPBACK_NAMES or host.endswith(".localhost"):
        return True
    parts = host.split(".")
    return len(parts) == 4 and parts[0] == "127" and all(p.isdigit() and int(p) < 256 for p in parts)


def _hostname(authority: str) -> str:
    """The host of a Host header value (`name:port`, `[::1]:port`)."""
    if authority.startswith("["):
        return authority[1:].split("]", 1)[0]
    return authority.rsplit(":", 1)[0] if authority.count(":") == 1 else authority


def browser_problem(headers: Iterable[tuple[bytes, bytes]], trusted_origins: Iterable[str] = ()) -> str | None:
    """Why a request to a server without keys looks sent by a web page of another site, or None."""
    host = origin = None
    for name, value in headers:
        if name == b"host":
            host = value.decode("latin-1")
        elif name == b"origin":
            origin = value.decode("latin-1")
    if host is not None and not is_loopback_name(_hostname(host)):
        return (f"Host {host!r} is not a loopback name: a server started with --no-auth answers only requests "
                "addressed to localhost or 127.0.0.1 (this blocks DNS rebinding); use API keys to serve other hosts")
    if origin is None or origin in trusted_origins:
        return None
    origin_host = urlsplit(origin).hostname if origin != "null" else None
    if origin_host is None or not is_loopback_name(origin_host):
        return (f"a cross-site request from origin {origin!r} is refused: a server started with --no-auth accepts "
                "browser requests only from pages it serves itself (list other origins in MODELPORT_CORS_ORIGINS)")
    return None
