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

  const complaint = (await postJson(rt.url, "/v1/complaints", { kind: "suggestion", category: "供水", subject: "北苑营业厅", content: "建议周六下午也开放。", anonymous: false }, alice)).body;
  assert.equal((await groupOf(complaint.number))[0], "in_progress");
  const bobs = await call(rt.url, "/v1/me/cases", auth(bob));
  assert.equal(bobs.body.todo.length + bobs.body.in_progress.length + bobs.body.done.length, 0, "another citizen sees none of it");
});
