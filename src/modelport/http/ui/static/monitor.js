// The monitoring page of one model: drift per feature (with reference-vs-current charts),
// performance from labels (with intervals), service health, and the model's alert history.

import { api, seg } from "./api.js";
import { histogram, line } from "./charts.js";
import { badge, h, link, percent, route, section, show, table, when } from "./dom.js";

export const WINDOWS = ["15m", "1h", "6h", "1d", "7d", "30d"];
const CHARTS = 12;

/** The page for `name` over `window` (one of WINDOWS; the server checks any other value). */
export async function monitoring(name, window) {
  const report = await api(`/monitoring/${seg(name)}/report?format=json&window=${encodeURIComponent(window)}`);
  return [
    h("h1", {}, "Monitoring of ", link(name, "models", name)),
    windowPicker(name, window),
    driftSection(report.drift),
    performanceSection(report.performance),
    healthSection(report.health),
    section("Alerts of this model", table(["at", "rule", "event", "value", "threshold"], (report.alerts || []).map((e) =>
      [when(e.at), e.rule, badge(e.kind, e.kind === "fired" ? "bad" : "ok"), show(e.value), show(e.threshold)]))),
  ];
}

function windowPicker(name, current) {
  const select = h("select", { id: "window", onchange: () => { location.hash = `${route("models", name, "monitoring")}?window=${select.value}`; } },
    WINDOWS.map((w) => h("option", { value: w, selected: w === current }, w)));
  return h("p", {}, h("label", {}, "window ", select));
}

function unavailable(part) {
  return part && part.error ? h("p", { class: "muted" }, part.error) : null;
}

function driftSection(drift) {
  if (!drift || drift.error) return section("Drift", unavailable(drift) || h("p", { class: "muted" }, "no drift report"));
  const verdict = drift.dataset_drift ? badge("dataset drift", "bad") : badge("no dataset drift", "ok");
  const rows = drift.features.map((f) => [f.name, f.role, f.test || "—", show(f.statistic), show(f.adjusted_p_value),
    show(f.psi), `${show(f.reference_rows)} / ${show(f.current_rows)}`, verdictOf(f)]);
  const charts = drift.features.filter((f) => f.histogram && (f.histogram.reference || []).length).slice(0, CHARTS);
  return section("Drift", h("p", {}, verdict, " ", `${percent(drift.drift_share)} of features drifted; `,
    `prediction drift: ${drift.prediction_drift ? "yes" : "no"}; ${show(drift.reference_rows)} reference rows, ${show(drift.current_rows)} current rows`),
  table(["feature", "role", "test", "statistic", "adjusted p", "PSI", "rows ref / current", "verdict"], rows, { id: "drift" }),
  h("h3", {}, "reference (grey) vs current (orange)"),
  h("div", { class: "charts", id: "drift-charts" }, charts.map(featureChart)));
}

function verdictOf(feature) {
  if (feature.drifted) return badge("drifted", "bad");
  return feature.status === "ok" ? badge("stable", "ok") : badge(feature.status, "info");
}

function featureChart(feature) {
  const hist = feature.histogram;
  const labels = hist.categories || (hist.edges || []).slice(0, -1).map((e) => show(e));
  return h("figure", { class: "feature" }, histogram(hist.reference, hist.current, labels.map(String)),
    h("figcaption", {}, feature.name, " ", verdictOf(feature)));
}

function performanceSection(perf) {
  if (!perf || perf.error) return section("Performance", unavailable(perf) || h("p", { class: "muted" }, "no labels"));
  const rows = metricRows("all versions", perf);
  for (const [version, part] of Object.entries(perf.versions || {})) rows.push(...metricRows(`version ${version}`, part));
  const first = Object.keys(perf.metrics || {})[0];
  const points = (perf.timeline || []).map((t) => (first && t.metrics ? t.metrics[first] ?? null : null));
  return section("Performance", h("p", {}, `${show(perf.labelled_rows)} labelled rows of ${show(perf.predictions)} predictions (${perf.task || "task unknown"})`),
    table(["scope", "labelled rows", "metric", "value", "95% interval"], rows, { id: "performance" }),
    first ? [h("h3", {}, `${first} over the window`), line(points)] : null,
    Object.keys(perf.estimated || {}).length ? h("p", { class: "muted" }, `estimated without labels: ${JSON.stringify(perf.estimated)}`) : null);
}

function metricRows(scope, part) {
  return Object.entries(part.metrics || {}).map(([metric, value]) => {
    const ci = (part.intervals || {})[metric];
    return [scope, show(part.labelled_rows), metric, show(value, 4), ci ? `${show(ci.low, 4)} – ${show(ci.high, 4)}` : "—"];
  });
}

function healthSection(health) {
  if (!health || health.error) return section("Health", unavailable(health) || h("p", { class: "muted" }, "no requests"));
  const row = (scope, part) => [scope, show(part.requests), show(part.errors), percent(part.error_rate),
    show(part.rate_per_second), ...["p50", "p95", "p99"].map((p) => show((part.latency_ms || {})[p]))];
  const rows = [row("all versions", health), ...Object.entries(health.versions || {}).map(([v, part]) => row(`version ${v}`, part))];
  return section("Health", table(["scope", "requests", "errors", "error rate", "requests/s", "p50 ms", "p95 ms", "p99 ms"],
    rows, { id: "health" }));
}
