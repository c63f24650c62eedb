"""Wire formats: how one row is sent to each kind of server, and how its label is read back."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class WireFormat:
    """One request shape: path, content type, the body of one row, and the label in the answer."""

    name: str
    path: str
    encode: Callable[[list[float]], bytes]
    decode: Callable[[Any], list[Any]]
    content_type: str = "application/json"

    def bodies(self, rows: np.ndarray) -> list[bytes]:
        """One body per row."""
        return [self.encode([float(v) for v in row]) for row in rows]


def _dumps(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


def v2(model: str) -> WireFormat:
    """Open Inference Protocol (modelport, MLServer): one FP64 tensor of shape [1, 30]."""
    return WireFormat(
        "v2", f"/v2/models/{model}/infer",
        lambda row: _dumps({"inputs": [{"name": "input-0", "shape": [1, len(row)], "datatype": "FP64", "data": row}]}),
        lambda answer: list(answer["outputs"][0]["data"]),
    )


def mlflow_inputs() -> WireFormat:
    """MLflow's /invocations with a tensor signature: {"inputs": [[...]]}."""
    return WireFormat("mlflow", "/invocations", lambda row: _dumps({"inputs": [row]}),
                      lambda answer: list(answer["predictions"]))


def bentoml(api: str = "predict") -> WireFormat:
    """A BentoML service API taking `rows` (a 2-D array) and answering a JSON list."""
    return WireFormat("bentoml", f"/{api}", lambda row: _dumps({"rows": [row]}), lambda answer: list(answer))


def instances(path: str = "/predict") -> WireFormat:
    """The floors' minimal shape: {"instances": [[...]]} -> {"predictions": [...]}."""
    return WireFormat("instances", path, lambda row: _dumps({"instances": [row]}),
                      lambda answer: list(answer["predictions"]))
