// scripts/bench --province: search in workerd over a province's packed index
// (issue 19). The 100,000-item index is built natively by the cron's own code
// (paged::build, the province_chunks test) and stored in the local KV as the
// cron would store it, with D1's catalogue version set to it; the items
// themselves are not loaded into local D1 (that alone would take longer than
// the bench), so answers carry no full-text "matched" fields. Measured: the
// cold load (the first search: manifest, chunks, checksums, tables) and the
// latency of uncached searches next to the static baseline's. Then, given the
// catalogue as SQLite (the same native import), the cron's own page-by-page
// build inside workerd: the catalogue copied into local D1, one scheduled
// event, its time and workerd's resident memory.
import { readFileSync, readdirSync, existsSync, rmSync } from "node:fs";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { boot, freePort } from "../tests/e2e/helpers.mjs";
import { startRuntime } from "./runtime.mjs";

const [dir, dbFile, runs = "200"] = process.argv.slice(2);
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
if (dbFile && existsSync(dbFile)) {
  // The first runtime is disposed there (to write its D1 file); the rest of it here.
  await cronBuild(dbFile);
  await rt.fakes.close();
  rmSync(rt.state, { recursive: true, force: true });
} else {
  await rt.stop();
}

/** The cron's build in workerd over the province's catalogue in local D1. */
async function cronBuild(file) {
  await rt.mf.dispose();
  const copied = copyCatalogue(file, d1Files(join(rt.state, "v3", "d1")));
  console.log(`\ncron build in workerd: ${copied} rows copied into local D1 from ${file}`);
  const port = await freePort();
  const { mf, url: url2 } = await startRuntime({ port, persist: join(rt.state, "v3"), vars: rt.fakes.vars });
  try {
    await measureCron(mf, url2);
  } finally {
    await mf.dispose();
  }
}

async function measureCron(mf, url2) {
  await (await fetch(`${url2}/v1/health`)).arrayBuffer();
  const kv = await mf.getKVNamespace("CACHE", "bianmin-item-search");
  await kv.delete("search:packed");
  const pid = workerdPid();
  const before = rss(pid);
  let peak = before;
  const sampler = setInterval(() => { peak = Math.max(peak, rss(pid)); }, 20);
  // The cron's log line (workerd's stdout, shown when not quiet) says what it did.
  const write = process.stdout.write.bind(process.stdout);
  let line;
  process.stdout.write = (chunk, ...rest) => {
    const lines = String(chunk).split("\n");
    const found = lines.find((l) => l.includes('"event":"search.packed.build"'));
    if (found) line = JSON.parse(found.slice(found.indexOf("{")));
    const others = lines.filter((l) => l !== found && !l.includes('"path":"/v1/health"')).join("\n");
    return others.trim() ? write(others, ...rest) : true;
  };
  const t0 = performance.now();
  try {
    await (await mf.getWorker("bianmin-item-search")).scheduled({ cron: "* * * * *" });
  } finally {
    process.stdout.write = write;
  }
  const wall = performance.now() - t0;
  clearInterval(sampler);
  peak = Math.max(peak, rss(pid));
  const m = JSON.parse((await kv.get("search:packed")) ?? "null");
  if (!m || m.docs !== manifest.docs || m.checksum !== manifest.checksum) {
    throw new Error(`the cron stored ${JSON.stringify(m)}; the native build gave ${manifest.docs} docs, ${manifest.checksum}`);
  }
  console.log(`the scheduled event built and stored ${m.docs} items (${(m.bytes / 1048576).toFixed(2)} MiB, ${m.chunks} chunks), byte for byte the native build (checksum ${m.checksum.slice(0, 12)})`);
  if (line) {
    console.log(`the cron's own account: reading D1 ${(line.load_ms / 1000).toFixed(1)} s, packing ${(line.pack_ms / 1000).toFixed(1)} s, storing ${(line.store_ms / 1000).toFixed(1)} s; item-search's Wasm memory once the blob was built ${line.built_memory_mib.toFixed(1)} MiB, after storing it ${line.wasm_memory_mib.toFixed(1)} MiB`);
  } else {
    console.log("(no search.packed.build line seen on workerd's stdout)");
  }
  console.log(`wall time ${(wall / 1000).toFixed(1)} s; workerd resident ${mib(before)} MiB before, peak ${mib(peak)} MiB (+${mib(peak - before)} MiB: every isolate, local D1's SQLite and KV included)`);
}

/** Every SQLite file of local D1 under `dir`. */
function d1Files(dir) {
  const out = [];
  for (const e of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile() && e.name.endsWith(".sqlite")) out.push(join(e.parentPath, e.name));
  }
  return out;
}

/** Copies every non-empty table of `src` into the local D1 file holding `items`; returns the rows. */
function copyCatalogue(src, files) {
  for (const f of files) {
    const db = new DatabaseSync(f, { enableForeignKeyConstraints: false });
    if (!db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'items'").get()) { db.close(); continue; }
    db.prepare("ATTACH DATABASE ? AS src").run(src);
    const tables = db.prepare("SELECT name FROM src.sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_cf_%' AND name <> 'd1_migrations'").all().map((r) => r.name);
    let rows = 0;
    db.exec("BEGIN");
    for (const t of tables) {
      const n = db.prepare(`SELECT count(*) AS n FROM src."${t}"`).get().n;
      if (!n) continue;
      db.exec(`DELETE FROM main."${t}"; INSERT INTO main."${t}" SELECT * FROM src."${t}"`);
      rows += n;
    }
    db.exec("COMMIT");
    db.exec("DETACH DATABASE src");
    db.close();
    return rows;
  }
  throw new Error(`no local D1 file with an items table among ${files.join(", ")}`);
}

/** The workerd process this one started. */
function workerdPid() {
  for (const p of readdirSync("/proc").filter((d) => /^\d+$/.test(d))) {
    try {
      const stat = readFileSync(`/proc/${p}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      if (ppid === process.pid && readFileSync(`/proc/${p}/comm`, "utf8").trim() === "workerd") return Number(p);
    } catch { /* gone */ }
  }
  throw new Error("no workerd child process");
}

function rss(pid) {
  const m = readFileSync(`/proc/${pid}/status`, "utf8").match(/VmRSS:\s+(\d+) kB/);
  return m ? Number(m[1]) * 1024 : 0;
}

function mib(bytes) {
  return (bytes / 1048576).toFixed(1);
}
