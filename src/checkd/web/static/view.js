// checkd dashboard: rendering panels from API answers (text only: no HTML from data is parsed).

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

export function bytes(n) {
  if (n === null || n === undefined) return "–";
  const units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
  let i = 0;
  let v = n;
  while (v >= 1024 && i < units.length - 1) { v /= 1024; i++; }
  return `${v >= 100 || i === 0 ? v.toFixed(0) : v.toFixed(1)} ${units[i]}`;
}

const pct = (v) => (v === null || v === undefined ? "–" : `${Number(v).toFixed(1)} %`);
const when = (iso) => (iso ? new Date(iso).toLocaleString() : "–");

function level(percent) {
  if (percent === null || percent === undefined) return "";
  return percent >= 90 ? "lvl-bad" : percent >= 75 ? "lvl-warn" : "lvl-ok";
}

/** A state shown as a colour and a word. */
export function stateBadge(value) {
  const word = STATES.includes(value) ? value : "unknown";
  return el("span", { className: `state state-${word}`, dataset: { state: word } }, word);
}

function bar(percent) {
  const fill = el("span", { className: `fill ${level(percent)}` });
  fill.style.width = `${Math.max(0, Math.min(100, percent || 0))}%`;
  return el("span", { className: "bar-track" }, fill);
}

export function renderLatest(check, emptyText) {
  $("latest-empty").hidden = Boolean(check);
  $("latest-body").hidden = !check;
  if (!check) {
    $("latest-empty").textContent = emptyText || "no checks yet";
    $("latest-at").textContent = "";
    return;
  }
  $("latest-at").textContent = `at ${when(check.taken_at)} on ${check.host}`;
  $("latest-cpu").textContent = pct(check.cpu);
  $("latest-cpu").className = `v ${level(check.cpu)}`;
  const mem = check.memory;
  $("latest-mem").textContent = mem ? pct(mem.percent) : "–";
  $("latest-mem").className = `v ${mem ? level(mem.percent) : ""}`;
  $("latest-mem-sub").textContent = mem ? `${bytes(mem.total - mem.available)} of ${bytes(mem.total)}` : "";
  const load = check.load;
  $("latest-load").textContent = load
    ? [load.load1, load.load5, load.load15].map((x) => x.toFixed(2)).join(" / ") : "–";
  const rows = check.disks.map((d) => el("tr", { dataset: { path: d.path } },
    el("td", {}, el("code", {}, d.path)),
    el("td", {}, bar(d.percent), ` ${pct(d.percent)}`),
    el("td", {}, bytes(d.free)),
    el("td", {}, bytes(d.total))));
  if (!rows.length) rows.push(el("tr", {}, el("td", { colSpan: 4, className: "muted" }, "no disk readings")));
  $("disks").tBodies[0].replaceChildren(...rows);
}

export function renderSampler(sampler, health) {
  const failing = health && health.sampler === "failing";
  const word = failing ? "failing" : sampler.running ? "running" : "stopped";
  const badge = $("sampler-state");
  badge.textContent = word;
  badge.className = `state sampler-${word}`;
  badge.dataset.state = word;
  $("sampler-interval").textContent = `every ${sampler.interval_s} s`;
  const last = sampler.last_check_at ? `last check ${when(sampler.last_check_at)}` : "no check taken yet";
  $("sampler-note").textContent = sampler.running
    ? `${last} · ${sampler.checks_total} checks, ${sampler.errors_total} errors since start`
    : `The sampler is stopped: no new checks are being taken. ${last[0].toUpperCase()}${last.slice(1)}.`;
  $("sampler-error").hidden = !sampler.last_error;
  $("sampler-error").textContent = sampler.last_error ? `last error: ${sampler.last_error}` : "";
  $("sampler-start").disabled = sampler.running;
  $("sampler-stop").disabled = !sampler.running;
}

function serviceRow(svc) {
  const buttons = ["start", "stop", "restart"].map((action) => el("button", {
    type: "button",
    textContent: action,
    disabled: !svc.control,
    title: svc.control ? `${action} ${svc.name}` : `${svc.name} has control = false`,
    dataset: { service: svc.name, action },
  }));
  return el("tr", { dataset: { service: svc.name } },
    el("td", {}, el("span", { className: "svc-name" }, svc.name), svc.unit ? el("code", { className: "unit" }, svc.unit) : ""),
    el("td", { className: "state-cell" }, stateBadge(svc.state)),
    el("td", { className: "buttons" }, ...buttons));
}

export function renderServices(services, busy) {
  $("services-empty").hidden = services.length > 0;
  $("services-body").closest("table").hidden = services.length === 0;
  const body = $("services-body");
  const rows = services.map((svc) => {
    const old = body.querySelector(`tr[data-service="${CSS.escape(svc.name)}"]`);
    const key = [svc.unit, svc.state, svc.control].join("|");
    if (old && busy.has(svc.name)) return old; // keep the "starting…" row while the action runs
    if (old && old.dataset.key === key) return old; // unchanged: keep the node (no flicker, no lost click)
    const row = serviceRow(svc);
    row.dataset.key = key;
    return row;
  });
  const same = rows.length === body.children.length && rows.every((r, i) => body.children[i] === r);
  if (!same) body.replaceChildren(...rows);
}

function serviceRowOf(name) {
  return $("services-body").querySelector(`tr[data-service="${CSS.escape(name)}"]`);
}

export function setServiceState(name, value) {
  const row = serviceRowOf(name);
  if (!row) return;
  row.querySelector(".state-cell").replaceChildren(stateBadge(value));
  row.dataset.key = "";
}

export function setServiceBusy(name, action) {
  const row = serviceRowOf(name);
  if (!row) return;
  row.classList.toggle("busy", Boolean(action));
  row.dataset.key = "";
  for (const b of row.querySelectorAll("button")) b.disabled = Boolean(action) || b.title.includes("control = false");
  if (action) {
    const words = { start: "starting…", stop: "stopping…", restart: "restarting…" };
    row.querySelector(".state-cell").replaceChildren(
      el("span", { className: "state state-activating", dataset: { state: "busy" } }, words[action]));
  }
}

export function renderActions(actions) {
  $("actions-empty").hidden = actions.length > 0;
  $("actions-body").closest("table").hidden = actions.length === 0;
  $("actions-body").replaceChildren(...actions.map((a) => el("tr", {},
    el("td", {}, when(a.at)),
    el("td", {}, a.actor),
    el("td", {}, a.service),
    el("td", {}, a.action),
    el("td", { className: a.ok ? "ok-text" : "error-text" }, a.ok ? "ok" : `failed (${a.status})`),
    el("td", { className: "msg" }, a.message))));
}

export function renderHosts(hosts, selected, local) {
  const names = hosts.map((h) => h.name);
  if (!names.includes(local)) names.unshift(local);
  $("host-picker").hidden = names.length < 2;
  const select = $("host-select");
  const current = [...select.options].map((o) => o.value).join("\n");
  if (current !== names.join("\n")) {
    const byName = new Map(hosts.map((h) => [h.name, h]));
    select.replaceChildren(...names.map((name) => {
      const h = byName.get(name);
      const label = `${name}${name === local ? " (this checkd)" : ""}${h ? ` · ${h.checks} checks` : ""}`;
      return el("option", { value: name, textContent: label });
    }));
  }
  select.value = selected;
}
