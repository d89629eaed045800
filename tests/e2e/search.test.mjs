// Item search: filters, facets, paging, highlights, nearest hall,
// suggestions, banned words, categories and tags, index freshness.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { boot, call, postJson } from "./helpers.mjs";
import { checkResponse } from "./contract.mjs";
import { demoCatalog } from "../../scripts/catalog/demo.mjs";

const demo = demoCatalog();
let rt, editor;
before(async () => {
  rt = await boot();
  editor = rt.token(["catalogue_editor", "catalogue_reviewer"]);
  assert.equal((await postJson(rt.url, "/v1/admin/items:import", demo, editor)).status, 200);
});
after(async () => { await rt?.stop(); });

const search = (qs) => call(rt.url, `/v1/items/search?${qs}`);

test("results carry facets per category, highlights and stable paging", async () => {
  const r = await search(`q=${encodeURIComponent("证")}&size=2`);
  assert.equal(r.status, 200);
  checkResponse("/v1/items/search", "get", r);
  assert.ok(r.body.total > 2);
  assert.equal(r.body.facets.reduce((n, f) => n + f.count, 0), r.body.total);
  const all = [];
  for (let page = 1; page <= Math.ceil(r.body.total / 2); page++) {
    const p = await search(`q=${encodeURIComponent("证")}&size=2&page=${page}`);
    all.push(...p.body.items.map((i) => i.code));
  }
  assert.equal(new Set(all).size, r.body.total, "pages neither repeat nor skip");
  const water = await search(`q=${encodeURIComponent("水费")}`);
  const [top] = water.body.items;
  assert.equal(top.name, "水费缴费");
  assert.deepEqual(top.highlights, [[0, 2]]);
});

test("filters narrow results; facets still count the other categories", async () => {
  const base = await search(`q=${encodeURIComponent("申请")}`);
  const cat = base.body.facets[0].category;
  const filtered = await search(`q=${encodeURIComponent("申请")}&category=${encodeURIComponent(cat)}`);
  assert.ok(filtered.body.items.every((i) => i.category === cat));
  assert.deepEqual(filtered.body.facets, base.body.facets);
  const online = await search(`q=${encodeURIComponent("水表")}&online=true&size=50`);
  assert.ok(online.body.items.length > 0 && online.body.items.every((i) => i.online));
  const appt = await search(`q=${encodeURIComponent("水表")}&appointment=false&size=50`);
  assert.ok(appt.body.items.every((i) => !i.appointment));
  const tag = await search(`tag=${encodeURIComponent("发票")}`);
  assert.deepEqual(tag.body.items.map((i) => i.name), ["水费发票换票"]);
  for (const bad of ["online=maybe", "page=0", "size=500", "lat=29.3", "lat=91&lng=120"]) {
    const r = await search(`q=x&${bad}`);
    assert.equal(r.status, 400, bad);
    checkResponse("/v1/items/search", "get", r);
  }
});

test("with a location each hit names its nearest hall", async () => {
  const r = await search(`q=${encodeURIComponent("水表过户")}&lat=29.1953&lng=120.0498`);
  const [top] = r.body.items;
  assert.equal(top.name, "水表过户");
  assert.equal(top.nearest_hall.id, "H004");
  assert.ok(top.nearest_hall.distance_m < 100);
});

test("banned words are refused with a clear 400", async () => {
  const r = await search(`q=${encodeURIComponent("哪里能办假证")}`);
  assert.equal(r.status, 400);
  assert.equal(r.body.error.code, "query_banned");
  checkResponse("/v1/items/search", "get", r);
  const s = await call(rt.url, `/v1/items/suggest?q=${encodeURIComponent("假证")}`);
  assert.deepEqual(s.body.suggestions, []);
});

test("suggestions complete names from Chinese and pinyin prefixes, at most 10", async () => {
  const zh = await call(rt.url, `/v1/items/suggest?q=${encodeURIComponent("水表")}`);
  assert.equal(zh.status, 200);
  checkResponse("/v1/items/suggest", "get", zh);
  assert.ok(zh.body.suggestions.length > 3 && zh.body.suggestions.length <= 10);
  assert.ok(zh.body.suggestions.every((s) => s.text.includes("水表")));
  const py = await call(rt.url, "/v1/items/suggest?q=shuif");
  assert.equal(py.body.suggestions[0].text.slice(0, 2), "水费");
  const initials = await call(rt.url, "/v1/items/suggest?q=gjj");
  assert.match(initials.body.suggestions[0].text, /公积金/);
});

test("categories and tags list what the catalogue holds", async () => {
  const c = await call(rt.url, "/v1/categories");
  assert.equal(c.status, 200);
  const water = c.body.items.find((x) => x.name === "供水服务");
  assert.equal(water.count, demo.items.filter((i) => i.category === "供水服务").length);
  const t = await call(rt.url, "/v1/tags");
  assert.ok(t.body.items.some((x) => x.name === "公积金"));
});

test("a published change reaches search within seconds", async () => {
  const item = structuredClone(demo.items.find((i) => i.name === "银行托收"));
  item.name = "银行托收（代扣水费）";
  assert.equal((await postJson(rt.url, "/v1/admin/items:import", { items: [item] }, editor)).status, 200);
  const deadline = Date.now() + 5000;
  let found = false;
  while (!found && Date.now() < deadline) {
    const r = await search(`q=${encodeURIComponent("代扣水费")}`);
    found = r.body.items.some((i) => i.name === "银行托收（代扣水费）");
    if (!found) await new Promise((ok) => setTimeout(ok, 250));
  }
  assert.ok(found, "the renamed item is searchable within 5 s");
});

test("a logged-in citizen's searches are remembered, newest first, at most 20, and can be cleared", async () => {
  const login = async (who) => (await postJson(rt.url, "/v1/auth/wechat", { code: `ok-${who}-1` })).body.token;
  const [a, b] = [await login("histalice"), await login("histbob")];
  const as = (token, qs) => call(rt.url, `/v1/items/search?${qs}`, { headers: { authorization: `Bearer ${token}` } });
  await as(a, `q=${encodeURIComponent("水费")}`);
  await new Promise((ok) => setTimeout(ok, 1100));
  await as(a, `q=${encodeURIComponent("怎么办理护照")}`);
  await search(`q=${encodeURIComponent("匿名搜索")}`);
  const h = await call(rt.url, "/v1/me/search-history", { headers: { authorization: `Bearer ${a}` } });
  assert.equal(h.status, 200);
  checkResponse("/v1/me/search-history", "get", h);
  assert.deepEqual(h.body.queries.map((x) => x.query), ["护照", "水费"]);
  const other = await call(rt.url, "/v1/me/search-history", { headers: { authorization: `Bearer ${b}` } });
  assert.deepEqual(other.body.queries, []);
  for (let i = 0; i < 22; i++) await as(b, `q=${encodeURIComponent(`证${i}`)}`);
  const capped = await call(rt.url, "/v1/me/search-history", { headers: { authorization: `Bearer ${b}` } });
  assert.equal(capped.body.queries.length, 20);
  assert.equal((await call(rt.url, "/v1/me/search-history")).status, 401);
  const del = await call(rt.url, "/v1/me/search-history", { method: "DELETE", headers: { authorization: `Bearer ${a}` } });
  assert.equal(del.status, 204);
  assert.deepEqual((await call(rt.url, "/v1/me/search-history", { headers: { authorization: `Bearer ${a}` } })).body.queries, []);
  const stale = await call(rt.url, `/v1/items/search?q=${encodeURIComponent("水费")}`, { headers: { authorization: `Bearer bms_${"0".repeat(64)}` } });
  assert.equal(stale.status, 200, "a stale token does not block public search");
});

test("guide views and searches feed the hot lists without losing concurrent counts", async () => {
  const fund = demo.items.find((i) => i.name.startsWith("住房公积金提取")).code;
  const pay = demo.items.find((i) => i.name === "水费缴费").code;
  // 40 concurrent views of one guide, 5 of another: every one must be counted.
  await Promise.all([...Array(40)].map(() => call(rt.url, `/v1/guides/${fund}`)));
  await Promise.all([...Array(5)].map(() => call(rt.url, `/v1/guides/${pay}`)));
  for (let i = 0; i < 3; i++) await search(`q=${encodeURIComponent("低保")}`);
  // Counts are written at most once a second per isolate: one more request after that flushes them.
  await new Promise((ok) => setTimeout(ok, 1100));
  await call(rt.url, `/v1/guides/${pay}`);
  await search(`q=${encodeURIComponent("低保")}`);
  const deadline = Date.now() + 70_000;
  let hot;
  do {
    hot = await call(rt.url, "/v1/items/hot");
    if (hot.body.items[0]?.code === fund) break;
    await new Promise((ok) => setTimeout(ok, 500));
  } while (Date.now() < deadline);
  assert.equal(hot.status, 200);
  checkResponse("/v1/items/hot", "get", hot);
  assert.deepEqual(hot.body.items.slice(0, 2).map((i) => [i.code, i.views]), [[fund, 40], [pay, 6]]);
  assert.deepEqual(hot.body.searches.find((s) => s.query === "最低生活保障"), { query: "最低生活保障", count: 4 });
  // An empty query is the hot list (each isolate re-reads the counts every 10 s).
  let order = [];
  const until = Date.now() + 15_000;
  while (Date.now() < until) {
    order = (await search("q=&size=2")).body.items.map((i) => i.code);
    if (order[1] === pay) break;
    await new Promise((ok) => setTimeout(ok, 500));
  }
  assert.deepEqual(order, [fund, pay]);
});
