// checkd dashboard: the warn/bad levels values are marked by (from the alert rules, else defaults; see README).

const FALLBACK = { warn: 75, bad: 90, source: "default" };
let levels = {};
try {
  levels = JSON.parse(document.querySelector('meta[name="checkd-levels"]').content || "{}");
} catch { levels = {}; }

/** The levels of `metric` (cpu_percent, mem_percent, disk_percent) for disk `path` if given. */
export function limits(metric, path) {
  return (path && levels[`${metric}:${path}`]) || levels[metric] || FALLBACK;
}

/** "bad", "warn", "ok" or "" (no value) for `value` of `metric`. */
export function grade(metric, value, path) {
  if (value === null || value === undefined) return "";
  const l = limits(metric, path);
  return value >= l.bad ? "bad" : value >= l.warn ? "warn" : "ok";
}
