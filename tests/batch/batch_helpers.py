"""Helpers shared by the batch tests (imported by name: pytest puts this folder on sys.path)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from modelport.foundation.settings import Settings


@dataclass(frozen=True)
class Models:
    """Where the session's registry lives and the models in it."""

    settings: Settings
    iris_x: pd.DataFrame
    iris: Any  # the fitted pipeline registered as `iris`
    regressor: Any  # registered as `diabetes` (no predict_proba)


def iris_rows(x: pd.DataFrame, copies: int) -> pd.DataFrame:
    """Iris repeated `copies` times with a unique string id per row."""
    frame = pd.concat([x] * copies, ignore_index=True)
    frame.insert(0, "customer", [f"c{i:07d}" for i in range(len(frame))])
    return frame


def expected(model: Any, frame: pd.DataFrame, features: list[str]) -> np.ndarray:
    """What the model itself predicts for the frame's rows."""
    return np.asarray(model.predict(frame[features]))


def read_output(path: Path, fmt: str = "parquet") -> pd.DataFrame:
    """All part files of an output folder, in chunk order."""
    parts = sorted(path.glob(f"part-*.{fmt}"))
    frames = [pd.read_parquet(p) if fmt == "parquet" else pd.read_csv(p) for p in parts]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
