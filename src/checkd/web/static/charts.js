// checkd dashboard: history charts (uPlot, served by checkd from the installed youplot package): a shared
// cursor, drag-to-zoom, level lines, markers for service actions and sampler starts/stops (with the spans the
// sampler was stopped), a text summary, and refreshes that read only new points.

import { api, ApiError } from "./api.js";
import { bytes, clock, count, pct } from "./format.js";
import { limits } from "./levels.js";
import { foldIn, valueOf } from "./live.js";

export const RANGES = { "1h": 3600, "24h": 86400, "7d": 7 * 86400, "30d": 30 * 86400 };
const RANGE_WORDS = { "1h": "hour", "24h": "24 hours", "7d": "7 days", "30d": "30 days" };
const COLOURS = ["#2563eb", "#d97706", "#059669", "#db2777", "#7c3aed", "#0891b2"];
const LEVEL_COLOURS = { warn: "#d97706", bad: "#dc2626" };
const HEIGHT = 180;
const MARKER_GAP = 4; // px: markers nearer than this are drawn as one
const DAY = new Intl.DateTimeFormat("en-GB", { day: "numeric", month: "short" });
const HM = new Intl.DateTimeFormat("en-GB", { hour: "2-digit", minute: "2-digit", hour12: false });
const RATE = (v) => `${bytes(v)}/s`;
// Charts of one series per device in the newest check: which metrics, and the check's list that names them.
const PER_DEVICE = {
  net: { metrics: [["net_rx_bytes", "rx"], ["net_tx_bytes", "tx"]], list: "net", name: "iface", word: "interfaces" },
  disk_io: { metrics: [["disk_read_bytes", "read"], ["disk_write_bytes", "write"]], list: "disk_io", name: "device", word: "devices" },
};

// Charts whose series are named by the newest check (disk paths, interfaces, devices): they wait for it.
const NAMED = new Set(["disk_percent", ...Object.keys(PER_DEVICE)]);

let firstChartMarked = false;

function rgba(hex, alpha) {
  const n = parseInt(hex.slice(1), 16);
  return `rgba(${(n >> 16) & 255},${(n >> 8) & 255},${n & 255},${alpha})`;
}

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

/** How many x positions have at least one value. */
function countPoints(data) {
  const xs = data[0] || [];
  let n = 0;
  for (let i = 0; i < xs.length; i++) {
    if (data.slice(1).some((ys) => ys[i] !== null && ys[i] !== undefined)) n++;
  }
  return n;
}

/** Axis labels in the page's one time format: "16:04" within two days, "30 Nov" beyond, and the day
 * instead of "00:00" where a new day begins. What the axis says is kept on the figure (the canvas has
 * no text to read). */
function axisTimes(u, splits) {
  const span = u.scales.x.max - u.scales.x.min;
  const labels = splits.map((s) => {
    const d = new Date(s * 1000);
    if (span > 2 * 86400) return DAY.format(d);
    const hm = HM.format(d);
    return hm === "00:00" ? DAY.format(d) : hm;
  });
  const figure = u.root.closest(".chart");
  if (figure) figure.dataset.axis = labels.join("|");
  return labels;
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

/** One chart figure: a uPlot instance, its series (one per disk path) and what it last read. */
class Chart {
  constructor(figure, owner) {
    this.figure = figure;
    this.owner = owner;
    this.metric = figure.dataset.metric;
    this.rate = figure.dataset.unit === "bytes/s"; // bytes per second on a free scale, else percent 0..100
    this.fmt = this.rate ? RATE : pct;
    this.plotEl = figure.querySelector(".plot");
    this.msgEl = figure.querySelector(".chart-msg");
    this.textEl = figure.querySelector(".chart-text");
    this.plot = null;
    this.signature = "";
    this.span = [0, 1];
    this.read = null; // {key, resolution, series: [[points] per path]}
  }

  width() {
    return Math.max(240, Math.floor(this.plotEl.clientWidth || this.figure.clientWidth || 480));
  }

  message(text) {
    this.msgEl.textContent = text || "";
    this.msgEl.hidden = !text;
    this.figure.classList.toggle("is-empty", Boolean(text));
  }

  build(labels, light) {
    if (this.plot) this.plot.destroy();
    const value = (u, v) => (v === null || v === undefined ? "–" : this.fmt(v));
    const series = [{ value: (u, t) => (t ? clock(t) : "–") }];
    const bands = [];
    if (labels.length === 1) {
      const c = COLOURS[0];
      series.push({ label: labels[0], stroke: c, width: 2, fill: rgba(c, 0.06), value });
      // Over long ranges min/max spread wide: a light band only, without its edge lines.
      series.push({ label: "min", stroke: rgba(c, light ? 0 : 0.35), width: 1, value });
      series.push({ label: "max", stroke: rgba(c, light ? 0 : 0.35), width: 1, value });
      bands.push({ series: [3, 2], fill: rgba(c, light ? 0.05 : 0.12) });
    } else {
      labels.forEach((label, i) => series.push({ label, stroke: COLOURS[i % COLOURS.length], width: 2, value }));
    }
    const opts = {
      width: this.width(),
      height: HEIGHT,
      scales: { x: { time: true, range: () => this.span }, y: this.rate ? { range: (u, lo, hi) => [0, Math.max(1024, hi || 0)] } : { range: [0, 100] } },
      axes: [{ values: axisTimes }, { values: (u, vals) => vals.map((v) => (this.rate ? RATE(v) : `${v} %`)), size: this.rate ? 78 : 52 }],
      series,
      bands,
      cursor: { sync: { key: "checkd-history" }, drag: { x: true, y: false, setScale: false } },
      hooks: {
        draw: [(u) => { this.drawLevels(u); this.drawMarkers(u); this.drawn(u); }],
        setSelect: [(u) => this.selected(u)],
      },
    };
    this.plot = new window.uPlot(opts, series.map(() => []), this.plotEl);
    this.plot.root.querySelector("canvas").setAttribute("aria-hidden", "true");
  }

  /** Dashed lines at the warn and bad levels (from the alert rules or the defaults). */
  drawLevels(u) {
    if (this.rate) return; // no levels for throughput
    const l = limits(this.metric, this.paths && this.paths.length === 1 ? this.paths[0] : null);
    const { ctx } = u;
    ctx.save();
    ctx.setLineDash([5, 4]);
    ctx.lineWidth = 1;
    for (const key of ["warn", "bad"]) {
      const y = Math.round(u.valToPos(l[key], "y", true));
      ctx.strokeStyle = LEVEL_COLOURS[key];
      ctx.beginPath();
      ctx.moveTo(u.bbox.left, y);
      ctx.lineTo(u.bbox.left + u.bbox.width, y);
      ctx.stroke();
    }
    ctx.restore();
    this.figure.dataset.levels = `${l.warn},${l.bad}`;
  }

  /** A marker per service action and sampler start/stop in view, linking to its row in "Latest actions",
   * over a hatched span for each time the sampler was stopped. */
  drawMarkers(u) {
    let layer = u.over.querySelector(".markers");
    if (!layer) {
      layer = document.createElement("div");
      layer.className = "markers";
      u.over.append(layer);
    }
    const [lo, hi] = [u.scales.x.min, u.scales.x.max];
    const x = (t) => Math.round(u.valToPos(Math.min(Math.max(t, lo), hi), "x"));
    const spans = this.owner.stoppedSpans.filter((s) => s.to > lo && s.from < hi).map((s) => {
      const div = document.createElement("div");
      div.className = "sampler-off";
      div.title = `sampler stopped ${clock(s.from)} – ${Number.isFinite(s.to) ? clock(s.to) : "now"}`;
      div.style.left = `${x(s.from)}px`;
      div.style.width = `${Math.max(1, x(s.to) - x(s.from))}px`;
      return div;
    });
    // Markers closer than MARKER_GAP px share one (the newest links; its title counts the others), so a
    // range holding thousands of actions costs at most one marker per few pixels.
    const marks = [];
    for (const m of this.owner.markers.filter((k) => k.t >= lo && k.t <= hi)) {
      const left = x(m.t);
      const near = marks.length ? marks[marks.length - 1] : null;
      if (near && Math.abs(Number(near.dataset.x) - left) < MARKER_GAP) {
        near.dataset.more = String(Number(near.dataset.more || 0) + 1);
        near.title = `${near.dataset.text} (and ${count(Number(near.dataset.more), "older action")} here)`;
        near.setAttribute("aria-label", near.title);
        continue;
      }
      const a = document.createElement("a");
      a.href = `#action-${m.id}`;
      a.className = `marker marker-${m.kind}${m.ok ? "" : " marker-failed"}`;
      a.dataset.text = `${clock(m.t)} ${m.text}`;
      a.title = a.dataset.text;
      a.dataset.t = String(m.t);
      a.dataset.id = String(m.id);
      a.dataset.x = String(left);
      a.setAttribute("aria-label", a.title);
      a.style.left = `${left}px`;
      marks.push(a);
    }
    layer.replaceChildren(...spans, ...marks);
  }

  drawn(u) {
    const points = countPoints(u.data);
    this.figure.dataset.points = String(points);
    this.figure.dataset.drawnAt = String(Date.now());
    this.figure.dataset.shown = String(Math.round(u.scales.x.max - u.scales.x.min)); // seconds in view
    if (points > 0 && !firstChartMarked) {
      firstChartMarked = true;
      performance.mark("checkd-first-chart");
      window.checkdFirstChartMs = performance.now();
    }
  }

  selected(u) {
    if (u.select.width < 4) return;
    const min = u.posToVal(u.select.left, "x");
    const max = u.posToVal(u.select.left + u.select.width, "x");
    u.setSelect({ left: 0, top: 0, width: 0, height: 0 }, false);
    this.owner.setZoom([min, max]);
  }

  show(labels, data, span, emptyText, light) {
    const signature = `${labels.join("\u0000")}|${light}`;
    if (!this.plot || signature !== this.signature) {
      this.signature = signature;
      this.build(labels, light);
    }
    this.span = span;
    this.plot.setData(data, true);
    this.message(countPoints(data) ? "" : emptyText);
  }

  resize() {
    if (this.plot) this.plot.setSize({ width: this.width(), height: HEIGHT });
  }
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
