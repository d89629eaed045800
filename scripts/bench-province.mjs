// scripts/bench --province: search in workerd over a province's packed index
// (issue 19). The 100,000-item index is built natively by the cron's own code
// (paged::build, the province_chunks test) and stored in the local KV as the
// cron would store it, with D1's catalogue version set to it; the items
// themselves are not loaded into local D1 (that alone would take longer than
// the bench), so answers carry no full-text "matched" fields. Measured: the
// cold load (the first search: manifest, chunks, checksums, tables) and the
// latency of uncached searches next to the static baseline's.
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { boot } from "../tests/e2e/helpers.mjs";

const [dir, runs = "200"] = process.argv.slice(2);
const n = Number(runs);
const manifest = JSON.parse(readFileSync(join(dir, "manifest.json"), "utf8"));
const chunks = readdirSync(dir).filter((f) => /^\d+$/.test(f)).sort();
if (chunks.length !== manifest.chunks) throw new Error(`${dir}: ${chunks.length} chunk files, the manifest says ${manifest.chunks}`);

const rt = await boot();
const { url } = rt;
const kv = await rt.mf.getKVNamespace("CACHE", "bianmin-item-search");
for (const [i, f] of chunks.entries()) {
  await kv.put(`search:packed:${manifest.version}:${manifest.checksum}:${i}`, new Uint8Array(readFileSync(join(dir, f))));
}
await kv.put("search:packed", JSON.stringify(manifest));
rt.sql(`UPDATE catalog_meta SET version = ${Number(manifest.version)} WHERE id = 1`);

const q = (s) => encodeURIComponent(s);
async function timed(path) {
  const t = performance.now();
  const r = await fetch(url + path);
  const body = await r.text();
  if (r.status !== 200) throw new Error(`${path}: ${r.status} ${body.slice(0, 200)}`);
  return { ms: performance.now() - t, body };
}

// Cold: the isolate's first search loads the index.
await timed("/v1/health");
const cold = await timed(`/v1/items/search?nocache=1&q=${q("社保")}`);
const total = JSON.parse(cold.body).total;
const warm = await timed(`/v1/items/search?nocache=1&q=${q("社保")}`);
console.log(`province index: ${manifest.docs} items, ${(manifest.bytes / 1048576).toFixed(2)} MiB in ${manifest.chunks} chunks`);
console.log(`cold first search (manifest, chunks from local KV, checksums, tables, the search): ${cold.ms.toFixed(1)} ms; the same search warm ${warm.ms.toFixed(1)} ms (社保: ${total} hits)`);

const cases = [
  ["baseline (static /v1/health)", "/v1/health"],
  ["search 社保", `/v1/items/search?nocache=1&q=${q("社保")}`],
  ["search shuifei", "/v1/items/search?nocache=1&q=shuifei"],
  ["search 证", `/v1/items/search?nocache=1&q=${q("证")}`],
  ["search 证, online, category", `/v1/items/search?nocache=1&q=${q("证")}&online=true&category=${q("户政（治安）")}`],
  ["search sbk", "/v1/items/search?nocache=1&q=sbk"],
  ["search 卫生许可正 (typo)", `/v1/items/search?nocache=1&q=${q("卫生许可正")}`],
  ["search 社保 in 330782", `/v1/items/search?nocache=1&q=${q("社保")}&region=330782`],
  ["suggest gjj", "/v1/items/suggest?q=gjj"],
];
const pct = (xs, p) => xs[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))];
console.log(`\n${n} sequential requests each (uncached: nocache=1, development only), wall time from this process`);
console.log("case".padEnd(34), "p50 ms".padStart(8), "p99 ms".padStart(8), "+p50 ms".padStart(8));
let base;
for (const [name, path] of cases) {
  for (let i = 0; i < 20; i++) await timed(path);
  const ms = [];
  for (let i = 0; i < n; i++) ms.push((await timed(path)).ms);
  ms.sort((a, b) => a - b);
  base ??= pct(ms, 50);
  console.log(name.padEnd(34), pct(ms, 50).toFixed(2).padStart(8), pct(ms, 99).toFixed(2).padStart(8), (pct(ms, 50) - base).toFixed(2).padStart(8));
}
await rt.stop();
