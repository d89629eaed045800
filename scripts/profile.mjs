// The driver behind scripts/profile: a CPU profile of one worker in workerd,
// taken through V8's inspector (Miniflare's inspectorPort), while 8 clients
// send one path. Prints the call tree above --min percent of the samples.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { tmpdir } from "node:os";
import { loadCatalog } from "./load-catalog.mjs";
import { demoCatalog } from "./catalog/demo.mjs";
import { syntheticCatalog } from "./catalog/synthetic.mjs";

const args = process.argv.slice(2);
const opt = (flag, dflt) => { const i = args.indexOf(flag); if (i < 0) return dflt; const v = args[i + 1]; args.splice(i, 2); return v; };
const seconds = Number(opt("--seconds", 8));
const items = Number(opt("--items", 10000));
const worker = opt("--worker", "item-search");
const min = Number(opt("--min", 0.5));
const path = args[0];
if (!path?.startsWith("/") || !(seconds > 0) || !(items >= 0)) {
  console.error("usage: scripts/profile [--seconds S] [--items N] [--worker NAME] [--min PERCENT] PATH");
  process.exit(2);
}
const { boot, freePort } = await import("../tests/e2e/helpers.mjs");
process.env.BM_INSPECTOR_PORT = String(await freePort());
const rt = await boot();
try {
  const token = rt.token(["catalogue_editor", "catalogue_reviewer"], "profile");
  await loadCatalog(rt.url, token, demoCatalog());
  if (items > 0) await loadCatalog(rt.url, token, syntheticCatalog(items));
  await (await rt.mf.getWorker("bianmin-item-search")).scheduled({ cron: "* * * * *" });
  await new Promise((ok) => setTimeout(ok, 2500));
  const first = await fetch(rt.url + path);
  console.log(`profile: ${path} answers ${first.status}`);
  await first.arrayBuffer();
  for (let i = 0; i < 200; i++) await fetch(rt.url + path).then((r) => r.arrayBuffer());
  const targets = await (await fetch(`http://127.0.0.1:${process.env.BM_INSPECTOR_PORT}/json`)).json();
  const target = targets.find((t) => t.title?.endsWith(`core:user:bianmin-${worker}`));
  if (!target) throw new Error(`no worker bianmin-${worker} among ${targets.map((t) => t.title).join(", ")}`);
  const profile = await sample(target.webSocketDebuggerUrl, async () => {
    const end = Date.now() + seconds * 1000;
    let n = 0;
    await Promise.all(Array.from({ length: 8 }, async () => {
      while (Date.now() < end) { await fetch(rt.url + path).then((r) => r.arrayBuffer()); n++; }
    }));
    return n;
  });
  const out = join(tmpdir(), `bianmin-${worker}.cpuprofile`);
  writeFileSync(out, JSON.stringify(profile.profile));
  console.log(`profile: ${profile.requests} requests in ${seconds} s; raw profile ${out}`);
  printTree(profile.profile, min);
} finally {
  await rt.stop();
}

/** Runs `load` with V8's profiler started on the worker behind `wsUrl`. */
async function sample(wsUrl, load) {
  const ws = new WebSocket(wsUrl);
  await new Promise((ok, fail) => { ws.addEventListener("open", ok); ws.addEventListener("error", fail); });
  let id = 0;
  const waiting = new Map();
  ws.addEventListener("message", (ev) => {
    const m = JSON.parse(ev.data);
    if (m.id && waiting.has(m.id)) { waiting.get(m.id)(m); waiting.delete(m.id); }
  });
  const send = (method, params = {}) => new Promise((ok) => { const i = ++id; waiting.set(i, ok); ws.send(JSON.stringify({ id: i, method, params })); });
  await send("Profiler.enable");
  await send("Profiler.setSamplingInterval", { interval: 50 });
  await send("Profiler.start");
  const requests = await load();
  const { result } = await send("Profiler.stop");
  ws.close();
  return { requests, profile: result.profile };
}

/** The call tree, siblings of one name merged, by share of all samples. */
function printTree(prof, minPercent) {
  const byId = new Map(prof.nodes.map((n) => [n.id, n]));
  const self = new Map();
  prof.samples.forEach((s, i) => self.set(s, (self.get(s) ?? 0) + (prof.timeDeltas[i] ?? 0)));
  const total = [...self.values()].reduce((a, b) => a + b, 0) || 1;
  const incl = new Map();
  const sum = (id) => { let t = self.get(id) ?? 0; for (const c of byId.get(id).children ?? []) t += sum(c); incl.set(id, t); return t; };
  sum(prof.nodes[0].id);
  const name = (n) => (n.callFrame.functionName || "(anonymous)").replace(/::h[0-9a-f]{16}/, "").slice(0, 120);
  // wasm-bindgen's future plumbing repeats on every stack: shown once, not indented.
  const plumbing = /^(js_sys::futures|wasm_bindgen::convert::closures)/;
  const show = (ids, depth) => {
    const groups = new Map();
    for (const id of ids) { const k = name(byId.get(id)); groups.set(k, [...(groups.get(k) ?? []), id]); }
    const rows = [...groups].map(([k, g]) => [k, g, g.reduce((a, id) => a + incl.get(id), 0), g.reduce((a, id) => a + (self.get(id) ?? 0), 0)]);
    for (const [k, g, t, s] of rows.sort((a, b) => b[2] - a[2])) {
      if ((t / total) * 100 < minPercent) continue;
      const deeper = plumbing.test(k) ? depth : depth + 1;
      if (!plumbing.test(k)) console.log(`${"  ".repeat(depth)}${((t / total) * 100).toFixed(1).padStart(5)}% (self ${((s / total) * 100).toFixed(1)}) ${k}`);
      show(g.flatMap((id) => byId.get(id).children ?? []), deeper);
    }
  };
  console.log("share of samples: inclusive (self) function; (idle) and (program) are workerd's own");
  show([prof.nodes[0].id], 0);
}
