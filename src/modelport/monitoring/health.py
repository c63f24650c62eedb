"""Service health from the prediction log: request rate, error rate and latency percentiles per version."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd


def health_summary(meta: pd.DataFrame, seconds: float) -> dict[str, Any]:
    """Rate, error rate and p50/p95/p99 latency overall and per version, for rows of one window."""
    overall = _summary(meta, seconds)
    versions = {str(v): _summary(group, seconds) for v, group in meta.groupby("version", dropna=False)} if len(meta) else {}
    return {**overall, "versions": versions}


def _summary(meta: pd.DataFrame, seconds: float) -> dict[str, Any]:
    rows = len(meta)
    errors = int((meta["status"] != "ok").sum()) if rows else 0
    latency = meta["latency_ms"].dropna().to_numpy(dtype=np.float64) if rows else np.empty(0)
    percentiles = np.percentile(latency, [50, 95, 99]).tolist() if latency.size else [None, None, None]
    return {"requests": rows, "errors": errors, "rate_per_second": rows / seconds if seconds > 0 else 0.0,
            "error_rate": errors / rows if rows else 0.0, "latency_ms": dict(zip(("p50", "p95", "p99"), percentiles,
                                                                                 strict=True))}
