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
        BEGIN,
        "## Batch",
        "",
        f"`python -m bench.batch.run` on {machine['nproc']} cores ({machine['cpu_model']}), "
        f"{machine['memory_gib']} GiB; Parquet input of 30 float64 columns, row groups of 100,000, "
        f"chunks of {document['chunk_rows']:,} rows; output Parquet with `row`, `prediction`, `model_version`.",
        "modelport's rows/s is the job's own time (read, validate, predict, write, commit); the wall time adds "
        "process start and model load. Peak memory is the summed RSS of the whole process tree (Ray: driver, "
        "raylet and workers). `mlflow models predict` reads CSV or JSON only and loads its whole input into "
        "memory, so it is given the first 1,000,000 rows of the same data as CSV (its row count is in its line).",
        "The 10-million-row input is a 2.8 GiB Parquet file: the issue's 2 GB streaming run, with its peak memory.",
        "The machine was shared with other engineers' work while this ran, so single figures are noisy (a floor "
        "measured while a neighbour was busy can come out below modelport's own run); rerun to compare.",
        "",
    ]
    for model in NAMES:
        rows = [r for r in document["results"] if r["model"] == model]
        if not rows:
            continue
        floor = next((r["rows_per_second"] for r in rows if r["system"].startswith("floor")), 0)
        lines += [
            f"### {NAMES[model]}, {rows[0]['rows']:,} rows",
            "",
            "| system | rows/s | of the floor | seconds (wall) | peak memory |",
            "| --- | ---: | ---: | ---: | ---: |",
        ]
        for r in rows:
            if not r.get("ok"):
                lines.append(f"| {r['system']} | failed: {r.get('error', 'see bench/.work/batch/logs')} | | | |")
                continue
            share = f"{100 * r['rows_per_second'] / floor:.0f} %" if floor else "-"
            name = r["system"] if r["rows"] == rows[0]["rows"] else f"{r['system']}, {r['rows']:,} rows"
            lines.append(
                f"| {name} | {r['rows_per_second']:,} | {share} | {r['seconds']} ({r['wall_seconds']}) "
                f"| {r['peak_rss_mib']:,} MiB |"
            )
        lines.append("")
    lines += _stages(document.get("stages") or {}, document.get("load_average"))
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


def _stages(stages: dict[str, Any], load: list[float] | None) -> list[str]:
    """Where the fast model's job spends CPU, stage by stage, against the floor's predict."""
    spent = stages.get("cpu_ms_per_chunk")
    if not spent:
        return []
    floor_name = next(k for k in spent if k.startswith("floor"))
    job = {k: v for k, v in spent.items() if k != floor_name}
    total = sum(job.values())
    lines = [
        f"### Where the time goes: fast model, CPU ms per {stages['chunk_rows']:,}-row chunk",
        "",
        "`python -m bench.batch.stages` runs the job's own functions one after another on one thread "
        "(process CPU time, so Arrow's and BLAS's helper threads count; CPU time moves little when "
        "neighbours load the machine" + (f"; load average {load[0]:.1f} at the end of the run" if load else "") + ").",
        "",
        "| stage | CPU ms per chunk | of the job |",
        "| --- | ---: | ---: |",
    ]
    lines += [f"| {name} | {ms} | {100 * ms / total:.0f} % |" for name, ms in job.items()]
    lines += [
        f"| **the job, all stages** | **{total:.1f}** | 100 % |",
        f"| {floor_name} | {spent[floor_name]} | |",
        "",
        f"The job's own predict stage is the floor's work (the floor's CPU also counts the BLAS threads "
        f"that wait busily; its rows/s above is wall time). On 2 cores all stages together take at least "
        f"{total / 2:.1f} ms of wall time per chunk against {job['predict']} ms for predict alone on one "
        f"core: at most {100 * job['predict'] / (total / 2):.0f} % of the floor, before any waiting.",
        "",
    ]
    return lines
