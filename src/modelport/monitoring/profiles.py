"""Reference profiles: what drift analysis needs of the reference data, computed once.

A numeric feature keeps a sorted sample of at most 100,000 finite values plus missing, range and
moment statistics; a categorical one keeps its category counts. A joint sample of a few thousand
whole rows is kept too, for the multivariate (domain classifier) check. Profiles serialise to one
`.npz` file without pickles, so loading one never runs code.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import orjson
import pandas as pd

from modelport.foundation.errors import InvalidInputError
from modelport.stats.ecdf import sorted_finite

MAX_SAMPLE = 100_000
JOINT_SAMPLE = 5_000
FORMAT = "modelport.reference-profile/1"


@dataclass(frozen=True)
class NumericProfile:
    """A numeric feature: a sorted sample of finite values and summary statistics of all rows."""

    rows: int
    missing: int
    sample: np.ndarray
    minimum: float
    maximum: float
    mean: float
    std: float
    kind: str = "numeric"

    def meta(self) -> dict[str, Any]:
        return {"kind": self.kind, "rows": self.rows, "missing": self.missing, "minimum": self.minimum,
                "maximum": self.maximum, "mean": self.mean, "std": self.std}


@dataclass(frozen=True)
class CategoricalProfile:
    """A categorical feature: counts per category (as strings) over all rows."""

    rows: int
    missing: int
    counts: dict[str, int]
    kind: str = "categorical"

    def meta(self) -> dict[str, Any]:
        return {"kind": self.kind, "rows": self.rows, "missing": self.missing, "counts": self.counts}


FeatureProfile = NumericProfile | CategoricalProfile


@dataclass(frozen=True)
class ReferenceProfile:
    """Profiles of input features and of model outputs (predicted label, probabilities)."""

    rows: int
    inputs: dict[str, FeatureProfile]
    outputs: dict[str, FeatureProfile] = field(default_factory=dict)
    joint: pd.DataFrame | None = None

    def features(self, role: str) -> dict[str, FeatureProfile]:
        return self.inputs if role == "input" else self.outputs

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready summary (no samples)."""
        return {"rows": self.rows, "inputs": {k: _summary(v) for k, v in self.inputs.items()},
                "outputs": {k: _summary(v) for k, v in self.outputs.items()}}


def _summary(profile: FeatureProfile) -> dict[str, Any]:
    meta = profile.meta()
    if isinstance(profile, NumericProfile):
        meta["sample_size"] = len(profile.sample)
    return meta


def is_categorical(series: pd.Series) -> bool:
    """Strings, booleans and pandas categoricals are categorical; numbers are numeric."""
    return not pd.api.types.is_numeric_dtype(series.dtype) or pd.api.types.is_bool_dtype(series.dtype)


def profile_feature(series: pd.Series, *, categorical: bool | None = None, max_sample: int = MAX_SAMPLE,
                    seed: int = 0) -> FeatureProfile:
    """Profile one column; `categorical=None` decides by dtype."""
    as_category = is_categorical(series) if categorical is None else categorical
    if as_category:
        return _categorical(series)
    return _numeric(series, max_sample, seed)


def _numeric(series: pd.Series, max_sample: int, seed: int) -> NumericProfile:
    values = pd.to_numeric(series, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    finite = values[np.isfinite(values)]
    missing = int(len(values) - len(finite))
    if len(finite) > max_sample:
        finite = np.random.default_rng(seed).choice(finite, max_sample, replace=False)
    sample = sorted_finite(finite)
    if len(sample) == 0:
        return NumericProfile(len(values), missing, sample, np.nan, np.nan, np.nan, np.nan)
    stats = _moments(values)
    return NumericProfile(len(values), missing, sample, *stats)


def _moments(values: np.ndarray) -> tuple[float, float, float, float]:
    finite = values[np.isfinite(values)]
    return float(finite.min()), float(finite.max()), float(finite.mean()), float(finite.std())


def category_counts(series: pd.Series) -> tuple[dict[str, int], int]:
    """Counts per category as strings, and the number of missing values."""
    counts = series.value_counts(dropna=True)
    missing = int(len(series) - counts.sum())
    return {str(k): int(v) for k, v in counts.items()}, missing


def _categorical(series: pd.Series) -> CategoricalProfile:
    counts, missing = category_counts(series)
    return CategoricalProfile(len(series), missing, counts)


def build_profile(
    data: Any,
    *,
    outputs: pd.DataFrame | None = None,
    categorical: set[str] | None = None,
    max_sample: int = MAX_SAMPLE,
    seed: int = 0,
) -> ReferenceProfile:
    """Profile reference `data` (a DataFrame or anything DataFrame() accepts) and optional model outputs."""
    frame = as_frame(data, "reference_data")
    if frame.empty:
        raise InvalidInputError("reference_data has no rows: pass a sample of the training or validation data",
                                field="reference_data")
    chosen = categorical or set()
    inputs = {str(c): profile_feature(frame[c], categorical=True if str(c) in chosen else None,
                                      max_sample=max_sample, seed=seed) for c in frame.columns}
    outs = {} if outputs is None else {str(c): profile_feature(outputs[c], max_sample=max_sample, seed=seed)
                                       for c in outputs.columns}
    joint = frame.sample(min(len(frame), JOINT_SAMPLE), random_state=seed).reset_index(drop=True)
    return ReferenceProfile(len(frame), inputs, outs, joint)


def as_frame(data: Any, field: str) -> pd.DataFrame:
    """`data` as a DataFrame with string column names, or an error naming `field`."""
    if isinstance(data, pd.DataFrame):
        frame = data
    else:
        try:
            frame = pd.DataFrame(data)
        except (ValueError, TypeError) as exc:
            raise InvalidInputError(f"{field}: expected a table (DataFrame, records, columns): {exc}",
                                    field=field) from exc
    frame = frame.copy(deep=False)
    frame.columns = [str(c) for c in frame.columns]
    return frame


# --- serialisation ----------------------------------------------------------------------
def profile_to_bytes(profile: ReferenceProfile) -> bytes:
    """The profile as one `.npz` archive (arrays plus a JSON header, no pickles)."""
    arrays: dict[str, np.ndarray] = {}
    header: dict[str, Any] = {"format": FORMAT, "rows": profile.rows, "inputs": [], "outputs": []}
    for role in ("inputs", "outputs"):
        for index, (name, feature) in enumerate(getattr(profile, role).items()):
            header[role].append({"name": name, **feature.meta()})
            if isinstance(feature, NumericProfile):
                arrays[f"{role}-{index}"] = feature.sample
    header["joint"] = _pack_joint(profile.joint, arrays)
    arrays["header"] = np.frombuffer(orjson.dumps(header, option=orjson.OPT_SERIALIZE_NUMPY), dtype=np.uint8)
    buffer = io.BytesIO()
    np.savez(buffer, allow_pickle=False, **arrays)
    return buffer.getvalue()


def _pack_joint(joint: pd.DataFrame | None, arrays: dict[str, np.ndarray]) -> list[dict[str, Any]]:
    if joint is None:
        return []
    columns = []
    for index, name in enumerate(joint.columns):
        numeric = not is_categorical(joint[name])
        values = joint[name]
        arrays[f"joint-{index}"] = (pd.to_numeric(values, errors="coerce").to_numpy(np.float64, na_value=np.nan)
                                    if numeric else values.astype("string").fillna("").to_numpy(dtype=str))
        columns.append({"name": str(name), "numeric": numeric})
    return columns


def profile_from_bytes(blob: bytes) -> ReferenceProfile:
    """Read a profile written by `profile_to_bytes`."""
    with np.load(io.BytesIO(blob), allow_pickle=False) as archive:
        header = orjson.loads(archive["header"].tobytes())
        if header.get("format") != FORMAT:
            raise InvalidInputError(f"not a reference profile (format {header.get('format')!r})", field="profile")
        roles = {role: {item["name"]: _feature(item, archive, f"{role}-{i}") for i, item in enumerate(header[role])}
                 for role in ("inputs", "outputs")}
        joint = pd.DataFrame({c["name"]: archive[f"joint-{i}"] for i, c in enumerate(header["joint"])})
    return ReferenceProfile(int(header["rows"]), roles["inputs"], roles["outputs"], joint if len(joint.columns) else None)


def _feature(item: dict[str, Any], archive: Any, key: str) -> FeatureProfile:
    if item["kind"] == "categorical":
        return CategoricalProfile(int(item["rows"]), int(item["missing"]), dict(item["counts"]))
    low, high, mean, std = (_number(item[k]) for k in ("minimum", "maximum", "mean", "std"))
    return NumericProfile(int(item["rows"]), int(item["missing"]), archive[key], low, high, mean, std)


def _number(value: Any) -> float:
    # JSON has no NaN: orjson writes null for the statistics of an all-missing column.
    return float("nan") if value is None else float(value)
