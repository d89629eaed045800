// 搜索分析 (issue 19) through workerd: item-search counts searches per day
// and query, a guide opened with the answer's search_id (guide-detail, ?sid=)
// marks its search followed, and editors read where citizens fail.
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

const search = async (q, extra = "") => {
  const r = await call(rt.url, `/v1/items/search?q=${encodeURIComponent(q)}${extra}`);
  assert.equal(r.status, 200, q);
  checkResponse("/v1/items/search", "get", r);
  return r;
};
/** Counts are written at most once a second per isolate: a search after that (one not counted) writes them. */
const flushCounts = async () => {
  await new Promise((ok) => setTimeout(ok, 1100));
  assert.equal((await call(rt.url, "/v1/items/search?q=")).status, 200);
};
const analytics = (qs = "", token = editor) =>
  call(rt.url, `/v1/admin/search/analytics${qs}`, { headers: token ? { authorization: `Bearer ${token}` } : {} });

// Nothing in the demo catalogue shares a character or a syllable with it.
const NOTHING = "恐龙蛋";

test("searches without results, with results never opened and opened ones are counted for editors", async () => {
  for (let i = 0; i < 2; i++) {
    const r = await search(NOTHING);
    assert.equal(r.body.total, 0);
    assert.equal(r.body.search_id, null, "nothing found: nothing to follow");
  }
  const water = await search("水费");
  const again = await search("水费");
  assert.ok(water.body.total > 0);
  assert.match(water.body.search_id, /^[0-9a-f]{56}$/, "signed: day, nonce, query hash, MAC");
  assert.notEqual(water.body.search_id, again.body.search_id, "a cached answer still gets its own id");
  assert.match(water.headers.get("cache-control"), /^private/);
  // The citizen opens a guide from the second search (twice: counted once).
  const code = again.body.items[0].code;
  for (let i = 0; i < 2; i++) {
    const g = await call(rt.url, `/v1/guides/${code}?sid=${again.body.search_id}`);
    assert.equal(g.status, 200);
    checkResponse("/v1/guides/{item_code}", "get", g);
  }
  // A passport search whose result is opened is no failure at all.
  const passport = await search("护照");
  assert.ok(passport.body.total > 0);
  assert.equal((await call(rt.url, `/v1/guides/${passport.body.items[0].code}?sid=${passport.body.search_id}`)).status, 200);
  // Page 2 is the same search; a malformed sid is ignored.
  const page2 = await search("水费", "&size=1&page=2");
  assert.equal(page2.body.search_id, null);
  assert.equal((await call(rt.url, `/v1/guides/${code}?sid=${encodeURIComponent("x' OR 1=1")}`)).status, 200);
  // A made-up id (another query's hash under this id's MAC) counts nothing.
  const forged = again.body.search_id.slice(0, 24) + "0123456789abcdef" + again.body.search_id.slice(40);
  assert.equal((await call(rt.url, `/v1/guides/${code}?sid=${forged}`)).status, 200);
  await flushCounts();

  const r = await analytics();
  assert.equal(r.status, 200);
  checkResponse("/v1/admin/search/analytics", "get", r);
  assert.match(r.headers.get("cache-control"), /no-store/);
  assert.deepEqual(r.body.no_result, [{ query: NOTHING, searches: 2 }]);
  assert.deepEqual(r.body.no_click, [{ query: "水费", searches: 2, opened: 1, rate: 0.5 }]);
  const today = r.body.to;
  assert.match(today, /^\d{4}-\d{2}-\d{2}$/);
  // A range that ends before today holds nothing; limit cuts the lists.
  const yesterday = new Date(Date.parse(`${today}T00:00:00+08:00`) - 86_400_000 + 8 * 3_600_000).toISOString().slice(0, 10);
  const past = await analytics(`?from=${yesterday}&to=${yesterday}`);
  assert.deepEqual([past.body.no_result, past.body.no_click], [[], []]);
  assert.equal((await analytics("?limit=1")).body.no_click.length, 1);
});

test("a phone or ID number typed into search is never stored", async () => {
  for (const q of ["13812345678", "我的身份证 330782199001011234"]) {
    const r = await search(q);
    assert.equal(r.body.search_id, null, q);
  }
  await flushCounts();
  const text = JSON.stringify(rt.sql("SELECT * FROM search_query_days")) + JSON.stringify(rt.sql("SELECT * FROM search_follows"));
  assert.doesNotMatch(text, /13812345678|330782|1234/);
  const r = await analytics();
  assert.ok(!JSON.stringify(r.body).includes("1381"));
});

test("only catalogue editors and reviewers read the analytics", async () => {
  const login = await postJson(rt.url, "/v1/auth/wechat", { code: "ok-analytics-citizen-1" });
  assert.equal(login.status, 200);
  const citizen = await analytics("", login.body.token);
  assert.ok([401, 403].includes(citizen.status), `citizen got ${citizen.status}`);
  checkResponse("/v1/admin/search/analytics", "get", citizen);
  assert.equal((await analytics("", null)).status, 401);
  const hall = await analytics("", rt.token(["hall_staff"], "hall"));
  assert.equal(hall.status, 403);
  checkResponse("/v1/admin/search/analytics", "get", hall);
  assert.equal((await analytics("", rt.token(["catalogue_reviewer"], "reviewer"))).status, 200);
  for (const bad of ["?from=2026-13-01", "?from=2026-11-30&to=2026-11-01", "?from=2025-01-01&to=2026-01-01", "?limit=0"]) {
    const r = await analytics(bad);
    assert.equal(r.status, 400, bad);
    checkResponse("/v1/admin/search/analytics", "get", r);
  }
  const post = await call(rt.url, "/v1/admin/search/analytics", { method: "POST", headers: { authorization: `Bearer ${editor}` } });
  assert.equal(post.status, 405);
});
