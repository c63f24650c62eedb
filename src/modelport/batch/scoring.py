"""Score one chunk: validate with the shared function, predict, and lay out the output and reject rows."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from modelport.batch.sources import Chunk
from modelport.batch.spec import ChunkStats, ScoredChunk
from modelport.foundation.errors import InvalidInputError
from modelport.registry.loaded import LoadedModel
from modelport.signatures.validate import validate

#: The column of `score_rows`'s result that holds why a row was rejected (None when scored).
REASON = "__reason"


@dataclass(frozen=True)
class Layout:
    """Which input columns feed the model and how the output rows are named."""

    features: tuple[str, ...]
    id_column: str | None = None
    with_proba: bool = False

    @property
    def key(self) -> str:
        return self.id_column or "row"

    @property
    def read_columns(self) -> list[str]:
        extra = [self.id_column] if self.id_column and self.id_column not in self.features else []
        return [*self.features, *extra]


def plan_layout(model: LoadedModel, available: Sequence[str], columns: Sequence[str] | None,
                id_column: str | None, with_proba: bool) -> Layout:
    """Check the input's columns against the model before any row is scored."""
    from modelport.foundation.errors import ValidationError

    signature = model.signature
    if columns:
        features = tuple(columns)
    elif signature is not None and signature.is_tabular:
        features = tuple(signature.column_names)
    else:
        raise InvalidInputError(
            f"model {model.record.ref} has no column signature: name the input columns to feed it with --columns",
            field="columns",
        )
    for name in features:
        if name not in available:
            raise ValidationError(name, f"missing column in the input (it has: {', '.join(available)})")
    if id_column is not None and id_column not in available:
        raise InvalidInputError(f"--id-column {id_column!r} is not a column of the input "
                                f"(it has: {', '.join(available)})", field="id_column")
    if with_proba and not model.classes:
        raise InvalidInputError(f"model {model.record.ref} gives no class probabilities: drop --with-proba",
                                field="with_proba")
    return Layout(features, id_column, with_proba)


def score_chunk(model: LoadedModel, layout: Layout, chunk: Chunk) -> ScoredChunk:
    """Validate the chunk (bad rows set aside with their reason), predict the rest, and shape the output."""
    return split_chunk(score_rows(model, layout, chunk.frame), layout, chunk.index, chunk.start, model.version)


def score_rows(model: LoadedModel, layout: Layout, frame: pd.DataFrame) -> pd.DataFrame:
    """One row out per row in: the id, the prediction columns, and REASON (None, or why the row was rejected).

    Rejected rows carry placeholder predictions; `split_chunk` drops them. Keeping
    every row lets an engine that cannot see row positions (Ray) score batches of
    any size and leave the numbering and splitting to whoever cuts the chunks.
    """
    data, kept, rejected = _validated(model, frame[list(layout.features)])
    size = len(frame)
    columns: dict[str, Any] = {layout.id_column: frame[layout.id_column].to_numpy()} if layout.id_column else {}
    if len(kept):
        columns.update(_spread(_prediction_columns(model.predict(data, validated=True)), kept, size))
        if layout.with_proba:
            columns.update(_spread(_proba_columns(model, model.predict_proba(data, validated=True)), kept, size))
    reasons = np.full(size, None, dtype=object)
    if rejected:
        reasons[list(rejected)] = list(rejected.values())
    columns[REASON] = reasons
    return pd.DataFrame(columns)


def split_chunk(rows: pd.DataFrame, layout: Layout, index: int, start: int, version: int) -> ScoredChunk:
    """Number a chunk's scored rows from `start` and split them into output rows and rejects."""
    size = len(rows)
    keys = rows[layout.id_column].to_numpy() if layout.id_column else np.arange(start, start + size, dtype=np.int64)
    reasons = rows[REASON].to_numpy()
    bad = pd.notna(reasons)
    values = [c for c in rows.columns if c not in (REASON, layout.id_column)]
    if bad.any():
        good = ~bad
        output = pd.DataFrame({layout.key: keys[good], **{c: rows[c].to_numpy()[good] for c in values}})
    else:
        output = pd.DataFrame({layout.key: keys, **{c: rows[c].to_numpy() for c in values}})
    output["model_version"] = np.full(len(output), version, dtype=np.int64)
    rejects = pd.DataFrame({layout.key: keys[bad], "reason": reasons[bad].astype(str),
                            "model_version": np.full(int(bad.sum()), version, dtype=np.int64)})
    return ScoredChunk(ChunkStats(index, size, len(output), len(rejects)), output, rejects)


def _spread(columns: dict[str, np.ndarray], kept: np.ndarray, size: int) -> dict[str, np.ndarray]:
    if len(kept) == size:
        return columns
    spread = {}
    for name, values in columns.items():
        full = np.zeros(size, dtype=values.dtype) if values.dtype != object else np.full(size, None, dtype=object)
        full[kept] = values
        spread[name] = full
    return spread


def _validated(model: LoadedModel, inputs: pd.DataFrame) -> tuple[Any, np.ndarray, dict[int, str]]:
    signature = model.signature
    if signature is None:
        return inputs, np.arange(len(inputs)), {}
    result = validate(signature, inputs if signature.is_tabular else inputs.to_numpy(), collect=True)
    kept = result.positions if result.positions is not None else np.arange(len(inputs))
    return result.data, kept, dict(sorted(result.rejected.items()))


def _prediction_columns(predictions: np.ndarray) -> dict[str, Any]:
    if predictions.ndim == 1:
        return {"prediction": predictions}
    flat = predictions.reshape(len(predictions), -1)
    return {f"prediction_{i}": flat[:, i] for i in range(flat.shape[1])}


def _proba_columns(model: LoadedModel, proba: np.ndarray | None) -> dict[str, Any]:
    if proba is None or not model.classes:
        return {}
    return {f"proba_{label}": proba[:, i] for i, label in enumerate(model.classes)}
