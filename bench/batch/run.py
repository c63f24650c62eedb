"""The batch benchmark: rows/s and peak memory of modelport batch vs the floor and `mlflow models predict`.

Run: python -m bench.batch.run            # 10M rows (fast model), 1M rows (heavy model)
     python -m bench.batch.run --quick    # 1M and 100k rows, to try the harness
Writes bench/results/batch.json and the "Batch" section of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
from pathlib import Path
from typing import Any

from bench.batch import data, report
from bench.batch.measure import Measured, run
from bench.common.machine import describe

ROOT = Path(__file__).resolve().parents[2]
WORK = ROOT / "bench" / ".work" / "batch"
CHUNK_ROWS = 100_000
#: model -> rows of its input file
SIZES = {"lr": 10_000_000, "rf": 1_000_000}
QUICK = {"lr": 1_000_000, "rf": 100_000}
#: `mlflow models predict` loads its whole input into memory: it gets at most this many rows (the file's first)
MLFLOW_MAX_ROWS = 1_000_000
#: (label, engine, workers, parallel) of every modelport configuration measured
CONFIGS = [
    ("modelport, 1 worker", "local", 1, "threads"),
    ("modelport, 2 threads", "local", 2, "threads"),
    ("modelport, 2 processes", "local", 2, "processes"),
    ("modelport, Ray, 2 workers", "ray", 2, "threads"),
]


def main(argv: list[str] | None = None) -> None:
    options = _options(argv)
    sizes = QUICK if options.quick else SIZES
    env = {**os.environ, "MODELPORT_HOME": str(WORK / "home"), "PYTHONPATH": str(ROOT)}
    env.pop("MODELPORT_DB_URL", None)
    data.register_models(WORK / "home")
    results: list[dict[str, Any]] = []
    for model, rows in sizes.items():
        seed = 1 if model == "rf" else 0
        inputs = {
            encoding: data.write_parquet(data.parquet_path(WORK, model, rows, encoding), rows, seed, encoding)
            for encoding in data.ENCODINGS
        }
        results += _rounds(model, inputs, env, options)
        if not options.skip_mlflow:
            capped = min(rows, MLFLOW_MAX_ROWS)
            results.append(
                _mlflow(model, data.write_parquet(data.parquet_path(WORK, model, capped), capped, seed), env)
            )
        _print(results[-1])
    stages = {
        encoding: _stages(data.parquet_path(WORK, "lr", sizes["lr"], encoding), env) for encoding in data.ENCODINGS
    }
    document = {
        "machine": describe(),
        "chunk_rows": CHUNK_ROWS,
        "quick": options.quick,
        "rounds": options.rounds,
        "results": results,
        "stages": stages,
        "load_average": os.getloadavg(),
    }
    out = ROOT / "bench" / "results" / "batch.json"
    out.write_text(json.dumps(document, indent=2) + "\n")
    report.write_section(ROOT / "docs" / "benchmarks.md", document)
    print(f"wrote {out} and the Batch section of docs/benchmarks.md")


def _rounds(
    model: str, inputs: dict[str, Path], env: dict[str, str], options: argparse.Namespace
) -> list[dict[str, Any]]:
    """The floor and every configuration on every encoding, one after another, `rounds` times; the medians."""
    runs: dict[str, list[dict[str, Any]]] = {}
    for _ in range(options.rounds):
        floor = _floor(model, inputs["dictionary"], env)  # the same values in memory, whatever the encoding
        runs.setdefault(floor["system"], []).append(floor)
        _print(floor)
        for label, engine, workers, parallel in CONFIGS:
            if options.only and options.only not in label:
                continue
            for encoding, parquet in inputs.items():
                done = _modelport(f"{label}, {encoding}", model, parquet, env, engine, workers, parallel)
                runs.setdefault(done["system"], []).append(done)
                _print(done)
    return [_median(same) for same in runs.values()]


def _median(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The run of median speed, with every round's rows/s and the highest peak memory of all rounds."""
    ok = sorted((r for r in runs if r["ok"]), key=lambda r: r["rows_per_second"])
    middle = dict(ok[(len(ok) - 1) // 2] if ok else runs[0])
    middle["rounds_rows_per_second"] = [r["rows_per_second"] for r in runs]
    middle["peak_rss_mib"] = max(r["peak_rss_mib"] for r in runs)
    middle["peak_pss_mib"] = max(r.get("peak_pss_mib", 0) for r in runs)
    return middle


def _options(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="1M/100k rows instead of 10M/1M")
    parser.add_argument("--skip-mlflow", action="store_true")
    parser.add_argument("--only", default="", help="run only modelport configurations whose label contains this")
    parser.add_argument("--rounds", type=int, help="run everything this many times, alternating (3; --quick: 1)")
    options = parser.parse_args(argv)
    options.rounds = options.rounds or (1 if options.quick else 3)
    return options


def _row(system: str, model: str, rows: int, measured: Measured, job_seconds: float | None) -> dict[str, Any]:
    seconds = job_seconds if job_seconds is not None else measured.seconds
    return {
        "system": system,
        "model": model,
        "rows": rows,
        "ok": measured.returncode == 0,
        "seconds": round(seconds, 2),
        "wall_seconds": round(measured.seconds, 2),
        "rows_per_second": round(rows / seconds) if measured.returncode == 0 and seconds > 0 else 0,
        "peak_rss_mib": round(measured.peak_rss_mib),
        "peak_pss_mib": round(measured.peak_pss_mib),
    }


def _floor(model: str, parquet: Path, env: dict[str, str]) -> dict[str, Any]:
    command = [sys.executable, "-m", "bench.batch.jobs", "floor", model, str(parquet), str(CHUNK_ROWS)]
    measured = run(command, env=env, log=WORK / "logs" / f"floor-{model}.log")
    done = json.loads(measured.stdout.splitlines()[-1]) if measured.returncode == 0 else {"rows": 0, "seconds": 0}
    return _row("floor: the model's predict on in-memory arrays", model, int(done["rows"]), measured, done["seconds"])


def _modelport(
    label: str, model: str, parquet: Path, env: dict[str, str], engine: str, workers: int, parallel: str
) -> dict[str, Any]:
    name = f"{model}-{engine}-{workers}-{parallel}-{parquet.stem}"
    output = WORK / "out" / name
    shutil.rmtree(output, ignore_errors=True)
    command = [
        sys.executable,
        "-m",
        "bench.batch.jobs",
        "modelport",
        f"bench-{model}",
        str(parquet),
        str(output),
        str(CHUNK_ROWS),
        engine,
        str(workers),
        parallel,
    ]
    measured = run(command, env=env, log=WORK / "logs" / f"{name}.log")
    done = json.loads(measured.stdout.splitlines()[-1]) if measured.returncode == 0 else {"rows": 0, "seconds": 0}
    shutil.rmtree(output, ignore_errors=True)
    return _row(label, model, int(done["rows"]), measured, done["seconds"])


def _stages(parquet: Path, env: dict[str, str]) -> dict[str, Any]:
    """CPU ms per chunk of the fast model's floor and of each stage of the job (bench/batch/stages.py)."""
    command = [sys.executable, "-m", "bench.batch.stages", "bench-lr", str(parquet), str(CHUNK_ROWS), "20"]
    measured = run(command, env=env, log=WORK / "logs" / "stages.log")
    return json.loads(measured.stdout.splitlines()[-1]) if measured.returncode == 0 else {}


def _mlflow(model: str, parquet: Path, env: dict[str, str]) -> dict[str, Any]:
    """`mlflow models predict` reads CSV or JSON only: it is given the same rows as CSV."""
    from bench.common.models import save_all
    from bench.incumbents.envs import ensure

    mlflow = ensure("mlflow", log=WORK / "logs" / "mlflow-env.log")
    rows = int(parquet.stem.rsplit("-", 1)[1])
    if mlflow.python is None:
        return {"system": "mlflow models predict", "model": model, "rows": rows, "ok": False, "error": mlflow.error}
    saved = save_all(WORK / "joblib")[model]
    folder = WORK / f"mlflow-{model}"
    if not folder.exists():
        import numpy as np

        np.save(WORK / "rows.npy", saved.rows)
        helper = ROOT / "bench" / "incumbents" / "mlflow_save.py"
        run(
            [str(mlflow.python), str(helper), str(saved.path), str(WORK / "rows.npy"), str(folder)],
            env=env,
            log=WORK / "logs" / "mlflow-save.log",
        )
    csv = data.write_csv(parquet, parquet.with_suffix(".csv"))
    out = WORK / f"mlflow-{model}-predictions.json"
    command = [
        mlflow.bin("mlflow"),
        "models",
        "predict",
        "-m",
        str(folder),
        "-i",
        str(csv),
        "-t",
        "csv",
        "-o",
        str(out),
        "--env-manager",
        "local",
    ]
    measured = run(command, env=env, log=WORK / "logs" / f"mlflow-predict-{model}.log")
    out.unlink(missing_ok=True)
    return _row("mlflow models predict (CSV)", model, rows, measured, None)


def _print(result: dict[str, Any]) -> None:
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
