"""A job killed with SIGKILL mid-way and resumed: every input row is in the output exactly once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

from modelport.batch import batch_score

from .batch_helpers import Models, expected, iris_rows

FEATURES = ["sepal length (cm)", "sepal width (cm)", "petal length (cm)", "petal width (cm)"]
CHUNK_ROWS = 300
JOB = """
import sys
from modelport.batch import batch_score
batch_score("iris", input=sys.argv[1], output=sys.argv[2], chunk_rows={chunk_rows}, workers=2, progress=False)
"""


def _committed(output: str) -> int:
    """Chunks committed so far, read from the job's own journal."""
    if output.startswith("sqlite"):
        engine = sa.create_engine(output)
        try:
            with engine.connect() as conn:
                if not sa.inspect(conn).has_table("modelport_batch_chunks"):
                    return 0
                return int(conn.execute(sa.text("SELECT COUNT(*) FROM modelport_batch_chunks")).scalar_one())
        finally:
            engine.dispose()
    journal = Path(output) / "_journal"
    return len(list(journal.glob("chunk-*.json"))) if journal.exists() else 0


def _kill_after_commits(input_path: str, output: str, models: Models, commits: int) -> int:
    env = {**os.environ, "MODELPORT_HOME": str(models.settings.home)}
    env.pop("MODELPORT_DB_URL", None)
    process = subprocess.Popen([sys.executable, "-c", JOB.format(chunk_rows=CHUNK_ROWS), input_path, output], env=env)
    deadline = time.monotonic() + 180
    try:
        while _committed(output) < commits:
            assert process.poll() is None, f"the job ended (code {process.returncode}) before it could be killed"
            assert time.monotonic() < deadline, "no chunk was committed within 180 s"
            time.sleep(0.01)  # polling the journal: the condition waited on is a commit, not a time
        process.send_signal(signal.SIGKILL)
    finally:
        process.wait(timeout=60)
    return _committed(output)


def _output_rows(output: str) -> pd.DataFrame:
    if output.startswith("sqlite"):
        engine = sa.create_engine(output)
        try:
            with engine.connect() as conn:
                return pd.read_sql(sa.text("SELECT * FROM predictions"), conn).sort_values("row", ignore_index=True)
        finally:
            engine.dispose()
    return pd.read_parquet(output).sort_values("row", ignore_index=True)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("kind", "row_group"),
    [("folder", 5_000), ("sqlite-table", 5_000), ("folder", 2 * CHUNK_ROWS)],  # the last: workers read splits
)
def test_resume_after_kill_9_loses_no_row_and_writes_none_twice(
    models: Models, tmp_path: Path, kind: str, row_group: int
) -> None:
    frame = iris_rows(models.iris_x, 200)  # 30,000 rows, 100 chunks
    frame.to_parquet(tmp_path / "in.parquet", row_group_size=row_group)
    output = f"sqlite:///{tmp_path / 'out.db'}" if kind == "sqlite-table" else str(tmp_path / "out")
    committed = _kill_after_commits(str(tmp_path / "in.parquet"), output, models, commits=5)
    assert 5 <= committed < 100, "the kill must land mid-job"

    summary = batch_score(
        "iris",
        input=str(tmp_path / "in.parquet"),
        output=output,
        chunk_rows=CHUNK_ROWS,
        resume=True,
        settings=models.settings,
        progress=False,
    )
    assert summary.chunks_resumed == committed and summary.chunks == 100
    out = _output_rows(output)
    assert out["row"].tolist() == list(range(len(frame)))  # each row once: none lost, none twice
    np.testing.assert_array_equal(out["prediction"], expected(models.iris, frame, FEATURES))
    assert summary.rows_scored == len(frame) and summary.rows_this_run == len(frame) - committed * CHUNK_ROWS


def test_resume_sweeps_half_written_files_a_killed_run_left(models: Models, tmp_path: Path) -> None:
    iris_rows(models.iris_x, 1).to_parquet(tmp_path / "in.parquet")
    options = {
        "input": str(tmp_path / "in.parquet"),
        "output": str(tmp_path / "out"),
        "settings": models.settings,
        "progress": False,
    }
    batch_score("iris", **options)
    leftover = tmp_path / "out" / ".part-000007.parquet.tmp-123-456"
    leftover.write_bytes(b"half")
    batch_score("iris", resume=True, **options)
    assert not leftover.exists()
