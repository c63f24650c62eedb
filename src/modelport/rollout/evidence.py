"""What the judge reads: per-version samples of a window of the prediction log, and feedback rewards."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Engine

from modelport.foundation.clock import Clock
from modelport.monitoring.feedback import labelled_rows
from modelport.monitoring.log import PredictionLog

#: failures caused by the caller's input, not by the version: they never count against a canary
CLIENT_ERRORS = frozenset({"InvalidInputError", "ValidationError", "PayloadError"})


@dataclass(frozen=True)
class VersionSample:
    """One version's rows in a window: request outcomes, latencies and predictions."""

    version: int
    total: int = 0
    errors: int = 0
    latency_ms: np.ndarray = field(default_factory=lambda: np.zeros(0))
    predictions: np.ndarray = field(default_factory=lambda: np.zeros(0))

    def to_dict(self) -> dict[str, Any]:
        return {"version": self.version, "requests": self.total, "errors": self.errors}


class Evidence:
    """Reads windows of the prediction log and the feedback joined to it."""

    def __init__(self, engine: Engine, clock: Clock) -> None:
        self.engine = engine
        self.log = PredictionLog(engine, clock)

    def samples(self, model: str, since: datetime, until: datetime, *, route: str = "primary") -> dict[int, VersionSample]:
        """Per version, the rows of `model` logged in (since, until] on `route`."""
        if until <= since:
            return {}
        window = self.log.window(model, until - since, route=route, ok_only=False, end=until)
        if not len(window):
            return {}
        meta = window.meta.reset_index(drop=True)
        predictions = window.outputs["prediction"].to_numpy() if "prediction" in window.outputs else None
        out = {}
        for version, rows in meta.groupby("version"):
            index = rows.index.to_numpy()
            ok = (rows["status"] == "ok").to_numpy()
            failed = ~ok & ~rows["status"].isin(CLIENT_ERRORS).to_numpy()
            values = predictions[index[ok]] if predictions is not None else np.zeros(0)
            number = _version(version)
            out[number] = VersionSample(number, int(ok.sum() + failed.sum()), int(failed.sum()),
                                        rows["latency_ms"].to_numpy(np.float64)[ok | failed], plain_array(values))
        return out

    def shadow_pairs(self, model: str, since: datetime, until: datetime) -> pd.DataFrame:
        """Shadow rows joined to the primary row they copy: version, agree, latencies."""
        if until <= since:
            return pd.DataFrame(columns=["version", "agree", "latency_ms", "primary_latency_ms"])
        span = until - since
        shadow = self.log.window(model, span, route="shadow", ok_only=True, end=until)
        primary = self.log.window(model, span, route="primary", ok_only=True, end=until)
        left = pd.DataFrame({"id": shadow.meta["prediction_id"].str.rsplit("-s", n=1).str[0] if len(shadow) else [],
                             "version": shadow.meta["version"] if len(shadow) else [],
                             "shadow": shadow.outputs["prediction"].astype(str) if len(shadow) else [],
                             "latency_ms": shadow.meta["latency_ms"] if len(shadow) else []})
        right = pd.DataFrame({"id": primary.meta["prediction_id"] if len(primary) else [],
                              "primary": primary.outputs["prediction"].astype(str) if len(primary) else [],
                              "primary_latency_ms": primary.meta["latency_ms"] if len(primary) else []})
        joined = left.merge(right, on="id", how="inner")
        joined["agree"] = joined["shadow"] == joined["primary"]
        return joined

    def rewards(self, model: str, since: datetime, until: datetime, metric: str) -> dict[int, np.ndarray]:
        """Per version, one reward per labelled prediction: correct (0/1) for accuracy, the value for reward."""
        joined = labelled_rows(self.engine, model, since, until)
        out: dict[int, np.ndarray] = {}
        for version, rows in joined.groupby("version"):
            if metric == "reward":
                values = rows["value"].dropna().to_numpy(np.float64)
            else:
                labelled = rows[rows["label"].notna()]
                values = (labelled["prediction"].astype(str) == labelled["label"].astype(str)).to_numpy(np.float64)
            out[_version(version)] = values
        return out


def plain_array(values: np.ndarray) -> np.ndarray:
    """Predictions as a numeric array when they are numbers, else as strings."""
    try:
        return np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        return np.asarray([str(v) for v in values])


def _version(value: Any) -> int:
    return int(float(value))  # a nullable integer column may come back as floats
