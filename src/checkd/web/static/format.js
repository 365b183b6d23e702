// checkd dashboard: the one way times, ages, numbers and units are written (local time, zone named once).

const NUM = new Intl.NumberFormat("en");
const TIME = new Intl.DateTimeFormat("en-GB", { hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false });
const DAY = new Intl.DateTimeFormat("en-GB", { day: "numeric", month: "short" });
const ZONE = Intl.DateTimeFormat().resolvedOptions().timeZone || "local time";

/** The browser's time zone and its UTC offset now, e.g. "Europe/Berlin (UTC+01:00)". */
export function zone() {
  const min = -new Date().getTimezoneOffset();
  const sign = min < 0 ? "-" : "+";
  const abs = Math.abs(min);
  const off = `${String(Math.floor(abs / 60)).padStart(2, "0")}:${String(abs % 60).padStart(2, "0")}`;
  return `${ZONE} (UTC${sign}${off})`;
}

function toDate(t) {
  if (t === null || t === undefined || t === "") return null;
  const d = t instanceof Date ? t : new Date(typeof t === "number" ? t * 1000 : t);
  return Number.isNaN(d.getTime()) ? null : d;
}

/** A local time, "16:04:05", with the day in front when it is not today ("29 Nov 16:04:05"). */
export function clock(t) {
  const d = toDate(t);
  if (!d) return "–";
  const today = new Date().toDateString() === d.toDateString();
  return today ? TIME.format(d) : `${DAY.format(d)} ${TIME.format(d)}`;
}

/** How long ago, "12 s ago", "7 min ago", "3 h ago", "2 d ago". */
export function ago(t, now = Date.now()) {
  const d = toDate(t);
  if (!d) return "–";
  const s = Math.max(0, Math.round((now - d.getTime()) / 1000));
  if (s < 90) return `${s} s ago`;
  if (s < 90 * 60) return `${Math.round(s / 60)} min ago`;
  if (s < 36 * 3600) return `${Math.round(s / 3600)} h ago`;
  return `${Math.round(s / 86400)} d ago`;
}

/** Seconds since `t` (Infinity when there is no time). */
export function ageS(t, now = Date.now()) {
  const d = toDate(t);
  return d ? (now - d.getTime()) / 1000 : Infinity;
}

/** A grouped whole number, "2,592,002". */
export const num = (n) => (n === null || n === undefined ? "–" : NUM.format(n));

/** "1 error", "2 errors", "2,592,002 checks". */
export const count = (n, word, many = `${word}s`) => `${num(n)} ${n === 1 ? word : many}`;

/** A percentage with one decimal, "26.3 %". */
export const pct = (v) => (v === null || v === undefined ? "–" : `${Number(v).toFixed(1)} %`);

/** Bytes in binary units, "74.8 GiB". */
export function bytes(n) {
  if (n === null || n === undefined) return "–";
  const units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
  let i = 0;
  let v = n;
  while (v >= 1024 && i < units.length - 1) { v /= 1024; i++; }
  return `${v >= 100 || i === 0 ? v.toFixed(0) : v.toFixed(1)} ${units[i]}`;
}

/** A duration in seconds, "45 s", "7 min", "3 h". */
export function span(s) {
  if (s < 90) return `${Math.round(s)} s`;
  if (s < 90 * 60) return `${Math.round(s / 60)} min`;
  return `${Math.round(s / 3600)} h`;
}
