// checkd dashboard: the history charts together (uPlot, served by checkd from the installed youplot
// package): their range, shared zoom and markers, a text summary, and refreshes that read only new points.

import { api, ApiError } from "./api.js";
import { Chart } from "./chart.js";
import { clock, pct } from "./format.js";
import { foldIn, valueOf } from "./live.js";

export const RANGES = { "1h": 3600, "24h": 86400, "7d": 7 * 86400, "30d": 30 * 86400 };
export const RANGE_WORDS = { "1h": "hour", "24h": "24 hours", "7d": "7 days", "30d": "30 days" };
// Charts of one series per device in the newest check: which metrics, and the check's list that names them.
const PER_DEVICE = {
  net: { metrics: [["net_rx_bytes", "rx"], ["net_tx_bytes", "tx"]], list: "net", name: "iface", word: "interfaces" },
  disk_io: { metrics: [["disk_read_bytes", "read"], ["disk_write_bytes", "write"]], list: "disk_io", name: "device", word: "devices" },
};

// Charts whose series are named by the newest check (disk paths, interfaces, devices): they wait for it.
const NAMED = new Set(["disk_percent", ...Object.keys(PER_DEVICE)]);

/** The median step between consecutive times (the host's effective sampling step). */
function medianStep(ts) {
  const steps = [];
  for (let i = 1; i < ts.length; i++) steps.push(ts[i] - ts[i - 1]);
  steps.sort((a, b) => a - b);
  return steps.length ? steps[Math.floor(steps.length / 2)] : 0;
}

/** Columns for uPlot from history points; a gap of more than 3 usual steps breaks the line. */
function columns(points, resolution) {
  const ts = points.map((p) => Date.parse(p.t) / 1000);
  const step = Math.max(resolution, medianStep(ts));
  const xs = [], avg = [], min = [], max = [];
  points.forEach((p, i) => {
    if (i > 0 && step > 0 && ts[i] - ts[i - 1] > 3 * step) {
      xs.push(ts[i - 1] + step); avg.push(null); min.push(null); max.push(null);
    }
    xs.push(ts[i]); avg.push(p.avg); min.push(p.min); max.push(p.max);
  });
  return { xs, avg, min, max };
}

/** Merge several series (one per disk path) onto one sorted x axis, null where a series has no point. */
function merge(list) {
  const xs = [...new Set(list.flatMap((c) => c.xs))].sort((a, b) => a - b);
  const index = new Map(xs.map((x, i) => [x, i]));
  const ys = list.map((c) => {
    const out = new Array(xs.length).fill(null);
    c.xs.forEach((x, i) => { out[index.get(x)] = c.avg[i]; });
    return out;
  });
  return [xs, ...ys];
}

/** A sentence for those who do not see the chart: the newest value and its time (a stale host's is not
 * "now"), the mean, the lowest and highest. */
function summary(label, points, rangeWord, fmt = pct) {
  if (!points.length) return `${label}: no data in the last ${rangeWord}.`;
  const avgs = points.map((p) => p.avg);
  const mean = avgs.reduce((a, b) => a + b, 0) / avgs.length;
  const low = Math.min(...points.map((p) => p.min));
  const high = Math.max(...points.map((p) => p.max));
  return `${label} over the last ${rangeWord}: newest ${fmt(avgs[avgs.length - 1])} at ${clock(points[points.length - 1].t)}, average ${fmt(mean)}, `
    + `lowest ${fmt(low)}, highest ${fmt(high)}.`;
}

const SAMPLER = "sampler"; // the audit log's service for the sampler's own starts, stops and interval

/** How a sampler audit entry reads on a marker. */
function samplerWords(a) {
  if (a.action === "stop") return "sampler stopped";
  if (a.action === "start") return "sampler started";
  return `sampler ${a.ok ? a.message : a.action}`; // "interval 60s → 5s"
}

/** The times the sampler was stopped, from its starts and stops among `actions` (newest first): each stop
 * until the next start, the newest until now when no start followed. */
function stoppedSpans(actions) {
  const changes = actions.filter((a) => a.service === SAMPLER && a.ok && (a.action === "stop" || a.action === "start"))
    .map((a) => ({ t: Date.parse(a.at) / 1000, stop: a.action === "stop" }))
    .reverse();
  const spans = [];
  let from = null;
  for (const c of changes) {
    if (c.stop && from === null) from = c.t;
    else if (!c.stop && from !== null) { spans.push({ from, to: c.t }); from = null; }
  }
  if (from !== null) spans.push({ from, to: Infinity });
  return spans;
}

/** The page's preloaded first read (#first-read: the cpu chart of this checkd's host over the last
 * hour), taken once for a refresh of `host` over `range`: {href, since, points}, else null. The
 * other charts' first reads use its since and points, so every chart has the same buckets. */
function takeFirstRead(host, range) {
  const link = document.getElementById("first-read");
  const local = document.querySelector('meta[name="checkd-host"]').content;
  if (!link || host !== local || range !== "1h") return null;
  link.remove(); // used once: later reads ask for what is new
  const href = link.getAttribute("href");
  const q = new URL(href, location.href).searchParams;
  return { href, since: Date.parse(q.get("since")) / 1000, points: Number(q.get("points")) };
}

/** The series of `chart` for the newest check `newest`: [{metric, param, label, text}], its caption,
 * and what to say when there are none. */
function specsOf(chart, newest) {
  const label = chart.figure.querySelector("figcaption").dataset.label;
  const per = PER_DEVICE[chart.metric];
  if (per) {
    const names = (newest[per.list] || []).map((d) => d[per.name]);
    const specs = names.flatMap((name) => per.metrics.map(([metric, dir]) => ({
      metric, param: { device: name }, label: `${name} ${dir}`, text: `${name} ${dir}`,
    })));
    return { specs, caption: `${label} (${names.join(", ") || `no ${per.word}`})`, none: `no ${per.word} measured on this host` };
  }
  if (chart.metric === "disk_percent") {
    const paths = newest.disks.length ? newest.disks : [null];
    const specs = paths.map((p) => ({ metric: chart.metric, param: p ? { path: p } : {}, label: p || "/", text: `disk ${p || "/"}` }));
    return { specs, caption: `${label} (${newest.disks.join(", ") || "/"})`, none: "" };
  }
  return { specs: [{ metric: chart.metric, param: {}, label: "avg", text: label }], caption: label, none: "" };
}

/** The history charts, their range, zoom and markers, and the request generation guarding stale answers. */
export class Charts {
  constructor(figures, onError) {
    this.charts = figures.map((f) => new Chart(f, this));
    this.range = "1h";
    this.zoom = null;
    this.markers = [];
    this.stoppedSpans = []; // [{from, to}] (Unix s; to = Infinity while still stopped)
    this.generation = 0;
    this.onError = onError;
    window.addEventListener("resize", () => this.charts.forEach((c) => c.resize()));
  }

  setRange(range) {
    if (!(range in RANGES)) return;
    this.range = range;
    this.zoom = null;
    this.charts.forEach((c) => { c.figure.dataset.range = range; c.read = null; });
    document.getElementById("history").dataset.zoomed = "false";
  }

  /** Show [min, max] (Unix s) on every chart; null goes back to the whole range. */
  setZoom(span) {
    this.zoom = span;
    document.getElementById("history").dataset.zoomed = String(Boolean(span));
    const until = Date.now() / 1000;
    for (const c of this.charts) {
      c.span = span || [until - RANGES[this.range], until];
      if (c.plot) c.plot.setScale("x", { min: c.span[0], max: c.span[1] });
    }
  }

  /** Audit entries to mark on the charts, newest first: [{id, at, service, action, ok, actor, message}];
   * service "sampler" entries are its starts, stops and interval changes. */
  setMarkers(actions) {
    this.markers = actions.map((a) => {
      const sampler = a.service === SAMPLER;
      const what = sampler ? samplerWords(a) : `${a.service} ${a.action}`;
      return {
        id: a.id, t: Date.parse(a.at) / 1000, ok: a.ok, kind: sampler ? "sampler" : "service",
        text: `${what} by ${a.actor}${a.ok ? "" : sampler ? " (refused)" : " (failed)"}`,
      };
    });
    this.stoppedSpans = stoppedSpans(actions);
    // Unless zoomed, the range moves on to now, so an action newer than the charts' last points (or taken
    // within the second the charts were read) is in view.
    const until = Math.ceil(Math.max(Date.now() / 1000, ...this.markers.map((m) => m.t)));
    for (const c of this.charts) {
      if (!c.plot) continue;
      if (!this.zoom && until > c.plot.scales.x.max) {
        c.span = [until - RANGES[this.range], until];
        c.plot.setScale("x", { min: c.span[0], max: c.span[1] });
      }
      c.drawMarkers(c.plot); // now: with the sampler stopped no new points come to redraw the charts
    }
  }

  /** One series: `spec` is {metric, param: {path|device: name} or {}, label}. */
  async fetchOne(spec, host, since, points) {
    // No `until`: the server's "now" ends the range (and such answers are not cached per second).
    const q = new URLSearchParams({ since: new Date(since * 1000).toISOString(), points: String(points), ...spec.param });
    if (host) q.set("host", host);
    return api(`/api/v2/history/${encodeURIComponent(spec.metric)}?${q}`);
  }

  /** A series' points: all of the range the first time, then only from its newest bucket on;
   * `preload` ({href, since, points}) is the page's first read, for the first time. */
  async series(chart, key, host, since, until, specs, preload = null) {
    const width = preload ? preload.points : Math.min(1000, Math.max(100, chart.width()));
    const read = chart.read && chart.read.key === key ? chart.read : null;
    const answers = await Promise.all(specs.map((spec, i) => {
      const have = read ? read.series[i] : [];
      if (!have.length && preload && spec.metric === "cpu_percent") return api(preload.href); // the preload answers
      if (!have.length) return this.fetchOne(spec, host, since, width);
      const from = Date.parse(have[have.length - 1].t) / 1000;
      const n = Math.max(1, Math.floor((until - from) / read.resolution)); // buckets no narrower than before
      return this.fetchOne(spec, host, from, n);
    }));
    const resolution = answers[0].resolution_s || 0;
    if (read && answers.some((a) => a.resolution_s > 2 * read.resolution)) { // another tier: read it all again
      chart.read = null;
      return this.series(chart, key, host, since, until, specs);
    }
    const series = answers.map((a, i) => {
      const have = read ? read.series[i] : [];
      const fresh = a.points || [];
      if (!have.length) return fresh;
      const first = fresh.length ? Date.parse(fresh[0].t) : Infinity;
      return [...have.filter((p) => Date.parse(p.t) < first && Date.parse(p.t) / 1000 >= since), ...fresh];
    });
    chart.read = { key, resolution: read ? read.resolution : resolution, series };
    return { series, resolution: chart.read.resolution };
  }

  /** Reload every chart for `host` over the current range; `newest` resolves to the newest check's
   * {disks, net, disk_io} (what names the series of the per-path and per-device charts). The cpu and
   * memory charts need no names: their reads go out at once, ahead of everything else. */
  async refresh(host, newest) {
    const generation = ++this.generation;
    const until = Math.floor(Date.now() / 1000);
    const first = takeFirstRead(host, this.range);
    const since = first ? first.since : until - RANGES[this.range];
    const span = this.zoom || [since, until];
    this.foldedAt = until; // checks up to now are in what these reads answer
    if (typeof window.uPlot !== "function") {
      this.charts.forEach((c) => c.message("chart library not loaded (/static/vendor/uplot.min.js)"));
      return;
    }
    const none = { disks: [], net: [], disk_io: [] };
    await Promise.all(this.charts.map(async (chart) => {
      try {
        const { specs, caption, none: nothing } = specsOf(chart, NAMED.has(chart.metric) ? await newest : none);
        chart.figure.querySelector("figcaption").textContent = caption;
        if (!specs.length) { // nothing measured here: an empty chart saying so
          chart.figure.dataset.host = host;
          chart.paths = [];
          chart.specs = null;
          chart.show(["–"], [[], [], [], []], span, nothing, this.range !== "1h");
          chart.textEl.textContent = nothing;
          return;
        }
        const key = `${host}|${this.range}|${specs.map((x) => x.label).join("\u0000")}`;
        const { series } = await this.series(chart, key, host, since, until, specs, chart.read ? null : first);
        if (generation !== this.generation) return;
        chart.specs = specs;
        chart.caption = caption;
        this.paint(chart, host, series, span);
      } catch (err) {
        if (generation !== this.generation) return;
        if (err instanceof ApiError && err.status === 0 && chart.read) return; // unreachable: keep what is drawn
        chart.read = null;
        const why = err instanceof ApiError ? `${err.status || ""} ${err.detail}`.trim() : String(err);
        chart.show(["avg"], [[], [], [], []], span, `history unavailable: ${why}`, this.range !== "1h");
        chart.textEl.textContent = `history unavailable: ${why}`;
        if (this.onError) this.onError(err);
      }
    }));
  }

  /** Draw `series` (one list of points per spec) on `chart` over `span`. */
  paint(chart, host, series, span) {
    const { specs, caption } = chart;
    const resolution = chart.read.resolution;
    const word = RANGE_WORDS[this.range];
    const light = this.range !== "1h";
    chart.paths = chart.metric === "disk_percent" ? specs.map((x) => x.param.path) : [];
    chart.figure.dataset.band = light ? "light" : "min-max";
    chart.figure.dataset.resolution = String(resolution ?? "");
    const cols = series.map((points) => columns(points, resolution));
    const labels = specs.map((x) => x.label);
    const emptyText = `no data for ${host || "this host"} in the last ${word}`;
    if (cols.length === 1) {
      const c = cols[0];
      chart.show(labels, [c.xs, c.avg, c.min, c.max], span, emptyText, light);
    } else {
      chart.show(labels, merge(cols), span, emptyText, light);
    }
    chart.textEl.textContent = series.map((pts, i) => summary(cols.length > 1 ? specs[i].text : caption, pts, word, chart.fmt)).join(" ");
    const newest = series.map((pts) => (pts.length ? pts[pts.length - 1].t : "")).sort().pop();
    chart.figure.dataset.newest = newest || ""; // the newest bucket drawn (the tests follow the charts growing)
    chart.figure.dataset.host = host; // once this host's points are drawn
  }

  /** Grow every chart of `host` by the newest check `check` (its readings folded into the newest
   * buckets), without a request; the range moves on to now unless zoomed. */
  extend(host, check) {
    const t = Date.parse(check.taken_at) / 1000;
    if (!(t > (this.foldedAt || 0))) return; // already in what the charts read or folded
    this.foldedAt = t;
    const until = Math.floor(Date.now() / 1000);
    const since = until - RANGES[this.range];
    const span = this.zoom || [since, Math.max(until, Math.ceil(t))];
    for (const chart of this.charts) {
      const read = chart.read;
      if (!read || !chart.specs || !read.key.startsWith(`${host}|${this.range}|`)) continue;
      read.series = read.series.map((points, i) => foldIn(points, t, valueOf(chart.specs[i], check), read.resolution, since));
      this.paint(chart, host, read.series, span);
    }
  }
}
