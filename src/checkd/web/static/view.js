// checkd dashboard: rendering panels from API answers (text only: no HTML from data is parsed).

import { ago, bytes, clock, count, pct } from "./format.js";
import { grade } from "./levels.js";

const $ = (id) => document.getElementById(id);
const STATES = ["active", "inactive", "failed", "activating", "deactivating", "unknown", "not-found"];

export function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (key === "dataset") Object.assign(node.dataset, value);
    else if (key in node) node[key] = value;
    else node.setAttribute(key, value);
  }
  for (const child of children) node.append(child);
  return node;
}

/** An element whose text is kept as "12 s ago" by the age ticker (data-at). */
export function age(at, prefix = "") {
  return el("span", { className: "age", dataset: { at: at || "", prefix } }, `${prefix}${ago(at)}`);
}

/** In element `id`, how old the values of its panel are: "· read 12 s ago" from `at` (Unix s, or an
 * ISO time), kept by the age ticker; nothing without a time. */
export function ageOf(id, at, words = "read") {
  const iso = typeof at === "number" ? new Date(at * 1000).toISOString() : at;
  $(id).replaceChildren(...(iso ? [age(iso, `· ${words} `)] : []));
}

/** Rewrite every age on the page (once a second). */
export function tickAges() {
  for (const node of document.querySelectorAll(".age[data-at]")) {
    if (node.dataset.at) node.textContent = `${node.dataset.prefix || ""}${ago(node.dataset.at)}`;
  }
}

/** A state shown as a colour and a word. */
export function stateBadge(value) {
  const word = STATES.includes(value) ? value : "unknown";
  return el("span", { className: `state state-${word}`, dataset: { state: word } }, word);
}

function bar(metric, percent, path) {
  const fill = el("span", { className: `fill lvl-${grade(metric, percent, path)}` });
  fill.style.width = `${Math.max(0, Math.min(100, percent || 0))}%`;
  return el("span", { className: "bar-track" }, fill);
}

function setTile(id, text, metric, value) {
  $(id).textContent = text;
  $(id).className = `v lvl-${grade(metric, value)}`;
}

/** The newest check; `stale` greys it and shows the badge. */
export function renderLatest(check, emptyText, stale) {
  $("latest-empty").hidden = Boolean(check);
  $("latest-body").hidden = !check;
  $("latest").classList.toggle("stale", Boolean(check && stale));
  $("latest-stale").hidden = !(check && stale);
  if (!check) {
    $("latest-empty").textContent = emptyText || "no checks yet";
    $("latest-at").replaceChildren();
    return;
  }
  $("latest-at").replaceChildren(age(check.taken_at), ` · ${clock(check.taken_at)} on ${check.host}`);
  setTile("latest-cpu", pct(check.cpu), "cpu_percent", check.cpu);
  const mem = check.memory;
  setTile("latest-mem", mem ? pct(mem.percent) : "–", "mem_percent", mem ? mem.percent : null);
  $("latest-mem-sub").textContent = mem ? `${bytes(mem.total - mem.available)} of ${bytes(mem.total)}` : "";
  const load = check.load;
  $("latest-load").textContent = load
    ? [load.load1, load.load5, load.load15].map((x) => x.toFixed(2)).join(" / ") : "–";
  const rows = check.disks.map((d) => el("tr", { dataset: { path: d.path } },
    el("td", {}, el("code", {}, d.path)),
    el("td", { className: "num" }, bar("disk_percent", d.percent, d.path), ` ${pct(d.percent)}`),
    el("td", { className: "num" }, bytes(d.free)),
    el("td", { className: "num" }, bytes(d.total))));
  if (!rows.length) rows.push(el("tr", {}, el("td", { colSpan: 4, className: "muted" }, "no disk readings")));
  $("disks").tBodies[0].replaceChildren(...rows);
}

/** This checkd's sampler, its counters as read at `countedAt` (Unix s); `error` is {text, since, cleared}
 * (the last error, when first seen, cleared or not). */
export function renderSampler(sampler, health, error, offline, countedAt) {
  const failing = health && health.sampler === "failing";
  const word = failing ? "failing" : sampler.running ? "running" : "stopped";
  const badge = $("sampler-state");
  badge.textContent = word;
  badge.className = `state sampler-${word}`;
  badge.dataset.state = word;
  $("sampler-interval").textContent = `every ${sampler.interval_s} s`;
  const last = sampler.last_check_at ? [`last check `, age(sampler.last_check_at), ` (${clock(sampler.last_check_at)})`] : ["no check taken yet"];
  const note = $("sampler-note");
  if (sampler.running) {
    // The counters are read less often than the newest check: they say how old they are.
    const counted = countedAt ? [", counted ", age(new Date(countedAt * 1000).toISOString())] : [];
    note.replaceChildren(...last, ` · ${count(sampler.checks_total, "check")}, ${count(sampler.errors_total, "error")} since start`,
      ...counted);
  } else {
    note.replaceChildren("The sampler is stopped: no new checks are being taken. ", ...last, ".");
  }
  const box = $("sampler-error");
  box.hidden = !error;
  box.classList.toggle("cleared", Boolean(error && error.cleared));
  if (error) {
    box.replaceChildren(`${error.cleared ? "cleared · " : ""}last error, first seen ${clock(error.since)} (`, age(error.since), `): ${error.text}`);
  }
  $("sampler-start").disabled = offline || sampler.running;
  $("sampler-stop").disabled = offline || !sampler.running;
  $("sampler-start").title = $("sampler-stop").title = "";
  $("sampler").classList.toggle("healthy", word === "running" && !(error && !error.cleared));
}

/** Another host's sampler, as far as its checks tell: no control from here. */
export function renderRemoteSampler(host, lastAt, interval, stale) {
  const word = stale ? "stale" : lastAt ? "running" : "stopped";
  const badge = $("sampler-state");
  badge.textContent = word === "running" ? "sending checks" : word === "stale" ? "stale" : "no checks";
  badge.className = `state sampler-${word}`;
  badge.dataset.state = word;
  $("sampler-interval").textContent = interval ? `about every ${interval} s (from its checks)` : "";
  $("sampler-note").replaceChildren(`${host} is sampled by its own checkd. `,
    ...(lastAt ? ["Last check ", age(lastAt), ` (${clock(lastAt)}).`] : ["No check stored yet."]));
  $("sampler-error").hidden = true;
  for (const id of ["sampler-start", "sampler-stop"]) {
    $(id).disabled = true;
    $(id).title = `the sampler of ${host} is controlled through its own checkd`;
  }
  $("sampler").classList.toggle("healthy", word === "running");
}

function result(a) {
  if (a.ok) return el("td", { className: "ok-text" }, "ok");
  const refused = [401, 403, 404, 409].includes(a.status);
  return el("td", { className: "error-text" }, `${refused ? "refused" : "failed"} (${a.status})`);
}

export function renderActions(actions) {
  $("actions-empty").hidden = actions.length > 0;
  $("actions-body").closest("table").hidden = actions.length === 0;
  $("actions-body").replaceChildren(...actions.map((a) => el("tr", { id: `action-${a.id}`, dataset: { action: String(a.id) } },
    el("td", {}, clock(a.at)),
    el("td", {}, a.actor),
    el("td", {}, a.service),
    el("td", {}, a.action),
    result(a),
    el("td", { className: "msg", title: a.message }, a.message))));
  markFollowed();
}

/** Highlight the row the address names (#action-N). The browser's :target does not apply to a row drawn
 * after the page loaded, which is every row here. */
export function markFollowed() {
  for (const row of $("actions-body").children) row.classList.toggle("followed", `#${row.id}` === location.hash);
}

export function renderHosts(hosts, selected, local) {
  const names = hosts.map((h) => h.name);
  if (!names.includes(local)) names.unshift(local);
  if (!names.includes(selected)) names.push(selected);
  $("host-picker").hidden = names.length < 2;
  const select = $("host-select");
  const byName = new Map(hosts.map((h) => [h.name, h]));
  const labels = names.map((name) => {
    const h = byName.get(name);
    return `${name}${name === local ? " (this checkd)" : ""}${h ? ` · ${count(h.checks, "check")}` : ""}`;
  });
  const current = [...select.options].map((o) => o.textContent).join("\n");
  if (current !== labels.join("\n")) {
    select.replaceChildren(...names.map((name, i) => el("option", { value: name, textContent: labels[i] })));
  }
  select.value = selected;
}

