# mypy: disable-error-code="untyped-decorator"
"""BentoML services for bench/.envs/bentoml: the same joblib model, with and without adaptive batching.

bentoml serve bentoml_service:Plain   (one predict call per request)
bentoml serve bentoml_service:Batched (adaptive batching, up to 64 rows)
The model file comes from BENCH_MODEL_PATH.
"""

import os
from typing import Any

import bentoml
import numpy as np


def _load() -> Any:
    import joblib

    return joblib.load(os.environ["BENCH_MODEL_PATH"])


@bentoml.service(workers=1)
class Plain:
    """One predict() per request."""

    def __init__(self) -> None:
        self.model = _load()

    @bentoml.api
    def predict(self, rows: np.ndarray) -> np.ndarray:
        return np.asarray(self.model.predict(rows))


@bentoml.service(workers=1)
class Batched:
    """Requests merged by BentoML's adaptive batcher (batch dimension 0)."""

    def __init__(self) -> None:
        self.model = _load()

    @bentoml.api(batchable=True, max_batch_size=64)
    def predict(self, rows: np.ndarray) -> np.ndarray:
        return np.asarray(self.model.predict(rows))
