// Same-origin JSON calls. The session cookie (HttpOnly) goes by itself; every
// write carries X-CSRF-Token from the sign-in or /v1/staff/me answer, kept
// in memory only.
import { session, clearSession } from "./session.js";

export class ApiError extends Error {
  constructor(status, body) {
    const e = body?.error ?? {};
    super(e.message || `请求失败（${status}）`);
    this.status = status;
    this.code = e.code || "network";
    this.fields = Object.fromEntries((e.fields ?? []).map((f) => [f.field, f.message]));
    this.requestId = body?.request_id;
  }
}

let onUnauthorized = () => {};
/** What to do when a signed-in call answers 401 (the session ended). */
export function setUnauthorizedHandler(fn) {
  onUnauthorized = fn;
}

/**
 * `api("POST", "/v1/admin/staff", body)`: the parsed JSON (null for 204), or
 * throws ApiError. `opts.public` marks calls made without a session (sign-in,
 * enrolment), whose 401 is an answer, not an ended session; `opts.headers` adds
 * headers (an `Idempotency-Key`).
 */
export async function api(method, path, body, opts = {}) {
  const headers = { accept: "application/json", ...opts.headers };
  // A file (Blob) goes as its own bytes with its own type; anything else as JSON.
  const file = typeof Blob !== "undefined" && body instanceof Blob;
  if (body !== undefined) headers["content-type"] = file ? body.type || "application/octet-stream" : "application/json";
  if (method !== "GET" && session.csrf) headers["x-csrf-token"] = session.csrf;
  let res;
  try {
    res = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : file ? body : JSON.stringify(body),
      credentials: "same-origin",
      cache: "no-store",
    });
  } catch {
    throw new ApiError(0, { error: { code: "network", message: "网络连接失败，请检查网络后重试" } });
  }
  if (res.status === 204) return null;
  let data = null;
  try {
    data = await res.json();
  } catch {
    data = null;
  }
  if (!res.ok) {
    const err = new ApiError(res.status, data);
    if (res.status === 401 && !opts.public) {
      clearSession();
      onUnauthorized(err);
    }
    throw err;
  }
  return data;
}
