// checkd dashboard: service rows as incident cards (state since when, an up/down bar, a failed action's output).

import { clock, pct } from "./format.js";
import { el, stateBadge } from "./view.js";

const $ = (id) => document.getElementById(id);
const BUSY_WORDS = { start: "starting…", stop: "stopping…", restart: "restarting…" };

/** Since when `svc` is in its state and who put it there: from its availability buckets (the range
 * starting at `from`, Unix s) and the audit log. `staleAt` is a stale host's newest check time (else
 * null): its states held up to then, not to now. */
export function sinceOf(svc, buckets, actions, from, staleAt = null) {
  const up = svc.state === "active";
  let since = null;
  let about = false;
  let whole = buckets.length > 0;
  for (let i = buckets.length - 1; i >= 0; i--) {
    const b = buckets[i];
    if ((b.avg >= 99.95) !== up && (up || b.avg > 0.05)) {
      whole = false;
      // The newest bucket is part up, part down: the state changed inside it, at about its start.
      if (since === null && b.avg > 0.05 && b.avg < 99.95) { since = b.t; about = true; }
      break;
    }
    since = b.t;
  }
  const step = buckets.length > 1 ? (Date.parse(buckets[1].t) - Date.parse(buckets[0].t)) / 1000 : 0;
  if (whole && buckets.length && Date.parse(buckets[0].t) / 1000 > from + 2 * step) whole = false; // history starts later
  const act = (actions || []).find((a) => a.service === svc.name && a.ok);
  const fits = act && ((up && act.action !== "stop") || (!up && act.action === "stop"));
  if (fits && (!since || Date.parse(act.at) >= Date.parse(since) - 120_000)) {
    return { at: act.at, by: `${act.action === "stop" ? "stopped" : act.action === "start" ? "started" : "restarted"} by ${act.actor}`, whole: false };
  }
  return { at: since, by: "", whole, about, until: staleAt };
}

/** The text after a state: "since 16:04:05 (stopped by dashboard)", "for the whole hour", or a stale
 * host's "in every check up to 16:04:05". */
export function sinceText(since, rangeWord) {
  if (!since || !since.at) return "";
  if (since.whole) return since.until ? `in every check up to ${clock(since.until)}` : `for the whole ${rangeWord}`;
  return `since ${since.about ? "about " : ""}${clock(since.at)}${since.by ? ` (${since.by})` : ""}`;
}

function upDownBar(buckets) {
  const bar = el("span", { className: "updown", role: "img" });
  let total = 0;
  for (const b of buckets) {
    total += b.avg;
    const cls = b.avg >= 99.95 ? "up" : b.avg <= 0.05 ? "down" : "part";
    bar.append(el("i", { className: cls, title: `${clock(b.t)}: ${pct(b.avg)} up` }));
  }
  const avail = buckets.length ? total / buckets.length : null;
  bar.setAttribute("aria-label", avail === null ? "no history" : `${pct(avail)} available`);
  return [bar, el("span", { className: "avail" }, avail === null ? "–" : pct(avail))];
}

function serviceRows(svc, info) {
  const control = svc.control && !info.offline;
  const why = !svc.control ? (svc.remote ? "control only through this host's own checkd" : `${svc.name} has control = false`) : "";
  const buttons = ["start", "stop", "restart"].map((action) => el("button", {
    type: "button",
    textContent: action,
    disabled: !control,
    title: why || `${action} ${svc.name}`,
    dataset: { service: svc.name, action, controllable: String(svc.control) },
  }));
  const row = el("tr", { dataset: { service: svc.name, state: svc.state } },
    el("td", {}, el("span", { className: "svc-name" }, svc.name), svc.unit ? el("code", { className: "unit" }, svc.unit) : ""),
    el("td", { className: "state-cell" }, stateBadge(svc.state), el("span", { className: "since small muted" }, info.since)),
    el("td", { className: "uptime" }, ...upDownBar(info.buckets)),
    el("td", { className: "buttons" }, ...buttons));
  if (!info.failure) return [row];
  const f = info.failure;
  const out = el("tr", { className: `output-row${f.cleared ? " cleared" : ""}`, dataset: { outputOf: svc.name } },
    el("td", { colSpan: 4 },
      el("p", { className: "error-text small" }, `${f.cleared ? "cleared · " : ""}${f.what} failed at ${clock(f.at)}: ${f.reason}`),
      f.output ? el("pre", { className: "output" }, f.output) : ""));
  return [row, out];
}

/** Draw the services; `info(name)` gives {since, buckets, failure, offline}; `busy` rows are kept as they are. */
export function renderServices(services, info, busy, note) {
  $("services-empty").hidden = services.length > 0;
  $("services-body").closest("table").hidden = services.length === 0;
  $("services-note").textContent = note || "";
  const body = $("services-body");
  const rows = services.flatMap((svc) => {
    const old = body.querySelector(`tr[data-service="${CSS.escape(svc.name)}"]`);
    const extra = old && old.nextElementSibling && old.nextElementSibling.dataset.outputOf === svc.name ? [old.nextElementSibling] : [];
    if (old && busy.has(svc.name)) return [old, ...extra]; // keep the "stopping…" row while the action runs
    const i = info(svc.name);
    const key = JSON.stringify([svc.unit, svc.state, svc.control, i.since, i.buckets.map((b) => b.avg), i.failure, i.offline]);
    if (old && old.dataset.key === key) return [old, ...extra]; // unchanged: keep the nodes (no flicker, no lost click)
    const made = serviceRows(svc, i);
    made[0].dataset.key = key;
    return made;
  });
  const same = rows.length === body.children.length && rows.every((r, i) => body.children[i] === r);
  if (!same) body.replaceChildren(...rows);
  const healthy = services.every((s) => s.state === "active");
  $("services").classList.toggle("healthy", healthy && services.length > 0);
}

function rowOf(name) {
  return $("services-body").querySelector(`tr[data-service="${CSS.escape(name)}"]`);
}

/** Show `action` running on `name` (null: done), its buttons disabled meanwhile. */
export function setServiceBusy(name, action) {
  const row = rowOf(name);
  if (!row) return;
  row.classList.toggle("busy", Boolean(action));
  row.dataset.key = "";
  for (const b of row.querySelectorAll("button")) b.disabled = Boolean(action) || b.dataset.controllable !== "true";
  if (action) {
    row.querySelector(".state-cell").replaceChildren(
      el("span", { className: "state state-activating", dataset: { state: "busy" } }, BUSY_WORDS[action]));
  }
}
