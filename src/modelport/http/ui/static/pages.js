// The pages: overview, one model (versions, aliases, deployment, rollout, actions), alerts, audit.

import { api, seg } from "./api.js";
import { traffic } from "./charts.js";
import { badge, h, link, pairs, section, show, table, when } from "./dom.js";

const STATE_KIND = { running: "warn", paused: "warn", promoted: "ok", completed: "ok", rolled_back: "bad",
  aborted: "bad", none: "info" };
const CHECK_KIND = { pass: "ok", fail: "bad", insufficient: "info" };

/** Every model: versions, aliases, which versions serve and the rollout state. */
export async function overview() {
  const { models } = await api("/models");
  const statuses = await Promise.all(models.map((m) => api(`/rollouts/${seg(m.name)}`).catch((e) => ({ error: e }))));
  const rows = models.map((m, i) => [
    link(m.name, "models", m.name),
    m.description || h("span", { class: "muted" }, "—"),
    pairs(m.tags),
    show(m.latest_version),
    pairs(m.aliases),
    serving(statuses[i]),
    rolloutState(statuses[i]),
    link("monitoring", "models", m.name, "monitoring"),
  ]);
  return [h("h1", {}, "Models"),
    table(["model", "description", "tags", "latest", "aliases", "serving", "rollout", ""], rows, { id: "models" })];
}

function serving(status) {
  if (status.error) return h("span", { class: "muted" }, status.error.message);
  const parts = Object.entries(status.traffic || {}).filter(([, pct]) => pct > 0);
  return parts.map(([v, pct]) => `v${v} ${show(pct)}%`).join(", ") || "—";
}

function rolloutState(status) {
  if (status.error) return "—";
  const text = status.state === "none" ? "no rollout" : `${status.strategy} ${status.state}`;
  return badge(text, STATE_KIND[status.state]);
}

/** One model: header, deployment and rollout, aliases with history, versions; actions for manage keys. */
export async function model(name, notify) {
  const base = `/models/${seg(name)}`;
  const [info, status] = await Promise.all([api(base), api(`/rollouts/${seg(name)}`)]);
  const histories = await Promise.all(Object.keys(info.aliases).map((a) => api(`${base}/aliases/${seg(a)}`)));
  const refresh = () => window.dispatchEvent(new HashChangeEvent("hashchange"));
  return [
    h("h1", {}, h("span", { id: "model-name" }, info.name), " ", link("monitoring →", "models", name, "monitoring")),
    h("p", { class: "description" }, info.description || ""),
    h("p", {}, "tags: ", pairs(info.tags)),
    rolloutSection(name, status, notify, refresh),
    aliasSection(name, info, histories, notify, refresh),
    versionSection(info, status.traffic || {}),
  ];
}

function rolloutSection(name, status, notify, refresh) {
  const facts = h("dl", { class: "facts" },
    fact("strategy", status.strategy), fact("state", badge(status.state, STATE_KIND[status.state])),
    fact("step", status.steps ? `${status.step + 1} of ${status.steps.length} (${status.steps.join("% → ")}%)` : show(status.step)),
    fact("candidate", status.candidate ?? "—"), fact("stable", status.stable ?? "—"),
    fact("champion", status.champion ?? "—"), fact("reason", status.reason || "—"));
  const analysis = (status.analysis && status.analysis.analysis) || {};
  const checks = (analysis.checks || []).map((c) => [c.check, badge(c.status, CHECK_KIND[c.status]), c.reason || "",
    pairs(Object.fromEntries(Object.entries(c).filter(([k]) => !["check", "status", "reason"].includes(k))))]);
  const events = (status.events || []).map((e) => [when(e.at), show(e.step), e.decision, e.reason || "", e.actor || ""]);
  const live = ["running", "paused"].includes(status.state);
  return section("Deployment and rollout", facts, h("h3", {}, "traffic"), traffic(status.traffic),
    status.analysis && status.analysis.waiting ? h("p", { class: "muted" }, status.analysis.waiting) : null,
    h("h3", {}, "checks of the current step"), table(["check", "status", "reason", "statistics"], checks, { id: "checks" }),
    h("h3", {}, "decisions"), table(["at", "step", "decision", "reason", "by"], events, { id: "decisions" }),
    live ? rolloutActions(name, notify, refresh) : null);
}

function fact(term, value) {
  return [h("dt", {}, term), h("dd", {}, value)];
}

function rolloutActions(name, notify, refresh) {
  const act = (verb, question) => async () => {
    if (!(await notify.confirm(question))) return;
    await notify.attempt(() => api(`/rollouts/${seg(name)}/${verb}`, { method: "POST" }), `rollout ${verb}d`, refresh);
  };
  return h("div", { class: "actions" },
    h("button", { id: "promote", onclick: act("promote", `Promote the rollout of ${name}? The candidate takes all traffic and becomes champion.`) }, "Promote"),
    h("button", { id: "abort", class: "danger", onclick: act("abort", `Abort the rollout of ${name}? All traffic goes back to the stable version.`) }, "Abort"));
}

function aliasSection(name, info, histories, notify, refresh) {
  const rows = histories.map((a) => [a.alias, link(`v${a.version}`, "models", name),
    h("ul", { class: "history" }, a.history.map((m) => h("li", {},
      `${when(m.at)}: ${m.from_version ?? "—"} → ${m.to_version ?? "removed"} by ${m.actor}`)))]);
  return section("Aliases", table(["alias", "version", "history"], rows, { id: "aliases" }),
    aliasForm(name, info, notify, refresh));
}

function aliasForm(name, info, notify, refresh) {
  const alias = h("input", { id: "alias-name", name: "alias", required: true, maxlength: 128, list: "alias-names",
    placeholder: "champion" });
  const known = h("datalist", { id: "alias-names" }, Object.keys(info.aliases).map((a) => h("option", { value: a })));
  const version = h("select", { id: "alias-version", name: "version" },
    info.versions.map((v) => h("option", { value: v.version }, `version ${v.version} (${v.status})`)));
  const submit = async (event) => {
    event.preventDefault();
    const target = Number(version.value);
    if (!(await notify.confirm(`Point ${name}@${alias.value} at version ${target}?`))) return;
    await notify.attempt(() => api(`/models/${seg(name)}/aliases/${seg(alias.value)}`,
      { method: "PUT", body: { version: target } }), `alias ${alias.value} now points at version ${target}`, refresh);
  };
  return h("form", { class: "actions", id: "alias-form", onsubmit: submit },
    h("label", {}, "move alias ", alias), known, h("label", {}, " to ", version), h("button", { type: "submit" }, "Move"));
}

function versionSection(info, split) {
  const rows = info.versions.map((v) => [
    `v${v.version}`, badge(v.status, v.status === "ready" ? "ok" : "info"), v.flavor,
    h("code", { title: v.artifact.digest }, v.artifact.digest.slice(0, 19) + "…"),
    pairs(v.metrics, 4), pairs(v.params), pairs(v.lineage), pairs(v.tags),
    (v.aliases || []).join(", ") || "—", split[String(v.version)] ? `${show(split[String(v.version)])}%` : "—",
    `${when(v.created_at)} by ${v.registered_by || "?"}`,
  ]);
  return section("Versions", table(["version", "status", "flavor", "digest", "metrics", "params", "lineage", "tags",
    "aliases", "traffic", "registered"], rows, { id: "versions" }));
}

/** Alerts of every model: the rules firing now, then the history of fired and resolved. */
export async function alerts() {
  const { models } = await api("/models");
  const per = await Promise.all(models.map(async (m) => {
    const [rules, events] = await Promise.all([api(`/alerts/${seg(m.name)}/rules`), api(`/alerts/${seg(m.name)}/events?limit=50`)]);
    return { rules: rules.rules, events: events.events };
  }));
  const rules = per.flatMap((p) => p.rules);
  const events = per.flatMap((p) => p.events).sort((a, b) => (a.at < b.at ? 1 : -1));
  const firing = rules.filter((r) => r.firing);
  return [h("h1", {}, "Alerts"),
    section(`Firing now (${firing.length})`, table(["model", "rule", "signal", "condition", "severity", "last fired"],
      firing.map((r) => [link(r.model, "models", r.model), r.name, r.signal, `${r.op} ${show(r.threshold)} over ${r.window}`,
        badge(r.severity, "bad"), when(r.last_fired_at)]), { id: "firing" })),
    section("Rules", table(["model", "rule", "signal", "condition", "state"], rules.map((r) => [r.model, r.name,
      r.signal, `${r.op} ${show(r.threshold)} over ${r.window} (${r.k} of ${r.m})`,
      r.firing ? badge("firing", "bad") : badge("ok", "ok")]), { id: "rules" })),
    section("History", table(["at", "model", "rule", "event", "value", "threshold", "severity"], events.map((e) => [
      when(e.at), e.model, e.rule, badge(e.kind, e.kind === "fired" ? "bad" : "ok"), show(e.value), show(e.threshold),
      e.severity]), { id: "alert-history" }))];
}

/** The audit log, newest first (admin keys only). */
export async function audit() {
  const { entries } = await api("/audit?limit=200");
  return [h("h1", {}, "Audit log"), table(["at", "actor", "action", "target", "outcome", "address", "details"],
    entries.map((e) => [when(e.at), e.actor, e.action, e.target, badge(e.outcome, e.outcome === "ok" ? "ok" : "bad"),
      e.address || "—", h("code", { class: "details" }, JSON.stringify(e.details))]), { id: "audit" })];
}

