"""The "Batch" section of docs/benchmarks.md, rebuilt from bench/results/batch.json between its markers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

BEGIN = "<!-- BEGIN batch (batch scoring) -->"
END = "<!-- END batch (batch scoring) -->"
NAMES = {"lr": "fast: StandardScaler + LogisticRegression", "rf": "heavy: RandomForest, 200 trees, depth 10"}


def section(document: dict[str, Any]) -> str:
    """Markdown tables, one per model: rows/s, share of the floor, peak memory."""
    machine = document["machine"]
    lines = [
        BEGIN, "## Batch", "",
        f"`python -m bench.batch.run` on {machine['nproc']} cores ({machine['cpu_model']}), "
        f"{machine['memory_gib']} GiB; Parquet input of 30 float64 columns, row groups of 100,000, "
        f"chunks of {document['chunk_rows']:,} rows; output Parquet with `row`, `prediction`, `model_version`.",
        "modelport's rows/s is the job's own time (read, validate, predict, write, commit); the wall time adds "
        "process start and model load. Peak memory is the summed RSS of the whole process tree (Ray: driver, "
        "raylet and workers). `mlflow models predict` reads CSV or JSON only and loads its whole input into "
        "memory, so it is given the first 1,000,000 rows of the same data as CSV (its row count is in its line).",
        "The 10-million-row input is a 2.8 GiB Parquet file: the issue's 2 GB streaming run, with its peak memory.",
        "The machine was shared with other engineers' work while this ran, so single figures are noisy (a floor "
        "measured while a neighbour was busy can come out below modelport's own run); rerun to compare.", "",
    ]
    for model in NAMES:
        rows = [r for r in document["results"] if r["model"] == model]
        if not rows:
            continue
        floor = next((r["rows_per_second"] for r in rows if r["system"].startswith("floor")), 0)
        lines += [f"### {NAMES[model]}, {rows[0]['rows']:,} rows", "",
                  "| system | rows/s | of the floor | seconds (wall) | peak memory |", "| --- | ---: | ---: | ---: | ---: |"]
        for r in rows:
            if not r.get("ok"):
                lines.append(f"| {r['system']} | failed: {r.get('error', 'see bench/.work/batch/logs')} | | | |")
                continue
            share = f"{100 * r['rows_per_second'] / floor:.0f} %" if floor else "-"
            name = r["system"] if r["rows"] == rows[0]["rows"] else f"{r['system']}, {r['rows']:,} rows"
            lines.append(f"| {name} | {r['rows_per_second']:,} | {share} | {r['seconds']} ({r['wall_seconds']}) "
                         f"| {r['peak_rss_mib']:,} MiB |")
        lines.append("")
    lines.append(END)
    return "\n".join(lines)


def write_section(path: Path, document: dict[str, Any]) -> None:
    """Replace the section between the markers (or append it), leaving every other section as it is."""
    text = path.read_text() if path.exists() else "# Benchmarks\n"
    new = section(document)
    if BEGIN in text and END in text:
        head, rest = text.split(BEGIN, 1)
        text = head + new + rest.split(END, 1)[1]
    else:
        text = text.rstrip("\n") + "\n\n" + new + "\n"
    path.write_text(text)
