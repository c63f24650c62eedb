"""ONNX through onnxruntime: a graph of standard operators, so no trust decision is needed.

The model is handed to onnxruntime as bytes, never as a path: a graph that points
at external weight files (which could name any file on the machine) fails to load
instead of reading them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from modelport.formats.base import package_versions, read_head, require
from modelport.foundation.errors import InvalidInputError
from modelport.signatures.schema import COLUMN_DTYPES, ColumnSpec, Signature, TensorSpec

#: onnxruntime type strings -> numpy dtype names
_ORT_DTYPES = {
    "tensor(float)": "float32", "tensor(double)": "float64", "tensor(float16)": "float16",
    "tensor(int64)": "int64", "tensor(int32)": "int32", "tensor(int16)": "int16", "tensor(int8)": "int8",
    "tensor(uint8)": "uint8", "tensor(bool)": "bool", "tensor(string)": "string",
}
#: protobuf tags that may follow ModelProto's ir_version (field 1): fields 2-8.
_MODEL_TAGS = {0x12, 0x1A, 0x22, 0x28, 0x32, 0x3A, 0x42}


class OnnxPredictor:
    """An onnxruntime session; tabular input is fed as one 2-D tensor or one input per column."""

    def __init__(self, session: Any, classes: list[Any] | None, producer: str) -> None:
        self.session = session
        self._inputs = session.get_inputs()
        self._output_names = [o.name for o in session.get_outputs()]
        self._classes = classes
        # skl2onnx regressors answer (n, 1) where scikit-learn answers (n,)
        self._flatten = producer == "skl2onnx"
        self.native_signature = native_signature(self._inputs)

    def _feeds(self, data: Any) -> dict[str, np.ndarray]:
        if len(self._inputs) == 1:
            spec = self._inputs[0]
            array = data.to_numpy() if isinstance(data, pd.DataFrame) else np.asarray(data)
            return {spec.name: _cast(array, spec.type)}
        if not isinstance(data, (pd.DataFrame, dict)):
            names = ", ".join(i.name for i in self._inputs)
            raise InvalidInputError(f"this ONNX model has several inputs ({names}): pass a DataFrame with those columns",
                                    field="inputs")
        feeds = {}
        for spec in self._inputs:
            column = np.asarray(data[spec.name])
            feeds[spec.name] = _cast(column.reshape(-1, 1) if len(spec.shape) == 2 else column, spec.type)
        return feeds

    def _run(self, data: Any) -> list[Any]:
        return list(self.session.run(self._output_names, self._feeds(data)))

    def predict(self, data: Any) -> np.ndarray:
        first = np.asarray(self._run(data)[0])
        if self._flatten and first.ndim == 2 and first.shape[1] == 1:
            return first.ravel()
        return first

    def predict_proba(self, data: Any) -> np.ndarray | None:
        if self._classes is None or len(self._output_names) < 2:
            return None
        return probabilities(self._run(data)[1], self._classes)

    @property
    def classes(self) -> list[Any] | None:
        return None if self._classes is None else list(self._classes)


def _cast(array: np.ndarray, ort_type: str) -> np.ndarray:
    dtype = _ORT_DTYPES.get(ort_type)
    if dtype is None:
        return array
    if dtype == "string":
        return array.astype(str).astype(object)
    return array.astype(dtype, copy=False)


def probabilities(output: Any, classes: list[Any]) -> np.ndarray:
    """Class probabilities from a plain tensor or from ZipMap's list of {label: p} dicts."""
    if isinstance(output, list):  # ZipMap: one dict per row
        frame = pd.DataFrame.from_records(output)
        return frame[classes].to_numpy(dtype=np.float32)
    return np.asarray(output)


def native_signature(inputs: list[Any]) -> Signature | None:
    """A signature read from the graph's inputs: one tensor, or one column per input."""
    dtypes = [_ORT_DTYPES.get(i.type) for i in inputs]
    if len(inputs) == 1 and dtypes[0] not in (None, "string"):
        shape = tuple(d if isinstance(d, int) else -1 for d in inputs[0].shape)
        return Signature(tensor=TensorSpec(str(dtypes[0]), shape, inputs[0].name))
    if len(inputs) > 1 and all(d in COLUMN_DTYPES for d in dtypes):
        return Signature(columns=tuple(ColumnSpec(i.name, str(d)) for i, d in zip(inputs, dtypes, strict=True)))
    return None


def graph_facts(model_bytes: bytes) -> tuple[list[Any] | None, str]:
    """The class labels of the graph's classifier (or ZipMap) node (None for a regressor), and its producer."""
    onnx = require("onnx", "onnx")
    helper = onnx.helper
    model = onnx.load_model_from_string(model_bytes)
    for node in model.graph.node:
        for attribute in node.attribute:
            if attribute.name in ("classlabels_ints", "classlabels_int64s", "classlabels_strings"):
                values = helper.get_attribute_value(attribute)
                labels = [v.decode() if isinstance(v, bytes) else int(v) for v in values]
                return labels, str(model.producer_name)
    return None, str(model.producer_name)


class OnnxAdapter:
    """ONNX models (`onnx.ModelProto` objects or `.onnx` files), run by onnxruntime on CPU."""

    flavor: ClassVar[str] = "onnx"
    needs_trust: ClassVar[bool] = False

    def accepts(self, obj: Any) -> bool:
        return type(obj).__name__ == "ModelProto" and type(obj).__module__.startswith("onnx")

    def save(self, obj: Any, directory: Path) -> Path:
        path = directory / "model.onnx"
        path.write_bytes(obj.SerializeToString())
        return path

    def sniff(self, path: Path) -> bool:
        if path.suffix.lower() == ".onnx":
            return True
        head = read_head(path, 3)
        # ModelProto starts with ir_version (field 1, varint), a small number, then another model field.
        return len(head) == 3 and head[0] == 0x08 and 0 < head[1] < 32 and head[2] in _MODEL_TAGS

    def load(self, path: Path, *, trusted: bool = False) -> OnnxPredictor:
        ort = require("onnxruntime", "onnx")
        model_bytes = path.read_bytes()
        options = ort.SessionOptions()
        options.log_severity_level = 3
        session = ort.InferenceSession(model_bytes, sess_options=options, providers=["CPUExecutionProvider"])
        return OnnxPredictor(session, *graph_facts(model_bytes))

    def requirements(self) -> dict[str, str]:
        return package_versions("onnxruntime", "onnx", "numpy")
