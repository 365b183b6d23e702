// checkd dashboard: the alerts panel (firing first, a colour and a word per state, a silence button).

import { api, ApiError, Cancelled, control, explain } from "./api.js";
import { clock } from "./format.js";
import { el } from "./view.js";

const $ = (id) => document.getElementById(id);
const ORDER = { firing: 0, "gave-up": 1, pending: 2, resolved: 3 };
const SILENCE_FOR = "1h";
const when = clock;

/** Alerts in the order a person should look at them: firing, gave-up, pending, resolved; newest first. */
export function ordered(items) {
  return [...items].sort((a, b) => (ORDER[a.state] - ORDER[b.state]) || (b.id - a.id));
}

function badge(state) {
  return el("span", { className: `state alert-${state}`, dataset: { state } }, state);
}

function row(a) {
  const silenced = a.silenced_until && new Date(a.silenced_until) > new Date();
  const button = el("button", {
    type: "button", textContent: silenced ? "silenced" : `silence ${SILENCE_FOR}`,
    disabled: a.state === "resolved" || silenced, dataset: { silence: String(a.id) },
  });
  return el("tr", { dataset: { alert: String(a.id), state: a.state } },
    el("td", {}, badge(a.state)),
    el("td", {}, el("span", { className: "svc-name" }, a.rule), el("code", { className: "unit" }, a.severity)),
    el("td", { className: "msg" }, a.summary),
    el("td", {}, when(a.started_at)),
    el("td", {}, silenced ? `until ${when(a.silenced_until)}` : "–"),
    el("td", { className: "buttons" }, button));
}

/** Fetch and draw the newest alerts of `host` (null: this checkd's); the alerts, or the ApiError.
 * `conditional`: an unchanged answer costs only its headers (see api()). */
export async function loadAlerts(host, conditional = false) {
  const query = host ? `&host=${encodeURIComponent(host)}` : "";
  let page;
  try {
    page = await api(`/api/v2/alerts?limit=50${query}`, { conditional });
  } catch (err) {
    if (err instanceof ApiError && err.status !== 0) {
      $("alerts-empty").textContent = `alerts unavailable: ${err.detail}`;
      $("alerts-empty").hidden = false;
    }
    return err;
  }
  const items = ordered(page.items);
  const firing = items.filter((a) => a.state === "firing" || a.state === "gave-up").length;
  $("alerts-count").textContent = firing ? `${firing} firing` : "";
  $("alerts-empty").textContent = "no alerts";
  $("alerts-empty").hidden = items.length > 0;
  $("alerts-body").closest("table").hidden = items.length === 0;
  $("alerts-body").replaceChildren(...items.map(row));
  $("alerts").classList.toggle("healthy", firing === 0);
  return items;
}

/** Silence buttons: POST .../silence with the token, then tell the user and redraw. */
export function wireAlerts(notice, reload) {
  $("alerts-body").addEventListener("click", async (ev) => {
    const button = ev.target.closest("button[data-silence]");
    if (!button || button.disabled) return;
    const what = `silence alert ${button.dataset.silence}`;
    button.disabled = true;
    try {
      const alert = await control(`/api/v2/alerts/${button.dataset.silence}/silence`, { body: { for: SILENCE_FOR } });
      notice(`${alert.rule}: silenced until ${when(alert.silenced_until)}`, "ok");
    } catch (err) {
      if (!(err instanceof Cancelled)) notice(explain(err, what));
    }
    reload();
  });
}
