"""Open Inference Protocol (V2) wire format: tensors in JSON or in the binary tensor extension."""

from __future__ import annotations

import math
import struct
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import orjson

from modelport.http.errors import PayloadError, loads
from modelport.signatures.schema import Signature

DTYPES: dict[str, str] = {
    "BOOL": "bool", "UINT8": "uint8", "UINT16": "uint16", "UINT32": "uint32", "UINT64": "uint64",
    "INT8": "int8", "INT16": "int16", "INT32": "int32", "INT64": "int64",
    "FP16": "float16", "FP32": "float32", "FP64": "float64", "BYTES": "object",
}
_TO_V2 = {v: k for k, v in DTYPES.items() if k != "BYTES"}
OUTPUTS = ("predict", "predict_proba")
BINARY_HEADER = "inference-header-content-length"


@dataclass
class V2Request:
    """A decoded V2 infer request."""

    inputs: dict[str, np.ndarray]
    outputs: list[str]
    binary_outputs: set[str] = field(default_factory=set)
    id: str | None = None
    timeout_s: float | None = None


def decode_request(body: bytes, json_length: int | None) -> V2Request:
    """Parse a V2 infer body (with its binary tail when `json_length` is given)."""
    if json_length is not None and not 0 < json_length <= len(body):
        raise PayloadError(f"Inference-Header-Content-Length {json_length} does not fit a body of {len(body)} bytes")
    header = loads(body[:json_length] if json_length is not None else body)
    if not isinstance(header, dict) or not isinstance(header.get("inputs"), list) or not header["inputs"]:
        raise PayloadError("a V2 infer request is a JSON object with a non-empty 'inputs' list")
    tail = memoryview(body)[json_length:] if json_length is not None else memoryview(b"")
    inputs: dict[str, np.ndarray] = {}
    offset = 0
    for spec in header["inputs"]:
        name, array, used = _decode_input(spec, tail, offset)
        if name in inputs:
            raise PayloadError(f"input {name!r} is given more than once")
        inputs[name] = array
        offset += used
    outputs, binary = _requested_outputs(header)
    return V2Request(inputs, outputs, binary, _request_id(header), _timeout(header))


def _decode_input(spec: Any, tail: memoryview, offset: int) -> tuple[str, np.ndarray, int]:
    if not isinstance(spec, dict) or not isinstance(spec.get("name"), str):
        raise PayloadError("each input needs a 'name', a 'shape', a 'datatype' and 'data'")
    name = spec["name"]
    datatype = spec.get("datatype")
    if datatype not in DTYPES:
        raise PayloadError(f"input {name!r}: unknown datatype {datatype!r}; use one of {', '.join(DTYPES)}")
    shape = _shape(name, spec.get("shape"))
    size = (spec.get("parameters") or {}).get("binary_data_size")
    if size is not None:
        if not isinstance(size, int) or size < 0 or offset + size > len(tail):
            raise PayloadError(f"input {name!r}: binary_data_size {size!r} runs past the end of the body")
        return name, _from_binary(name, datatype, shape, tail[offset:offset + size]), size
    if "data" not in spec:
        raise PayloadError(f"input {name!r} has no 'data' and no binary_data_size")
    return name, _from_json(name, datatype, shape, spec["data"]), 0


def _shape(name: str, shape: Any) -> tuple[int, ...]:
    if not isinstance(shape, list) or not all(isinstance(n, int) and not isinstance(n, bool) and n >= 0
                                              for n in shape):
        raise PayloadError(f"input {name!r}: 'shape' must be a list of non-negative integers, got {shape!r}")
    return tuple(shape)


def _from_json(name: str, datatype: str, shape: tuple[int, ...], data: Any) -> np.ndarray:
    try:
        array = _flat_objects(data) if datatype == "BYTES" else np.asarray(data, dtype=DTYPES[datatype])
    except (ValueError, TypeError) as exc:
        raise PayloadError(f"input {name!r}: data does not match datatype {datatype} ({exc})") from None
    return _reshaped(name, array, shape)


def _flat_objects(data: Any) -> np.ndarray:
    flat: list[Any] = []
    stack = [data]
    while stack:
        item = stack.pop()
        if isinstance(item, list):
            stack.extend(reversed(item))
        else:
            flat.append(item)
    out = np.empty(len(flat), dtype=object)
    out[:] = flat
    return out


def _reshaped(name: str, array: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    if array.size != math.prod(shape):
        raise PayloadError(f"input {name!r}: shape {list(shape)} needs {math.prod(shape)} values, got {array.size}")
    return array.reshape(shape)


def _from_binary(name: str, datatype: str, shape: tuple[int, ...], raw: memoryview) -> np.ndarray:
    if datatype == "BYTES":
        return _reshaped(name, _bytes_elements(name, bytes(raw)), shape)
    dtype = np.dtype(DTYPES[datatype]).newbyteorder("<")
    if len(raw) % dtype.itemsize:
        raise PayloadError(f"input {name!r}: {len(raw)} bytes is not a whole number of {datatype} values")
    return _reshaped(name, np.frombuffer(raw, dtype=dtype).astype(dtype.newbyteorder("="), copy=False), shape)


def _bytes_elements(name: str, raw: bytes) -> np.ndarray:
    items: list[Any] = []
    position = 0
    while position < len(raw):
        if position + 4 > len(raw):
            raise PayloadError(f"input {name!r}: truncated BYTES element")
        (length,) = struct.unpack_from("<I", raw, position)
        position += 4
        items.append(_text(raw[position:position + length]))
        position += length
    out = np.empty(len(items), dtype=object)
    out[:] = items
    return out


def _text(raw: bytes) -> Any:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw


def _requested_outputs(header: dict[str, Any]) -> tuple[list[str], set[str]]:
    all_binary = bool((header.get("parameters") or {}).get("binary_data_output"))
    wanted = header.get("outputs")
    if not wanted:
        return ["predict"], {"predict"} if all_binary else set()
    names: list[str] = []
    binary: set[str] = set()
    for spec in wanted:
        name = spec.get("name") if isinstance(spec, dict) else None
        if name not in OUTPUTS:
            raise PayloadError(f"output {name!r} is unknown; this model's outputs are {', '.join(OUTPUTS)}")
        names.append(name)
        if all_binary or (spec.get("parameters") or {}).get("binary_data"):
            binary.add(name)
    return names, binary


def _request_id(header: dict[str, Any]) -> str | None:
    value = header.get("id")
    return str(value) if value is not None else None


def _timeout(header: dict[str, Any]) -> float | None:
    micros = (header.get("parameters") or {}).get("timeout")  # Triton: microseconds
    if isinstance(micros, (int, float)) and not isinstance(micros, bool) and micros > 0:
        return float(micros) / 1e6
    return None


def model_inputs(inputs: dict[str, np.ndarray], signature: Signature | None) -> Any:
    """What the data plane validates: a lone tensor as is, or one 1-D tensor per column as a dict."""
    if len(inputs) == 1:
        name, array = next(iter(inputs.items()))
        is_column = signature is not None and signature.is_tabular and name in signature.column_names
        if not (is_column and array.ndim == 1):
            return array
    return {name: array.reshape(-1) if array.ndim == 2 and array.shape[1] == 1 else array
            for name, array in inputs.items()}


# --- responses --------------------------------------------------------------------------
def v2_datatype(array: np.ndarray) -> str:
    """The V2 datatype of a numpy array (strings and objects are BYTES)."""
    return _TO_V2.get(array.dtype.name, "BYTES")


def encode_response(model: str, version: int, request_id: str | None, prediction_ids: list[str],
                    outputs: Sequence[tuple[str, np.ndarray]], binary: set[str]) -> tuple[bytes, int | None]:
    """The response body, and the JSON header's length when binary outputs follow it."""
    tensors = []
    tails: list[bytes] = []
    for name, array in outputs:
        datatype = v2_datatype(array)
        tensor: dict[str, Any] = {"name": name, "shape": list(array.shape), "datatype": datatype}
        if name in binary:
            raw = _binary(array, datatype)
            tensor["parameters"] = {"binary_data_size": len(raw)}
            tails.append(raw)
        else:
            tensor["data"] = _json_data(array, datatype)
        tensors.append(tensor)
    answer: dict[str, Any] = {"model_name": model, "model_version": str(version),
                              "parameters": {"prediction_ids": prediction_ids}, "outputs": tensors}
    if request_id is not None:
        answer["id"] = request_id
    head = orjson.dumps(answer, option=orjson.OPT_SERIALIZE_NUMPY)
    if not tails:
        return head, None
    return head + b"".join(tails), len(head)


def _json_data(array: np.ndarray, datatype: str) -> Any:
    flat = array.reshape(-1)
    if datatype == "BYTES":
        return [v.decode("utf-8", "replace") if isinstance(v, bytes) else str(v) for v in flat]
    return flat if flat.flags.c_contiguous else np.ascontiguousarray(flat)


def _binary(array: np.ndarray, datatype: str) -> bytes:
    if datatype != "BYTES":
        return np.ascontiguousarray(array, dtype=array.dtype.newbyteorder("<")).tobytes()
    parts = []
    for value in array.reshape(-1):
        raw = value if isinstance(value, bytes) else str(value).encode()
        parts.append(struct.pack("<I", len(raw)) + raw)
    return b"".join(parts)


def column_datatype(dtype: str) -> str:
    """The V2 datatype advertised for a signature column dtype."""
    return {"float64": "FP64", "float32": "FP32", "int64": "INT64", "int32": "INT32", "bool": "BOOL"}.get(dtype, "BYTES")
