// 我的办件 (GET /v1/me/cases) against workerd: one citizen's application
// moves between 待处理, 办理中 and 已办结 as it is filed, noticed, corrected,
// accepted and completed; a complaint and a booking sit beside it; another
// citizen sees none of it.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { boot, call, postJson } from "./helpers.mjs";
import { demoCatalog } from "../../scripts/catalog/demo.mjs";

const demo = demoCatalog();
const ITEM = demo.items.find((i) => i.name === "个人客户接水申请");
const PDF = Buffer.from("%PDF-1.4\n% cases\n");
let rt, alice, bob, handler;
const auth = (t) => ({ headers: { authorization: `Bearer ${t}` } });
const put = (path, payload, token) => call(rt.url, path, { method: "PUT", headers: { authorization: `Bearer ${token}`, "content-type": "application/json" }, body: JSON.stringify(payload) });

before(async () => {
  rt = await boot();
  assert.equal((await postJson(rt.url, "/v1/admin/items:import", demo, rt.token(["catalogue_reviewer"]))).status, 200);
  alice = (await postJson(rt.url, "/v1/auth/wechat", { code: "ok-alice-cases" })).body.token;
  bob = (await postJson(rt.url, "/v1/auth/wechat", { code: "ok-bob-cases" })).body.token;
  handler = rt.token(["application_handler"], "供水预审", [], [ITEM.department]);
});
after(async () => { await rt?.stop(); });

async function groupOf(id) {
  const r = await call(rt.url, "/v1/me/cases", auth(alice));
  assert.equal(r.status, 200, r.text);
  for (const g of ["todo", "in_progress", "done"]) {
    const found = r.body[g].find((c) => c.id === id);
    if (found) return [g, found];
  }
  return [null, null];
}

async function walk(answers = []) {
  const r = await postJson(rt.url, "/v1/applications/resolve", { item_code: ITEM.code, answers });
  if (r.body.kind === "resolved") return r.body;
  if (r.body.kind !== "question") return null;
  for (const o of r.body.question.options) { const f = await walk([...answers, o]); if (f) return f; }
  return null;
}

test("an application moves through the groups of 我的办件 at each step, beside a complaint", async () => {
  assert.equal((await call(rt.url, "/v1/me/cases")).status, 401);
  const resolved = await walk();
  let a = (await postJson(rt.url, "/v1/applications", { item_code: ITEM.code, answers: resolved.answered, form: { 联系地址: "稠城街道1号" } }, alice)).body;
  let [g, c] = await groupOf(a.number);
  assert.equal(g, "todo");
  assert.equal(c.link, `/applications/${a.number}`);
  assert.equal(c.kind, "application");
  for (const m of a.materials) {
    const up = await call(rt.url, "/v1/applications/uploads", { method: "POST", headers: { authorization: `Bearer ${alice}`, "content-type": "application/pdf" }, body: PDF });
    a = (await put(`/v1/applications/${a.number}/materials`, { material: m.name, upload_id: up.body.id }, alice)).body;
  }
  a = (await postJson(rt.url, `/v1/applications/${a.number}/submit`, {}, alice)).body;
  assert.equal((await groupOf(a.number))[0], "in_progress");
  a = (await postJson(rt.url, `/v1/admin/applications/${a.number}/steps`, { action: "notify", version: a.version, items: [{ field: "联系地址", note: "请写到门牌号" }] }, handler)).body;
  [g, c] = await groupOf(a.number);
  assert.equal(g, "todo");
  assert.match(c.next_step, /补正/);
  await put(`/v1/applications/${a.number}/form`, { form: { 联系地址: "稠城街道1号2幢" } }, alice);
  a = (await postJson(rt.url, `/v1/applications/${a.number}/submit`, {}, alice)).body;
  a = (await postJson(rt.url, `/v1/admin/applications/${a.number}/steps`, { action: "accept", version: a.version }, handler)).body;
  [g, c] = await groupOf(a.number);
  assert.equal(g, "in_progress");
  assert.equal(c.deadline, a.deadline);
  a = (await postJson(rt.url, `/v1/admin/applications/${a.number}/steps`, { action: "complete", version: a.version, delivery: { method: "pickup", hall: "北苑营业厅" } }, handler)).body;
  [g, c] = await groupOf(a.number);
  assert.equal(g, "done");
  assert.match(c.next_step, /评价/);

  // The next application starts from what was filed: the corrected address comes back, with its source.
  const pre = await call(rt.url, `/v1/applications/prefill?item_code=${ITEM.code}`, auth(alice));
  assert.equal(pre.status, 200, pre.text);
  assert.equal(pre.body.form.联系地址, "稠城街道1号2幢");
  assert.equal(pre.body.sources.联系地址, "上次申请");
  assert.equal((await call(rt.url, "/v1/applications/prefill?item_code=nope", auth(alice))).status, 400);
  assert.deepEqual((await call(rt.url, `/v1/applications/prefill?item_code=${ITEM.code}`, auth(bob))).body.form, {}, "nothing of alice's for bob");
  const complaint = (await postJson(rt.url, "/v1/complaints", { kind: "suggestion", category: "供水", subject: "北苑营业厅", content: "建议周六下午也开放。", anonymous: false }, alice)).body;
  assert.equal((await groupOf(complaint.number))[0], "in_progress");
  const bobs = await call(rt.url, "/v1/me/cases", auth(bob));
  assert.equal(bobs.body.todo.length + bobs.body.in_progress.length + bobs.body.done.length, 0, "another citizen sees none of it");
});

async function walkItem(code, answers = []) {
  const r = await postJson(rt.url, "/v1/applications/resolve", { item_code: code, answers });
  assert.equal(r.status, 200, r.text);
  if (r.body.kind === "resolved") return r.body;
  if (r.body.kind !== "question") return null;
  for (const o of r.body.question.options) { const f = await walkItem(code, [...answers, o]); if (f) return f; }
  return null;
}

test("新房入住 starts from the life event and files 接水, 过户 and 燃气开户 as one bundle", async () => {
  const events = await call(rt.url, "/v1/applications/life-events");
  assert.deepEqual(events.body.events.map((e) => e.name), ["我要用水", "新房入住"]);
  const first = await postJson(rt.url, "/v1/applications/life-events/resolve", { event: "new-home" });
  assert.equal(first.body.kind, "question", first.text);
  const three = first.body.question.options.find((o) => o.includes("另需新装"));
  const end = await postJson(rt.url, "/v1/applications/life-events/resolve", { event: "new-home", answers: [three] });
  assert.equal(end.body.kind, "items", end.text);
  assert.equal(end.body.bundle, true);
  assert.deepEqual(end.body.items.map((i) => i.name), ["个人客户接水申请", "水表过户", "管道燃气开户"]);
  const parts = [];
  for (const item of end.body.items) parts.push({ item_code: item.code, answers: (await walkItem(item.code)).answered });
  const filed = await postJson(rt.url, "/v1/applications/bundles", { parts, form: { 联系地址: "稠城街道3号" } }, alice);
  assert.equal(filed.status, 201, filed.text);
  assert.equal(filed.body.numbers.length, 3);
  const departments = [];
  for (const n of filed.body.numbers) departments.push((await call(rt.url, `/v1/applications/${n}`, auth(alice))).body.department);
  assert.deepEqual(departments, ["义乌市供水有限公司", "义乌市供水有限公司", "义乌市天然气有限公司"], "each to its own department");
  const water = await postJson(rt.url, "/v1/applications/life-events/resolve", { event: "water", answers: ["暂时不用水或恢复用水", "已经暂停，想恢复"] });
  assert.deepEqual(water.body.items.map((i) => i.name), ["水表复接"]);
  assert.equal(water.body.bundle, false);
  assert.equal((await postJson(rt.url, "/v1/applications/life-events/resolve", { event: "nope" })).status, 404);
  assert.equal((await postJson(rt.url, "/v1/applications/life-events/resolve", { event: "water", answers: ["x"] })).status, 422);
});

test("the department's statistics count the completed application, its notice and its working days", async () => {
  const today = new Date(Date.now() + 8 * 3600e3).toISOString().slice(0, 10);
  const r = await call(rt.url, `/v1/admin/applications/stats?from=${today}&to=${today}`, auth(handler));
  assert.equal(r.status, 200, r.text);
  assert.ok(r.body.total.completed >= 1 && r.body.total.noticed >= 1, r.text);
  assert.equal(r.body.by_item["个人客户接水申请"].on_time_rate, 1);
  assert.equal(r.body.by_item["个人客户接水申请"].avg_working_days, 0, "accepted and completed the same day");
  assert.equal(r.body.by_department["义乌市天然气有限公司"], undefined, "another department's bundle part is not in scope");
  assert.equal((await call(rt.url, `/v1/admin/applications/stats?from=${today}`, auth(handler))).status, 400);
  assert.equal((await call(rt.url, `/v1/admin/applications/stats?from=${today}&to=${today}`, auth(rt.token(["hall_staff"])))).status, 403);
});
