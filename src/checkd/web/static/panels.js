// checkd dashboard: the endpoint-checks panel and the top-processes table (text only, no HTML from data).

import { bytes, clock, count, num, pct } from "./format.js";
import { age, el } from "./view.js";

const $ = (id) => document.getElementById(id);

function upBadge(up) {
  const word = up === null || up === undefined ? "pending" : up ? "up" : "down";
  return el("span", { className: `state probe-${word}`, dataset: { state: word } }, word);
}

const ms = (v) => (v === null || v === undefined ? "–" : `${num(Math.round(v))} ms`);
const days = (v) => (v === null || v === undefined ? "–" : v < 0 ? "expired" : `${count(Math.floor(v), "day")} left`);

/** Endpoint checks and their latest results: /api/v2/probes rows, or a remote check's probes[]. */
export function renderProbes(probes, note) {
  $("probes-empty").hidden = probes.length > 0;
  $("probes-empty").textContent = note || "no endpoint checks configured ([[probes.http]], [[probes.tcp]])";
  $("probes-body").closest("table").hidden = probes.length === 0;
  $("probes-body").replaceChildren(...probes.map((p) => el("tr", { dataset: { probe: p.name, up: String(p.up) } },
    el("td", {}, el("strong", {}, p.name), el("span", { className: "muted small" }, ` ${p.kind} ${p.target || ""}`)),
    el("td", {}, upBadge(p.up), p.status_code ? ` ${p.status_code}` : ""),
    el("td", { className: "num" }, ms(p.latency_ms)),
    el("td", { className: p.cert_days_left !== null && p.cert_days_left < 14 ? "error-text" : "" }, days(p.cert_days_left)),
    el("td", {}, p.checked_at ? age(p.checked_at) : "–", p.checked_at ? ` (${clock(p.checked_at)})` : ""),
    el("td", { className: "msg error-text", title: p.error || "" }, p.error || ""))));
}

/** The top processes by cpu (read live); `note` replaces them (another host, or the read failed). */
export function renderProcesses(rows, note) {
  $("processes-empty").hidden = !note;
  $("processes-empty").textContent = note || "";
  $("processes-body").closest("table").hidden = Boolean(note);
  $("processes-body").replaceChildren(...rows.map((r) => el("tr", { dataset: { pid: String(r.pid) } },
    el("td", { className: "num" }, String(r.pid)),
    el("td", { title: (r.cmdline || []).join(" ") }, r.name),
    el("td", {}, r.user || "–"),
    el("td", { className: "num" }, pct(r.cpu_percent)),
    el("td", { className: "num" }, bytes(r.memory_rss)),
    el("td", {}, r.state))));
}
