"""The "Batch" section of docs/benchmarks.md, rebuilt from bench/results/batch.json between its markers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

BEGIN = "<!-- BEGIN batch (batch scoring) -->"
END = "<!-- END batch (batch scoring) -->"
NAMES = {"lr": "fast: StandardScaler + LogisticRegression", "rf": "heavy: RandomForest, 200 trees, depth 10"}


#: measured by hand beside the run (2026-11-22, 09:30), kept with the commands that made them
NOTES = [
    "### Measured beside the run",
    "",
    "- The inputs stay in the page cache on this machine (`fincore bench/.work/batch/*.parquet`: both "
    "10M-row files wholly resident), so the jobs read memory, not disk; nothing else ran during the run.",
    "- Where a 2-thread job's time goes (`py-spy record -r 250 --threads` of `bench.batch.jobs`, fast model, "
    "plain input): Parquet decoding, the copy into one block (gone since session 7: the linear predict reads the columns where they lie) and the standardization made most of the "
    "workers' samples; parsing each file's footer again for every split was 8 % of them until it was cached.",
    "",
]


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
        "The 10-million-row input is a 2.8 GiB Parquet file (2.3 GiB plain): the issue's 2 GB streaming run, "
        "with its peak memory.",
        "Every input is written twice: *dictionary*, pyarrow's (and so pandas') default, which for a "
        "100,000-row group of unique floats dictionary-encodes every column; and *plain*, what Spark, DuckDB "
        "and Polars write for such columns (bench/batch/data.py says why). The floor reads neither: it predicts "
        "on the values already in memory.",
        f"Each line is the median of {document.get('rounds', 1)} rounds run one after another (floor, then every "
        "configuration on both encodings, then again; of an even count, the slower of the middle two), with every "
        "round's rows/s; peak memory is the highest of the rounds. Load average "
        f"{_load(document)}; single rounds on a 2-core machine are noisy, the medians and ratios much less.",
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
            "| system | rows/s (median) | of the floor | seconds (wall) | peak memory: RSS sum (PSS sum) "
            "| rows/s of each round |",
            "| --- | ---: | ---: | ---: | ---: | --- |",
        ]
        for r in rows:
            if not r.get("ok"):
                lines.append(f"| {r['system']} | failed: {r.get('error', 'see bench/.work/batch/logs')} | | | | |")
                continue
            share = f"{100 * r['rows_per_second'] / floor:.0f} %" if floor else "-"
            name = r["system"] if r["rows"] == rows[0]["rows"] else f"{r['system']}, {r['rows']:,} rows"
            lines.append(
                f"| {name} | {r['rows_per_second']:,} | {share} | {r['seconds']} ({r['wall_seconds']}) "
                f"| {r['peak_rss_mib']:,} MiB{_pss(r)} | {_each(r)} |"
            )
        lines.append("")
    fast_floor = next((r["rows_per_second"] for r in document["results"]
                       if r["model"] == "lr" and r["system"].startswith("floor")), 0)
    lines += _stages(document.get("stages") or {}, document.get("load_average"), fast_floor)
    lines += NOTES
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


def _load(document: dict[str, Any]) -> str:
    load = document.get("load_average")
    return f"{load[0]:.1f} at the end of the run" if load else "not recorded"


def _pss(row: dict[str, Any]) -> str:
    """The PSS sum beside the RSS sum, when the run measured it."""
    return f" ({row['peak_pss_mib']:,})" if row.get("peak_pss_mib") else ""


def _each(result: dict[str, Any]) -> str:
    return ", ".join(f"{v / 1e6:.2f}M" for v in result.get("rounds_rows_per_second", []))


def _stages(stages: dict[str, Any], load: list[float] | None, floor_rows_per_s: float) -> list[str]:
    """Where the fast model's job spends CPU, stage by stage and encoding by encoding, against the floor."""
    spent = {encoding: s.get("cpu_ms_per_chunk") for encoding, s in stages.items() if s}
    if not spent or not all(spent.values()) or not floor_rows_per_s:
        return []
    encodings = list(spent)
    first = spent[encodings[0]]
    floor_name = next(k for k in first if k.startswith("floor"))
    names = [k for k in first if k != floor_name]
    totals = {e: sum(spent[e][k] for k in names) for e in encodings}
    chunk_rows = next(iter(stages.values()))["chunk_rows"]
    floor_ms = 1000 * chunk_rows / floor_rows_per_s
    lines = [
        f"### Where the time goes: fast model, CPU ms per {chunk_rows:,}-row chunk",
        "",
        "`python -m bench.batch.stages` runs the job's own functions one after another on one thread "
        "(process CPU time, so Arrow's and BLAS's helper threads count; CPU time moves less than wall time when "
        "neighbours load the machine, but it does move: memory bandwidth is shared"
        + (f"; load average {load[0]:.1f} at the end of the run" if load else "")
        + ").",
        "",
        "| stage | " + " | ".join(f"{e} input: CPU ms" for e in encodings) + " |",
        "| --- |" + " ---: |" * len(encodings),
    ]
    lines += [f"| {name} | " + " | ".join(f"{spent[e][name]}" for e in encodings) + " |" for name in names]
    lines += [
        "| **the job, all stages** | " + " | ".join(f"**{totals[e]:.1f}**" for e in encodings) + " |",
        f"| {floor_name} | " + " | ".join(f"{spent[e][floor_name]}" for e in encodings) + " |",
        "",
        "The floor predicts on one core (its BLAS threads spin while they wait, which its CPU counts). On 2 "
        "cores, with every stage spread over both, a chunk takes at least half the job's CPU in wall time; "
        "against the floor's own time per chunk (from its rows/s above), that bounds the job's share of the floor: "
        + "; ".join(
            f"{e}: {totals[e] / 2:.1f} ms against the floor's {floor_ms:.1f} ms, at most "
            f"{100 * floor_ms / (totals[e] / 2):.0f} % of the floor"
            for e in encodings
        )
        + ", before any waiting.",
        "",
    ]
    return lines
