"""Feedback: ground truth joined to prediction ids, days or weeks after the prediction.

Each item is judged on its own and reported back -- accepted, unknown id, duplicate, type mismatch
or invalid -- and the accepted ones are committed in one transaction before the call returns.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import orjson
import pandas as pd
from sqlalchemy import Engine, exc, insert, select

from modelport.foundation.clock import Clock, SystemClock
from modelport.foundation.errors import InvalidInputError
from modelport.monitoring.log import LogWindow, PredictionLog
from modelport.monitoring.outputs import PREDICTION
from modelport.monitoring.performance import probability_matrix
from modelport.storage.database import reader
from modelport.storage.schema import feedback, prediction_log

MAX_ITEMS = 10_000
_CHUNK = 500


@dataclass(frozen=True)
class FeedbackOutcome:
    """What happened to one feedback item."""

    prediction_id: str | None
    status: str  # accepted | unknown_id | duplicate | type_mismatch | invalid
    reason: str = ""

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"prediction_id": self.prediction_id, "status": self.status}
        if self.reason:
            out["reason"] = self.reason
        return out


@dataclass(frozen=True)
class FeedbackResult:
    """Per-item outcomes, in the order the items were given."""

    outcomes: tuple[FeedbackOutcome, ...]

    @property
    def accepted(self) -> int:
        return sum(o.status == "accepted" for o in self.outcomes)

    def to_dict(self) -> dict[str, Any]:
        counts: dict[str, int] = {}
        for outcome in self.outcomes:
            counts[outcome.status] = counts.get(outcome.status, 0) + 1
        return {"accepted": self.accepted, "counts": counts, "items": [o.to_dict() for o in self.outcomes]}


class FeedbackStore:
    """Checks feedback items against the prediction log and commits the good ones."""

    def __init__(self, engine: Engine, clock: Clock | None = None) -> None:
        self.engine = engine
        self.clock = clock or SystemClock()

    def submit(self, items: Iterable[Mapping[str, Any]], *, visible: Callable[[str], bool] | None = None) -> FeedbackResult:
        """Record ground truth for prediction ids; see FeedbackOutcome for what each item can become.

        `visible(model)` narrows what the caller may label: predictions of other models count as unknown ids.
        """
        given = list(items)
        if len(given) > MAX_ITEMS:
            raise InvalidInputError(f"feedback: at most {MAX_ITEMS} items per call, got {len(given)}; send batches",
                                    field="feedback")
        for _attempt in range(3):
            try:
                return self._submit_once(given, visible)
            except exc.IntegrityError:  # a concurrent writer took an id between our check and insert: judge again
                continue
        return self._submit_once(given, visible)

    def _submit_once(self, given: list[Any], visible: Callable[[str], bool] | None) -> FeedbackResult:
        ids = [str(i.get("prediction_id")) for i in given if isinstance(i, Mapping) and i.get("prediction_id")]
        with self.engine.begin() as conn:
            predictions = _predictions(conn, ids)
            if visible is not None:
                predictions = {k: v for k, v in predictions.items() if visible(v.model)}
            known = _existing_feedback(conn, ids)
            outcomes, rows = [], []
            for item in given:
                outcome, row = self._judge(item, predictions, known)
                outcomes.append(outcome)
                if row is not None:
                    rows.append(row)
                    known.add(row["prediction_id"])
            if rows:
                conn.execute(insert(feedback), rows)
        return FeedbackResult(tuple(outcomes))

    def _judge(self, item: Any, predictions: dict[str, Any], known: set[str]) -> tuple[FeedbackOutcome, dict[str, Any] | None]:
        if not isinstance(item, Mapping) or not isinstance(item.get("prediction_id"), str) or not item["prediction_id"]:
            return FeedbackOutcome(None, "invalid", "each item needs a string prediction_id"), None
        pid = item["prediction_id"]
        if ("label" in item) == ("value" in item):
            return FeedbackOutcome(pid, "invalid", "give exactly one of label (classification) or value (regression)"), None
        prediction = predictions.get(pid)
        if prediction is None:
            return FeedbackOutcome(pid, "unknown_id", "no logged prediction has this id (yet)"), None
        if pid in known:
            return FeedbackOutcome(pid, "duplicate", "feedback for this prediction was already recorded"), None
        mismatch = _type_mismatch(item, prediction.outputs)
        if mismatch:
            return FeedbackOutcome(pid, "type_mismatch", mismatch), None
        row = {"prediction_id": pid, "model": prediction.model, "version": prediction.version,
               "label": orjson.dumps(item["label"]).decode() if "label" in item else None,
               "value": float(item["value"]) if "value" in item else None, "received_at": self.clock.now()}
        return FeedbackOutcome(pid, "accepted"), row


def _predictions(conn: Any, ids: list[str]) -> dict[str, Any]:
    table = prediction_log
    found: dict[str, Any] = {}
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start:start + _CHUNK]
        query = select(table.c.prediction_id, table.c.model, table.c.version, table.c.outputs)
        for row in conn.execute(query.where(table.c.prediction_id.in_(chunk))):
            found[row.prediction_id] = row
    return found


def _existing_feedback(conn: Any, ids: list[str]) -> set[str]:
    known: set[str] = set()
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start:start + _CHUNK]
        known.update(conn.execute(select(feedback.c.prediction_id).where(feedback.c.prediction_id.in_(chunk))).scalars())
    return known


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _type_mismatch(item: Mapping[str, Any], outputs_json: str | None) -> str:
    predicted = orjson.loads(outputs_json) if outputs_json else None
    regression = isinstance(predicted, float) and not predicted.is_integer()
    if "value" in item:
        if not _is_number(item["value"]):
            return f"value must be a finite number, got {item['value']!r}"
        return "" if predicted is None or _is_number(predicted) else f"the model predicted a label ({predicted!r}): send label"
    label = item["label"]
    if not isinstance(label, (str, int, float, bool)) or label is None:
        return f"label must be a string, number or boolean, got {type(label).__name__}"
    if regression:
        return f"the model predicted a number ({predicted!r}): send value, not label"
    if predicted is not None and isinstance(predicted, str) != isinstance(label, str):
        return f"label {label!r} is not of the type the model predicts ({type(predicted).__name__}, e.g. {predicted!r})"
    return ""


def labelled_rows(engine: Engine, model: str, start: datetime, end: datetime) -> pd.DataFrame:
    """Predictions of `model` made in (start, end] that have feedback, with their truth."""
    return join_feedback(engine, model, PredictionLog(engine).window(model, end - start, end=end, inputs=False))


def join_feedback(engine: Engine, model: str, window: LogWindow) -> pd.DataFrame:
    """The rows of a window (primary, ok) that have feedback, joined by prediction id with their truth.

    The model's feedback is read whole (narrow rows, by its index) and matched to the window's ids in
    memory: a join in SQL walked every prediction of the window (1M rows: seconds) to find the labelled tenth.
    """
    query = select(feedback.c.prediction_id, feedback.c.label, feedback.c.value).where(feedback.c.model == model)
    with reader(engine).connect() as conn:
        rows = conn.execute(query).all()
    ids = window.meta["prediction_id"].to_numpy(dtype=object)
    found = pd.Index(ids).get_indexer([r.prediction_id for r in rows]) if len(ids) else np.full(len(rows), -1)
    order = np.argsort(found, kind="stable")
    order = order[found[order] >= 0]  # feedback for predictions outside the window
    positions = found[order]
    loads = orjson.loads
    picked = [rows[i] for i in order]
    joined = window.meta[["prediction_id", "version", "at"]].iloc[positions].reset_index(drop=True)
    outputs = window.outputs.iloc[positions]
    matrix = probability_matrix(outputs)
    joined["prediction"] = outputs[PREDICTION].to_numpy() if PREDICTION in outputs else None
    joined["probabilities"] = list(matrix) if matrix is not None else None
    joined["label"] = pd.Series([loads(r.label) if r.label is not None else None for r in picked], dtype=object)
    joined["value"] = pd.Series([r.value for r in picked], dtype=np.float64)
    return joined
