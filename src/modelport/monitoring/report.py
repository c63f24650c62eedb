"""The monitoring report: one self-contained HTML file (inline CSS and SVG, no scripts, no network) and its JSON twin."""

from __future__ import annotations

from datetime import timedelta
from html import escape
from typing import Any

from modelport.foundation.errors import ModelportError
from modelport.monitoring.alerts.store import AlertStore
from modelport.monitoring.service import Monitoring

_CSS = """
body{font:14px/1.45 system-ui,sans-serif;margin:2rem;color:#1d2330;max-width:1100px}
h1{font-size:1.5rem}h2{margin-top:2rem;border-bottom:1px solid #dde;padding-bottom:.3rem}
table{border-collapse:collapse;margin:.5rem 0}td,th{padding:.25rem .6rem;border-bottom:1px solid #eee;text-align:left}
.drifted{color:#b3261e;font-weight:600}.ok{color:#2e7d32}.muted{color:#778}
.cards{display:flex;flex-wrap:wrap;gap:1rem}.card{border:1px solid #dde;border-radius:6px;padding:.6rem;width:320px}
.legend span{display:inline-block;width:10px;height:10px;margin:0 4px 0 10px}
"""
_REF, _CUR = "#6b8fd6", "#e0803a"


def build_report(monitoring: Monitoring, model: str, window: str | timedelta = "1h") -> dict[str, Any]:
    """Drift (with histograms), performance over time, service health and alert history for one model."""
    report: dict[str, Any] = {"model": model, "window": str(window), "generated_at": monitoring.clock.now().isoformat()}
    try:
        report["drift"] = monitoring.drift(model, window).to_dict(histograms=True)
    except ModelportError as exc:
        report["drift"] = {"error": exc.message}
    report["performance"] = monitoring.performance(model, window)
    report["health"] = monitoring.health(model, window)
    report["alerts"] = AlertStore(monitoring.log.engine, monitoring.clock).events(model, limit=50)
    return report


def render_html(report: dict[str, Any]) -> str:
    """The report as one HTML page."""
    title = f"modelport monitoring report: {report['model']}"
    parts = [f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>{escape(title)}</title>",
             f"<style>{_CSS}</style></head><body>", f"<h1>{escape(title)}</h1>",
             f"<p class='muted'>window {escape(report['window'])}, generated {escape(report['generated_at'])}</p>",
             _drift_section(report["drift"]), _performance_section(report["performance"]),
             _health_section(report["health"]), _alerts_section(report["alerts"]), "</body></html>"]
    return "\n".join(parts)


def _drift_section(drift: dict[str, Any]) -> str:
    if "error" in drift:
        return f"<section id='drift'><h2>Drift</h2><p>{escape(drift['error'])}</p></section>"
    verdict = "drift detected" if drift["dataset_drift"] else "no dataset drift"
    rows = "".join(
        f"<tr><td>{escape(f['name'])}</td><td>{escape(f['role'])}</td><td>{escape(f['test'])}</td>"
        f"<td>{_num(f['score'])}</td><td>{_num(f['p_value'])}</td>"
        f"<td class='{'drifted' if f['drifted'] else 'ok'}'>{escape(f['status'])}</td>"
        f"<td>{escape(', '.join(f['quality_issues']))}</td></tr>" for f in drift["features"])
    cards = "".join(_feature_card(f) for f in drift["features"] if f.get("histogram"))
    legend = f"<p class='legend'><span style='background:{_REF}'></span>reference<span style='background:{_CUR}'></span>current</p>"
    return (f"<section id='drift'><h2>Drift</h2><p class='{'drifted' if drift['dataset_drift'] else 'ok'}'>{verdict}"
            f"</p><p class='muted'>reference rows {drift['reference_rows']}, current rows {drift['current_rows']}</p>"
            "<table><tr><th>feature</th><th>role</th><th>test</th><th>effect</th><th>p-value</th><th>status</th>"
            f"<th>quality</th></tr>{rows}</table>{legend}<div class='cards'>{cards}</div></section>")


def _feature_card(feature: dict[str, Any]) -> str:
    histogram = feature["histogram"]
    labels = histogram.get("categories") or [f"{e:.3g}" for e in histogram["edges"][:-1]]
    svg = bar_chart(histogram["reference"], histogram["current"], [str(x) for x in labels])
    return f"<div class='card feature'><strong>{escape(feature['name'])}</strong>{svg}</div>"


def bar_chart(reference: list[float], current: list[float], labels: list[str], width: int = 300, height: int = 120) -> str:
    """Paired bars of reference and current shares as inline SVG."""
    count = max(len(reference), 1)
    top = max([*reference, *current, 1e-9])
    slot = width / count
    bars = []
    for index, (ref, cur) in enumerate(zip(reference, current, strict=False)):
        x = index * slot
        for offset, value, colour in ((0.1, ref, _REF), (0.5, cur, _CUR)):
            h = value / top * (height - 20)
            bars.append(f"<rect x='{x + slot * offset:.1f}' y='{height - 15 - h:.1f}' width='{slot * 0.4:.1f}' "
                        f"height='{h:.1f}' fill='{colour}'><title>{escape(labels[index])}: {value:.3f}</title></rect>")
    return (f"<svg xmlns='http://www.w3.org/2000/svg' width='{width}' height='{height}' role='img' "
            f"viewBox='0 0 {width} {height}'>{''.join(bars)}</svg>")


def line_chart(points: list[float | None], width: int = 600, height: int = 140, colour: str = _CUR) -> str:
    """A line through the non-missing points as inline SVG."""
    known = [(i, p) for i, p in enumerate(points) if p is not None]
    if not known:
        return "<p class='muted'>no data in this window</p>"
    low, high = min(p for _, p in known), max(p for _, p in known)
    span = (high - low) or 1.0
    step = width / max(len(points) - 1, 1)
    coords = " ".join(f"{i * step:.1f},{height - 10 - (p - low) / span * (height - 20):.1f}" for i, p in known)
    return (f"<svg xmlns='http://www.w3.org/2000/svg' width='{width}' height='{height}' role='img' "
            f"viewBox='0 0 {width} {height}'><polyline fill='none' stroke='{colour}' stroke-width='2' points='{coords}'/>"
            f"<text x='2' y='12' font-size='10'>{high:.3g}</text><text x='2' y='{height - 2}' font-size='10'>{low:.3g}</text>"
            "</svg>")


def _performance_section(performance: dict[str, Any]) -> str:
    metrics = "".join(f"<tr><td>{escape(k)}</td><td>{_num(v)}</td></tr>" for k, v in performance["metrics"].items())
    estimated = performance.get("estimated") or {}
    first = next(iter(performance["metrics"]), None)
    realized = [t["metrics"].get(first) if first else None for t in performance["timeline"]]
    guessed = [t.get("estimated") for t in performance["timeline"]]
    return ("<section id='performance'><h2>Performance</h2>"
            f"<p>labelled rows {performance['labelled_rows']} of {performance['predictions']} predictions</p>"
            f"<table>{metrics}</table><p>estimated accuracy (from confidence): {_num(estimated.get('accuracy'))}</p>"
            f"<h3>{escape(first or 'realized metric')} over time</h3>{line_chart(realized)}"
            f"<h3>estimated accuracy over time</h3>{line_chart(guessed, colour=_REF)}</section>")


def _health_section(health: dict[str, Any]) -> str:
    latency = health["latency_ms"]
    return ("<section id='health'><h2>Service health</h2><table>"
            f"<tr><td>requests</td><td>{health['requests']}</td></tr>"
            f"<tr><td>error rate</td><td>{_num(health['error_rate'])}</td></tr>"
            f"<tr><td>latency p50 / p95 / p99 (ms)</td><td>{_num(latency['p50'])} / {_num(latency['p95'])} / "
            f"{_num(latency['p99'])}</td></tr></table></section>")


def _alerts_section(alerts: list[dict[str, Any]]) -> str:
    rows = "".join(f"<tr><td>{escape(a['at'])}</td><td>{escape(a['rule'])}</td><td>{escape(a['kind'])}</td>"
                   f"<td>{escape(a['severity'])}</td><td>{_num(a['value'])}</td><td>{_num(a['threshold'])}</td></tr>"
                   for a in alerts)
    body = (f"<table><tr><th>at</th><th>rule</th><th>event</th><th>severity</th><th>value</th><th>threshold</th></tr>"
            f"{rows}</table>") if alerts else "<p class='muted'>no alerts</p>"
    return f"<section id='alerts'><h2>Alerts</h2>{body}</section>"


def _num(value: Any) -> str:
    if value is None:
        return "&ndash;"
    if isinstance(value, float):
        return f"{value:.4g}"
    return escape(str(value))
