// Guide detail, halls, ETag/304, admin auth, import validation and the audit
// log, against the Wasm build in workerd with the demo catalogue loaded.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { boot, call, postJson } from "./helpers.mjs";
import { demoCatalog } from "../../scripts/catalog/demo.mjs";
import { WATER_SITUATIONS_NONE } from "../../scripts/catalog/water.mjs";
import { checkResponse } from "./contract.mjs";

const demo = demoCatalog();
const WATER = demo.items.find((i) => i.name === "个人客户接水申请").code;
const TRANSFER = demo.items.find((i) => i.name === "水表过户").code;
let rt, editor, auditor;

before(async () => {
  rt = await boot();
  editor = rt.token(["catalogue_editor", "catalogue_reviewer"], "目录编辑");
  auditor = rt.token(["auditor"], "审计员");
  const r = await postJson(rt.url, "/v1/admin/items:import", demo, editor);
  assert.equal(r.status, 200, r.text);
  assert.equal(r.body.imported_items, demo.items.length);
});
after(async () => { await rt?.stop(); });

test("a water item's full guide comes back in Chinese with every field", async () => {
  const r = await call(rt.url, `/v1/guides/${WATER}`);
  assert.equal(r.status, 200);
  checkResponse("/v1/guides/{item_code}", "get", r);
  assert.equal(r.body.item.name, "个人客户接水申请");
  assert.equal(r.body.item.category, "供水服务");
  const g = r.body.guide;
  assert.ok(g.materials.some((m) => m.name === "居民身份证" && m.form_label === "原件"));
  assert.ok(g.halls.some((h) => h.name.includes("营业厅")));
  assert.equal(g.fees.free, false);
  assert.ok(g.situations.length > 0);
  assert.ok(r.body.related.some((x) => x.code === TRANSFER));
  assert.match(r.headers.get("cache-control"), /max-age=300/);
});

const WATER_ITEMS = demo.items.filter((i) => i.category === "供水服务");

test("each of the 17 water items has its own process steps", () => {
  assert.equal(WATER_ITEMS.length, 17);
  const flows = WATER_ITEMS.map((i) => JSON.stringify(i.guide.process));
  assert.equal(new Set(flows).size, 17, "two water items share one process");
  for (const i of WATER_ITEMS) assert.ok(i.guide.process.every((s) => s.name && s.description), i.name);
});

test("a water item has a situation tree unless WATER_SITUATIONS_NONE says why not", () => {
  const none = new Map(WATER_SITUATIONS_NONE.map((n) => [n.basic_code, n.reason]));
  for (const i of WATER_ITEMS) {
    if (none.has(i.basic_code)) {
      assert.deepEqual(i.guide.situations, [], i.name);
      assert.ok(none.get(i.basic_code).length > 0, i.name);
    } else {
      assert.ok(i.guide.situations.length > 0, `${i.name} has no situations and no reason`);
    }
  }
  // Every leaf ending at the item itself names materials the item lists, its required ones included
  // unless the situation replaces them (a leaf never asks for nothing).
  for (const i of WATER_ITEMS) {
    const names = new Set(i.materials.map((m) => m.name));
    for (const q of i.guide.situations) {
      for (const o of q.options) {
        if (o.item_code !== i.code) continue;
        assert.ok(o.materials.length > 0, `${i.name} ${q.id} ${o.label}`);
        for (const m of o.materials) assert.ok(names.has(m), `${i.name} ${q.id} ${o.label}: ${m}`);
      }
    }
  }
});

test("water guides promise no feature the service does not have", () => {
  for (const i of WATER_ITEMS) {
    const text = JSON.stringify(i);
    assert.ok(!/浙里办|即时生效|邮箱|自助终端/.test(text), i.name);
    if (!i.online.available) assert.ok(!/本小程序“网上申报”提交|在线提交/.test(text), `${i.name} is not online`);
  }
});

test("the transfer guide asks why, who comes and whether bills are paid, and names the papers", async () => {
  const r = await call(rt.url, `/v1/guides/${TRANSFER}`);
  assert.equal(r.status, 200);
  const qs = r.body.guide.situations;
  const first = qs[0];
  const arrears = first.options.find((o) => o.label.includes("欠费"));
  assert.equal(arrears.item_code, demo.items.find((i) => i.name === "水费缴费").code);
  const why = qs.find((q) => q.text.includes("过户原因"));
  assert.deepEqual(why.options.map((o) => o.label), ["房屋买卖", "继承", "赠与", "法院判决或裁定"]);
  const inherit = qs.find((q) => q.id === why.options[1].next);
  const byProxy = inherit.options.find((o) => o.label.includes("委托"));
  for (const m of ["继承公证书", "授权委托书", "代办人身份证"]) assert.ok(byProxy.materials.includes(m), m);
  assert.ok(!inherit.options[0].materials.includes("授权委托书"));
});

test("a second request with the ETag is a bodiless 304", async () => {
  const first = await call(rt.url, `/v1/guides/${WATER}`);
  const etag = first.headers.get("etag");
  assert.match(etag, /^"[0-9a-f]{32}"$/);
  const again = await call(rt.url, `/v1/guides/${WATER}`, { headers: { "if-none-match": etag } });
  assert.equal(again.status, 304);
  assert.equal(again.text, "");
  assert.equal(again.headers.get("etag"), etag);
  const stale = await call(rt.url, `/v1/guides/${WATER}`, { headers: { "if-none-match": '"0000"' } });
  assert.equal(stale.status, 200);
});

test("materials have their own ETag and 304", async () => {
  const r = await call(rt.url, `/v1/guides/${WATER}/materials`);
  assert.equal(r.status, 200);
  checkResponse("/v1/guides/{item_code}/materials", "get", r);
  assert.equal(r.body.item_code, WATER);
  const again = await call(rt.url, `/v1/guides/${WATER}/materials`, { headers: { "if-none-match": r.headers.get("etag") } });
  assert.equal(again.status, 304);
});

test("an unknown item is a JSON 404 and a malformed code a 400", async () => {
  const missing = await call(rt.url, "/v1/guides/91440300708461136T4000172009999");
  assert.equal(missing.status, 404);
  assert.equal(missing.body.error.code, "item_not_found");
  const bad = await call(rt.url, "/v1/guides/not-a-code");
  assert.equal(bad.status, 400);
  assert.equal(bad.body.error.fields[0].field, "item_code");
});

test("halls: list, detail and nearby sorted by distance", async () => {
  const list = await call(rt.url, "/v1/halls");
  assert.equal(list.body.length, demo.halls.length);
  checkResponse("/v1/halls", "get", list);
  const detail = await call(rt.url, "/v1/halls/H002");
  assert.equal(detail.status, 200);
  assert.ok(detail.body.items.some((i) => i.code === WATER));
  assert.equal((await call(rt.url, "/v1/halls/H999")).body.error.code, "hall_not_found");
  // Standing at the Fotang hall, it is the nearest.
  const near = await call(rt.url, `/v1/halls/nearby?lat=29.1953&lng=120.0498&item=${WATER}`);
  assert.equal(near.status, 200);
  checkResponse("/v1/halls/nearby", "get", near);
  assert.equal(near.body.halls[0].id, "H004");
  const d = near.body.halls.map((h) => h.distance_m);
  assert.deepEqual(d, [...d].sort((a, b) => a - b));
  for (const q of ["lat=91&lng=120", "lat=x&lng=1", "lng=120", "lat=29&lng=120&limit=0", "lat=29&lng=120&item=bad"]) {
    const r = await call(rt.url, `/v1/halls/nearby?${q}`);
    assert.equal(r.status, 400, q);
    assert.equal(r.body.error.code, "bad_request");
  }
});

test("admin routes need a valid token (401) with the right role (403)", async () => {
  const none = await postJson(rt.url, "/v1/admin/items:import", { items: [] });
  assert.equal(none.status, 401);
  assert.equal(none.body.error.code, "unauthorized");
  const forged = await postJson(rt.url, "/v1/admin/items:import", { items: [] }, `bma_${"0".repeat(64)}`);
  assert.equal(forged.status, 401);
  const wrongRole = await postJson(rt.url, "/v1/admin/items:import", { items: [] }, auditor);
  assert.equal(wrongRole.status, 403);
  assert.equal(wrongRole.body.error.code, "forbidden");
  const audit = await call(rt.url, "/v1/admin/audit-log", { headers: { authorization: `Bearer ${editor}` } });
  assert.equal(audit.status, 403);
});

test("an invalid import lists every rejected row and changes nothing", async () => {
  const good = structuredClone(demo.items[0]);
  const noName = { ...structuredClone(demo.items[1]), name: "" };
  const badHall = { ...structuredClone(demo.items[2]), halls: ["H404"] };
  const r = await postJson(rt.url, "/v1/admin/items:import", { items: [good, noName, badHall, 42] }, editor);
  assert.equal(r.status, 422);
  checkResponse("/v1/admin/items:import", "post", r);
  const fields = r.body.error.fields.map((f) => f.field);
  assert.ok(fields.includes("items[1].name"), fields.join());
  assert.ok(fields.includes("items[2].halls[0]"), fields.join());
  assert.ok(fields.includes("items[3]"), fields.join());
  assert.match(r.body.error.message, /导入未执行/);
  const guide = await call(rt.url, `/v1/guides/${demo.items[1].code}`);
  assert.equal(guide.body.item.name, demo.items[1].name);
});

test("bodies are checked before parsing: type, size and syntax", async () => {
  const text = await call(rt.url, "/v1/admin/items:import", { method: "POST", headers: { authorization: `Bearer ${editor}`, "content-type": "text/plain" }, body: "{}" });
  assert.equal(text.status, 415);
  const broken = await postJson(rt.url, "/v1/admin/items:import", "{\"items\": [", editor);
  assert.equal(broken.status, 400);
  assert.equal(broken.body.error.code, "invalid_json");
  const huge = await postJson(rt.url, "/v1/admin/items:import", JSON.stringify({ items: [], pad: "x".repeat(9 * 1024 * 1024) }), editor);
  assert.equal(huge.status, 413);
  assert.equal(huge.body.error.code, "payload_too_large");
});

test("a change re-renders the guide, changes its ETag, and is audited", async () => {
  const before = await call(rt.url, `/v1/guides/${TRANSFER}`);
  const changed = { ...structuredClone(demo.items.find((i) => i.code === TRANSFER)), name: "水表过户（含继承）" };
  const r = await postJson(rt.url, "/v1/admin/items:import", { items: [changed] }, editor);
  assert.equal(r.status, 200, r.text);
  assert.ok(r.body.catalog_version >= 2);
  const after = await call(rt.url, `/v1/guides/${TRANSFER}`);
  assert.equal(after.body.item.name, "水表过户（含继承）");
  assert.notEqual(after.headers.get("etag"), before.headers.get("etag"));
  // The water item lists the transfer as related: its cached guide was dropped too.
  const water = await call(rt.url, `/v1/guides/${WATER}`);
  assert.ok(water.body.related.some((x) => x.name === "水表过户（含继承）"));

  const audit = await call(rt.url, "/v1/admin/audit-log?size=5", { headers: { authorization: `Bearer ${auditor}` } });
  assert.equal(audit.status, 200);
  checkResponse("/v1/admin/audit-log", "get", audit);
  const entry = audit.body.entries[0];
  assert.equal(entry.action, "catalog.import");
  assert.equal(entry.actor_name, "目录编辑");
  assert.equal(entry.request_id, r.headers.get("x-request-id"));
});
