"""Reading small tables from CSV, JSON and Parquet files (CLI input examples, `predict --input`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pandas as pd

from modelport.foundation.errors import InvalidInputError

SUPPORTED = ".csv, .json, .jsonl, .parquet"


def read_table(path: Path | str, *, field: str = "input") -> pd.DataFrame:
    """A DataFrame from a CSV, JSON (records, split, columns, `instances`/`inputs`), JSON Lines or Parquet file."""
    path = Path(path)
    if not path.is_file():
        raise InvalidInputError(f"{field}: file {str(path)!r} does not exist", field=field)
    suffix = path.suffix.lower()
    try:
        if suffix == ".csv":
            return pd.read_csv(path)
        if suffix == ".parquet":
            return pd.read_parquet(path)
        if suffix == ".jsonl":
            return pd.read_json(path, lines=True)
        if suffix == ".json":
            return frame_from_json(orjson.loads(path.read_bytes()), field=field)
    except InvalidInputError:
        raise
    except (ValueError, OSError, orjson.JSONDecodeError) as exc:
        raise InvalidInputError(f"{field}: cannot read {path.name}: {exc}", field=field) from exc
    raise InvalidInputError(f"{field}: unsupported file type {suffix or '(none)'!r}; use {SUPPORTED}", field=field)


def frame_from_json(document: Any, *, field: str = "input") -> pd.DataFrame:
    """Accept the JSON shapes people use for tables: records, split, columns, or a wrapper key."""
    if isinstance(document, dict):
        for key in ("dataframe_split", "dataframe_records", "instances", "inputs", "data"):
            if key in document and len(document) == 1:
                return frame_from_json(document[key], field=field)
        if "columns" in document and "data" in document:
            return pd.DataFrame(document["data"], columns=document["columns"])
        if document and all(isinstance(v, list) for v in document.values()):
            return pd.DataFrame(document)
        if document:
            return pd.DataFrame([document])
    if isinstance(document, list) and document and all(isinstance(r, dict) for r in document):
        return pd.DataFrame.from_records(document)
    if isinstance(document, list) and document and all(isinstance(r, list) for r in document):
        return pd.DataFrame(document)
    raise InvalidInputError(
        f"{field}: expected JSON records ([{{...}}]), split ({{'columns': [...], 'data': [...]}}), "
        "columns ({'a': [...]}) or rows ([[...]])",
        field=field,
    )
