"""Benchmark inputs: breast-cancer-like rows (30 float64 columns) in Parquet, and the models registered.

Rows are real breast-cancer rows with 5 % Gaussian noise, so predictions vary as
on real data; Parquet row groups of 100,000 rows, as a warehouse export has.

Each input is written in two encodings, since the one its writer picks for
high-cardinality float columns costs the reader twice the CPU:
- "dictionary": pyarrow's default, so pandas' `to_parquet` too. A 100,000-row group
  of unique float64 values (800 KB) fits under the 1 MB dictionary page limit, so
  every float column is fully dictionary-encoded, to no gain in size.
- "plain": what Spark (parquet-mr falls back to PLAIN when a column's first page
  does not shrink with its dictionary), DuckDB and Polars write for such columns
  (DuckDB 2.0 and Polars 2.1 checked by hand on 100,000 unique float64 values).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

COLUMNS = [f"f{i:02d}" for i in range(30)]
ROW_GROUP = 100_000
#: encoding -> the file name's suffix
ENCODINGS = {"dictionary": "", "plain": "-plain"}


def rows(count: int, seed: int, start: int = 0) -> np.ndarray:
    """`count` noisy breast-cancer rows, reproducible from `seed` and `start`."""
    from sklearn.datasets import load_breast_cancer

    x, _ = load_breast_cancer(return_X_y=True)
    rng = np.random.default_rng([seed, start])
    picked = x[rng.integers(0, len(x), size=count)]
    return picked + rng.normal(size=picked.shape) * x.std(axis=0) * 0.05


def parquet_path(folder: Path, model: str, count: int, encoding: str = "dictionary") -> Path:
    """Where the input of `count` rows for `model` in `encoding` lives."""
    return folder / f"{model}-{count}{ENCODINGS[encoding]}.parquet"


def write_parquet(path: Path, count: int, seed: int = 0, encoding: str = "dictionary") -> Path:
    """Write `count` rows to `path` in blocks (memory stays small however many rows), unless it exists."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    if path.exists() and pq.ParquetFile(path).metadata.num_rows == count:
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_suffix(".partial")
    schema = pa.schema([(c, pa.float64()) for c in COLUMNS])
    with pq.ParquetWriter(temp, schema, use_dictionary=encoding == "dictionary") as writer:
        for start in range(0, count, 500_000):
            block = rows(min(500_000, count - start), seed, start)
            table = pa.Table.from_arrays([pa.array(block[:, i]) for i in range(len(COLUMNS))], schema=schema)
            writer.write_table(table, row_group_size=ROW_GROUP)
    temp.rename(path)
    return path


def write_csv(parquet: Path, path: Path) -> Path:
    """The same rows as CSV (what `mlflow models predict` reads), unless it exists."""
    import pyarrow.csv as pcsv
    import pyarrow.parquet as pq

    if not path.exists():
        with pcsv.CSVWriter(path.with_suffix(".partial"), pq.ParquetFile(parquet).schema_arrow) as writer:
            for batch in pq.ParquetFile(parquet, pre_buffer=False).iter_batches(batch_size=ROW_GROUP):
                writer.write_batch(batch)
        path.with_suffix(".partial").rename(path)
    return path


def register_models(home: Path) -> dict[str, object]:
    """Train the fast (lr) and heavy (rf) models of bench/common and register them as `bench-lr`, `bench-rf`."""
    import pandas as pd

    from bench.common.models import MODELS, build
    from modelport.foundation.errors import NotFoundError
    from modelport.foundation.settings import Settings
    from modelport.registry.service import Registry

    registry = Registry.open(Settings.at(home))
    fitted = {}
    try:
        example = pd.DataFrame(rows(5, seed=99), columns=COLUMNS)
        for name in MODELS:
            fitted[name] = build(name)
            try:
                registry.resolve(f"bench-{name}")
            except NotFoundError:
                registry.register(fitted[name], name=f"bench-{name}", input_example=example)
    finally:
        registry.close()
    return fitted
