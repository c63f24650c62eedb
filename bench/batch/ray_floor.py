"""What a local Ray holds before any row is scored: the memory floor under the Ray engine's peak.

Starts Ray as `bench.batch.jobs` does for the Ray engine (2 CPUs, no dashboard), then, step by step:
Ray alone; 2 idle actors; 2 actors that import what a batch worker imports (numpy, pandas, pyarrow,
scikit-learn); the driver's own imports. After each step it waits until the tree's memory stops growing and prints the summed RSS and
PSS of the driver and every process under it (bench/batch/measure.py). No model, no input, no output.

Usage: .venv/bin/python -m bench.batch.ray_floor   (needs the `ray` extra)
"""

from __future__ import annotations

import importlib
import json
import os
import time

import psutil

from bench.batch.measure import _tree, _tree_memory


def settled(root: psutil.Process, polls: int = 6) -> tuple[int, int]:
    """The tree's summed RSS and PSS once `polls` samples in a row no longer grow (Ray starts its agents late)."""
    best, calm = (0, 0), 0
    while calm < polls:
        now = _tree_memory(root)
        calm = calm + 1 if now[1] <= best[1] * 1.01 else 0
        best = max(best, now)
        time.sleep(0.5)  # a sampling period: Ray's daemons report nothing when they are done starting
    return best


def main() -> None:
    import ray

    root = psutil.Process(os.getpid())
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)

    @ray.remote(num_cpus=1)
    class Idle:
        def ready(self) -> bool:
            return True

    @ray.remote(num_cpus=1)
    class Worker:
        def ready(self) -> bool:
            import numpy  # noqa: F401
            import pandas  # noqa: F401
            import pyarrow.parquet  # noqa: F401
            import sklearn.linear_model  # noqa: F401

            return True

    report("Ray alone (driver, GCS, raylet, agents)", root)
    idle = [Idle.remote() for _ in range(2)]
    ray.get([a.ready.remote() for a in idle])
    report("+ 2 idle actors", root)
    for actor in idle:
        ray.kill(actor)
    busy = [Worker.remote() for _ in range(2)]
    ray.get([a.ready.remote() for a in busy])
    report("+ 2 actors with numpy, pandas, pyarrow, scikit-learn imported (idle ones killed)", root)
    for module in ("modelport.batch.job", "sklearn.linear_model"):  # what the driver of a job imports too
        importlib.import_module(module)
    report("+ the driver's own imports (modelport's batch job, scikit-learn)", root)
    ray.shutdown()


def report(label: str, root: psutil.Process) -> None:
    """One JSON line: the step, and the tree's settled summed RSS and PSS."""
    rss, pss = settled(root)
    print(json.dumps({"step": label, "rss_mib": round(rss / 2**20), "pss_mib": round(pss / 2**20),
                      "processes": len(_tree(root.pid))}), flush=True)


if __name__ == "__main__":
    main()
