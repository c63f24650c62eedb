"""`modelport monitor drift|performance|reference|report MODEL --window 1h [--json]`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from modelport.cli.context import open_registry
from modelport.cli.output import console, print_json, print_table

app = typer.Typer(help="Drift, performance and reports from the prediction log.", no_args_is_help=True)

WINDOW = typer.Option("1h", "--window", "-w", help="How far back to look: 15m, 1h, 7d...")
JSON = typer.Option(False, "--json", help="Print JSON for scripts instead of tables.")


def _run(work: Any) -> Any:
    from modelport.monitoring.service import Monitoring

    registry = open_registry()
    try:
        return work(Monitoring(registry))
    finally:
        registry.close()


@app.command("drift")
def drift(model: str = typer.Argument(..., help="Model name."), window: str = WINDOW, as_json: bool = JSON,
          version: int | None = typer.Option(None, "--version", min=1, help="Reference of this version (default: newest)."),
          multivariate: bool = typer.Option(False, "--multivariate", help="Also run the domain-classifier check.")) -> None:
    """Per-feature drift of the last window against the reference data.

    Example: modelport monitor drift churn --window 1h
    """
    report = _run(lambda m: m.drift(model, window, version=version, multivariate=multivariate)).to_dict()
    if as_json:
        print_json(report)
        return
    verdict = "[bold red]dataset drift[/]" if report["dataset_drift"] else "[green]no dataset drift[/]"
    console().print(f"{model}, last {window}: {verdict} ({report['current_rows']} rows vs {report['reference_rows']})")
    print_table("features", ["feature", "role", "test", "effect", "p-value", "status", "quality"], [
        (f["name"], f["role"], f["test"], _fmt(f["score"]), _fmt(f["p_value"]), f["status"], ", ".join(f["quality_issues"]))
        for f in report["features"]])


@app.command("performance")
def performance(model: str = typer.Argument(..., help="Model name."), window: str = WINDOW, as_json: bool = JSON) -> None:
    """Realized metrics where feedback arrived, and the confidence-based estimate.

    Example: modelport monitor performance churn --window 7d
    """
    report = _run(lambda m: m.performance(model, window))
    if as_json:
        print_json(report)
        return
    console().print(f"{model}, last {window}: {report['labelled_rows']} labelled of {report['predictions']} predictions")
    intervals = report["intervals"]
    print_table("metrics", ["metric", "value", "95% interval"], [
        (k, _fmt(v), f"{_fmt(intervals[k]['low'])} .. {_fmt(intervals[k]['high'])}" if k in intervals else "")
        for k, v in report["metrics"].items()])
    if report["estimated"]:
        console().print(f"estimated accuracy (from confidence): {_fmt(report['estimated']['accuracy'])}")


@app.command("reference")
def reference(model: str = typer.Argument(..., help="Model name."),
              window: str = typer.Option(None, "--window", "-w", help="How far back to look: 15m, 1h, 7d (default 1h)."),
              version: int | None = typer.Option(None, "--version", min=1, help="Version to attach it to (default: newest)."),
              start: str = typer.Option(None, "--start", help="Window start, ISO 8601 (instead of --window)."),
              end: str = typer.Option(None, "--end", help="Window end, ISO 8601 (default: now)."),
              as_json: bool = JSON) -> None:
    """Make the reference data of a version from a window of the traffic it served.

    Example: modelport monitor reference churn --start 2026-03-01T00:00Z --end 2026-03-08T00:00Z
    """
    info = _run(lambda m: m.reference_from_log(model, window, version=version, start=start, end=end)).to_dict()
    if as_json:
        print_json(info)
        return
    console().print(f"reference of {model}:{info['version']}: {info['rows']} rows from {info['source']}")


@app.command("report")
def report(model: str = typer.Argument(..., help="Model name."), window: str = WINDOW, as_json: bool = JSON,
           output: Path = typer.Option(None, "--output", "-o", help="HTML file to write (default: MODEL-report.html); "
                                       "the JSON twin goes beside it.")) -> None:
    """Write a self-contained HTML report (and the same content as JSON).

    Example: modelport monitor report churn --window 1d -o churn.html
    """
    import orjson

    from modelport.monitoring.report import build_report, render_html

    content = _run(lambda m: build_report(m, model, window))
    target = output or Path(f"{model}-report.html")
    target.write_text(render_html(content), encoding="utf-8")
    twin = target.with_suffix(".json")
    twin.write_bytes(orjson.dumps(content, option=orjson.OPT_INDENT_2 | orjson.OPT_SERIALIZE_NUMPY))
    if as_json:
        print_json({"html": str(target), "json": str(twin)})
        return
    console().print(f"wrote {target} and {twin}")


def _fmt(value: Any) -> str:
    if value is None:
        return ""
    return f"{value:.4g}" if isinstance(value, float) else str(value)
