// checkd dashboard: every audit entry inside the charted range (for the markers), read in bounded pages.

import { failed } from "./api.js";

const FIRST_LIMIT = 100; // the first read of a range asks for this many entries...
const GROWTH = 4; // ...and this many times more while the oldest answered is still inside the range...
const MAX_LIMIT = 10_000; // ...up to the API's own maximum of /api/v2/actions?limit
const newestFirst = (a, b) => Date.parse(b.at) - Date.parse(a.at) || b.id - a.id; // the API's order

/** The audit entries of one host inside the charted range, newest first. A host or range change reads
 * back in growing pages until the oldest entry answered is older than the range (or the API's maximum);
 * afterwards only the newest few the page reads anyway are merged in, unless they show a gap. */
export class ActionLog {
  constructor(read) {
    this.read = read; // (path) => answer or Error
    this.key = "";
    this.items = [];
    this.top = null; // the newest entry's id in the last merged answer (a gap shows as its absence)
    this.clipped = false; // the range holds more entries than one read may answer: the oldest are missing...
    this.oldestRead = -Infinity; // ...those before this (Unix s), until the range has moved past it
  }

  /** Bring the log of `key` (host and range) to `newest` (the newest entries, newest first, as
   * /api/v2/actions?limit=`limit``hostQuery` answered them) over [since, now] (Unix s); true when the
   * entries changed. */
  async update(key, hostQuery, since, newest, limit) {
    let changed = false;
    const gap = newest.length >= limit && this.top !== null && !newest.some((a) => a.id === this.top);
    if (key !== this.key || gap) {
      const page = await this.readBack(hostQuery, since);
      if (page === null) return false; // failed: tried again on the next update
      this.key = key;
      this.items = page;
      changed = true;
    } else {
      const known = new Set(this.items.map((a) => a.id));
      const fresh = newest.filter((a) => !known.has(a.id));
      if (fresh.length) {
        this.items = [...fresh, ...this.items].sort(newestFirst);
        changed = true;
      }
    }
    if (newest.length) this.top = newest[0].id;
    if (this.clipped && this.oldestRead < since) this.clipped = false;
    const kept = this.items.filter((a) => Date.parse(a.at) / 1000 >= since);
    if (kept.length !== this.items.length) { this.items = kept; changed = true; }
    return changed;
  }

  /** "Latest actions": `actions` (the newest), and from the log down to entry `id` (a followed marker's)
   * when they do not reach it. */
  downTo(actions, id) {
    const i = this.items.findIndex((a) => a.id === id);
    if (i < 0 || actions.some((a) => a.id === id)) return actions;
    const shown = new Set(actions.map((a) => a.id));
    return [...actions, ...this.items.slice(0, i + 1).filter((a) => !shown.has(a.id))].sort(newestFirst);
  }

  /** Entries newer than `since`, read back in growing pages; null when a read failed. A range holding
   * more than MAX_LIMIT entries is marked for its newest MAX_LIMIT only, and says so (`clipped`). */
  async readBack(hostQuery, since) {
    for (let limit = FIRST_LIMIT; ; limit = Math.min(MAX_LIMIT, limit * GROWTH)) {
      const page = await this.read(`/api/v2/actions?limit=${limit}${hostQuery}`);
      if (failed(page)) return null;
      const oldest = page.length ? Date.parse(page[page.length - 1].at) / 1000 : -Infinity;
      if (page.length < limit || oldest < since || limit >= MAX_LIMIT) {
        this.clipped = page.length >= MAX_LIMIT && oldest >= since;
        this.oldestRead = oldest;
        return page.filter((a) => Date.parse(a.at) / 1000 >= since);
      }
    }
  }
}
