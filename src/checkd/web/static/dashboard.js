// checkd dashboard: the panels of one host, the refresh loop and the connection watch (CSP-safe).

import { loadAlerts, wireAlerts } from "./alerts.js";
import { api, ApiError, ensureToken, failed, getToken, setToken } from "./api.js";
import { Cadence } from "./cadence.js";
import { Charts, RANGE_WORDS, RANGES } from "./charts.js";
import { Controls } from "./controls.js";
import { ageS, clock, span, zone } from "./format.js";
import { ActionLog } from "./marks.js";
import { renderProbes, renderProcesses } from "./panels.js";
import { problemsOf, renderProblems } from "./problems.js";
import { renderServices, sinceOf, sinceText } from "./services.js";
import * as view from "./view.js";

const $ = (id) => document.getElementById(id);
const LOCAL_HOST = document.querySelector('meta[name="checkd-host"]').content;
const MAX_PERIOD_S = 15; // refresh at least this often, and once per sampler interval...
const MIN_PERIOD_S = 4; // ...but no more often than this: an open tab's traffic stays small
const CHARTS_S = 120; // between history reads the charts grow from the newest check
const SLOW_S = 30; // availability bars are re-read at most this often
const FIRST_CHART_WAIT_MS = 1500; // the first load holds the other panels' reads until a chart is drawn, or this long
const STALE_FACTOR = 3; // a newest check older than 3 intervals is stale
const CONTROLS = "#services-body button, #sampler button, #alerts-body button";
// Pickers whose change reads again: while checkd does not answer they would only wipe what is drawn.
const PICKERS = "#range button, #host-select";
const ACTIONS_SHOWN = 10; // "Latest actions" shows this many (and down to an older one followed from a marker)

const url = new URLSearchParams(location.search);
const state = {
  host: url.get("host") || LOCAL_HOST,
  range: url.get("range") in RANGES ? url.get("range") : "1h",
  interval: 60,
  intervals: new Map(), // another host's interval, estimated from its checks
  disks: [],
  availability: new Map(), // service -> availability buckets over the range
  availabilityAt: 0,
  serviceStates: "",
  availabilityDirty: 0,
  error: null, // the sampler's last error {text, since, cleared}
  lost: 0, // when checkd last answered before it stopped (ms), 0 while it answers
  okAt: 0, // when the last refresh got answers (ms)
  timer: 0,
  ticks: 0,
  chartsAt: 0,
  downTo: null, // the id of an action followed from a chart marker: "Latest actions" shows down to it
};

let noticeTimer = 0;
function notice(text, kind = "error") {
  clearTimeout(noticeTimer);
  $("notice-text").textContent = `${clock(new Date())} · ${text}`; // when it happened, for a notice left open
  $("notice").className = `notice notice-${kind}`;
  $("notice").hidden = false;
  if (kind === "ok") noticeTimer = setTimeout(() => { $("notice").hidden = true; }, 8000);
}

const controls = new Controls(notice, () => refresh(true));
const cadence = new Cadence(); // what a refresh reads besides the newest check, and when
const charts = new Charts([...document.querySelectorAll(".chart")], null);
const log = new ActionLog((path) => read(path)); // every action in the charted range, for the markers
const remote = () => state.host !== LOCAL_HOST;

function hostParam(prefix = "?") {
  return remote() ? `${prefix}host=${encodeURIComponent(state.host)}` : "";
}

/** The selected host and range in the address bar (so a link or a reload shows the same). */
function keepInUrl() {
  const q = new URLSearchParams();
  if (remote()) q.set("host", state.host);
  if (state.range !== "1h") q.set("range", state.range);
  const search = q.toString() ? `?${q}` : "";
  // The fragment stays: a followed marker's #action-N outlives a range or host change.
  if (search !== location.search) history.replaceState(null, "", `${location.pathname}${search}${location.hash}`);
}

let askingForReads = false;

/** Ask for the token once when reads need it (auth.protect_reads), then refresh with it. */
function askForReadToken() {
  if (askingForReads) return;
  askingForReads = true;
  if (getToken()) setToken("");
  notice("reading needs the API token here (auth.protect_reads): enter it to see the dashboard");
  ensureToken().then((token) => {
    askingForReads = false;
    if (token) {
      $("notice").hidden = true;
      refresh(true);
    }
  });
}

async function read(path, conditional = false) {
  try {
    return await api(path, { conditional });
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) askForReadToken();
    return err;
  }
}

const unreachable = (x) => x instanceof ApiError && x.status === 0;

/** Another host's sampling interval: the median step between its newest checks. */
async function remoteInterval(host) {
  if (state.intervals.has(host)) return state.intervals.get(host);
  const page = await read(`/api/v2/checks?host=${encodeURIComponent(host)}&limit=7`);
  if (failed(page) || page.items.length < 2) return 60;
  const ts = page.items.map((c) => Date.parse(c.taken_at) / 1000);
  const steps = ts.slice(1).map((t, i) => ts[i] - t).filter((s) => s > 0).sort((a, b) => a - b);
  const step = Math.round(steps[Math.floor(steps.length / 2)] || 60);
  state.intervals.set(host, step);
  return step;
}

/** Availability buckets of each service over the range, re-read at most every SLOW_S (or when forced). */
async function loadAvailability(names, force) {
  const now = Date.now() / 1000;
  if (!force && now - state.availabilityAt < SLOW_S) return;
  state.availabilityAt = now;
  const since = new Date((now - RANGES[state.range]) * 1000).toISOString();
  const host = remote() ? `&host=${encodeURIComponent(state.host)}` : "";
  await Promise.all(names.map(async (name) => {
    const h = await read(`/api/v2/history/availability?service=${encodeURIComponent(name)}&since=${since}&points=48${host}`);
    state.availability.set(name, failed(h) ? [] : h.points);
  }));
}

/** The sampler's last error, with when this page first saw it and whether its condition has cleared. */
function trackError(sampler, health) {
  if (!sampler.last_error) { state.error = null; return null; }
  if (!state.error || state.error.text !== sampler.last_error) {
    state.error = { text: sampler.last_error, since: new Date().toISOString(), cleared: false };
  }
  state.error.cleared = Boolean(health && health.sampler !== "failing" && health.database === "ok"
    && !sampler.pending_writes && !(sampler.probe_failures || []).length);
  return state.error;
}

function goLost() {
  if (!state.lost) state.lost = state.okAt || Date.now(); // the last time it answered
  document.body.classList.add("offline");
  $("lost-text").textContent = `connection lost: checkd has not answered since ${clock(state.lost / 1000)}. `
    + "Values below are from then; controls are disabled until it answers again.";
  $("lost").hidden = false;
  for (const b of document.querySelectorAll(`${CONTROLS}, ${PICKERS}`)) b.disabled = true;
  renderProblems(problemsOf({ lost: state.lost / 1000 }), state.host, true);
}

function backOnline() {
  state.lost = 0;
  document.body.classList.remove("offline");
  $("lost").hidden = true;
  for (const b of document.querySelectorAll(PICKERS)) b.disabled = false;
  for (const row of document.querySelectorAll("#services-body tr")) row.dataset.key = "";
}

let firstRefresh = true;

/** One refresh of every panel for the selected host, then the problems; the next one within the interval. */
async function refresh(force = false) {
  clearTimeout(state.timer);
  try {
    if (document.hidden && !force) return; // a hidden tab reads nothing; it refreshes when shown again
    const host = state.host;
    const now = Date.now() / 1000;
    if (cadence.switchTo(host)) force = true;
    // The charts' reads go out first (the cpu chart's first of all), then the newest check.
    let newestOf = null;
    const newestP = new Promise((resolve) => { newestOf = resolve; });
    const chartsP = loadCharts(force, newestP);
    const latest = await read(`/api/v2/checks/latest${hostParam()}`, true);
    newestOf(failed(latest) ? { disks: [], net: [], disk_io: [] }
      : { disks: latest.disks.map((d) => d.path), net: latest.net || [], disk_io: latest.disk_io || [] });
    if (!chartsP && !failed(latest)) charts.extend(host, latest);
    if (firstRefresh) { // the first load: the first chart before the other panels' reads
      firstRefresh = false;
      await Promise.race([chartsP, new Promise((resolve) => { setTimeout(resolve, FIRST_CHART_WAIT_MS); })]);
    }
    cadence.noteChanges(failed(latest) || remote() ? null : latest, null);
    const when = (key, fetch) => cadence.read(key, now, force || (failed(latest) && key === "health"), fetch);
    const [health, sampler, services, actions, hosts, alerts, probes, processes] = await Promise.all([
      when("health", (c) => read("/healthz", c)),
      remote() ? null : when("sampler", (c) => read("/api/v2/sampler", c)),
      remote() ? null : when("services", (c) => read("/api/v2/services", c)),
      when("actions", (c) => read(`/api/v2/actions?limit=${ACTIONS_SHOWN}${hostParam("&")}`, c)),
      when("hosts", (c) => read("/api/v2/hosts", c)),
      when("alerts", (c) => loadAlerts(remote() ? host : null, c)),
      remote() ? null : when("probes", (c) => read("/api/v2/probes", c)),
      remote() ? null : when("processes", (c) => read("/api/v2/processes?sort=cpu&limit=10", c)),
    ]);
    if (host !== state.host) return; // switched meanwhile: that refresh draws
    // Whether checkd answers: the newest check is read on every refresh, /healthz when due.
    if (unreachable(latest) || (unreachable(health) && cadence.readAt.health === now)) {
      cadence.allDue();
      goLost();
      return;
    }
    if (state.lost) backOnline();
    cadence.noteChanges(null, health);
    state.okAt = Date.now();
    const snap = { health: failed(health) ? null : health, alerts: failed(alerts) ? [] : alerts };
    const hostList = failed(hosts) ? [] : hosts;
    if (!failed(hosts)) view.renderHosts(hosts, host, LOCAL_HOST);
    const actionsP = failed(actions) ? null : showActions(actions, host); // awaited last: the panels first

    let lastAt = null;
    if (remote()) {
      state.interval = await remoteInterval(host);
      if (host !== state.host) return; // switched meanwhile (remote() says so too now)
      const h = hostList.find((x) => x.name === host);
      lastAt = h ? h.last_check_at : null;
    } else if (!failed(sampler)) {
      if (!failed(latest) && (!sampler.last_check_at || latest.taken_at > sampler.last_check_at)) {
        sampler.last_check_at = latest.taken_at; // read since the sampler's counters were
      }
      state.interval = sampler.interval_s || 60;
      lastAt = sampler.last_check_at;
    }
    const newest = failed(latest) ? lastAt : latest.taken_at;
    const age = ageS(newest);
    const stale = newest && age > STALE_FACTOR * state.interval ? span(age) : "";
    Object.assign(snap, { stale, interval: state.interval, latest: failed(latest) ? null : latest });
    if (failed(latest)) {
      view.renderLatest(null, latest.status === 404 ? "no checks yet" : `newest check unavailable: ${latest.detail}`);
    } else {
      view.renderLatest(latest, "", stale);
    }
    if (remote()) {
      view.renderRemoteSampler(host, lastAt, state.interval, Boolean(stale));
    } else if (!failed(sampler)) {
      const error = trackError(sampler, snap.health);
      view.renderSampler(sampler, snap.health, error, false, cadence.readAt.sampler);
      snap.samplerFailing = Boolean(snap.health && snap.health.sampler === "failing");
      snap.samplerError = error && !error.cleared ? error.text : "";
      snap.probes = sampler.probe_failures || [];
    }

    snap.endpoints = loadProbes(probes, latest);
    if (remote()) renderProcesses([], `processes are read live: see ${host}'s own checkd`);
    else if (failed(processes)) renderProcesses([], `processes unavailable: ${processes.detail}`);
    else if (processes !== state.drawnProcesses) renderProcesses(processes, ""); // drawn again only when read again
    state.drawnProcesses = remote() || failed(processes) ? null : processes;

    snap.services = await showServices(host, force, latest, services, actions, stale, newest);
    if (snap.services === null) return; // switched meanwhile: that refresh draws
    view.ageOf("processes-read", remote() || failed(processes) ? null : cadence.readAt.processes);
    view.ageOf("alerts-read", failed(alerts) ? null : cadence.readAt.alerts);

    renderProblems(problemsOf(snap), host, false);
    if (chartsP) await chartsP;
    if (actionsP) await actionsP;
    state.ticks += 1;
    document.body.dataset.ticks = String(state.ticks);
    $("refreshed").textContent = `updated ${clock(new Date(state.okAt))}`; // the time the answers came
  } finally {
    // The browser keeps a timing entry per request until its buffer is full; an open tab needs none of them.
    performance.clearResourceTimings();
    const period = Math.max(MIN_PERIOD_S, Math.min(state.interval, MAX_PERIOD_S));
    state.timer = setTimeout(() => refresh(false), period * 1000);
  }
}

/** Draw the services of `host`: this checkd's as read, another host's from its newest check (stale
 * with it), each with since when, its up/down bar (read again when `force`d) and its last failed action;
 * their problems, or null when the host was switched meanwhile. */
async function showServices(host, force, latest, services, actions, stale, newest) {
  let list = [];
  if (remote()) {
    list = failed(latest) ? [] : Object.entries(latest.services).map(([name, st]) => ({ name, unit: null, state: st, control: false, remote: true }));
  } else if (!failed(services)) {
    list = services;
  }
  const states = JSON.stringify([host, list.map((s) => [s.name, s.state])]);
  // A state that changed re-reads the bars on this and the next refreshes (its check may not be stored yet).
  if (state.serviceStates && states !== state.serviceStates) state.availabilityDirty = 3;
  state.serviceStates = states;
  await loadAvailability(list.map((s) => s.name), force || state.availabilityDirty-- > 0);
  if (host !== state.host) return null;
  const word = RANGE_WORDS[state.range];
  const info = (name) => {
    const svc = list.find((s) => s.name === name);
    const since = sinceText(sinceOf(svc, state.availability.get(name) || [], failed(actions) ? [] : actions, Date.now() / 1000 - RANGES[state.range], remote() && stale ? newest : null), word);
    const failure = controls.failures.get(name) || null;
    // A failed action's condition clears once the service is where the action meant to bring it.
    const cleared = Boolean(failure && svc && (failure.action === "stop" ? svc.state !== "active" : svc.state === "active"));
    return { since, buckets: state.availability.get(name) || [], failure: failure && { ...failure, cleared }, offline: false };
  };
  $("services-host").textContent = `on ${host}`;
  // How old the states are: read when due (cadence.js), another host's from its newest check. Another
  // host's service states and endpoint checks come from its newest check: stale with it.
  for (const id of ["services", "probes"]) $(id).classList.toggle("stale", remote() && Boolean(stale));
  if (remote()) view.ageOf("services-read", failed(latest) ? null : latest.taken_at, stale ? "stale: checked" : "checked");
  else view.ageOf("services-read", failed(services) ? null : cadence.readAt.services);
  renderServices(list, info, controls.busy, remote() ? `states from ${host}'s newest check; control only through its own checkd` : "");
  return list.map((s) => ({ ...s, problem: `${s.name} ${s.state} ${info(s.name).since}`.trim() }));
}

/** Draw "Latest actions" from `actions` (the newest) and, when the log of the charted range changed,
 * the charts' markers from every action in it. */
async function showActions(actions, host) {
  const key = `${host}|${state.range}`;
  if (actions === state.drawnActions && log.key === key) return;
  if (actions !== state.drawnActions) {
    state.drawnActions = actions;
    view.renderActions(log.downTo(actions, state.downTo));
  }
  const since = Date.now() / 1000 - RANGES[state.range];
  if (await log.update(key, hostParam("&"), since, actions, ACTIONS_SHOWN) && host === state.host) {
    charts.setMarkers(log.items);
    $("markers-clipped").hidden = !log.clipped;
    const target = /^#action-(\d+)$/.exec(location.hash); // an older action named by the address
    if (target && !document.getElementById(`action-${target[1]}`)) {
      state.downTo = Number(target[1]);
      view.renderActions(log.downTo(actions, state.downTo));
      const row = document.getElementById(`action-${target[1]}`);
      if (row) row.scrollIntoView();
    }
  }
}

/** The endpoint checks shown: this checkd's /api/v2/probes, or another host's from its newest check. */
function loadProbes(probes, latest) {
  if (remote()) {
    const list = failed(latest) ? [] : latest.probes || [];
    renderProbes(list, `no endpoint checks in ${state.host}'s newest check`);
    return list;
  }
  if (failed(probes)) {
    renderProbes([], `endpoint checks unavailable: ${probes.detail}`);
    return [];
  }
  renderProbes(probes, "");
  return probes;
}

/** Read the charts' history when forced or every CHARTS_S (a promise), else null (they grow from the newest check). */
function loadCharts(force, newest) {
  const now = Date.now() / 1000;
  if (!force && now - state.chartsAt < CHARTS_S) return null;
  state.chartsAt = now;
  return charts.refresh(state.host, newest);
}

function selectRange(range) {
  state.range = range;
  for (const b of $("range").querySelectorAll("button")) b.setAttribute("aria-pressed", String(b.dataset.range === range));
  charts.setRange(range);
  keepInUrl();
}

function wire() {
  $("services-body").addEventListener("click", (ev) => {
    const button = ev.target.closest("button[data-action]");
    if (button && !button.disabled) controls.service(button.dataset.service, button.dataset.action, state.host);
  });
  for (const id of ["sampler-start", "sampler-stop"]) {
    $(id).addEventListener("click", (ev) => controls.sampler(ev.currentTarget.dataset.sampler));
  }
  $("range").addEventListener("click", (ev) => {
    const button = ev.target.closest("button[data-range]");
    if (!button) return;
    selectRange(button.dataset.range);
    refresh(true);
  });
  $("zoom-reset").addEventListener("click", () => charts.setZoom(null));
  $("history").addEventListener("click", (ev) => {
    // Before the browser follows the marker's #action-N: "Latest actions" shows down to that row.
    const marker = ev.target.closest("a.marker[data-id]");
    if (!marker || !state.drawnActions) return;
    state.downTo = Number(marker.dataset.id);
    view.renderActions(log.downTo(state.drawnActions, state.downTo));
  });
  $("host-select").addEventListener("change", (ev) => {
    state.host = ev.target.value;
    $("host-name").textContent = state.host;
    state.disks = [];
    state.downTo = null;
    keepInUrl();
    refresh(true);
  });
  wireAlerts(notice, () => loadAlerts(remote() ? state.host : null));
  $("notice-close").addEventListener("click", () => { $("notice").hidden = true; });
  $("token-forget").addEventListener("click", () => {
    setToken("");
    notice("token forgotten: the next control click asks for it", "ok");
  });
  document.addEventListener("checkd-token", () => { $("token-forget").hidden = !getToken(); });
  $("token-forget").hidden = !getToken();
  window.addEventListener("hashchange", view.markFollowed);
  document.addEventListener("visibilitychange", () => { if (!document.hidden) refresh(true); });
  setInterval(view.tickAges, 1000);
}

function start() {
  $("zone").textContent = `times in ${zone()}`;
  $("host-name").textContent = state.host;
  view.renderHosts([], state.host, LOCAL_HOST); // the host from the address shows before the list arrives
  selectRange(state.range);
  wire();
  // uPlot is a deferred classic script; module scripts run after it, so it is defined here.
  refresh(true);
}

start();
