// checkd dashboard: talking to the API (token kept in sessionStorage, readable error messages).

const TOKEN_KEY = "checkd-token";
const READ_TIMEOUT_MS = 10_000; // a server that hangs counts as not reachable
const KEPT_MAX = 32; // answers kept for conditional reads (paths the dashboard re-reads; bounded)
const kept = new Map(); // path -> {etag, data}: the last 200 answer of a conditional read

/** The user closed the token dialog: nothing to report. */
export class Cancelled extends Error {}

/** An API failure with an HTTP status (0 when the server could not be reached) and a readable text. */
export class ApiError extends Error {
  constructor(status, detail, body) {
    super(detail);
    this.status = status;
    this.detail = detail;
    this.body = body;
  }
}

/** Whether a read's answer is its failure (the page's reads answer an Error rather than throw). */
export const failed = (x) => x instanceof Error;

export function getToken() {
  try { return sessionStorage.getItem(TOKEN_KEY) || ""; } catch { return ""; }
}

export function setToken(token) {
  try {
    if (token) sessionStorage.setItem(TOKEN_KEY, token); else sessionStorage.removeItem(TOKEN_KEY);
  } catch { /* storage disabled: the token lives only for this request */ }
  document.dispatchEvent(new CustomEvent("checkd-token"));
}

function detailOf(body, fallback) {
  if (body && typeof body.detail === "string") return body.detail;
  if (body && Array.isArray(body.detail) && body.detail.length) {
    const d = body.detail[0];
    return `${(d.loc || []).slice(1).join(".")}: ${d.msg}`;
  }
  if (body && typeof body.message === "string") return body.message;
  return fallback;
}

/** Keep `data` as the answer tagged `etag` for `path` (the oldest kept answer goes past KEPT_MAX). */
function keep(path, etag, data) {
  kept.delete(path);
  if (!etag) return;
  kept.set(path, { etag, data });
  if (kept.size > KEPT_MAX) kept.delete(kept.keys().next().value);
}

/** fetch() an API path; JSON body back, or throws ApiError. `write` requests carry the token.
 * A `conditional` read sends the ETag of its last answer and, on 304, returns that answer again
 * (only the headers cross the wire); use it for paths re-read unchanged, never for moving ones. */
export async function api(path, { method = "GET", body, write = false, conditional = false, signal = AbortSignal.timeout(READ_TIMEOUT_MS) } = {}) {
  const headers = { Accept: "application/json" };
  const token = getToken();
  if (token) headers.Authorization = `Bearer ${token}`;
  if (write) headers["X-Checkd-Client"] = "dashboard";
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const last = conditional ? kept.get(path) : undefined;
  if (last) headers["If-None-Match"] = last.etag;
  let response;
  try {
    response = await fetch(path, {
      method, headers, signal, cache: "no-store",
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (err) {
    if (err && err.name === "AbortError") throw err; // TimeoutError falls through: not reachable
    throw new ApiError(0, "checkd is not reachable (is the server running?)", null);
  }
  const text = await response.text(); // read even when empty, so the request ends as finished
  if (last && response.status === 304) return last.data;
  let data = null;
  if (text) {
    try { data = JSON.parse(text); } catch { data = { detail: text.slice(0, 200) }; }
  }
  if (!response.ok) {
    throw new ApiError(response.status, detailOf(data, response.statusText || "error"), data);
  }
  if (conditional) keep(path, response.headers.get("ETag"), data);
  return data;
}

/** A sentence a person can act on, for a failed control request on `what` (e.g. "httpd start"). */
export function explain(err, what) {
  if (!(err instanceof ApiError)) return `${what}: ${err && err.message ? err.message : err}`;
  const d = err.detail ? `: ${err.detail}` : "";
  const s = err.status;
  switch (s) {
    case 0: return `${what}: ${err.detail}`;
    case 401: return `${what}: not authorised (401), the API token is missing or wrong${d}. `
      + "The next click asks for it again.";
    case 403: return `${what}: refused (403), this service may not be controlled${d}`;
    case 404: return `${what}: not found (404)${d}`;
    case 409: return `${what}: busy (409), another action on this service is still running${d}`;
    case 502: return `${what}: failed (502), the command failed or the state did not follow${d}`;
    case 503: return `${what}: unavailable (503), checkd's database is not ready${d}`;
    case 504: return `${what}: timed out (504), the command took too long and was killed${d}`;
    default: return `${what}: error ${s}${d}`;
  }
}

let pendingAsk = null;

/** The token: from sessionStorage, else asked once through the dialog ("" when cancelled); `why` says
 * why it is asked again (a wrong token). */
export function ensureToken(why = "") {
  const have = getToken();
  if (have) return Promise.resolve(have);
  if (pendingAsk) return pendingAsk;
  const dialog = document.getElementById("token-dialog");
  const form = document.getElementById("token-form");
  const input = document.getElementById("token-input");
  const cancel = document.getElementById("token-cancel");
  pendingAsk = new Promise((resolve) => {
    const done = (value) => {
      form.removeEventListener("submit", onSubmit);
      cancel.removeEventListener("click", onCancel);
      dialog.removeEventListener("cancel", onCancel);
      if (dialog.open) dialog.close();
      input.value = "";
      pendingAsk = null;
      if (value) setToken(value);
      resolve(value);
    };
    const onSubmit = (ev) => { ev.preventDefault(); done(input.value.trim()); };
    const onCancel = (ev) => { ev.preventDefault(); done(""); };
    form.addEventListener("submit", onSubmit);
    cancel.addEventListener("click", onCancel);
    dialog.addEventListener("cancel", onCancel);
    input.value = "";
    const error = document.getElementById("token-error");
    error.textContent = why;
    error.hidden = !why;
    dialog.showModal();
    input.focus();
  });
  return pendingAsk;
}

/** Run a mutating request with the token; a wrong token (401) is asked for again in the dialog, and
 * Cancel throws `Cancelled` (not an error to show). */
export async function control(path, options = {}) {
  let why = "";
  for (;;) {
    const token = await ensureToken(why);
    if (!token) throw new Cancelled("cancelled");
    try {
      return await api(path, { method: "POST", write: true, signal: undefined, ...options });
    } catch (err) {
      if (!(err instanceof ApiError) || err.status !== 401) throw err;
      setToken("");
      why = `that token was refused (401): ${err.detail}. Try again.`;
    }
  }
}
