// Catalogue management: the review workflow and what citizens see of it,
// the staff list, categories, tags, search word lists, sync (manual and cron).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { boot, call, postJson } from "./helpers.mjs";
import { checkResponse } from "./contract.mjs";
import { demoCatalog } from "../../scripts/catalog/demo.mjs";

const demo = demoCatalog();
const ORG = demo.items[0].code.slice(0, 19);
let rt, editor, reviewer, both, auditor;

before(async () => {
  rt = await boot();
  editor = rt.token(["catalogue_editor"], "编辑甲");
  reviewer = rt.token(["catalogue_reviewer"], "审核乙");
  both = rt.token(["catalogue_editor", "catalogue_reviewer"], "兼任丙");
  auditor = rt.token(["auditor"], "审计丁");
  assert.equal((await postJson(rt.url, "/v1/admin/items:import", demo, reviewer)).status, 200);
});
after(async () => { await rt?.stop(); });

/** A valid new item: a demo item under a new code and name. */
function newItem(last3, name) {
  const it = structuredClone(demo.items[0]);
  const code = `${ORG}000172009${last3}`;
  it.code = code;
  it.basic_code = code.slice(19);
  it.name = name;
  it.related = [];
  it.guide.situations = [];
  return it;
}

const auth = (token) => ({ authorization: `Bearer ${token}` });
const send = (method, path, token, payload) => call(rt.url, path, {
  method, headers: { ...auth(token), ...(payload ? { "content-type": "application/json" } : {}) },
  body: payload ? JSON.stringify(payload) : undefined,
});
const get = (path, token) => call(rt.url, path, { headers: token ? auth(token) : {} });
const names = async (q) => (await get(`/v1/items/search?q=${encodeURIComponent(q)}&size=50`)).body.items.map((i) => i.name);

/** Polls until `check` holds: search follows a change within seconds. */
async function eventually(check, ms = 6000) {
  const t0 = Date.now();
  for (;;) {
    if (await check()) return Date.now() - t0;
    if (Date.now() - t0 > ms) assert.fail(`not within ${ms} ms`);
    await new Promise((ok) => setTimeout(ok, 200));
  }
}

test("a new item stays invisible until another person publishes it", async () => {
  const item = newItem("901", "燃气报装测试事项");
  const created = await postJson(rt.url, "/v1/admin/items", item, editor);
  assert.equal(created.status, 201, created.text);
  checkResponse("/v1/admin/items", "post", created);
  assert.equal(created.body.state, "draft");
  assert.equal((await postJson(rt.url, "/v1/admin/items", item, editor)).body.error.code, "item_exists");
  assert.equal((await get(`/v1/guides/${item.code}`)).status, 404, "a draft has no public guide");
  const early = await postJson(rt.url, `/v1/admin/items/${item.code}:publish`, {}, reviewer);
  assert.equal(early.body.error.code, "review_state_invalid");
  const submitted = await postJson(rt.url, `/v1/admin/items/${item.code}:submit`, {}, both);
  assert.equal(submitted.body.state, "submitted");
  const own = await postJson(rt.url, `/v1/admin/items/${item.code}:publish`, {}, both);
  assert.equal(own.status, 403);
  assert.equal(own.body.error.code, "self_review_forbidden");
  assert.equal((await postJson(rt.url, `/v1/admin/items/${item.code}:publish`, {}, editor)).status, 403);
  assert.ok(!(await names("燃气报装测试")).includes(item.name), "not searchable while under review");
  const published = await postJson(rt.url, `/v1/admin/items/${item.code}:publish`, {}, reviewer);
  assert.equal(published.status, 200, published.text);
  checkResponse("/v1/admin/items/{code}:publish", "post", published);
  const ms = await eventually(async () => (await names("燃气报装测试")).includes(item.name));
  console.log(`search shows a published item after ${ms} ms`);
  assert.equal((await get(`/v1/guides/${item.code}`)).status, 200);
});

test("a rejected change keeps the published text; the list and detail show why", async () => {
  const code = demo.items[1].code;
  const changed = { ...structuredClone(demo.items[1]), name: `${demo.items[1].name}（改）` };
  const put = await send("PUT", `/v1/admin/items/${code}`, editor, changed);
  assert.equal(put.status, 200, put.text);
  assert.equal(put.body.is_new, false);
  await postJson(rt.url, `/v1/admin/items/${code}:submit`, {}, editor);
  const locked = await send("PUT", `/v1/admin/items/${code}`, editor, changed);
  assert.equal(locked.body.error.code, "review_state_invalid");
  const noReason = await postJson(rt.url, `/v1/admin/items/${code}:reject`, { reason: "" }, reviewer);
  assert.equal(noReason.status, 422);
  const rejected = await postJson(rt.url, `/v1/admin/items/${code}:reject`, { reason: "名称不规范，请按目录名称填写" }, reviewer);
  assert.equal(rejected.body.state, "rejected");
  assert.equal((await get(`/v1/guides/${code}`)).body.item.name, demo.items[1].name);
  const list = await get("/v1/admin/items?review=rejected", auditor);
  assert.equal(list.status, 200);
  checkResponse("/v1/admin/items", "get", list);
  assert.deepEqual(list.body.items.map((i) => i.code), [code]);
  const detail = await get(`/v1/admin/items/${code}`, editor);
  checkResponse("/v1/admin/items/{code}", "get", detail);
  assert.equal(detail.body.draft.reason, "名称不规范，请按目录名称填写");
  const page = await get("/v1/admin/items?status=published&sort=name&order=desc&size=5&page=2", reviewer);
  assert.equal(page.body.items.length, 5);
  assert.ok(page.body.total >= demo.items.length);
  assert.equal((await get("/v1/admin/items?sort=evil", reviewer)).status, 400);
  assert.equal((await get("/v1/admin/items")).status, 401);
});

test("archiving takes an item out of search and guides; import needs a reviewer", async () => {
  const target = demo.items.find((i) => i.name === "水表过户");
  const r = await postJson(rt.url, `/v1/admin/items/${target.code}:archive`, {}, reviewer);
  assert.equal(r.status, 200, r.text);
  assert.equal(r.body.status, "withdrawn");
  await eventually(async () => !(await names("水表过户")).includes("水表过户"));
  assert.equal((await get(`/v1/guides/${target.code}`)).status, 404);
  const byEditor = await postJson(rt.url, "/v1/admin/items:import", { items: [target] }, editor);
  assert.equal(byEditor.status, 403);
});

test("categories, tags and word lists change what search answers", async () => {
  const cat = await send("PUT", `/v1/admin/categories/${encodeURIComponent("燃气服务")}`, reviewer, { position: 28, description: "管道燃气" });
  assert.equal(cat.status, 200, cat.text);
  await eventually(async () => (await get("/v1/categories")).body.items.some((c) => c.name === "燃气服务"));
  const used = await send("DELETE", `/v1/admin/categories/${encodeURIComponent("供水服务")}`, reviewer);
  assert.equal(used.status, 409);
  assert.equal(used.body.error.code, "category_in_use");
  assert.equal((await send("DELETE", `/v1/admin/categories/${encodeURIComponent("燃气服务")}`, reviewer)).status, 204);

  const tagged = demo.items.find((i) => i.tags.includes("发票"));
  const renamed = await postJson(rt.url, "/v1/admin/tags:rename", { from: "发票", to: "票据" }, reviewer);
  assert.equal(renamed.status, 200, renamed.text);
  assert.ok(renamed.body.items_changed >= 1);
  await eventually(async () => (await get(`/v1/items/search?tag=${encodeURIComponent("票据")}`)).body.items.some((i) => i.code === tagged.code));

  const words = await send("PUT", "/v1/admin/search-words/thesaurus", reviewer, { entries: [{ term: "自来水开户", target: "个人客户接水申请" }] });
  assert.equal(words.status, 200, words.text);
  await eventually(async () => (await names("自来水开户"))[0] === "个人客户接水申请");
  await send("PUT", "/v1/admin/search-words/banned", reviewer, { entries: [{ term: "测试违禁" }] });
  await eventually(async () => (await get(`/v1/items/search?q=${encodeURIComponent("测试违禁词")}`)).status === 400);
  const fixed = await get(`/v1/items/search?q=${encodeURIComponent("身分证")}`);
  assert.match(fixed.body.notice, /身份证/, "the misspelling table corrects 身分证");
  const listed = await get("/v1/admin/search-words/corrections", auditor);
  assert.ok(listed.body.entries.some((w) => w.term === "身分证" && w.target === "身份证"));
  assert.equal((await send("PUT", "/v1/admin/search-words/stop", editor, { entries: [{ term: "麻烦" }] })).status, 403);
  assert.equal((await send("PUT", "/v1/admin/search-words/nope", reviewer, { entries: [{ term: "x" }] })).status, 404);
});

test("sync publishes new and changed feed items, reports rejections, and runs from cron", async () => {
  const fresh = newItem("902", "同步来的燃气过户事项");
  const broken = { ...newItem("903", "坏数据"), halls: ["H404"] };
  await call(rt.fakes.base, "/__fake/feed", { method: "PUT", body: JSON.stringify({ status: 200, items: [fresh, broken] }) });
  const r = await postJson(rt.url, "/v1/admin/items:sync", {}, reviewer);
  assert.equal(r.status, 200, r.text);
  checkResponse("/v1/admin/items:sync", "post", r);
  assert.deepEqual([r.body.created, r.body.updated, r.body.rejected_count], [[fresh.code], [], 1]);
  assert.ok(r.body.rejected[0].errors.some((e) => e.field === "item.halls[0]"));
  await eventually(async () => (await names("同步来的燃气过户")).includes(fresh.name));

  const worker = await rt.mf.getWorker("bianmin-guide-detail");
  await worker.scheduled({ cron: "17 * * * *" });
  const runs = await get("/v1/admin/items:sync", auditor);
  checkResponse("/v1/admin/items:sync", "get", runs);
  const [cron] = runs.body.runs;
  assert.equal(cron.trigger, "cron");
  assert.deepEqual([cron.created, cron.unchanged, cron.rejected], [0, 1, 1]);
  assert.ok(!cron.source.includes("?"), "the feed's query string is not stored");

  await call(rt.fakes.base, "/__fake/feed", { method: "PUT", body: JSON.stringify({ status: 503, items: [] }) });
  const down = await postJson(rt.url, "/v1/admin/items:sync", {}, reviewer);
  assert.equal(down.status, 502);
  assert.equal(down.body.error.code, "feed_unavailable");
  assert.equal((await postJson(rt.url, "/v1/admin/items:sync", {}, editor)).status, 403);
});
