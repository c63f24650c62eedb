"""Batch scoring: files and databases scored by a registered version, streamed, resumable, on Ray if asked.

`batch_score` is the one entry point; the CLI's `modelport batch` calls it.
"""

from __future__ import annotations

from modelport.batch.job import BatchSummary, batch_score

__all__ = ["BatchSummary", "batch_score"]
