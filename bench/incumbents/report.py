"""The top matter and the "Incumbents" section of docs/benchmarks.md, and their charts, from saved runs."""

from __future__ import annotations

from pathlib import Path

from bench.common import charts
from bench.common.models import MODELS
from bench.common.report import DOC, IMAGES, num, table, write_section
from bench.common.results import RESULTS, Run
from bench.incumbents import targets
from bench.incumbents.systems import ROOT, SYSTEMS, System

COMMAND = "make bench   # or: .venv/bin/python -m bench"


def _key(system: System, model: str) -> str:
    return model if system.per_model else "*"


def _ratio(value: float | None, floor: float | None) -> str:
    return f"{value / floor:.2f}" if value is not None and floor else "-"


def model_table(run: Run, model: str) -> str:
    """Every system on `model`: req/s, ratios to the floors, latency, errors, CPU and memory by concurrency."""
    rows = []
    for system in SYSTEMS:
        for c in run.settings.get("concurrencies", []):
            found = run.summary(system.key, _key(system, model), c)
            if found is None:
                continue
            bare = run.summary("floor-bare", model, c)
            http = run.summary("floor-constant", "*", c)
            rows.append([system.label, str(c), num(found.rps), _ratio(found.rps, bare.rps if bare else None),
                         _ratio(found.rps, http.rps if http else None), num(found.p50_ms, 2), num(found.p99_ms, 2),
                         _ratio(found.p99_ms, bare.p99_ms if bare else None), str(found.errors),
                         num(found.cpu_cores, 2), num(1000 * found.cpu_cores / found.rps if found.rps else None, 2),
                         num(found.rss_mb), f"{found.rps_spread:.0%}"])
    header = ["system", "c", "req/s", "x bare", "x HTTP limit", "p50 ms", "p99 ms", "p99 x bare", "errors",
              "CPU cores", "CPU ms/req", "RSS MiB", "req/s spread"]
    return table(header, rows)


def failures(run: Run) -> str:
    """The systems that could not run, each with its exact reason."""
    failed = [o for o in run.outcomes if not o.ok]
    if not failed:
        return "Every system ran on every model."
    return table(["system", "model", "why it could not run"],
                 [[o.system, o.model, o.error.replace("|", "/").replace("\n", " ")[:900]] for o in failed])


def targets_table(run: Run) -> str:
    """Issue 7's targets with the numbers measured next to them."""
    mark = {True: "met", False: "**missed**", None: "not judged"}
    return table(["target", "modelport (best)", "modelport (defaults)", "met?"],
                 [[v.target, v.measured, v.measured_default, mark[v.met]] for v in targets.judge(run)])


def noise(runs: list[Run]) -> str:
    """The last two runs side by side: the same point measured twice, and each run's ratio to its own floor."""
    if len(runs) < 2:
        return "Only one run is saved so far; run the command again to see run-to-run noise here."
    a, b = runs[-2], runs[-1]
    rows = []
    for model in MODELS:
        for system in SYSTEMS:
            if not system.per_model:
                continue
            for c in (1, 64):
                sa, sb = a.summary(system.key, model, c), b.summary(system.key, model, c)
                if sa is None or sb is None:
                    continue
                fa, fb = a.summary("floor-bare", model, c), b.summary("floor-bare", model, c)
                rows.append([model, system.label, str(c), num(sa.rps), num(sb.rps),
                             f"{(sb.rps - sa.rps) / sa.rps:+.0%}" if sa.rps else "-",
                             _ratio(sa.rps, fa.rps if fa else None), _ratio(sb.rps, fb.rps if fb else None)])
    head = ["model", "system", "c", f"req/s run {a.run_id}", f"req/s run {b.run_id}", "change",
            "x bare (first)", "x bare (second)"]
    return table(head, rows)


def draw(run: Run, images: Path = IMAGES) -> list[Path]:
    """Throughput and p99 by concurrency, one panel per model."""
    concurrencies = list(run.settings.get("concurrencies", []))
    models = sorted({p.model for p in run.points if p.model != "*"}, key=list(MODELS).index)
    out = []
    for metric, title, ylabel, name in (("rps", "Throughput by concurrency", "requests/s", "incumbents-throughput"),
                                        ("p99_ms", "p99 latency by concurrency", "p99 (ms)", "incumbents-p99")):
        series = {}
        for model in models:
            series[f"{model}: {MODELS[model]}"] = {
                s.label: [getattr(f, metric) if (f := run.summary(s.key, _key(s, model), c)) else None
                          for c in concurrencies] for s in SYSTEMS}
        out.append(charts.by_concurrency(images / f"{name}.png", title, ylabel, concurrencies, series))
    return out


def top_matter(run: Run) -> str:
    """What this page is, how to rerun it, and what it was measured on."""
    m = run.machine
    versions = [[env, ", ".join(f"{k} {v}" for k, v in pkgs.items())] for env, pkgs in run.versions.items()]
    return "\n".join([
        "modelport publishes a CPU benchmark for tabular models that anyone can rerun with one command.",
        "Each section below is regenerated by its own benchmark; this top matter and the Incumbents section",
        "are written by `bench/incumbents` from the latest saved run in `bench/results/`.", "",
        "```bash", COMMAND, "```", "",
        "It builds what is missing (wrk from Debian's packages, one virtual environment per incumbent in "
        "`bench/.envs/`, from PyPI, cached), runs the serving comparison, then the drift and batch benchmarks "
        "(at reduced sizes; `--full` for theirs), and rewrites this page. Parts and options:", "",
        "```bash",
        "python -m bench --only serving --only report          # the serving comparison alone",
        "python -m bench --systems modelport-best,mlflow,floor-bare,floor-constant --models lr --seconds 2 --repeats 1",
        "python -m bench --profile                             # plus a py-spy summary of modelport under load",
        "python -m bench --only report                          # rewrite the page from bench/results/*.json",
        "```", "",
        "Raw results: `bench/results/incumbents-<run>.json` (every repetition), `bench/results/profile-<model>.txt`.",
        "",
        f"Latest serving run: **{run.run_id}** (started {run.started}, finished {run.finished}); command: "
        f"`{run.command}`.", "",
        f"Machine: {m.get('nproc')} CPUs ({m.get('cpu_model')}), {m.get('memory_gib')} GiB memory, Linux "
        f"{m.get('kernel')}, Python {m.get('python')}; servers pinned to CPU(s) {m.get('server_cpus')}, wrk "
        f"to CPU(s) {m.get('load_cpus')}. The machine was shared with other work while it ran: absolute numbers "
        "are noisy, ratios within one run are the figures to compare.", "",
        "Exact versions, per environment (each incumbent has its own virtual environment in `bench/.envs/`, "
        "all with the same scikit-learn):", "",
        table(["environment", "packages"], versions), "",
        "How to read the numbers: each figure is the median of "
        f"{run.settings.get('repeats')} wrk repetitions of {run.settings.get('seconds')} s, one per round: each "
        "round starts every server afresh (the order reversed every other round, so no system is always measured "
        f"when the shared machine is busiest), warms it up for {run.settings.get('warmup_s')} s at the highest "
        f"concurrency, then loads it ({run.settings.get('wrk')}, one thread, closed loop); ratios "
        "(x bare, x HTTP limit) are taken between systems of the same run; \"req/s spread\" is (max - min) / "
        "median over the repetitions; \"CPU cores\" is the server process tree's CPU time over wall time (1.0 = "
        "its whole pinned CPU; less means it was waiting or starved by other work on that CPU), and \"CPU ms/req\" "
        "its CPU time per answered request, the figure least moved by a busy machine; the Incumbents section "
        "ends with the previous run beside this one.", "",
        others(),
    ])


def others() -> str:
    """Which other benchmarks `python -m bench` runs, and which sections it leaves to their own commands."""
    from bench.__main__ import other_commands

    lines = []
    for part, sizes in (("drift", "at 100k rows (`--full`: also 1M)"), ("batch", "at its `--quick` sizes (`--full`: "
                                                                               "its full sizes)")):
        state = f"run by `python -m bench` {sizes}" if other_commands(part, full=False) else "not in this checkout"
        lines.append(f"{part.capitalize()} (`bench/{part}/`): {state}.")
    serving = (ROOT / "bench" / "serving" / "run.sh").exists()
    lines.append("Serving (`bench/serving/`): " + ("its own command, `bash bench/serving/run.sh`." if serving
                                                   else "not in this checkout."))
    return "Other sections, each written by its own benchmark: " + " ".join(lines)


def incumbents_section(runs: list[Run]) -> str:
    """The Incumbents section of the latest run."""
    run = runs[-1]
    ceilings = table(["model", "batched rows/s (64-row predict)", "one-row predict µs"],
                     [[f"{k}: {MODELS.get(k, k)}", num(v.get("batched_rows_per_s")), num(v.get("one_row_predict_us"))]
                      for k, v in run.inprocess.items()])
    systems = table(["system", "how it runs"], [[s.label, s.notes] for s in SYSTEMS])
    parts = [
        "modelport against MLflow's scoring server, BentoML and Seldon MLServer (each with and without its "
        "adaptive batching where it has one) and two floors, serving the same saved scikit-learn models "
        "(breast cancer) one server at a time, one row per request, under wrk at 1, 16 and 64 connections. "
        "Before the load each server must label 16 check rows exactly as the model does in process.", "",
        systems, "", "### Targets (issue 7)", "", targets_table(run), "",
        "### In-process ceilings (same CPU set, no HTTP)", "", ceilings, "",
    ]
    for model in (m for m in MODELS if any(p.model == m for p in run.points)):
        parts += [f"### {model}: {MODELS[model]}", "", model_table(run, model), ""]
    parts += ["### Charts", "", "![throughput](img/incumbents-throughput.png)", "",
              "![p99 latency](img/incumbents-p99.png)", "",
              "### Systems that could not run", "", failures(run), "",
              "### Noise: the previous run beside this one", "", noise(runs), "", profiles()]
    return "\n".join(parts)


def profiles(results: Path = RESULTS, lines: int = 22) -> str:
    """The head of each py-spy summary saved by `python -m bench --profile`."""
    found = sorted(results.glob("profile-*.txt"))
    if not found:
        return ""
    parts = ["### Where modelport's time goes (py-spy, `--profile`)", ""]
    for path in found:
        head = "\n".join(path.read_text().splitlines()[:lines])
        parts += [f"`bench/results/{path.name}` (first {lines} lines):", "", "```text", head, "```", ""]
    return "\n".join(parts)


def write(runs: list[Run], doc: Path = DOC) -> None:
    """Regenerate the top matter, the Incumbents section and their charts from `runs` (latest last)."""
    if not runs:
        raise SystemExit("no serving run saved in bench/results/; run `python -m bench` first")
    draw(runs[-1], doc.parent / "img")
    write_section("top", "# Benchmarks\n\n" + top_matter(runs[-1]), at_top=True, doc=doc)
    write_section("incumbents", incumbents_section(runs), heading="## Incumbents", doc=doc)
