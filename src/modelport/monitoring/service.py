"""One facade over monitoring, used alike by the HTTP routes, the CLI, the Python API and the alert evaluator."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd

from modelport.foundation.clock import Clock
from modelport.foundation.errors import InvalidInputError, NotFoundError
from modelport.foundation.names import validate_name
from modelport.foundation.settings import Settings
from modelport.monitoring.drift import DriftConfig, DriftReport, analyse_drift
from modelport.monitoring.feedback import FeedbackResult, FeedbackStore, join_feedback
from modelport.monitoring.health import health_summary
from modelport.monitoring.log import PredictionLog
from modelport.monitoring.performance import (
    classification_report,
    estimate,
    is_regression,
    probability_matrix,
    regression_report,
)
from modelport.monitoring.profiles import build_profile
from modelport.monitoring.records import parse_window, window_bounds
from modelport.monitoring.references import ReferenceInfo, ReferenceStore
from modelport.monitoring.sink import PredictionLogSink
from modelport.registry.records import VersionRecord
from modelport.registry.service import Registry

TIMELINE_BUCKETS = 12


class Monitoring:
    """Drift, performance, health and feedback for the models of one registry."""

    def __init__(self, registry: Registry, *, clock: Clock | None = None) -> None:
        self.registry = registry
        self.clock = clock or registry.store.clock
        engine = registry.store.engine
        self.log = PredictionLog(engine, self.clock)
        self.references = ReferenceStore(engine, registry.artifacts, self.clock)
        self.feedback_store = FeedbackStore(engine, self.clock)

    def sink(self, **options: Any) -> PredictionLogSink:
        """A batching `PredictionSink` writing into this log (pass to `create_app(sink=...)`)."""
        return PredictionLogSink(self.log, **options)

    def submit_feedback(self, items: Iterable[Mapping[str, Any]], *,
                        visible: Callable[[str], bool] | None = None) -> FeedbackResult:
        """Record ground truth for prediction ids (committed before this returns)."""
        return self.feedback_store.submit(items, visible=visible)

    def classes(self, model: str, version: int | None) -> list[Any] | None:
        """The class labels the version declares in its signature, if any."""
        if version is None:
            return None
        try:
            signature = self.registry.store.get_version(model, int(version)).signature
        except NotFoundError:
            return None
        return list(signature.classes) if signature is not None and signature.classes is not None else None

    # --- drift --------------------------------------------------------------------------
    def drift(self, model: str, window: str | timedelta = "1h", *, version: int | None = None,
              config: DriftConfig | None = None, multivariate: bool = False, end: datetime | None = None) -> DriftReport:
        """Drift of the last `window` of `model`'s primary traffic against the version's reference profile."""
        validate_name(model)
        info, profile = self.references.load(model, version)
        current = self.log.window(model, parse_window(window), version=version, end=end,
                                  classes=self.classes(model, info.version))
        report = analyse_drift(profile, current.inputs, outputs=current.outputs, config=config)
        if multivariate and profile.joint is not None:
            from dataclasses import replace

            from modelport.monitoring.multivariate import domain_classifier

            result = domain_classifier(profile.joint, current.inputs) if len(current) else {"status": "insufficient_data"}
            report = replace(report, multivariate=result)
        return report

    # --- reference from the log ----------------------------------------------------------
    def reference_from_log(self, model: str, window: str | timedelta | None = None, *, version: int | None = None,
                           start: str | datetime | None = None, end: str | datetime | None = None) -> ReferenceInfo:
        """Profile the rows a version served in a window of the log and store them as its reference.

        The window is a duration ending at `end` (default now) or `start`..`end`; only the primary,
        successful rows of `version` (default: the newest registered) count, so that the reference's
        outputs are that version's own.
        """
        validate_name(model)
        record = self._version(model, version)
        low, high = window_bounds(window, start, end, self.clock.now())
        rows = self.log.window(model, high - low, version=record.version, end=high,
                               classes=self.classes(model, record.version))
        if not len(rows):
            raise InvalidInputError(f"no logged predictions of {record.ref} in ({low.isoformat()}, {high.isoformat()}]: "
                                    "choose a window in which this version served traffic", field="window")
        profile = build_profile(rows.inputs, outputs=rows.outputs)
        return self.references.save(model, record.version, profile,
                                    source=f"log {low.isoformat()} .. {high.isoformat()}")

    def _version(self, model: str, version: int | None) -> VersionRecord:
        if version is not None:
            return self.registry.store.get_version(model, int(version))
        versions = self.registry.store.list_versions(model)
        if not versions:
            raise NotFoundError(f"model {model!r} has no active version to attach a reference to")
        return versions[-1]

    # --- performance --------------------------------------------------------------------
    def performance(self, model: str, window: str | timedelta = "1d", *, end: datetime | None = None) -> dict[str, Any]:
        """Realized metrics per version where labels arrived, and the confidence-based estimate."""
        validate_name(model)
        span = parse_window(window)
        stop = end or self.clock.now()
        served = self.log.window(model, span, end=stop, inputs=False)
        joined = join_feedback(self.log.engine, model, served)
        overall = self._realized(model, joined)
        versions = {str(v): self._realized(model, group) for v, group in joined.groupby("version")} if len(joined) else {}
        estimated = estimate(probability_matrix(served.outputs))
        if estimated and len(joined):
            with_proba = joined[joined["probabilities"].notna()]
            if len(with_proba):
                matrix = np.asarray(with_proba["probabilities"].tolist(), dtype=np.float64)
                estimated["on_labelled_rows"] = estimate(matrix)["accuracy"]
        return {"model": model, "window": str(window), "start": (stop - span).isoformat(), "end": stop.isoformat(),
                "predictions": len(served), **overall, "estimated": estimated, "versions": versions,
                "timeline": self._timeline(model, joined, served, stop - span, stop)}

    def _realized(self, model: str, joined: pd.DataFrame, *, intervals: bool = True) -> dict[str, Any]:
        if joined.empty:
            return {"metrics": {}, "intervals": {}, "labelled_rows": 0, "task": None}
        predictions = pd.Series(joined["prediction"].tolist())
        if joined["value"].notna().all() and (is_regression(predictions) or joined["label"].isna().all()):
            report = regression_report(joined["value"].to_numpy(np.float64), predictions.to_numpy(np.float64),
                                       intervals_wanted=intervals)
            return {**report, "labelled_rows": len(joined), "task": "regression"}
        labelled = joined[joined["label"].notna()]
        versions = labelled["version"].dropna().unique()
        classes = self.classes(model, int(versions[0])) if len(versions) == 1 else None
        has_proba = bool(len(labelled)) and labelled["probabilities"].notna().all()
        matrix = np.asarray(labelled["probabilities"].tolist(), dtype=np.float64) if has_proba else None
        report = classification_report(np.asarray(labelled["label"].tolist()), np.asarray(labelled["prediction"].tolist()),
                                       matrix, classes, intervals_wanted=intervals)
        return {**report, "labelled_rows": len(labelled), "task": "classification"}

    def _timeline(self, model: str, joined: pd.DataFrame, served: Any, start: datetime, end: datetime) -> list[dict[str, Any]]:
        step = (end - start) / TIMELINE_BUCKETS
        out = []
        for index in range(TIMELINE_BUCKETS):
            low, high = start + step * index, start + step * (index + 1)
            part = joined[(joined["at"] > low) & (joined["at"] <= high)] if len(joined) else joined
            served_part = served.meta["at"].between(low, high, inclusive="right") if len(served) else None
            proba = probability_matrix(served.outputs[served_part.to_numpy()]) if served_part is not None else None
            realized = self._realized(model, part, intervals=False)
            out.append({"start": low.isoformat(), "end": high.isoformat(), "labelled_rows": realized["labelled_rows"],
                        "metrics": realized["metrics"], "estimated": estimate(proba).get("accuracy")})
        return out

    # --- health -------------------------------------------------------------------------
    def health(self, model: str, window: str | timedelta = "1h", *, end: datetime | None = None) -> dict[str, Any]:
        """Request rate, error rate and latency percentiles, overall and per version."""
        validate_name(model)
        span = parse_window(window)
        rows = self.log.window(model, span, route=None, ok_only=False, end=end, inputs=False)
        return {"model": model, "window": str(window), **health_summary(rows.meta, span.total_seconds())}


def open_monitoring(settings: Settings | None = None, *, clock: Clock | None = None) -> tuple[Registry, Monitoring]:
    """A registry (migrated) and its monitoring; close the registry when done."""
    registry = Registry.open(settings, clock=clock)
    return registry, Monitoring(registry, clock=clock)


def feedback(items: Iterable[Mapping[str, Any]] | Mapping[str, Any], *, settings: Settings | None = None) -> FeedbackResult:
    """`modelport.feedback`: record ground truth, e.g. `feedback([{"prediction_id": pid, "label": 1}])`.

    A single item may be passed as a mapping. Returns per-item outcomes (accepted, unknown_id,
    duplicate, type_mismatch, invalid); accepted items are committed before this returns.
    """
    batch = [items] if isinstance(items, Mapping) else list(items)
    registry, monitoring = open_monitoring(settings)
    try:
        return monitoring.submit_feedback(batch)
    finally:
        registry.close()
