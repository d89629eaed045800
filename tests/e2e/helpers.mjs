// Shared harness of the end-to-end suite: a fresh database with the real
// migrations (applied by wrangler, as in production), all eight workers built
// to Wasm and running in workerd, and helpers to create admin tokens with the
// real scripts/admin-token.
import { startRuntime, ROOT } from "../../scripts/runtime.mjs";
import { startFakes } from "../fakes/providers.mjs";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execFileSync } from "node:child_process";
import { Agent, fetch } from "undici";
import { createServer as createNetServer } from "node:net";

// Idle connections are dropped after 500 ms, well before workerd closes them:
// a test that pauses (wrangler d1 execute takes a second or two) must not
// send its next request on a socket the server is closing at that moment.
const agent = new Agent({ keepAliveTimeout: 500, keepAliveMaxTimeout: 500 });

/** A port the system just said is free (bound and released at once). Taking it
 * from the system, not at random, keeps it clear of the ports clients are
 * using at that moment (a random pick once hit one: workerd died on bind). */
export function freePort() {
  return new Promise((ok, fail) => {
    const s = createNetServer();
    s.once("error", fail);
    s.listen(0, "127.0.0.1", () => { const { port } = s.address(); s.close(() => ok(port)); });
  });
}

/** Starts a runtime on a free port with a new, migrated database. If workerd
 * cannot start (the port was taken in between), everything started is stopped
 * and it tries again on another port: a failed start leaves nothing running
 * that would keep the test process alive. */
export async function boot(extraVars = {}) {
  const state = mkdtempSync(join(tmpdir(), "bianmin-e2e-"));
  const persist = join(state, "v3");
  let fakes;
  let started;
  try {
    wrangler(["d1", "migrations", "apply", "bianmin", "--local", "--persist-to", state]);
    fakes = await startFakes();
    for (let attempt = 1; !started; attempt++) {
      const port = await freePort();
      try {
        started = await startRuntime({ port, persist, quiet: !process.env.E2E_VERBOSE, vars: { ...fakes.vars, PUBLIC_BASE_URL: `http://127.0.0.1:${port}`, ...extraVars } });
      } catch (e) {
        if (attempt >= 3) throw e;
        console.error(`workerd did not start on port ${port} (${e.message}); trying another port`);
      }
    }
  } catch (e) {
    await fakes?.close();
    rmSync(state, { recursive: true, force: true });
    throw e;
  }
  const { mf, url } = started;
  return {
    url,
    mf,
    state,
    fakes,
    /** Creates an admin token with the given roles (and halls, departments served) through scripts/admin-token. */
    token(roles, name = "e2e", halls = [], departments = []) {
      const args = ["create", "--name", name, "--persist-to", state];
      for (const r of roles) args.push("--role", r);
      for (const h of halls) args.push("--hall", h);
      for (const d of departments) args.push("--department", d);
      const out = execFileSync(join(ROOT, "scripts", "admin-token"), args, { cwd: ROOT, encoding: "utf8" });
      const m = out.match(/bma_[0-9a-f]{64}/);
      if (!m) throw new Error(`no token in output: ${out}`);
      return m[0];
    },
    /** Runs SQL on the runtime's local D1 through wrangler; returns the rows. */
    sql(command) {
      const out = wrangler(["d1", "execute", "bianmin", "--local", "--persist-to", state, "--json", "--command", command]);
      return JSON.parse(out)[0].results;
    },
    async stop() {
      await mf.dispose();
      await fakes.close();
      rmSync(state, { recursive: true, force: true });
    },
  };
}

export function wrangler(args) {
  return execFileSync(join(ROOT, "node_modules", ".bin", "wrangler"), args, {
    cwd: ROOT,
    encoding: "utf8",
    env: { ...process.env, WRANGLER_SEND_METRICS: "false", CI: "true" },
  });
}

/** fetch + parsed JSON body (null when empty). */
export async function call(url, path, init = {}) {
  const res = await fetch(url + path, { ...init, dispatcher: agent });
  const text = await res.text();
  let body = null;
  if (text) {
    try { body = JSON.parse(text); } catch { body = text; }
  }
  return { status: res.status, headers: res.headers, body, text };
}

/** PUT JSON with a bearer token. */
export function putJson(url, path, payload, token) {
  return call(url, path, { method: "PUT", headers: { authorization: `Bearer ${token}`, "content-type": "application/json" }, body: JSON.stringify(payload) });
}

/** POST JSON with an optional bearer token. */
export function postJson(url, path, payload, token, extra = {}) {
  const headers = { "content-type": "application/json", ...extra };
  if (token) headers.authorization = `Bearer ${token}`;
  return call(url, path, { method: "POST", headers, body: typeof payload === "string" ? payload : JSON.stringify(payload) });
}
