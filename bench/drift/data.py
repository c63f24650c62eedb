"""The benchmark data: 25 features (20 numeric, 5 categorical), reference and a partly shifted current sample.

Written once to Parquet under bench/.work/drift so that modelport and Evidently (in its own virtualenv)
read exactly the same rows.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

WORK = Path(__file__).resolve().parents[1] / ".work" / "drift"
REFERENCE_ROWS = 100_000
CATEGORIES = [f"cat{i}" for i in range(12)]


def make(rows: int, *, seed: int, shifted: bool) -> pd.DataFrame:
    """Numeric features x0..x19 (x0..x2 shifted by 0.4 sd in the current data), categoricals c0..c4 (c0 reweighted)."""
    rng = np.random.default_rng(seed)
    data: dict[str, object] = {}
    for i in range(20):
        scale = 1.0 + 0.1 * i
        data[f"x{i}"] = rng.normal(0.4 * scale if shifted and i < 3 else 0.0, scale, rows)
    for j in range(5):
        weights = np.linspace(1, 3, len(CATEGORIES)) if shifted and j == 0 else np.ones(len(CATEGORIES))
        data[f"c{j}"] = rng.choice(CATEGORIES, rows, p=weights / weights.sum())
    return pd.DataFrame(data)


def paths(rows: int) -> tuple[Path, Path]:
    """Where the reference and the current sample of `rows` rows live (made on first use)."""
    WORK.mkdir(parents=True, exist_ok=True)
    reference, current = WORK / "reference.parquet", WORK / f"current-{rows}.parquet"
    if not reference.exists():
        make(REFERENCE_ROWS, seed=1, shifted=False).to_parquet(reference)
    if not current.exists():
        make(rows, seed=2, shifted=True).to_parquet(current)
    return reference, current


if __name__ == "__main__":
    for size in map(int, sys.argv[1:] or ["100000", "1000000"]):
        print(paths(size))
