// DOM building without HTML strings: every value from the server becomes a text node or an
// attribute set by setAttribute, so a registry string can never become markup (no HTML is ever parsed).

/** An element with attributes, listeners (functions under on* names) and children. */
export function h(tag, attrs, ...children) {
  const node = document.createElement(tag);
  setAttributes(node, attrs);
  append(node, children);
  return node;
}

/** Set attributes; `on<event>` names take functions only, never strings of code. */
export function setAttributes(node, attrs) {
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith("on")) {
      if (typeof value !== "function") throw new TypeError(`listener ${name} must be a function`);
      node.addEventListener(name.slice(2), value);
    } else if (name === "class") {
      node.className = String(value);
    } else {
      node.setAttribute(name, value === true ? "" : String(value));
    }
  }
}

/** Append children: nodes as they are, everything else as text. */
export function append(node, children) {
  for (const child of [children].flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

/** A link to a dashboard page; the parts are URL-encoded, so names cannot change the route. */
export function link(text, ...parts) {
  return h("a", { href: route(...parts) }, text);
}

/** The hash of a dashboard page from its path parts. */
export function route(...parts) {
  return "#/" + parts.map((p) => encodeURIComponent(String(p))).join("/");
}

/** A table with a header row; each row is a list of cells (text or nodes). */
export function table(headers, rows, attrs) {
  const head = h("thead", {}, h("tr", {}, headers.map((text) => h("th", { scope: "col" }, text))));
  const body = h("tbody", {}, rows.map((cells) => h("tr", {}, cells.map((cell) => h("td", {}, cell)))));
  if (!rows.length) body.append(h("tr", {}, h("td", { colspan: headers.length, class: "muted" }, "none")));
  return h("table", attrs || {}, head, body);
}

/** A titled section of a page. */
export function section(title, ...children) {
  return h("section", { class: "card" }, h("h2", {}, title), ...children);
}

/** A small coloured label: kind is ok, warn, bad or info. */
export function badge(text, kind) {
  return h("span", { class: `badge ${kind || "info"}` }, text);
}

/** A mapping shown as `key=value` chips (numbers to `digits` significant digits). */
export function pairs(mapping, digits) {
  const entries = Object.entries(mapping || {});
  if (!entries.length) return h("span", { class: "muted" }, "—");
  return h("span", { class: "pairs" }, entries.map(([k, v]) => h("code", { class: "pair" }, `${k}=${show(v, digits)}`)));
}

/** A number with a sensible precision, or text as it is. */
export function show(value, digits) {
  if (value === null || value === undefined) return "—";
  if (typeof value === "number") {
    if (Number.isInteger(value)) return String(value);
    return Math.abs(value) >= 1000 ? value.toFixed(0) : value.toPrecision(digits || 3);
  }
  if (typeof value === "object") return JSON.stringify(value);
  return String(value);
}

/** A share (0..1) as a percentage. */
export function percent(value) {
  return value === null || value === undefined ? "—" : `${(value * 100).toFixed(1)}%`;
}

/** An ISO time as `YYYY-MM-DD HH:MM:SS` (UTC, as the server wrote it). */
export function when(iso) {
  return iso ? String(iso).replace("T", " ").slice(0, 19) : "—";
}

/** An error box (role=alert, so screen readers announce it). */
export function errorBox(message) {
  return h("p", { class: "error", role: "alert" }, message);
}
