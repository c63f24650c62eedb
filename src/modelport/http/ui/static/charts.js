// Small SVG charts drawn here (no chart library, nothing from a CDN); labels are text nodes.

import { h, show } from "./dom.js";

const NS = "http://www.w3.org/2000/svg";
const REFERENCE = "#8aa1b1";
const CURRENT = "#d9822b";

function svg(tag, attrs, ...children) {
  const node = document.createElementNS(NS, tag);
  for (const [name, value] of Object.entries(attrs || {})) node.setAttribute(name, String(value));
  for (const child of children) node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  return node;
}

/** Reference (grey) and current (orange) shares side by side per bin, with a tooltip per bar. */
export function histogram(reference, current, labels, width = 320, height = 130) {
  const bins = Math.max(reference.length, current.length, 1);
  const top = Math.max(...reference, ...current, 1e-9);
  const plot = height - 20;
  const slot = width / bins;
  const bar = Math.max(1, slot / 2 - 1);
  const chart = svg("svg", { width, height, viewBox: `0 0 ${width} ${height}`, role: "img", class: "chart" });
  chart.append(svg("title", {}, "reference (grey) and current (orange) share of rows per bin"));
  for (let i = 0; i < bins; i += 1) {
    const pair = [[reference[i] || 0, REFERENCE, "reference"], [current[i] || 0, CURRENT, "current"]];
    pair.forEach(([value, colour, what], j) => {
      const tall = (value / top) * plot;
      const rect = svg("rect", { x: i * slot + j * (bar + 1), y: plot - tall, width: bar, height: tall, fill: colour });
      rect.append(svg("title", {}, `${labels[i] ?? i}: ${what} ${(value * 100).toFixed(1)}%`));
      chart.append(rect);
    });
  }
  chart.append(svg("line", { x1: 0, y1: plot, x2: width, y2: plot, stroke: "#999" }));
  chart.append(svg("text", { x: 0, y: height - 4, class: "axis" }, labels[0] ?? ""));
  chart.append(svg("text", { x: width, y: height - 4, class: "axis", "text-anchor": "end" }, labels[bins - 1] ?? ""));
  return chart;
}

/** A line over evenly spaced points (nulls leave gaps), with the first and last values labelled. */
export function line(points, width = 600, height = 120) {
  const values = points.filter((p) => p !== null && p !== undefined);
  const chart = svg("svg", { width, height, viewBox: `0 0 ${width} ${height}`, role: "img", class: "chart" });
  if (!values.length) {
    chart.append(svg("text", { x: 8, y: height / 2, class: "axis" }, "no labelled rows in this window"));
    return chart;
  }
  const low = Math.min(...values);
  const high = Math.max(...values);
  const span = high - low || 1;
  const x = (i) => (points.length > 1 ? (i / (points.length - 1)) * (width - 10) + 5 : width / 2);
  const y = (v) => height - 18 - ((v - low) / span) * (height - 30);
  let path = "";
  points.forEach((p, i) => {
    if (p === null || p === undefined) return;
    path += `${path && points[i - 1] != null ? "L" : "M"}${x(i).toFixed(1)},${y(p).toFixed(1)} `;
    chart.append(svg("circle", { cx: x(i), cy: y(p), r: 2.5, fill: CURRENT }, svg("title", {}, show(p))));
  });
  chart.prepend(svg("path", { d: path.trim(), fill: "none", stroke: CURRENT, "stroke-width": 2 }));
  chart.append(svg("text", { x: 4, y: height - 3, class: "axis" }, `min ${show(low)}`));
  chart.append(svg("text", { x: width - 4, y: height - 3, class: "axis", "text-anchor": "end" }, `max ${show(high)}`));
  return chart;
}

/** Traffic per version as one stacked bar with a legend: {"2": 10, "1": 90}. */
export function traffic(split) {
  const entries = Object.entries(split || {}).filter(([, pct]) => pct > 0);
  const bar = h("div", { class: "traffic", role: "img", "aria-label": "traffic per version" });
  const legend = h("div", { class: "legend" });
  entries.forEach(([version, pct], i) => {
    const part = h("span", { class: `slice c${i % 4}` }, `v${version} ${show(pct)}%`);
    part.style.width = `${Math.max(Number(pct), 4)}%`;
    bar.append(part);
    legend.append(h("span", { class: "traffic-entry", "data-version": version }, `version ${version}: ${show(pct)}%`));
  });
  return h("div", {}, bar, legend);
}
