"""Per-request input preparation: validation against the signature, batch assembly, cache keys.

Validation always ends in `signatures.validate.validate`, the one validation function. A fast
path accepts, without pandas, the commonest serving input (a numeric matrix for a signature
whose columns share one numeric dtype); anything it is not sure about goes to `validate`, so
rejections and their messages always come from there.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from modelport.foundation.errors import ValidationError
from modelport.signatures.schema import Signature
from modelport.signatures.validate import validate

_NUMERIC = {"float64", "float32", "int64", "int32"}


class InputPreparer:
    """Validates one caller's data for one signature and merges validated parts into a batch."""

    def __init__(self, signature: Signature | None) -> None:
        self.signature = signature
        self.columns = signature.column_names if signature is not None and signature.is_tabular else []
        self._fast_dtype = _shared_numeric_dtype(signature)
        self._nullable = signature is not None and any(c.nullable for c in signature.columns)
        tensor = signature.tensor if signature is not None else None
        self._numeric_tensor = tensor is not None and np.dtype(object if tensor.dtype == "string" else tensor.dtype).kind in "iuf"

    @property
    def batchable(self) -> bool:
        """Whether parts can be merged (a model without a signature is called one request at a time)."""
        return self.signature is not None

    def fast(self, data: Any) -> np.ndarray | None:
        """The validated matrix when `data` is a plain numeric matrix this signature accepts, else None."""
        if self._numeric_tensor and isinstance(data, np.ndarray) and data.dtype.kind in "iuf":
            # a numeric tensor's checks are a few shape and dtype comparisons: run them here, not in a thread
            assert self.signature is not None
            checked: np.ndarray = validate(self.signature, data).data
            return checked
        if self._fast_dtype is None:
            return None
        if isinstance(data, dict):
            data = self._stack_columns(data)
        elif isinstance(data, list):
            # numpy turns JSON booleans into numbers silently; validate() refuses them, so must we
            data = None if _has_bool(data) else _array_or_none(data)
        if not isinstance(data, np.ndarray) or data.dtype.kind not in "iuf":
            return None
        return self._checked_matrix(data)

    def _stack_columns(self, data: dict[str, Any]) -> np.ndarray | None:
        if list(data) != self.columns and sorted(data) != sorted(self.columns):
            return None
        arrays = [data[name] for name in self.columns]
        if not all(isinstance(a, np.ndarray) and a.ndim == 1 and a.dtype.kind in "iuf" for a in arrays):
            return None
        if len({len(a) for a in arrays}) != 1:
            return None
        return np.column_stack(arrays)

    def _checked_matrix(self, array: np.ndarray) -> np.ndarray | None:
        want = np.dtype(self._fast_dtype)
        if array.ndim == 1 and len(array) == len(self.columns):
            array = array.reshape(1, -1)
        if array.ndim != 2 or array.shape[1] != len(self.columns) or array.shape[0] == 0:
            return None
        if want.kind in "iu" and array.dtype.kind == "f":
            return None  # whole-number checks and their messages live in validate()
        if array.dtype.kind == "f" and not self._nullable and np.isnan(array).any():
            return None
        return array.astype(want, copy=False)

    def slow(self, data: Any) -> Any:
        """Validate through the one validation function (raises ValidationError naming the input)."""
        if self.signature is None:
            return data
        return validate(self.signature, data).data

    def combine(self, parts: Sequence[Any]) -> Any:
        """One model input from validated parts, rows kept in order."""
        if self.signature is None:
            return parts[0] if len(parts) == 1 else _concat(parts)
        if not self.columns:
            return parts[0] if len(parts) == 1 else np.concatenate(parts)
        if all(isinstance(p, np.ndarray) for p in parts):
            matrix = parts[0] if len(parts) == 1 else np.concatenate(parts)
            return pd.DataFrame(matrix, columns=self.columns, copy=False)
        frames = [self._frame(p) for p in parts]
        return frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)

    def _frame(self, part: Any) -> pd.DataFrame:
        if isinstance(part, np.ndarray):
            return pd.DataFrame(part, columns=self.columns, copy=False)
        return part if isinstance(part, pd.DataFrame) else pd.DataFrame(part)


def row_count(data: Any) -> int:
    """How many rows a validated part holds."""
    if isinstance(data, (np.ndarray, pd.DataFrame, list, tuple)):
        return len(data)
    raise ValidationError("inputs", f"cannot count rows of a {type(data).__name__}; send a list of rows")


def cache_key(data: Any) -> bytes:
    """A digest of validated input, equal for equal data whatever request carried it."""
    digest = hashlib.blake2b(digest_size=16)
    if isinstance(data, np.ndarray) and data.dtype.kind != "O":
        digest.update(f"{data.dtype.str}{data.shape}".encode())
        digest.update(np.ascontiguousarray(data).tobytes())
    elif isinstance(data, pd.DataFrame):
        digest.update(",".join(map(str, data.columns)).encode())
        digest.update(pd.util.hash_pandas_object(data, index=False).to_numpy().tobytes())
    else:
        digest.update(repr(data).encode())
    return digest.digest()


def _shared_numeric_dtype(signature: Signature | None) -> str | None:
    if signature is None or not signature.is_tabular or not signature.columns:
        return None
    dtypes = {c.dtype for c in signature.columns}
    if len(dtypes) != 1 or not dtypes <= _NUMERIC:
        return None
    dtype = next(iter(dtypes))
    if any(c.nullable for c in signature.columns) and not dtype.startswith("float"):
        return None
    return dtype


def _array_or_none(rows: list[Any]) -> np.ndarray | None:
    try:
        return np.asarray(rows)
    except (ValueError, TypeError):
        return None


def _has_bool(rows: list[Any]) -> bool:
    return any(v is True or v is False for row in rows for v in (row if isinstance(row, list) else (row,)))


def _concat(parts: Sequence[Any]) -> Any:
    if all(isinstance(p, pd.DataFrame) for p in parts):
        return pd.concat(parts, ignore_index=True)
    return np.concatenate([np.asarray(p) for p in parts])
