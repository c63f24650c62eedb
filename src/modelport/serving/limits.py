"""Bounds on one request (rows, tensor elements, string length), checked before validation.

The body limit already caps memory; these bounds keep one request from monopolising a model
with a huge batch or a giant string, and answer 413 naming the bound and how to raise it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from modelport.foundation.errors import LimitExceededError


@dataclass(frozen=True)
class RequestLimits:
    """The bounds, from ServerConfig (max_rows, max_elements, max_string_length)."""

    max_rows: int
    max_elements: int
    max_string_length: int


def check_limits(data: Any, limits: RequestLimits) -> None:
    """Raise LimitExceededError when `data` (any decoded input shape) is past a bound."""
    rows, width, strings = _shape(data)
    if rows > limits.max_rows:
        raise LimitExceededError(f"inputs: {rows} rows, more than the limit of {limits.max_rows} per request "
                                 "(split the request, or raise max_rows)", field="inputs")
    if rows * width > limits.max_elements:
        raise LimitExceededError(f"inputs: {rows * width} values, more than the limit of {limits.max_elements} "
                                 "per request (split the request, or raise max_elements)", field="inputs")
    longest = max((len(s) for s in strings if isinstance(s, (str, bytes))), default=0)
    if longest > limits.max_string_length:
        raise LimitExceededError(f"inputs: a string of {longest} characters, more than the limit of "
                                 f"{limits.max_string_length} (raise max_string_length)", field="inputs")


def _shape(data: Any) -> tuple[int, int, list[Any]]:
    """Rows, values per row, and the string values to measure (only where strings can be)."""
    if isinstance(data, pd.DataFrame):
        texts = [v for c in data.columns if _textual(data[c]) for v in data[c].to_numpy()]
        return len(data), max(1, data.shape[1]), texts
    if isinstance(data, np.ndarray):
        rows = data.shape[0] if data.ndim else 1
        texts = list(data.ravel()) if data.dtype.kind in "OUS" else []
        return rows, max(1, data.size // max(1, rows)), texts
    if isinstance(data, dict):
        columns = list(data.values())
        rows = max((len(c) if isinstance(c, (list, tuple)) else 1 for c in columns), default=0)
        texts = [v for c in columns for v in (c if isinstance(c, (list, tuple)) else [c])]
        return rows, max(1, len(columns)), texts
    if isinstance(data, list):
        first = data[0] if data else None
        width = len(first) if isinstance(first, (list, tuple, dict)) else 1
        # Strings are measured only when the first row carries text: elsewhere a string is a type error anyway.
        return len(data), width, _texts(data) if _has_text(_texts([first])) else []
    return 1, 1, [data]


def _textual(column: pd.Series) -> bool:
    return bool(pd.api.types.is_object_dtype(column) or pd.api.types.is_string_dtype(column))


def _has_text(values: list[Any]) -> bool:
    return any(isinstance(v, (str, bytes)) for v in values)


def _texts(rows: list[Any]) -> list[Any]:
    out: list[Any] = []
    for row in rows:
        if isinstance(row, dict):
            out.extend(row.values())
        elif isinstance(row, (list, tuple)):
            out.extend(row)
        else:
            out.append(row)
    return out
