"""Prometheus metrics of serving, correct with several worker processes.

prometheus_client is imported when a `ServingMetrics` is built, never at package import:
its multiprocess mode is chosen from PROMETHEUS_MULTIPROC_DIR when the module is first
imported, so a server that forks or spawns workers sets that variable first (see
`modelport.http.server`). Each instance has its own registry: no global state.
"""

from __future__ import annotations

import os
from typing import Any

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512)


class ServingMetrics:
    """Counters, histograms and gauges of one server process."""

    def __init__(self) -> None:
        from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

        self.registry = CollectorRegistry(auto_describe=True)
        mv = ["model", "version"]
        reg: dict[str, Any] = {"registry": self.registry}
        self.requests = Counter("modelport_requests", "Prediction requests by outcome", [*mv, "outcome"], **reg)
        self.rows = Counter("modelport_predicted_rows", "Rows predicted", mv, **reg)
        self.latency = Histogram("modelport_request_latency_seconds", "Time to answer a prediction request",
                                 mv, buckets=LATENCY_BUCKETS, **reg)
        self.batch_rows = Histogram("modelport_batch_rows", "Rows per predict call", mv, buckets=BATCH_BUCKETS, **reg)
        self.queue_depth = Gauge("modelport_queue_depth", "Requests admitted and not yet answered", mv,
                                 multiprocess_mode="livesum", **reg)
        self.load_seconds = Histogram("modelport_model_load_seconds", "Time to load and warm a version", mv,
                                      buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60), **reg)
        self.loaded = Gauge("modelport_loaded_versions", "Versions loaded and warm", mv,
                            multiprocess_mode="livesum", **reg)
        self.load_failures = Counter("modelport_model_load_failures", "Versions that failed to load", mv, **reg)
        self.cache = Counter("modelport_cache_lookups", "Prediction cache lookups", [*mv, "result"], **reg)
        self.http = Counter("modelport_http_requests", "HTTP requests by handler and status", ["handler", "status"], **reg)
        self.http_latency = Histogram("modelport_http_request_latency_seconds", "HTTP time to last byte",
                                      ["handler"], buckets=LATENCY_BUCKETS, **reg)
        self._children: dict[tuple[Any, ...], Any] = {}

    def child(self, metric: Any, *labels: str) -> Any:
        """A labelled child, cached (labels() costs a lock and a dict build per call)."""
        key = (id(metric), *labels)
        found = self._children.get(key)
        if found is None:
            found = self._children[key] = metric.labels(*labels)
        return found

    def render(self) -> tuple[bytes, str]:
        """The exposition text and its content type; summed over all workers in multiprocess mode."""
        from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

        if os.environ.get(MULTIPROC_ENV):
            from prometheus_client import multiprocess

            merged = CollectorRegistry()
            multiprocess.MultiProcessCollector(merged)  # type: ignore[no-untyped-call]
            return generate_latest(merged), CONTENT_TYPE_LATEST
        return generate_latest(self.registry), CONTENT_TYPE_LATEST

    def forget_version(self, model: str, version: str) -> None:
        """Zero a version's loaded gauge when it is unloaded."""
        self.child(self.loaded, model, version).set(0)
        self.child(self.queue_depth, model, version).set(0)
