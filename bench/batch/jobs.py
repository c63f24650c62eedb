"""The measured programs, each run in its own process: the floor, and modelport's batch job.

Usage: python -m bench.batch.jobs floor MODEL PARQUET CHUNK_ROWS
       python -m bench.batch.jobs modelport REF PARQUET OUTPUT CHUNK_ROWS ENGINE WORKERS PARALLEL
Each prints one JSON line: rows and the seconds of the measured part.
"""

from __future__ import annotations

import json
import sys
import time


def floor(model_name: str, parquet: str, chunk_rows: int) -> dict[str, float]:
    """The model's own predict over the file's rows already in memory, chunk by chunk (reading not timed)."""
    import numpy as np
    import pyarrow.parquet as pq

    from bench.common.models import build

    model = build(model_name)
    table = pq.read_table(parquet)
    x = np.column_stack([table.column(i).to_numpy() for i in range(table.num_columns)])
    del table
    start = time.perf_counter()
    for offset in range(0, len(x), chunk_rows):
        model.predict(x[offset : offset + chunk_rows])
    return {"rows": len(x), "seconds": time.perf_counter() - start}


def modelport(
    ref: str, parquet: str, output: str, chunk_rows: int, engine: str, workers: int, parallel: str
) -> dict[str, float]:
    """`batch_score` end to end: read, validate, predict, write, commit."""
    from modelport.batch import batch_score

    kwargs = {"num_cpus": workers} if engine == "ray" else {}
    if engine == "ray":
        import ray

        ray.init(include_dashboard=False, log_to_driver=False, **kwargs)
    summary = batch_score(
        ref,
        input=parquet,
        output=output,
        chunk_rows=chunk_rows,
        engine=engine,
        workers=workers,
        parallel=parallel,
        progress=False,
    )
    return {"rows": summary.rows_scored, "seconds": summary.seconds}


if __name__ == "__main__":
    kind, *args = sys.argv[1:]
    if kind == "floor":
        result = floor(args[0], args[1], int(args[2]))
    else:
        result = modelport(args[0], args[1], args[2], int(args[3]), args[4], int(args[5]), args[6])
    print(json.dumps(result))
