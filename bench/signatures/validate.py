"""How long the one validation function takes on a typed batch: exact dtypes vs. a column to coerce.

Run: .venv/bin/python -m bench.signatures.validate
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd

from modelport.signatures import infer_signature, validate

ROWS, COLUMNS, REPEATS = 100_000, 30, 10


def _ms_per_call(signature: object, frame: pd.DataFrame) -> float:
    start = time.perf_counter()
    for _ in range(REPEATS):
        validate(signature, frame)  # type: ignore[arg-type]
    return (time.perf_counter() - start) * 1000 / REPEATS


def main() -> None:
    frame = pd.DataFrame(np.random.default_rng(0).random((ROWS, COLUMNS)), columns=[f"c{i}" for i in range(COLUMNS)])
    signature = infer_signature(frame.head())
    exact = _ms_per_call(signature, frame)
    coerced = _ms_per_call(signature, frame.astype({"c0": "float32"}))
    print(f"validate {ROWS:,} x {COLUMNS}: exact dtypes {exact:.1f} ms, one float32 column to coerce {coerced:.1f} ms")


if __name__ == "__main__":
    main()
