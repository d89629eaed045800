// The local edge runtime: all eight workers, built to Wasm, served by workerd
// through Miniflare on one address with the route patterns of their
// wrangler.toml files (the same path routing as production).
//
//   node scripts/runtime.mjs [--port 8787] [--persist .wrangler/state/v3]
//
// Used by scripts/dev, the end-to-end tests and scripts/bench.
import { Miniflare, Log, LogLevel } from "miniflare";
import { parse } from "smol-toml";
import { readFileSync, readdirSync, existsSync } from "node:fs";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");

// guide-detail comes first: Miniflare sends requests that match no route to
// the first worker, and guide-detail answers those with a JSON 404.
export const FUNCTIONS = ["guide-detail", "item-search", "appointment", "bill-payment", "outage-sms", "complaint", "identity", "console", "application"];

/** Reads functions/<name>/wrangler.toml. */
export function wranglerConfig(name) {
  return parse(readFileSync(join(ROOT, "functions", name, "wrangler.toml"), "utf8"));
}

/** "api.bianmin.example.cn/v1/guides*" -> "*\/v1/guides*": any host, same path. */
export function localRoute(pattern) {
  const slash = pattern.indexOf("/");
  return "*" + (slash < 0 ? "/*" : pattern.slice(slash));
}

function workerOptions(name, vars) {
  const cfg = wranglerConfig(name);
  const script = join(ROOT, "functions", name, cfg.main);
  if (!existsSync(script)) throw new Error(`${name} is not built (${script}); run scripts/build`);
  return {
    name: cfg.name,
    modules: true,
    scriptPath: script,
    modulesRules: [{ type: "CompiledWasm", include: ["**/*.wasm"] }],
    compatibilityDate: cfg.compatibility_date,
    routes: (cfg.routes ?? []).map((r) => localRoute(typeof r === "string" ? r : r.pattern)),
    d1Databases: Object.fromEntries((cfg.d1_databases ?? []).map((d) => [d.binding, d.database_id])),
    kvNamespaces: Object.fromEntries((cfg.kv_namespaces ?? []).map((k) => [k.binding, k.id])),
    ratelimits: Object.fromEntries((cfg.ratelimits ?? []).map((r) => [r.name, { namespace_id: r.namespace_id, simple: r.simple }])),
    queueProducers: Object.fromEntries((cfg.queues?.producers ?? []).map((q) => [q.binding, q.queue])),
    queueConsumers: Object.fromEntries((cfg.queues?.consumers ?? []).map((q) => [q.queue, {
      maxBatchSize: q.max_batch_size, maxBatchTimeout: q.max_batch_timeout, maxRetries: q.max_retries,
      deadLetterQueue: q.dead_letter_queue }])),
    bindings: { ...(cfg.vars ?? {}), ENVIRONMENT: "development", ...vars },
    ...assetOptions(name, cfg),
  };
}

/** Workers Static Assets of a worker whose wrangler.toml has `[assets]` (the
 * console's web app): served before the worker, as in production; a path
 * no file matches (the API) falls through to the worker. */
function assetOptions(name, cfg) {
  if (!cfg.assets) return {};
  // BM_ASSETS_DIR: another build of the web app (a second build beside the first while developing).
  const directory = process.env.BM_ASSETS_DIR || join(ROOT, "functions", name, cfg.assets.directory);
  if (!existsSync(directory)) throw new Error(`${name}'s web app is not built (${directory}); run scripts/build ${name}`);
  return { assets: { directory, binding: cfg.assets.binding, routerConfig: { has_user_worker: true } } };
}

/** Reads KEY=VALUE lines of a .dev.vars file, if present. */
function devVars() {
  const file = join(ROOT, ".dev.vars");
  if (!existsSync(file)) return {};
  return Object.fromEntries(
    readFileSync(file, "utf8").split("\n").filter((l) => /^\s*[A-Z_][A-Z0-9_]*\s*=/.test(l))
      .map((l) => { const i = l.indexOf("="); return [l.slice(0, i).trim(), l.slice(i + 1).trim().replace(/^"|"$/g, "")]; }),
  );
}

/** Starts the runtime; resolves to { mf, url }. */
export async function startRuntime({ port = 8787, host = "127.0.0.1", persist, verbose = false, quiet = false, vars: extra = {} } = {}) {
  const vars = { ...extra, ...devVars() };
  const mf = new Miniflare({
    host,
    cf: false, // no network here: do not fetch the Request.cf data
    port,
    log: new Log(verbose ? LogLevel.INFO : LogLevel.WARN),
    // The layout `wrangler d1 migrations apply --local` writes (.wrangler/state/v3).
    d1Persist: persist && join(persist, "d1"),
    kvPersist: persist && join(persist, "kv"),
    queuesPersist: persist && join(persist, "queues"),
    workers: FUNCTIONS.map((n) => workerOptions(n, vars)),
    // Profiling: V8's inspector for every worker (BM_INSPECTOR_PORT=9229).
    ...(process.env.BM_INSPECTOR_PORT ? { inspectorPort: Number(process.env.BM_INSPECTOR_PORT) } : {}),
    // quiet: drop the workers' per-request log lines (tests, benchmarks); errors still show.
    ...(quiet ? { handleRuntimeStdio: (stdout, stderr) => { stdout.resume(); stderr.pipe(process.stderr); } } : {}),
  });
  let url;
  try {
    url = await mf.ready;
  } catch (e) {
    // workerd did not start (a taken port, for one): stop what Miniflare did
    // start, or its servers keep the caller's process alive.
    await mf.dispose().catch(() => {});
    throw e;
  }
  return { mf, url: url.toString().replace(/\/$/, "") };
}

/** Every migration file, in order. */
export function migrationFiles() {
  const dir = join(ROOT, "schemas", "migrations");
  return readdirSync(dir).filter((f) => f.endsWith(".sql")).sort().map((f) => join(dir, f));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const arg = (flag, dflt) => { const i = process.argv.indexOf(flag); return i > 0 ? process.argv[i + 1] : dflt; };
  // Local WeChat and Aliyun SMS stand-ins, unless .dev.vars points elsewhere.
  const { startFakes } = await import("../tests/fakes/providers.mjs");
  const fakes = await startFakes({ port: Number(arg("--fakes-port", 0)) });
  console.log(`bianmin: fake WeChat, WeChat Pay, Alipay and Aliyun SMS on ${fakes.base} (sent SMS: ${fakes.base}/__fake/messages)`);
  const port = Number(arg("--port", process.env.PORT ?? 8787));
  const { mf, url } = await startRuntime({
    // Payment notifications from the fakes come back to this runtime.
    vars: { ...fakes.vars, PUBLIC_BASE_URL: `http://127.0.0.1:${port}` },
    port,
    persist: arg("--persist", join(ROOT, ".wrangler", "state", "v3")),
    verbose: process.argv.includes("--verbose"),
  });
  console.log(`bianmin: ${FUNCTIONS.length} functions serving on ${url}`);
  const stop = async () => { await mf.dispose(); await fakes.close(); process.exit(0); };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
}
