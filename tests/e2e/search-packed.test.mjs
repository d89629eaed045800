// The packed search index (issue 19) in workerd: item-search's cron stores it
// in KV once per catalogue version (chunks, then the manifest), isolates load
// it instead of building their own, search answers exactly as before, a
// published change reaches search after the next cron, and a manifest naming
// damaged chunks is refused (the isolate builds its own index, the next cron
// stores good chunks).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { boot, call, postJson } from "./helpers.mjs";
import { checkResponse } from "./contract.mjs";
import { demoCatalog } from "../../scripts/catalog/demo.mjs";

const demo = demoCatalog();
const WORKER = "bianmin-item-search";
const MANIFEST = "search:packed";
/** KV's limit on one value. */
const KV_VALUE_LIMIT = 25 * 1024 * 1024;
/** Bytes of a chunk's header (packed::CHUNK_HEADER). */
const CHUNK_HEADER = 40;
/** An isolate reads the manifest at most every 2 s. */
const CHECK_MS = 2_000;
let rt, kv, editor, reviewer;

before(async () => {
  rt = await boot();
  editor = rt.token(["catalogue_editor"], "编辑甲");
  reviewer = rt.token(["catalogue_reviewer"], "审核乙");
  assert.equal((await postJson(rt.url, "/v1/admin/items:import", demo, reviewer)).status, 200);
  kv = await rt.mf.getKVNamespace("CACHE", WORKER);
});
after(async () => { await rt?.stop(); });

const sleep = (ms) => new Promise((ok) => setTimeout(ok, ms));
const cron = async () => (await rt.mf.getWorker(WORKER)).scheduled({ cron: "* * * * *" });
const manifest = async () => JSON.parse((await kv.get(MANIFEST)) ?? "null");
const chunkKey = (m, i) => `${MANIFEST}:${m.version}:${m.checksum}:${i}`;
/** The catalogue's version in D1 (the routes say the version of the index they answer from). */
const version = () => rt.sql("SELECT version FROM catalog_meta WHERE id = 1")[0].version;
/** Uncached searches (`nocache`, development only): scored by whichever index the isolate holds. */
const search = (qs) => call(rt.url, `/v1/items/search?${qs}&nocache=1`);
const names = async (q) => (await search(`q=${encodeURIComponent(q)}&size=50`)).body.items.map((i) => i.name);

/** Polls until `check` holds. */
async function eventually(check, ms = 6_000) {
  const t0 = Date.now();
  for (;;) {
    if (await check()) return Date.now() - t0;
    if (Date.now() - t0 > ms) assert.fail(`not within ${ms} ms`);
    await sleep(200);
  }
}

const SEARCHES = [
  "q=证", "q=证&size=50&page=2", "q=社保", "q=shuifei", "q=sbk", "q=公基金", "q=身分证", "q=", "q=申请&online=true",
  "q=证&appointment=true&size=20", `q=水&category=${encodeURIComponent("供水服务")}`, "q=办理&lat=29.31&lng=120.07",
  "q=jzz", "q=不存在的事项名称",
].map((qs) => qs.replace(/q=([^&]*)/, (_, q) => `q=${encodeURIComponent(q)}`));
const SUGGESTS = ["社", "shui", "gjj", "营业", "证"];

/** Every answer the routes give that the index decides (search ids, which are random, left out). */
async function answers() {
  const out = {};
  for (const qs of SEARCHES) {
    const r = await search(qs);
    assert.equal(r.status, 200, `${qs}: ${r.text}`);
    const { search_id, ...body } = r.body;
    out[qs] = body;
  }
  for (const q of SUGGESTS) out[`suggest ${q}`] = (await call(rt.url, `/v1/items/suggest?q=${encodeURIComponent(q)}`)).body;
  for (const path of ["/v1/categories", "/v1/tags"]) out[path] = (await call(rt.url, path)).body;
  // 热门搜索 counts the searches above; the ranked items come from the index.
  out["/v1/items/hot"] = (await call(rt.url, "/v1/items/hot")).body.items;
  return out;
}

/** Saves a change to a published item and has another person publish it. */
async function publish(code, change) {
  const stored = await call(rt.url, `/v1/admin/items/${code}/published`, { headers: { authorization: `Bearer ${editor}` } });
  assert.equal(stored.status, 200, stored.text);
  const put = await call(rt.url, `/v1/admin/items/${code}`, {
    method: "PUT", headers: { authorization: `Bearer ${editor}`, "content-type": "application/json" },
    body: JSON.stringify({ ...stored.body, ...change }),
  });
  assert.equal(put.status, 200, put.text);
  assert.equal((await postJson(rt.url, `/v1/admin/items/${code}:submit`, {}, editor)).status, 200);
  const done = await postJson(rt.url, `/v1/admin/items/${code}:publish`, {}, reviewer);
  assert.equal(done.status, 200, done.text);
}

test("the cron stores the index once per version, every chunk under KV's limit, and search answers the same from it", async () => {
  const before = await answers();
  assert.equal(await manifest(), null, "nothing stored before the first cron");
  await cron();
  const m = await manifest();
  assert.equal(m.version, version());
  assert.equal(m.docs, demo.items.length);
  assert.ok(m.chunks >= 1 && /^[0-9a-f]{16}$/.test(m.checksum), JSON.stringify(m));
  let payload = 0;
  for (let i = 0; i < m.chunks; i++) {
    const chunk = await kv.get(chunkKey(m, i), "arrayBuffer");
    assert.ok(chunk && chunk.byteLength <= KV_VALUE_LIMIT, `chunk ${i}`);
    payload += chunk.byteLength - CHUNK_HEADER;
  }
  assert.equal(payload, m.bytes, "the chunks hold the blob the manifest names");
  await cron();
  assert.deepEqual(await manifest(), m, "not built again for the same version");

  // The next request after the isolate's check interval loads the stored index.
  await sleep(CHECK_MS + 100);
  let t0 = performance.now();
  const cold = await search(`q=${encodeURIComponent("社保")}`);
  const coldMs = performance.now() - t0;
  t0 = performance.now();
  await search(`q=${encodeURIComponent("社保")}`);
  console.log(`packed index (${m.bytes} bytes, ${m.chunks} chunk(s), ${m.docs} items): first search ${coldMs.toFixed(1)} ms, next ${(performance.now() - t0).toFixed(1)} ms`);
  assert.equal(cold.status, 200);
  checkResponse("/v1/items/search", "get", cold);
  const after = await answers();
  for (const key of Object.keys(before)) assert.deepEqual(after[key], before[key], key);
});

test("a published change reaches search with the next cron; until then the stored index answers", async () => {
  const target = demo.items[2];
  const name = "便民改名测试事项";
  const old = await manifest();
  await publish(target.code, { name });
  const v = version();
  assert.ok(v > old.version);
  // Within the grace the isolate keeps serving the stored (older) index.
  await sleep(CHECK_MS + 100);
  assert.ok(!(await names("便民改名测试")).includes(name), "the stored index of the previous version answers");
  await cron();
  const m = await manifest();
  assert.equal(m.version, v);
  assert.notEqual(m.checksum, old.checksum);
  const ms = await eventually(async () => (await names("便民改名测试")).includes(name));
  console.log(`search shows the change ${ms} ms after the cron`);
  assert.ok(!(await names(target.name)).includes(target.name), "the old name is gone");
  // The previous set stays a while for readers of the previous manifest.
  assert.ok(await kv.get(chunkKey(old, 0), "arrayBuffer"), "retired, not deleted at once");
});

test("a manifest naming damaged chunks is refused: search still follows the catalogue, and the next cron stores good chunks", async () => {
  const good = await manifest();
  const target = demo.items[3];
  const name = "损坏分块回退测试事项";
  await publish(target.code, { name });
  const v = version();
  // A manifest for the new version whose chunk is garbage.
  const bad = { ...good, version: v, checksum: "00000000deadbeef", chunks: 1 };
  await kv.put(chunkKey(bad, 0), new Uint8Array(4_096).fill(7));
  await kv.put(MANIFEST, JSON.stringify(bad));
  const ms = await eventually(async () => (await names("损坏分块回退")).includes(name));
  console.log(`the isolate built its own index ${ms} ms after the bad manifest`);
  const report = JSON.parse((await kv.get("search:packed:refused")) ?? "null");
  assert.equal(report?.checksum, bad.checksum, "the isolate reported the refusal");
  await cron();
  const healed = await manifest();
  assert.equal(healed.version, v);
  assert.notEqual(healed.checksum, bad.checksum);
  assert.equal(await kv.get("search:packed:refused"), null);
  await sleep(CHECK_MS + 100);
  assert.ok((await names("损坏分块回退")).includes(name));
  assert.equal((await search(`q=${encodeURIComponent("社保")}`)).status, 200);
});
