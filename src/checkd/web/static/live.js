// checkd dashboard: growing the charts from the newest check between history reads (no request of their own).

// A history metric's value in a check (the same readings history buckets are made of), by series spec.
const DEVICE_VALUES = {
  net_rx_bytes: ["net", "iface", "rx_bytes_per_s"],
  net_tx_bytes: ["net", "iface", "tx_bytes_per_s"],
  disk_read_bytes: ["disk_io", "device", "read_bytes_per_s"],
  disk_write_bytes: ["disk_io", "device", "write_bytes_per_s"],
};

/** The value of series `spec` ({metric, param}) in `check`, or null when the check has none. */
export function valueOf(spec, check) {
  const v = (x) => (typeof x === "number" && Number.isFinite(x) ? x : null);
  switch (spec.metric) {
    case "cpu_percent": return v(check.cpu);
    case "mem_percent": return check.memory ? v(check.memory.percent) : null;
    case "disk_percent": {
      const d = (check.disks || []).find((x) => x.path === (spec.param.path || "/"));
      return d ? v(d.percent) : null;
    }
    default: {
      const where = DEVICE_VALUES[spec.metric];
      if (!where) return null;
      const [list, name, field] = where;
      const d = (check[list] || []).find((x) => x[name] === spec.param.device);
      return d ? v(d[field]) : null;
    }
  }
}

/** `points` ({t, min, avg, max}, oldest first, buckets `resolution` s wide) with the reading `value`
 * at `t` (Unix s) folded in: into the newest bucket when it falls inside it, else as a new bucket on
 * the same grid; points before `since` are dropped. The fold is approximate (a tab sees only the
 * checks it reads, and a history bucket counts as one reading); the next history read replaces it. */
export function foldIn(points, t, value, resolution, since) {
  if (value === null || !points.length || !(resolution > 0)) return points;
  const last = points[points.length - 1];
  const start = Date.parse(last.t) / 1000;
  if (t < start) return points;
  const out = points.filter((p) => Date.parse(p.t) / 1000 >= since);
  if (t < start + resolution && out[out.length - 1] === last) {
    const n = last.n || 1;
    out[out.length - 1] = {
      t: last.t, min: Math.min(last.min, value), max: Math.max(last.max, value), avg: (last.avg * n + value) / (n + 1), n: n + 1,
    };
  } else {
    const at = start + Math.max(1, Math.floor((t - start) / resolution)) * resolution;
    out.push({ t: new Date(at * 1000).toISOString().replace(".000Z", "Z"), min: value, avg: value, max: value, n: 1 });
  }
  return out;
}
