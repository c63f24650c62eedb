"""What every route needs from a request: the data plane, the deadline, the version in the path."""

from __future__ import annotations

from starlette.requests import Request

from modelport.foundation.errors import InvalidInputError
from modelport.foundation.names import parse_version_number
from modelport.serving.dataplane import DataPlane

TIMEOUT_HEADER = "x-request-timeout"


def dataplane_of(request: Request) -> DataPlane:
    """The app's data plane."""
    plane: DataPlane = request.app.state.dataplane
    return plane


def deadline_of(request: Request, plane: DataPlane, timeout_s: float | None = None) -> float | None:
    """The monotonic deadline from the X-Request-Timeout header (seconds) or a protocol's own timeout."""
    raw = request.headers.get(TIMEOUT_HEADER)
    if raw is not None:
        try:
            timeout_s = float(raw)
        except ValueError:
            raise InvalidInputError(f"header X-Request-Timeout: expected seconds, got {raw!r}",
                                    field="X-Request-Timeout") from None
        if not timeout_s > 0:
            raise InvalidInputError("header X-Request-Timeout must be > 0 seconds", field="X-Request-Timeout")
    if timeout_s is None:
        return None
    return plane.clock.monotonic() + timeout_s


def version_of(text: str | None) -> int | None:
    """The version number in a path, or None."""
    return None if text is None else parse_version_number(text)
