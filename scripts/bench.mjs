// The benchmark driver behind scripts/bench: a fresh migrated database, the
// demo catalogue plus N synthetic items, then wrk per scenario.
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { loadCatalog } from "./load-catalog.mjs";
import { demoCatalog } from "./catalog/demo.mjs";
import { syntheticCatalog } from "./catalog/synthetic.mjs";
import { boot } from "../tests/e2e/helpers.mjs";

const [duration, conns, nItems] = process.argv.slice(2).map(Number);
// The same fresh, migrated runtime (with the provider fakes) the e2e suite uses.
const rt = await boot();
const { url, state } = rt;
const token = rt.token(["catalogue_editor", "catalogue_reviewer"], "bench");
const demo = demoCatalog();
await loadCatalog(url, token, demo);
if (nItems > 0) await loadCatalog(url, token, syntheticCatalog(nItems));
const codes = demo.items.map((i) => i.code);
for (const c of codes) await fetch(`${url}/v1/guides/${c}`).then((r) => r.arrayBuffer()); // warm the KV cache
const etags = await Promise.all(codes.map(async (c) => (await fetch(`${url}/v1/guides/${c}`)).headers.get("etag")));

// A logged-in citizen (WeChat login through the local jscode2session fake).
const login = await (await fetch(`${url}/v1/auth/wechat`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ code: "ok-bench-1" }) })).json();
const session = login.token;

// wrk Lua: rotate over the demo guides (optionally with their ETags).
function rotation(paths, headers = []) {
  const file = join(state, `rot-${Math.random().toString(36).slice(2)}.lua`);
  const list = paths.map((p, i) => `{${JSON.stringify(p)}, ${JSON.stringify(headers[i] ?? "")}}`).join(",\n");
  writeFileSync(file, `local reqs = {\n${list}\n}\nlocal n = 0\nrequest = function()\n  n = n % #reqs + 1\n  local r = reqs[n]\n  local h = {}\n  if r[2] ~= "" then h["If-None-Match"] = r[2] end\n  return wrk.format("GET", r[1], h)\nend\n`);
  return file;
}

const scenarios = [
  { name: "baseline (static /v1/health)", path: "/v1/health" },
  { name: "guide-detail (warm cache)", script: rotation(codes.map((c) => `/v1/guides/${c}`)), probe: `/v1/guides/${codes[0]}` },
  { name: "guide-detail 304 (If-None-Match)", script: rotation(codes.map((c) => `/v1/guides/${c}`), etags), probe: `/v1/guides/${codes[0]}` },
  { name: "materials (warm cache)", script: rotation(codes.map((c) => `/v1/guides/${c}/materials`)), probe: `/v1/guides/${codes[0]}/materials` },
  { name: "halls nearby (D1 read)", path: "/v1/halls/nearby?lat=29.3069&lng=120.0751&limit=5" },
  { name: "GET /v1/me (session + profile)", path: "/v1/me", headers: { authorization: `Bearer ${session}` } },
  { name: "search 2 characters (社保)", path: `/v1/items/search?q=${encodeURIComponent("社保")}` },
  { name: "search pinyin (shuifei)", path: "/v1/items/search?q=shuifei" },
  { name: "search filtered (证, online, category)", path: `/v1/items/search?q=${encodeURIComponent("证")}&online=true&category=${encodeURIComponent("户政（治安）")}` },
  { name: "suggest (gjj)", path: "/v1/items/suggest?q=gjj" },
  // The naive alternative (development only): D1 LIKE '%q%' scans, same queries.
  { name: "naive D1 LIKE (社保)", path: `/v1/items/search?engine=like&q=${encodeURIComponent("社保")}` },
  { name: "naive D1 LIKE (证, online, category)", path: `/v1/items/search?engine=like&q=${encodeURIComponent("证")}&online=true&category=${encodeURIComponent("户政（治安）")}` },
];
// Warm each isolate's search index before measuring.
await fetch(`${url}/v1/items/search?q=x`).then((r) => r.arrayBuffer());

// wrk runs asynchronously: this process hosts the runtime, and a blocked
// event loop would stall workerd on its log pipe.
async function wrk(s) {
  const args = ["-t2", `-c${conns}`, `-d${s.warmup ? 2 : duration}s`, "--latency"];
  if (s.script) args.push("-s", s.script);
  for (const [k, v] of Object.entries(s.headers ?? {})) args.push("-H", `${k}: ${v}`);
  const { stdout: out } = await promisify(execFile)("wrk", [...args, url + (s.path ?? "/")], { encoding: "utf8" });
  const rps = Number(out.match(/Requests\/sec:\s+([\d.]+)/)[1]);
  const pct = (p) => toMs(out.match(new RegExp(`\\s${p}%\\s+([\\d.]+\\w+)`))[1]);
  const non2xx = Number(out.match(/Non-2xx or 3xx responses: (\d+)/)?.[1] ?? 0);
  return { rps, p50: pct(50), p99: pct(99), non2xx };
}
const toMs = (v) => { const [, n, u] = v.match(/([\d.]+)(\w+)/); return Number(n) * ({ us: 0.001, ms: 1, s: 1000 }[u]); };

/** Mean in-worker time from the server-timing header over 200 sequential requests. */
async function workerMs(path, headers = {}) {
  let sum = 0;
  for (let i = 0; i < 200; i++) {
    const r = await fetch(url + path, { headers });
    await r.arrayBuffer();
    sum += Number((r.headers.get("server-timing") ?? "").match(/dur=([\d.]+)/)?.[1] ?? NaN);
  }
  return sum / 200;
}

// Warm up every route (JIT, caches) before anything is measured.
for (const s of scenarios) await wrk({ ...s, warmup: true });
const rows = [];
for (const s of scenarios) rows.push({ ...s, ...(await wrk(s)), worker: await workerMs(s.probe ?? s.path, s.headers) });
// The baseline is measured again last; ratios use the mean of both runs.
const again = await wrk(scenarios[0]);
const base = { ...rows[0], rps: (rows[0].rps + again.rps) / 2, p50: (rows[0].p50 + again.p50) / 2 };
console.log(`\nbaseline first/last: ${rows[0].rps.toFixed(0)} / ${again.rps.toFixed(0)} req/s`);
console.log(`\nbianmin bench: wrk -t2 -c${conns} -d${duration}s, catalogue of ${codes.length + nItems} items, one run`);
console.log("scenario".padEnd(36), "req/s".padStart(9), "p50 ms".padStart(8), "p99 ms".padStart(8), "ratio".padStart(7), "+p50 ms".padStart(8), "worker ms".padStart(10), "non-2xx".padStart(8));
for (const r of rows) {
  console.log(r.name.padEnd(36), r.rps.toFixed(0).padStart(9), r.p50.toFixed(2).padStart(8), r.p99.toFixed(2).padStart(8),
    (r.rps / base.rps).toFixed(2).padStart(7), (r.p50 - base.p50).toFixed(2).padStart(8), r.worker.toFixed(2).padStart(10), String(r.non2xx).padStart(8));
}
console.log("\nratio = req/s over the baseline's in this run; +p50 = added median latency; worker ms = mean server-timing");
console.log("(workerd advances Date.now() only across I/O, so in-worker times are coarse: 0 or 1 ms steps).");
await rt.stop();
