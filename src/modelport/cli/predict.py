"""`modelport predict`: score a file in-process, without a server."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import typer

from modelport.cli.context import open_registry
from modelport.cli.output import print_json
from modelport.foundation.errors import InvalidInputError


def predict(
    ref: str = typer.Argument(..., help="NAME, NAME@ALIAS or NAME:VERSION."),
    input_path: Path = typer.Option(..., "--input", "-i", help="CSV, JSON, JSON Lines or Parquet rows."),
    output: Path | None = typer.Option(None, "--output", "-o", help="Write here instead of standard output."),
    output_format: str = typer.Option("json", "--format", help='json ({"predictions": [...]}) or csv.'),
    proba: bool = typer.Option(False, "--proba", help="Add class probabilities."),
) -> None:
    """Predict with a registered version, in this process.

    Example: modelport predict churn@champion --input rows.csv --format csv
    """
    from modelport.storage.tables import read_table

    if output_format not in ("json", "csv"):
        raise InvalidInputError(f"--format {output_format!r}: use json or csv", field="format")
    frame = read_table(input_path, field="input")
    registry = open_registry()
    try:
        model = registry.load(ref)
    finally:
        registry.close()
    data: Any = frame.to_numpy().tolist() if _positional(frame) else frame
    prepared = model.prepare(data)
    result: dict[str, Any] = {
        "model_version": model.version,
        "predictions": model.predict(prepared, validated=True).tolist(),
    }
    probabilities = model.predict_proba(prepared, validated=True) if proba else None
    if probabilities is not None:
        result["probabilities"] = probabilities.tolist()
        result["classes"] = model.classes
    _write(result, output, output_format)


def _positional(frame: Any) -> bool:
    import pandas as pd

    return isinstance(frame.columns, pd.RangeIndex)


def _write(result: dict[str, Any], output: Path | None, output_format: str) -> None:
    if output_format == "json":
        if output is None:
            print_json(result)
        else:
            import orjson

            output.write_bytes(orjson.dumps(result, option=orjson.OPT_SERIALIZE_NUMPY))
        return
    import pandas as pd

    frame = pd.DataFrame({"prediction": result["predictions"]})
    for i, label in enumerate(result.get("classes") or []):
        frame[f"proba_{label}"] = [row[i] for row in result["probabilities"]]
    frame.to_csv(output if output is not None else sys.stdout, index=False)
