// Regions (行政区划, issue 19) in search through workerd: a search in a county
// finds its own items and its city's and province's, never a sibling
// county's; a city's finds its counties' too; hits and guides name their
// region; a bad or unknown region is a 400 in Chinese. The same answers
// from the isolate's own index and from the packed one the cron stores.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { boot, call, postJson } from "./helpers.mjs";
import { checkResponse } from "./contract.mjs";
import { demoCatalog } from "../../scripts/catalog/demo.mjs";
import { uscc, itemCode } from "../../scripts/catalog/common.mjs";

const demo = demoCatalog();
/** 浙江省, 金华市, its 义乌市 and 东阳市 (siblings), 杭州市 and its 西湖区. */
const PLACES = [
  ["330000", "浙江省", "province", "2"],
  ["330700", "金华市", "city", "3"],
  ["330782", "义乌市", "county", "4"],
  ["330783", "东阳市", "county", "4"],
  ["330100", "杭州市", "city", "3"],
  ["330106", "西湖区", "county", "4"],
];
const NAME = "区划测试证明开具";
/** A demo item standing alone (no 情形 pointing at other items) as the template. */
const plain = demo.items.find((i) => !(i.guide.situations ?? []).length && !i.related?.length);
const items = PLACES.map(([region, place, , level], i) => {
  const basic = String(900000000000 + i);
  const template = structuredClone(plain);
  return {
    ...template,
    code: itemCode(uscc(`11${region}${String(7000000 + i).padStart(9, "0")}`), level, basic),
    basic_code: basic,
    name: `${NAME}（${place}）`,
    related: [],
  };
});

let rt;
before(async () => {
  rt = await boot();
  const editor = rt.token(["catalogue_editor", "catalogue_reviewer"]);
  const r = await postJson(rt.url, "/v1/admin/items:import", { halls: demo.halls, items }, editor);
  assert.equal(r.status, 200, JSON.stringify(r.body));
});
after(async () => { await rt?.stop(); });

const WORKER = "bianmin-item-search";
const search = (qs) => call(rt.url, `/v1/items/search?${qs}&nocache=1`);
/** The region codes of the hits of a search for NAME from `region`, sorted. */
async function seen(region) {
  const r = await search(`q=${encodeURIComponent(NAME)}&size=50&region=${region}`);
  assert.equal(r.status, 200, region);
  checkResponse("/v1/items/search", "get", r);
  assert.equal(r.body.total, r.body.items.length);
  return r.body.items.map((i) => i.region.code).sort();
}

async function regionsAnswer() {
  assert.deepEqual(await seen("330782"), ["330000", "330700", "330782"], "a county: itself, its city, its province");
  assert.deepEqual(await seen("330783"), ["330000", "330700", "330783"], "never the sibling county");
  assert.deepEqual(await seen("330700"), ["330000", "330700", "330782", "330783"], "a city: its counties too");
  assert.deepEqual(await seen("330106"), ["330000", "330100", "330106"]);
  assert.deepEqual(await seen("330000"), PLACES.map((p) => p[0]).sort(), "the province: all of it");
}

test("a county sees its own, its city's and its province's items, never a sibling county's", async () => {
  await regionsAnswer();
  const all = await search(`q=${encodeURIComponent(NAME)}&size=50`);
  assert.equal(all.body.total, PLACES.length, "no region: every item");
});

test("every hit names its region, level and name from the regions table", async () => {
  const r = await search(`q=${encodeURIComponent(NAME)}&size=50`);
  for (const [code, name, level] of PLACES) {
    const hit = r.body.items.find((i) => i.region.code === code);
    assert.deepEqual(hit.region, { code, name, level });
  }
  // The guide of the same item names it too.
  const yiwu = r.body.items.find((i) => i.region.code === "330782");
  const g = await call(rt.url, `/v1/guides/${yiwu.code}`);
  assert.equal(g.status, 200);
  checkResponse("/v1/guides/{item_code}", "get", g);
  assert.deepEqual(g.body.item.region, { code: "330782", name: "义乌市", level: "county" });
});

test("suggestions keep to the region", async () => {
  const r = await call(rt.url, `/v1/items/suggest?q=${encodeURIComponent("区划测试")}&region=330783`);
  assert.equal(r.status, 200);
  checkResponse("/v1/items/suggest", "get", r);
  assert.deepEqual(r.body.suggestions.map((s) => s.text).sort(), ["区划测试证明开具（东阳市）", "区划测试证明开具（浙江省）", "区划测试证明开具（金华市）"]);
});

test("a malformed or unknown region is a 400 with a Chinese message", async () => {
  for (const [bad, pattern] of [["33078", /6位数字/], ["abcdef", /6位数字/], ["990100", /省级代码/], ["320582", /未知的行政区划代码/]]) {
    for (const path of ["/v1/items/search?q=x&region=", "/v1/items/suggest?q=x&region="]) {
      const r = await call(rt.url, `${path}${bad}`);
      assert.equal(r.status, 400, `${path}${bad}`);
      assert.equal(r.body.error.code, "bad_request");
      assert.equal(r.body.error.fields[0].field, "region");
      assert.match(r.body.error.fields[0].message, pattern);
    }
  }
});

test("the packed index the cron stores answers regions alike", async () => {
  await (await rt.mf.getWorker(WORKER)).scheduled({ cron: "* * * * *" });
  const kv = await rt.mf.getKVNamespace("CACHE", WORKER);
  assert.ok(await kv.get("search:packed"), "the cron stored a packed index");
  // An isolate reads the manifest at most every 2 s.
  await new Promise((ok) => setTimeout(ok, 2_500));
  await regionsAnswer();
});
