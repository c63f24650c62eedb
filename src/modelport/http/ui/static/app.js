// The dashboard shell: a hash router over the pages, the API-key prompt, confirmations and notices.

import { api, ApiError, currentKey, forgetKey, keepKey } from "./api.js";
import { append, errorBox, h } from "./dom.js";
import { WINDOWS, monitoring } from "./monitor.js";
import { alerts, audit, model, overview } from "./pages.js";

const view = document.getElementById("view");
const notice = document.getElementById("notice");

/** Confirmations and outcomes of actions, shared by every page. */
const notify = {
  confirm(question) {
    const dialog = document.getElementById("confirm");
    document.getElementById("confirm-text").textContent = question;
    dialog.returnValue = "";
    dialog.showModal();
    return new Promise((resolve) => dialog.addEventListener("close", () => resolve(dialog.returnValue === "ok"), { once: true }));
  },
  async attempt(call, success, then) {
    try {
      await call();
      show(success, "ok");
      then();
    } catch (error) {
      show(error instanceof ApiError ? error.message : String(error), "bad");
    }
  },
};

function show(message, kind) {
  notice.replaceChildren(message);
  notice.className = `notice ${kind}`;
  notice.hidden = false;
}

/** The page a hash names: `#/`, `#/models/N`, `#/models/N/monitoring?window=1h`, `#/alerts`, `#/audit`. */
function resolve(hash) {
  const [path, query] = hash.replace(/^#/, "").split("?");
  const parts = path.split("/").filter(Boolean).map(decodeURIComponent);
  const params = new URLSearchParams(query || "");
  if (!parts.length) return overview;
  if (parts[0] === "models" && parts.length === 2) return () => model(parts[1], notify);
  if (parts[0] === "models" && parts[2] === "monitoring") {
    const window = WINDOWS.includes(params.get("window")) ? params.get("window") : "1h";
    return () => monitoring(parts[1], window);
  }
  if (parts[0] === "alerts") return alerts;
  if (parts[0] === "audit") return audit;
  return async () => [errorBox(`no such page: ${path}`)];
}

async function render() {
  const page = resolve(location.hash);
  view.setAttribute("aria-busy", "true");
  delete view.dataset.rendered;
  try {
    const content = await page();
    view.replaceChildren();
    append(view, content);
  } catch (error) {
    view.replaceChildren();
    if (error instanceof ApiError && error.status === 401) append(view, keyPrompt(currentKey() ? error.message : null));
    else append(view, [h("h1", {}, "Could not load this page"), errorBox(error.message || String(error))]);
  } finally {
    view.setAttribute("aria-busy", "false");
    view.dataset.rendered = location.hash || "#/";  // which page is on screen (tests wait for it)
    document.getElementById("forget").hidden = !currentKey();
  }
}

/** The form asking for an API key (kept in sessionStorage for this tab only). */
function keyPrompt(problem) {
  const input = h("input", { id: "api-key", type: "password", autocomplete: "off", required: true, size: 48 });
  const submit = async (event) => {
    event.preventDefault();
    keepKey(input.value.trim());
    try {
      await api("/models");
    } catch (error) {
      if (error instanceof ApiError && (error.status === 401 || error.status === 403)) forgetKey();
      view.replaceChildren(keyPrompt(error.message));
      return;
    }
    notice.hidden = true;
    render();
  };
  return h("form", { id: "key-form", class: "card", onsubmit: submit },
    h("h1", {}, "API key"),
    h("p", {}, "This server wants an API key with the read scope (manage to promote, abort or move aliases; admin for the audit log). ",
      "It stays in this tab only and is sent as an Authorization header."),
    problem ? errorBox(problem) : null,
    h("label", {}, "key ", input), " ", h("button", { type: "submit" }, "Use this key"));
}

document.getElementById("forget").addEventListener("click", () => { forgetKey(); render(); });
window.addEventListener("hashchange", render);
render();
