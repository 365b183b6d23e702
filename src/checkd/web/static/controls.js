// checkd dashboard: the control buttons: a service action (asked first unless it starts), the sampler's
// start and stop; each failed service action is kept for its row, its output included.

import { ApiError, Cancelled, control, explain } from "./api.js";
import { setServiceBusy } from "./services.js";

const $ = (id) => document.getElementById(id);

/** Ask "Stop httpd on web-1?" in the page's dialog; true when confirmed. */
function confirmed(text) {
  const dialog = $("confirm-dialog");
  $("confirm-text").textContent = text;
  return new Promise((resolve) => {
    dialog.addEventListener("close", () => resolve(dialog.returnValue === "ok"), { once: true });
    dialog.returnValue = "";
    dialog.showModal();
    $("confirm-cancel").focus();
  });
}

/** Runs the page's actions; `notice(text, kind)` tells the outcome, `done()` refreshes the page. */
export class Controls {
  constructor(notice, done) {
    this.notice = notice;
    this.done = done;
    this.busy = new Set(); // services whose action is running
    this.failures = new Map(); // service -> the last failed action {what, action, at, reason, output}
  }

  /** `action` on service `name` of `host`, its row busy meanwhile. */
  async service(name, action, host) {
    const what = `${name} ${action}`;
    if (action !== "start" && !(await confirmed(`${action[0].toUpperCase()}${action.slice(1)} ${name} on ${host}?`))) return;
    this.busy.add(name);
    setServiceBusy(name, action);
    try {
      const result = await control(`/api/v2/services/${encodeURIComponent(name)}/${action}`);
      this.failures.delete(name);
      this.notice(`${what}: ok, now ${result.state} (${result.duration_ms} ms)`, "ok");
    } catch (err) {
      if (!(err instanceof Cancelled)) {
        this.notice(explain(err, what));
        const body = err instanceof ApiError ? err.body : null;
        this.failures.set(name, {
          what, action, at: (body && body.at) || new Date().toISOString(),
          reason: (body && (body.detail || body.message)) || (err instanceof ApiError ? err.detail : String(err)),
          output: (body && body.output) || "",
        });
      }
    } finally {
      this.busy.delete(name);
      setServiceBusy(name, null);
      this.done();
    }
  }

  /** Start or stop the sampler. */
  async sampler(action) {
    try {
      const result = await control(`/api/v2/sampler/${action}`);
      this.notice(`sampler: ${result.message || (result.running ? "running" : "stopped")}`, "ok");
    } catch (err) {
      if (!(err instanceof Cancelled)) this.notice(explain(err, `sampler ${action}`));
    }
    this.done();
  }
}
