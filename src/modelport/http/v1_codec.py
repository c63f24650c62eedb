"""KServe v1 / TF Serving and MLflow scoring payloads: rows in, predictions out."""

from __future__ import annotations

import io
from typing import Any

import numpy as np
import orjson

from modelport.http.errors import PayloadError, loads
from modelport.signatures.schema import Signature

FORMATS = ("instances", "inputs", "dataframe_split", "dataframe_records")
_CSV = ("text/csv", "application/csv")
_JSON = ("", "application/json", "application/x-www-form-urlencoded")
_PICKLE_HINTS = ("pickle", "joblib", "x-python-serialize")


def decode_rows(body: bytes, content_type: str, signature: Signature | None) -> Any:
    """The rows of a v1/MLflow body: a list of rows or records, a dict of columns, or a DataFrame (CSV)."""
    kind = content_type.split(";")[0].strip().lower()
    if any(hint in kind for hint in _PICKLE_HINTS):
        raise PayloadError("pickled request bodies are never accepted; send JSON or CSV", status=415)
    if kind in _CSV:
        return _csv(body)
    if kind not in _JSON:
        raise PayloadError(f"content type {kind!r} is not supported; send application/json or text/csv", status=415)
    payload = loads(body)
    if not isinstance(payload, dict):
        raise PayloadError(f"expected a JSON object with one of {', '.join(FORMATS)}")
    present = [k for k in FORMATS if k in payload]
    if len(present) != 1:
        raise PayloadError(f"send exactly one of {', '.join(FORMATS)}; got {', '.join(sorted(payload)) or 'none'}")
    key = present[0]
    value = payload[key]
    if key == "dataframe_split":
        return _split(value, signature)
    if key == "dataframe_records" and not (isinstance(value, list) and all(isinstance(r, dict) for r in value)):
        raise PayloadError("'dataframe_records' must be a list of objects, one per row")
    if not isinstance(value, (list, dict)):
        raise PayloadError(f"'{key}' must be a list of rows or an object of columns")
    return value


def _split(value: Any, signature: Signature | None) -> Any:
    if not isinstance(value, dict) or not isinstance(value.get("data"), list):
        raise PayloadError("'dataframe_split' must be an object with 'columns' and 'data' (a list of rows)")
    columns = value.get("columns")
    if columns is None or (signature is not None and columns == signature.column_names):
        return value["data"]  # rows already in signature order: the fast path
    if not isinstance(columns, list):
        raise PayloadError("'dataframe_split.columns' must be a list of column names")
    import pandas as pd

    try:
        return pd.DataFrame(value["data"], columns=columns)
    except (ValueError, TypeError) as exc:
        raise PayloadError(f"'dataframe_split' does not form a table: {exc}") from None


def _csv(body: bytes) -> Any:
    import pandas as pd

    if not body.strip():
        raise PayloadError("the CSV body is empty; send a header line and rows")
    try:
        return pd.read_csv(io.BytesIO(body))
    except (ValueError, pd.errors.ParserError) as exc:
        raise PayloadError(f"the body is not valid CSV: {exc}") from None


def encode_predictions(model: str, version: int, prediction_ids: list[str], predictions: np.ndarray) -> bytes:
    """`{"predictions": [...], "model_version": ..., "prediction_ids": [...]}` as MLflow and KServe answer."""
    values: Any = predictions if predictions.dtype.kind in "biuf" else predictions.tolist()
    return orjson.dumps({"predictions": values, "model_name": model, "model_version": str(version),
                         "prediction_ids": prediction_ids}, option=orjson.OPT_SERIALIZE_NUMPY)
