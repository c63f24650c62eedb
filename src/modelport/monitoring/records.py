"""What the prediction log stores, and how monitoring reads windows of it."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from modelport.foundation.errors import InvalidInputError

_WINDOW = re.compile(r"^(\d{1,6})([smhdw])$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


@dataclass(frozen=True)
class PredictionRecord:
    """One served row, with the same fields as `modelport.serving.predictions.PredictionRecord`.

    The sink accepts either class (or plain dicts with these keys): monitoring does not import serving.
    """

    prediction_id: str
    model: str
    version: int | None
    route: str
    time: datetime
    inputs: dict[str, Any]
    outputs: Any
    probabilities: list[float] | None
    latency_ms: float
    status: str
    error: str | None = None


FIELDS = ("prediction_id", "model", "version", "route", "time", "inputs", "outputs", "probabilities", "latency_ms",
          "status", "error")


def field_of(row: Any, name: str) -> Any:
    """Read a record field from a dataclass-like object or a mapping."""
    if isinstance(row, dict):
        return row.get(name)
    return getattr(row, name, None)


def parse_window(text: str | timedelta) -> timedelta:
    """`30s`, `15m`, `1h`, `7d` or `2w` as a timedelta."""
    if isinstance(text, timedelta):
        if text.total_seconds() <= 0:
            raise InvalidInputError("window must be positive", field="window")
        return text
    match = _WINDOW.fullmatch(str(text).strip())
    if not match or int(match.group(1)) == 0:
        raise InvalidInputError(f"invalid window {text!r}: use a positive number and a unit s, m, h, d or w (e.g. 1h)",
                                field="window")
    return timedelta(seconds=int(match.group(1)) * _UNITS[match.group(2)])


def parse_instant(text: str | datetime, field: str) -> datetime:
    """An ISO 8601 time (`2026-03-01T12:00:00Z`; without an offset it is taken as UTC) as an aware datetime."""
    if isinstance(text, datetime):
        value = text
    else:
        try:
            value = datetime.fromisoformat(str(text).strip())
        except ValueError:
            raise InvalidInputError(f"{field}: {text!r} is not an ISO 8601 time such as 2026-03-01T12:00:00Z",
                                    field=field) from None
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


def window_bounds(window: str | timedelta | None, start: str | datetime | None, end: str | datetime | None,
                  now: datetime) -> tuple[datetime, datetime]:
    """(start, end] of a window given as a duration ending at `end` (default now), or as start and end."""
    stop = parse_instant(end, "end") if end is not None else now
    if start is None:
        return stop - parse_window(window or "1h"), stop
    if window is not None:
        raise InvalidInputError("give either window or start (with end), not both", field="window")
    begin = parse_instant(start, "start")
    if begin >= stop:
        raise InvalidInputError(f"start {begin.isoformat()} must be before end {stop.isoformat()}", field="start")
    return begin, stop
