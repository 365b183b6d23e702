// checkd dashboard: history charts (uPlot, served by checkd from the installed youplot package).

import { api, ApiError } from "./api.js";

export const RANGES = { "1h": 3600, "24h": 86400, "7d": 7 * 86400, "30d": 30 * 86400 };
const RANGE_WORDS = { "1h": "hour", "24h": "24 hours", "7d": "7 days", "30d": "30 days" };
const COLOURS = ["#2563eb", "#d97706", "#059669", "#db2777", "#7c3aed", "#0891b2"];
const HEIGHT = 180;

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

/** One chart figure: a uPlot instance, its range and a message shown when it has nothing to draw. */
class Chart {
  constructor(figure) {
    this.figure = figure;
    this.metric = figure.dataset.metric;
    this.plotEl = figure.querySelector(".plot");
    this.msgEl = figure.querySelector(".chart-msg");
    this.plot = null;
    this.signature = "";
    this.span = [0, 1];
  }

  width() {
    return Math.max(240, Math.floor(this.plotEl.clientWidth || this.figure.clientWidth || 480));
  }

  message(text) {
    this.msgEl.textContent = text || "";
    this.msgEl.hidden = !text;
    this.figure.classList.toggle("is-empty", Boolean(text));
  }

  build(labels) {
    if (this.plot) this.plot.destroy();
    const series = [{}];
    const bands = [];
    if (labels.length === 1) {
      const c = COLOURS[0];
      series.push({ label: labels[0], stroke: c, width: 2, fill: rgba(c, 0.06) });
      series.push({ label: "min", stroke: rgba(c, 0.35), width: 1 });
      series.push({ label: "max", stroke: rgba(c, 0.35), width: 1 });
      bands.push({ series: [3, 2], fill: rgba(c, 0.12) });
    } else {
      labels.forEach((label, i) => {
        series.push({ label, stroke: COLOURS[i % COLOURS.length], width: 2 });
      });
    }
    const opts = {
      width: this.width(),
      height: HEIGHT,
      scales: { x: { time: true, range: () => this.span }, y: { range: [0, 100] } },
      axes: [{}, { values: (u, vals) => vals.map((v) => `${v}%`), size: 48 }],
      series,
      bands,
      cursor: { drag: { x: false, y: false } },
      hooks: { draw: [(u) => this.drawn(u)] },
    };
    const empty = series.map(() => []);
    this.plot = new window.uPlot(opts, empty, this.plotEl);
  }

  drawn(u) {
    const points = countPoints(u.data);
    this.figure.dataset.points = String(points);
    this.figure.dataset.drawnAt = String(Date.now());
    if (points > 0 && !firstChartMarked) {
      firstChartMarked = true;
      performance.mark("checkd-first-chart");
      window.checkdFirstChartMs = performance.now();
    }
  }

  show(labels, data, span, emptyText) {
    const signature = labels.join("\u0000");
    if (!this.plot || signature !== this.signature) {
      this.signature = signature;
      this.build(labels);
    }
    this.span = span;
    this.plot.setData(data, true);
    this.message(countPoints(data) ? "" : emptyText);
  }

  resize() {
    if (this.plot) this.plot.setSize({ width: this.width(), height: HEIGHT });
  }
}

/** The three history charts, their range picker and the request generation guarding stale answers. */
export class Charts {
  constructor(figures, onError) {
    this.charts = figures.map((f) => new Chart(f));
    this.range = "1h";
    this.generation = 0;
    this.onError = onError;
    window.addEventListener("resize", () => this.charts.forEach((c) => c.resize()));
  }

  setRange(range) {
    if (!(range in RANGES)) return;
    this.range = range;
    this.charts.forEach((c) => { c.figure.dataset.range = range; });
  }

  async fetchOne(metric, host, since, points, path) {
    // No `until`: the server's "now" ends the range (and such answers are not cached per second).
    const q = new URLSearchParams({ since: new Date(since * 1000).toISOString(), points: String(points) });
    if (host) q.set("host", host);
    if (path) q.set("path", path);
    return api(`/api/v2/history/${encodeURIComponent(metric)}?${q}`);
  }

  /** Reload every chart for `host` over the current range; `disks` resolves to the disk paths to draw. */
  async refresh(host, disks) {
    const generation = ++this.generation;
    const until = Math.floor(Date.now() / 1000);
    const since = until - RANGES[this.range];
    const emptyText = `no data for ${host || "this host"} in the last ${RANGE_WORDS[this.range]}`;
    if (typeof window.uPlot !== "function") {
      this.charts.forEach((c) => c.message("chart library not loaded (/static/vendor/uplot.min.js)"));
      return;
    }
    await Promise.all(this.charts.map(async (chart) => {
      const points = Math.min(1000, Math.max(100, chart.width()));
      try {
        const disk = chart.metric === "disk_percent";
        const known = disk ? await disks : [];
        const paths = disk && known.length ? known : [null];
        const answers = await Promise.all(
          paths.map((p) => this.fetchOne(chart.metric, host, since, points, p)),
        );
        if (generation !== this.generation) return;
        chart.figure.dataset.host = host;
        const cols = answers.map((a) => columns(a.points || [], a.resolution_s || 0));
        chart.figure.dataset.resolution = String(answers[0].resolution_s ?? "");
        if (cols.length === 1) {
          const c = cols[0];
          chart.show([chart.metric === "disk_percent" ? (paths[0] || "disk") : "avg"],
            [c.xs, c.avg, c.min, c.max], [since, until], emptyText);
        } else {
          chart.show(paths, merge(cols), [since, until], emptyText);
        }
      } catch (err) {
        if (generation !== this.generation) return;
        const why = err instanceof ApiError ? `${err.status || ""} ${err.detail}`.trim() : String(err);
        chart.show(["avg"], [[], [], [], []], [since, until], `history unavailable: ${why}`);
        if (this.onError) this.onError(err);
      }
    }));
  }
}
