"""Memory stays bounded by the chunk size, however long the input.

The issue's 2 GB run lives in bench/batch (it does not fit CI's budget on 2 cores).
Here a subprocess scores 1.2 million rows of 30 columns (275 MiB of values) in
chunks of 20,000 rows and records its RSS after every committed chunk: once the
pipeline is full, RSS must stay flat. Memory that grew with the data read would
add about 4.5 MiB per chunk, some 130 MiB over the second half of the job.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from modelport.registry.service import Registry

from .batch_helpers import Models

ROWS = 1_200_000
JOB = """
import os, sys
from modelport.batch import batch_score

class RssProgress:
    def __init__(self):
        self.samples = []
    def advance(self, rows, rejected):
        with open("/proc/self/statm") as statm:
            self.samples.append(int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") // 2**20)
    def close(self):
        print(" ".join(map(str, self.samples)))

batch_score("cancer-lr", input=sys.argv[1], output=sys.argv[2], chunk_rows=20_000, progress=RssProgress())
"""


def _write_rows(path: Path, columns: list[str], rows: int) -> None:
    rng = np.random.default_rng(0)
    with pq.ParquetWriter(path, pa.schema([(c, pa.float64()) for c in columns])) as writer:
        for start in range(0, rows, 100_000):
            block = rng.normal(size=(min(100_000, rows - start), len(columns)))
            writer.write_table(pa.Table.from_pandas(pd.DataFrame(block, columns=columns)), row_group_size=20_000)


@pytest.mark.slow
def test_rss_stays_flat_while_a_long_input_streams_through(models: Models, tmp_path: Path, cancer: Any) -> None:
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    x, y = cancer
    registry = Registry.open(models.settings)
    try:
        model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)).fit(x, y)
        registry.register(model, name="cancer-lr", input_example=x.head(5))
    finally:
        registry.close()
    _write_rows(tmp_path / "in.parquet", [str(c) for c in x.columns], ROWS)
    env = {**os.environ, "MODELPORT_HOME": str(models.settings.home)}
    env.pop("MODELPORT_DB_URL", None)
    done = subprocess.run(
        [sys.executable, "-c", JOB, str(tmp_path / "in.parquet"), str(tmp_path / "out")],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    rss = [int(v) for v in done.stdout.split()]
    assert len(rss) == ROWS // 20_000
    half = len(rss) // 2
    first, second = max(rss[5:half]), max(rss[half:])
    assert second - first < 40, f"RSS kept growing: {first} MiB by mid-job, {second} MiB at the end ({rss})"
