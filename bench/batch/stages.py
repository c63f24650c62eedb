"""Where a batch job's time goes: CPU ms per chunk for each stage, run one after another on one thread.

Usage: python -m bench.batch.stages REF PARQUET CHUNK_ROWS [MAX_CHUNKS]
Prints one JSON line: CPU ms per chunk (process CPU time, so Arrow's or BLAS's helper threads count) for the
floor (the model's own predict on the same rows in memory) and for each stage of modelport's job, with the
same functions the job calls. CPU time, unlike wall time, barely moves when neighbours load the machine.
"""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

STAGES = ("read Parquet", "to a frame (NaN check)", "validate", "predict", "output rows", "write + commit")


def measure(ref: str, parquet: str, chunk_rows: int, max_chunks: int) -> dict[str, Any]:
    """CPU ms per chunk of the floor and of each stage, over the file's first `max_chunks` chunks."""
    import numpy as np
    import pyarrow.parquet as pq

    from modelport.batch.local import arrow_pool_that_keeps_pages, single_threaded_natives
    from modelport.batch.scoring import _split, _validated, plan_layout
    from modelport.batch.sinks import FileSink
    from modelport.batch.sources import arrow_frame
    from modelport.foundation.settings import Settings
    from modelport.registry.service import Registry

    registry = Registry.open(Settings.from_env())
    model = registry.load(ref)
    registry.close()
    handle = pq.ParquetFile(parquet, memory_map=True, pre_buffer=False)  # as the job reads a local split
    layout = plan_layout(model, handle.schema_arrow.names, None, None, False)
    spent = dict.fromkeys(("floor: the model's predict", *STAGES), 0.0)
    folder = tempfile.mkdtemp(prefix="modelport-stages-")
    sink = FileSink(folder, "parquet")
    batches = handle.iter_batches(batch_size=chunk_rows, columns=layout.read_columns, use_threads=False)
    # The floor first, as bench.batch.jobs.floor measures it: every row in memory, predict chunk by chunk.
    whole = pq.read_table(parquet, columns=list(layout.features)).slice(0, max_chunks * chunk_rows)
    rows = np.column_stack([c.to_numpy() for c in whole.columns])
    for offset in range(0, len(rows), chunk_rows):
        with _stage(spent, "floor: the model's predict"):
            model.predictor.model.predict(rows[offset : offset + chunk_rows])
    del whole, rows
    chunks = 0
    # As the job on 2 workers runs them: BLAS held to one thread (batch/local.py, single_threaded_natives).
    natives = single_threaded_natives(True)
    natives.__enter__()
    pool = arrow_pool_that_keeps_pages()  # as the job runs
    pool.__enter__()
    try:
        for index in range(max_chunks):
            with _stage(spent, "read Parquet"):
                batch = next(batches, None)
            if batch is None:
                break
            with _stage(spent, "to a frame (NaN check)"):
                frame = arrow_frame(batch)
            with _stage(spent, "validate"):
                data, _kept, rejected = _validated(model, frame[list(layout.features)])
            with _stage(spent, "predict"):
                predictions = model.predict(data, validated=True)
            with _stage(spent, "output rows"):
                place = (index, index * chunk_rows)
                scored = _split({"prediction": predictions}, rejected, len(frame), layout, place, model.version)
            with _stage(spent, "write + commit"):
                sink.commit(scored)
            chunks += 1
    finally:
        pool.__exit__(None, None, None)
        natives.__exit__(None, None, None)
        shutil.rmtree(folder, ignore_errors=True)
    return {
        "chunks": chunks,
        "chunk_rows": chunk_rows,
        "cpu_ms_per_chunk": {k: round(1000 * v / max(chunks, 1), 2) for k, v in spent.items()},
        "system_ms_per_chunk": {k: round(1000 * v / max(chunks, 1), 2) for k, v in SYSTEM.items()},
        "page_faults_per_chunk": {k: round(v / max(chunks, 1)) for k, v in FAULTS.items()},
    }


@contextmanager
def _stage(spent: dict[str, float], name: str) -> Iterator[None]:
    import resource

    start, before = time.process_time(), resource.getrusage(resource.RUSAGE_SELF)
    yield
    after = resource.getrusage(resource.RUSAGE_SELF)
    spent[name] += time.process_time() - start
    SYSTEM[name] = SYSTEM.get(name, 0.0) + after.ru_stime - before.ru_stime
    FAULTS[name] = FAULTS.get(name, 0) + after.ru_minflt - before.ru_minflt


#: system CPU seconds and minor page faults of each stage (the kernel zeroing fresh pages shows here)
SYSTEM: dict[str, float] = {}
FAULTS: dict[str, int] = {}


if __name__ == "__main__":
    ref, parquet, chunk_rows, *rest = sys.argv[1:]
    print(json.dumps(measure(ref, parquet, int(chunk_rows), int(rest[0]) if rest else 20)))
