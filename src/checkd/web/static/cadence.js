// checkd dashboard: what a refresh reads besides the newest check, and when: each panel's answer is kept
// and read again when due, or at once when the newest check or /healthz shows that it changed.

import { failed } from "./api.js";

// At most how often (s) each is read. Unchanged answers come back as 304 (conditional reads).
const EVERY_S = { health: 10, services: 10, probes: 10, sampler: 30, actions: 30, hosts: 30, alerts: 30, processes: 30 };
const CONDITIONAL = new Set(["health", "services", "probes", "actions", "alerts"]);

/** The kept answers of one host's panels, when each was read, and which are due at once. */
export class Cadence {
  constructor() {
    this.host = "";
    this.kept = {}; // key of EVERY_S -> its last answer, for `host`
    this.readAt = {}; // key of EVERY_S -> when it was last read (Unix s)
    this.due = new Set(); // keys to read on the next refresh whatever their cadence
  }

  /** Keep answers for `host` from now on; true when that is another host (everything is read anew). */
  switchTo(host) {
    if (host === this.host) return false;
    this.host = host;
    this.kept = {};
    return true;
  }

  /** Read everything on the next refresh (checkd stopped answering: nothing kept is known to be current). */
  allDue() {
    this.due = new Set(Object.keys(EVERY_S));
  }

  /** The answer for `key`: `fetch(conditional)` again when due (or `force`), else the one kept from before. */
  read(key, now, force, fetch) {
    if (!(force || this.due.has(key) || !(key in this.kept) || now - (this.readAt[key] || 0) >= EVERY_S[key])) {
      return Promise.resolve(this.kept[key]);
    }
    this.readAt[key] = now;
    this.due.delete(key);
    const kept = this.kept; // this host's: a host switch meanwhile starts a new one
    return fetch(CONDITIONAL.has(key)).then((answer) => {
      if (failed(answer)) this.due.add(key); // a failed read is tried again on the next refresh
      kept[key] = answer;
      return answer;
    });
  }

  /** Mark due what the newest check `latest` (this checkd's own; null for another host's) or /healthz
   * `health` shows changed since those panels were read. */
  noteChanges(latest, health) {
    const kept = this.kept;
    if (latest) {
      const services = kept.services;
      if (Array.isArray(services) && services.some((s) => latest.services[s.name] && latest.services[s.name] !== s.state)) {
        this.due.add("services");
        this.due.add("actions"); // someone may have acted on it
      }
      const probes = kept.probes;
      const up = new Map((latest.probes || []).map((p) => [p.name, p.up]));
      if (Array.isArray(probes) && probes.some((p) => up.has(p.name) && up.get(p.name) !== p.up)) this.due.add("probes");
    }
    // /healthz sums up the sampler (failing, its probes), the database, upkeep and firing alerts:
    // when it changes, the sampler panel and the alerts are read at once.
    const now = health && !failed(health) ? JSON.stringify(health) : "";
    if (now && kept.lastHealth && now !== kept.lastHealth) {
      this.due.add("sampler");
      this.due.add("alerts");
    }
    if (now) kept.lastHealth = now;
  }
}
