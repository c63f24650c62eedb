"""Input examples: kept small and JSON-safe with the version, turned back into data on load."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from modelport.signatures.schema import Signature, as_frame

MAX_EXAMPLE_ROWS = 5


def example_to_json(example: Any) -> dict[str, Any]:
    """A JSON form of the first rows of an example: columns (split orient) or a tensor."""
    if isinstance(example, np.ndarray):
        return {"type": "tensor", "dtype": str(example.dtype), "data": _safe(example[:MAX_EXAMPLE_ROWS].tolist())}
    frame = as_frame(example).head(MAX_EXAMPLE_ROWS)
    rows = [[_safe(_plain(v)) for v in row] for row in frame.itertuples(index=False, name=None)]
    return {"type": "columns", "columns": [str(c) for c in frame.columns], "data": rows}


def example_from_json(stored: dict[str, Any], signature: Signature | None) -> Any:
    """Data built from the stored example, with the signature's dtypes where known."""
    if stored.get("type") == "tensor":
        return np.asarray(stored["data"], dtype=stored["dtype"])
    frame = pd.DataFrame(stored["data"], columns=stored["columns"])
    if signature is not None:
        for spec in signature.columns:
            if spec.name in frame and spec.dtype not in ("string", "bool", "datetime64[ns]") and not spec.nullable:
                frame[spec.name] = frame[spec.name].astype(np.dtype(spec.dtype))
    return frame


def _plain(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    return value


def _safe(value: Any) -> Any:
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        return None
    if isinstance(value, list):
        return [_safe(v) for v in value]
    return value
