// checkd dashboard: panels, controls and the refresh loop (no inline handlers: CSP-safe).

import { loadAlerts, wireAlerts } from "./alerts.js";
import { api, ApiError, control, explain, ensureToken, getToken, setToken } from "./api.js";
import { Charts } from "./charts.js";
import * as view from "./view.js";

const $ = (id) => document.getElementById(id);
const LOCAL_HOST = document.querySelector('meta[name="checkd-host"]').content;
const MAX_PERIOD_S = 15; // refresh at least this often, and at least once per sampler interval
const SLOW_CHARTS_S = 60; // ranges of a day or more are redrawn at most this often

const state = {
  host: LOCAL_HOST,
  interval: 60,
  disks: [],
  busy: new Set(),
  timer: 0,
  ticks: 0,
  chartsAt: 0,
  running: false,
};

let noticeTimer = 0;
function notice(text, kind = "error") {
  clearTimeout(noticeTimer);
  $("notice-text").textContent = text;
  $("notice").className = `notice notice-${kind}`;
  $("notice").hidden = false;
  if (kind === "ok") noticeTimer = setTimeout(() => { $("notice").hidden = true; }, 8000);
}

const charts = new Charts([...document.querySelectorAll(".chart")], null);

function hostParam(prefix = "?") {
  return state.host && state.host !== LOCAL_HOST ? `${prefix}host=${encodeURIComponent(state.host)}` : "";
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

async function readOrNull(path) {
  try {
    return await api(path);
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) askForReadToken();
    return err;
  }
}

async function loadLatest() {
  const latest = await readOrNull(`/api/v2/checks/latest${hostParam()}`);
  if (latest instanceof ApiError) {
    const none = latest.status === 404;
    view.renderLatest(null, none ? "no checks yet" : `newest check unavailable: ${latest.detail}`);
    state.disks = [];
    return;
  }
  if (latest instanceof Error) return;
  view.renderLatest(latest);
  state.disks = latest.disks.map((d) => d.path);
}

async function loadSampler() {
  const [sampler, health] = await Promise.all([readOrNull("/api/v2/sampler"), readOrNull("/healthz")]);
  if (sampler instanceof Error) return;
  state.interval = sampler.interval_s || 60;
  state.running = sampler.running;
  view.renderSampler(sampler, health instanceof Error ? null : health);
}

async function loadServices() {
  const services = await readOrNull("/api/v2/services");
  if (!(services instanceof Error)) view.renderServices(services, state.busy);
}

async function loadActions() {
  const actions = await readOrNull(`/api/v2/actions?limit=10${hostParam("&")}`);
  if (!(actions instanceof Error)) view.renderActions(actions);
}

async function loadHosts() {
  const hosts = await readOrNull("/api/v2/hosts");
  if (!(hosts instanceof Error)) view.renderHosts(hosts, state.host, LOCAL_HOST);
}

async function loadCharts(force, disks = Promise.resolve(state.disks)) {
  const now = Date.now() / 1000;
  if (!force && charts.range !== "1h" && now - state.chartsAt < SLOW_CHARTS_S) return;
  state.chartsAt = now;
  await charts.refresh(state.host, disks);
}

/** One refresh of every panel, then the next one scheduled within the sampler interval. */
async function refresh(forceCharts = false) {
  clearTimeout(state.timer);
  try {
    // Only the disk chart waits for the newest check (its disk paths); everything else loads at once.
    const latest = loadLatest();
    const charted = loadCharts(forceCharts, latest.then(() => state.disks));
    const alerts = loadAlerts(state.host === LOCAL_HOST ? null : state.host);
    await Promise.all([latest, charted, alerts, loadSampler(), loadServices(), loadActions(), loadHosts()]);
    state.ticks += 1;
    document.body.dataset.ticks = String(state.ticks);
    $("refreshed").textContent = `updated ${new Date().toLocaleTimeString()}`;
  } finally {
    const period = Math.max(1, Math.min(state.interval, MAX_PERIOD_S));
    state.timer = setTimeout(() => refresh(false), period * 1000);
  }
}

async function serviceAction(name, action) {
  const what = `${name} ${action}`;
  state.busy.add(name);
  view.setServiceBusy(name, action);
  try {
    const result = await control(`/api/v2/services/${encodeURIComponent(name)}/${action}`);
    notice(`${what}: ok, now ${result.state} (${result.duration_ms} ms)`, "ok");
    view.setServiceState(name, result.state);
  } catch (err) {
    notice(explain(err, what));
    if (err instanceof ApiError && err.body && err.body.state) view.setServiceState(name, err.body.state);
  } finally {
    state.busy.delete(name);
    view.setServiceBusy(name, null);
    loadServices();
    loadActions();
  }
}

async function samplerAction(action) {
  try {
    const result = await control(`/api/v2/sampler/${action}`);
    notice(`sampler: ${result.message || (result.running ? "running" : "stopped")}`, "ok");
  } catch (err) {
    notice(explain(err, `sampler ${action}`));
  }
  refresh(true);
}

function wire() {
  $("services-body").addEventListener("click", (ev) => {
    const button = ev.target.closest("button[data-action]");
    if (button && !button.disabled) serviceAction(button.dataset.service, button.dataset.action);
  });
  for (const id of ["sampler-start", "sampler-stop"]) {
    $(id).addEventListener("click", (ev) => samplerAction(ev.currentTarget.dataset.sampler));
  }
  $("range").addEventListener("click", (ev) => {
    const button = ev.target.closest("button[data-range]");
    if (!button) return;
    for (const b of $("range").querySelectorAll("button")) {
      b.setAttribute("aria-pressed", String(b === button));
    }
    charts.setRange(button.dataset.range);
    loadCharts(true);
  });
  $("host-select").addEventListener("change", (ev) => {
    state.host = ev.target.value;
    $("host-name").textContent = state.host;
    refresh(true);
  });
  wireAlerts(notice, () => loadAlerts(state.host === LOCAL_HOST ? null : state.host));
  $("notice-close").addEventListener("click", () => { $("notice").hidden = true; });
  $("token-forget").addEventListener("click", () => {
    setToken("");
    notice("token forgotten: the next control click asks for it", "ok");
  });
  document.addEventListener("checkd-token", () => { $("token-forget").hidden = !getToken(); });
  $("token-forget").hidden = !getToken();
}

function start() {
  charts.setRange("1h");
  wire();
  // uPlot is a deferred classic script; module scripts run after it, so it is defined here.
  refresh(true);
}

start();
