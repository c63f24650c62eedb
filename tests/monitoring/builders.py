"""Builders of prediction records for monitoring tests."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone
from typing import Any

from modelport.monitoring.records import PredictionRecord

START = datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)


def record(model: str = "m", *, version: int | None = 1, at: datetime | None = None, inputs: dict[str, Any] | None = None,
           outputs: Any = 0, probabilities: list[float] | None = None, latency_ms: float = 5.0, status: str = "ok",
           route: str = "primary", error: str | None = None, prediction_id: str | None = None) -> PredictionRecord:
    """A prediction record with a fresh id."""
    return PredictionRecord(prediction_id or uuid.uuid4().hex, model, version, route, at or START - timedelta(minutes=1),
                            inputs if inputs is not None else {"x": 1.0}, outputs, probabilities, latency_ms, status, error)
