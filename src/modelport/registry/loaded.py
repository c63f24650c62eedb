"""A loaded version: validation in front of the adapter's predictor."""

from __future__ import annotations

from typing import Any

import numpy as np

from modelport.formats.base import Predictor
from modelport.foundation.errors import ModelExecutionError
from modelport.registry.records import VersionRecord
from modelport.signatures.schema import Signature
from modelport.signatures.validate import validate


class LoadedModel:
    """What `modelport.load` returns: `.predict`, `.predict_proba`, `.signature`, `.version`."""

    def __init__(self, record: VersionRecord, predictor: Predictor) -> None:
        self.record = record
        self.predictor = predictor

    @property
    def version(self) -> int:
        return self.record.version

    @property
    def name(self) -> str:
        return self.record.name

    @property
    def signature(self) -> Signature | None:
        return self.record.signature

    @property
    def classes(self) -> list[Any] | None:
        return self.predictor.classes

    def prepare(self, data: Any) -> Any:
        """Validate and coerce `data` against the signature (unchanged when there is none)."""
        if self.signature is None:
            return data
        return validate(self.signature, data).data

    def predict(self, data: Any, *, validated: bool = False) -> np.ndarray:
        """Predictions for `data`, validated against the signature first."""
        prepared = data if validated else self.prepare(data)
        try:
            return self.predictor.predict(prepared)
        except Exception as exc:
            raise ModelExecutionError(f"model {self.record.ref} failed to predict: {type(exc).__name__}") from exc

    def predict_proba(self, data: Any, *, validated: bool = False) -> np.ndarray | None:
        """Class probabilities, or None when the model has none."""
        prepared = data if validated else self.prepare(data)
        try:
            return self.predictor.predict_proba(prepared)
        except Exception as exc:
            raise ModelExecutionError(f"model {self.record.ref} failed in predict_proba: {type(exc).__name__}") from exc

    def __repr__(self) -> str:
        return f"LoadedModel({self.record.ref}, flavor={self.record.flavor})"
