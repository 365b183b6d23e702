// checkd dashboard: one history chart (a uPlot figure): its series, level lines, markers for actions and
// the sampler's stopped spans, drag-to-zoom by mouse or touch, and a time axis in the page's format.

import { bytes, clock, count, pct } from "./format.js";
import { limits } from "./levels.js";

const COLOURS = ["#2563eb", "#d97706", "#059669", "#db2777", "#7c3aed", "#0891b2"];
const LEVEL_COLOURS = { warn: "#d97706", bad: "#dc2626" };
const HEIGHT = 180;
const MARKER_GAP = 4; // px: markers nearer than this are drawn as one
const TOUCH_SLOP = 10; // px a finger moves before its drag counts as sideways (zoom) or upright (scroll)
const DAY = new Intl.DateTimeFormat("en-GB", { day: "numeric", month: "short" });
const HM = new Intl.DateTimeFormat("en-GB", { hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
const RATE = (v) => `${bytes(v)}/s`;

let firstChartMarked = false;

function rgba(hex, alpha) {
  const n = parseInt(hex.slice(1), 16);
  return `rgba(${(n >> 16) & 255},${(n >> 8) & 255},${n & 255},${alpha})`;
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

/** One chart figure: a uPlot instance, its series (one per disk path) and what it last read. */
export class Chart {
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
    this.wireTouch(this.plot);
  }

  /** Drag-to-zoom by touch, which uPlot's selection (mouse only) lacks: a sideways drag selects, an
   * upright one scrolls the page (touch-action: pan-y on the plot) and selects nothing. */
  wireTouch(u) {
    let from = null; // where the finger went down, {x, y} in the plot's px
    const at = (ev) => {
      const r = u.over.getBoundingClientRect();
      return { x: Math.min(Math.max(ev.touches[0].clientX - r.left, 0), r.width), y: ev.touches[0].clientY - r.top };
    };
    const drop = () => { from = null; u.setSelect({ left: 0, top: 0, width: 0, height: 0 }, false); };
    u.over.addEventListener("touchstart", (ev) => { if (ev.touches.length === 1) from = at(ev); else drop(); }, { passive: true });
    u.over.addEventListener("touchmove", (ev) => {
      if (from === null) return;
      const to = at(ev);
      const [dx, dy] = [Math.abs(to.x - from.x), Math.abs(to.y - from.y)];
      if (!from.sideways && dx + dy < TOUCH_SLOP) return; // the way a finger goes is told after a few px
      if (ev.touches.length !== 1 || (!from.sideways && dy > dx)) { drop(); return; }
      from.sideways = true;
      u.setSelect({ left: Math.min(from.x, to.x), width: Math.abs(to.x - from.x), top: 0, height: u.over.clientHeight }, false);
    }, { passive: true });
    u.over.addEventListener("touchend", () => { if (from !== null) this.selected(u); drop(); }); // a short drag selects nothing
    u.over.addEventListener("touchcancel", drop);
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
