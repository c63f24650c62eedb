"""The signature data model and its inference from an input example."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from modelport.foundation.errors import InvalidInputError

#: dtype names a column may have; anything else is mapped onto one of these.
COLUMN_DTYPES = ("float64", "float32", "int64", "int32", "bool", "string", "datetime64[ns]")


@dataclass(frozen=True)
class ColumnSpec:
    """One named input column."""

    name: str
    dtype: str
    nullable: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "dtype": self.dtype, "nullable": self.nullable}


@dataclass(frozen=True)
class TensorSpec:
    """A tensor: a dtype and a shape where -1 means "any size" (the batch axis first)."""

    dtype: str
    shape: tuple[int, ...]
    name: str = "input"

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "dtype": self.dtype, "shape": list(self.shape)}


@dataclass(frozen=True)
class Signature:
    """Inputs as named columns (tabular) or as one tensor, and the output's spec."""

    columns: tuple[ColumnSpec, ...] = ()
    tensor: TensorSpec | None = None
    output: TensorSpec | None = None
    classes: tuple[Any, ...] | None = field(default=None)

    @property
    def is_tabular(self) -> bool:
        return self.tensor is None

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready form, stored with the version."""
        return {
            "inputs": (
                {"type": "columns", "columns": [c.to_dict() for c in self.columns]}
                if self.tensor is None
                else {"type": "tensor", **self.tensor.to_dict()}
            ),
            "output": self.output.to_dict() if self.output else None,
            "classes": list(self.classes) if self.classes is not None else None,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Signature:
        """Read the form written by `to_dict`, refusing anything malformed."""
        try:
            inputs = data["inputs"]
            output = _tensor_from(data["output"]) if data.get("output") else None
            classes = tuple(data["classes"]) if data.get("classes") is not None else None
            if inputs["type"] == "tensor":
                return cls(tensor=_tensor_from(inputs), output=output, classes=classes)
            columns = tuple(
                ColumnSpec(str(c["name"]), _known_dtype(c["dtype"]), bool(c.get("nullable"))) for c in inputs["columns"]
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise InvalidInputError(
                f"invalid signature: {exc!s}; expected the form of Signature.to_dict()",
                field="signature",
            ) from exc
        return cls(columns=columns, output=output, classes=classes)


def _known_dtype(value: object) -> str:
    if value not in COLUMN_DTYPES:
        raise ValueError(f"dtype {value!r} is not one of {', '.join(COLUMN_DTYPES)}")
    return str(value)


def _tensor_from(data: dict[str, Any]) -> TensorSpec:
    np.dtype(data["dtype"])  # raises TypeError on an unknown dtype
    return TensorSpec(str(data["dtype"]), tuple(int(n) for n in data["shape"]), data.get("name", "input"))


def column_dtype(series: pd.Series) -> str:
    """Map a pandas series to one of COLUMN_DTYPES."""
    kind = series.dtype.kind
    if kind == "b" or str(series.dtype) == "boolean":
        return "bool"
    if kind == "f":
        return "float32" if series.dtype == np.float32 else "float64"
    if kind in "iu" or str(series.dtype) in ("Int64", "Int32"):
        return "int32" if series.dtype in (np.int32, np.int16, np.int8) else "int64"
    if kind == "M":
        return "datetime64[ns]"
    return "string"


def infer_signature(example: Any, output: Any = None, classes: Any = None) -> Signature:
    """Infer a signature from an input example and, optionally, the model's output on it."""
    out = tensor_spec(np.asarray(output), name="predict") if output is not None else None
    cls_tuple = tuple(_plain(c) for c in classes) if classes is not None else None
    if isinstance(example, np.ndarray):
        return Signature(tensor=tensor_spec(example), output=out, classes=cls_tuple)
    frame = as_frame(example)
    columns = tuple(
        ColumnSpec(str(name), column_dtype(frame[name]), bool(frame[name].isna().any())) for name in frame.columns
    )
    return Signature(columns=columns, output=out, classes=cls_tuple)


def tensor_spec(array: np.ndarray, name: str = "input") -> TensorSpec:
    """The spec of a batch of tensors: the first axis is the (variable) batch axis."""
    shape = (-1, *array.shape[1:]) if array.ndim else (-1,)
    return TensorSpec(str(array.dtype) if array.dtype.kind != "O" else "string", shape, name)


def as_frame(example: Any) -> pd.DataFrame:
    """Turn a DataFrame, a mapping of columns or a list of records into a DataFrame."""
    if isinstance(example, pd.DataFrame):
        return example
    if isinstance(example, pd.Series):
        return example.to_frame().T
    if isinstance(example, dict):
        if all(isinstance(v, (list, tuple, np.ndarray, pd.Series)) for v in example.values()):
            return pd.DataFrame(example)
        return pd.DataFrame([example])
    if isinstance(example, list) and example and all(isinstance(r, dict) for r in example):
        return pd.DataFrame(example)
    raise InvalidInputError(
        "input example: expected a DataFrame, a dict of columns, a list of records or "
        f"a numpy array, got {type(example).__name__}",
        field="input_example",
    )


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value
