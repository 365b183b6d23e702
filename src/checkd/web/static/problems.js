// checkd dashboard: the status line naming every current problem, and the tab title and favicon that match it.

import { clock, count, pct, span } from "./format.js";
import { grade, limits } from "./levels.js";

const $ = (id) => document.getElementById(id);
const SHORT = { cpu_percent: "cpu", mem_percent: "memory", disk_percent: "disk" };
const COLOURS = { ok: "#15803d", warn: "#d97706", bad: "#b91c1c", lost: "#475569" };

function over(metric, value, path) {
  const g = grade(metric, value, path);
  if (g !== "warn" && g !== "bad") return null;
  const l = limits(metric, path);
  const limit = g === "bad" ? l.bad : l.warn;
  const name = path ? `${SHORT[metric]} ${path}` : SHORT[metric];
  return { level: g, text: `${name} ${pct(value)} > ${limit} %`, names: `${name} over ${limit} %` };
}

/** Every problem in `snap` (what the last refresh read), worst first: [{level, text, names}]; `names`
 * (when given) is the text without what changes on every refresh (a value, an age), for announcing. */
export function problemsOf(snap) {
  const out = [];
  if (snap.lost) out.push({ level: "bad", text: `connection lost: checkd has not answered since ${clock(snap.lost)}` });
  const h = snap.health;
  if (h && h.database && h.database !== "ok") out.push({ level: "bad", text: `database unavailable: ${h.database}` });
  if (snap.samplerFailing) out.push({ level: "bad", text: `sampler failing${snap.samplerError ? `: ${snap.samplerError}` : ""}` });
  for (const f of snap.probes || []) {
    out.push({ level: "warn", text: `probe ${f.probe} failing since ${clock(f.failing_since)}: ${f.last_error}` });
  }
  for (const e of snap.endpoints || []) {
    if (e.up === false) out.push({ level: "bad", text: `endpoint check ${e.name} down${e.error ? `: ${e.error}` : ""}` });
  }
  if (snap.stale) {
    out.push({ level: "warn", text: `newest check ${snap.stale} old (stale: over 3× the ${span(snap.interval)} interval)`, names: "newest check stale" });
  }
  if (h && h.upkeep && h.upkeep !== "ok") out.push({ level: "warn", text: `upkeep ${h.upkeep} (rollups)` });
  for (const svc of snap.services || []) {
    if (svc.state !== "active") {
      out.push({ level: svc.state === "failed" ? "bad" : "warn", text: svc.problem || `${svc.name} ${svc.state}`, names: `${svc.name} ${svc.state}` });
    }
  }
  for (const a of snap.alerts || []) {
    if (a.state === "firing" || a.state === "gave-up") out.push({ level: a.severity === "critical" ? "bad" : "warn", text: `alert ${a.rule} ${a.state}: ${a.summary}` });
  }
  const c = snap.latest;
  if (c && !snap.stale) {
    const found = [over("cpu_percent", c.cpu), c.memory && over("mem_percent", c.memory.percent),
      ...c.disks.map((d) => over("disk_percent", d.percent, d.path))];
    out.push(...found.filter(Boolean));
  }
  return out.sort((a, b) => (a.level === "bad" ? 0 : 1) - (b.level === "bad" ? 0 : 1));
}

function favicon(colour) {
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><circle cx="8" cy="8" r="7" fill="${colour}"/></svg>`;
  return `data:image/svg+xml,${encodeURIComponent(svg)}`;
}

/** Draw the status line, the title and the favicon for `problems` of `host`. */
export function renderProblems(problems, host, lost) {
  const worst = lost ? "lost" : problems.some((p) => p.level === "bad") ? "bad" : problems.length ? "warn" : "ok";
  const text = problems.length
    ? `${count(problems.length, "problem")}: ${problems.map((p) => p.text).join(" · ")}`
    : "No problems";
  const line = $("status");
  line.dataset.level = worst;
  line.dataset.problems = String(problems.length);
  if ($("status-text").textContent !== text) $("status-text").textContent = text;
  // Screen readers hear the problems when which ones there are changes, not each new value or age.
  const heard = problems.length ? `${count(problems.length, "problem")}: ${problems.map((p) => p.names || p.text).join(" · ")}` : "No problems";
  if ($("status-live").textContent !== heard) $("status-live").textContent = heard;
  const title = `${problems.length ? `(${problems.length}) ` : ""}checkd · ${host}`;
  if (document.title !== title) document.title = title;
  const icon = $("favicon");
  if (icon.dataset.level !== worst) {
    icon.dataset.level = worst;
    icon.href = favicon(COLOURS[worst]);
  }
}
