// Complaints against workerd: submission of each kind, idempotent retry,
// the public view without personal data, the author's own view.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { boot, call, postJson } from "./helpers.mjs";
import { checkResponse } from "./contract.mjs";

let rt, alice, bob;
const auth = (t) => ({ headers: { authorization: `Bearer ${t}` } });
const base = { category: "供水", subject: "北苑营业厅", content: "柜台人员要求我补交与业务无关的材料，联系电话13912345678。", anonymous: true };

before(async () => {
  rt = await boot();
  alice = (await postJson(rt.url, "/v1/auth/wechat", { code: "ok-alice-1" })).body.token;
  bob = (await postJson(rt.url, "/v1/auth/wechat", { code: "ok-bob-1" })).body.token;
});
after(async () => { await rt?.stop(); });

test("each kind is accepted with a number, a working-day deadline and an inbox receipt", async () => {
  assert.equal((await postJson(rt.url, "/v1/complaints", { ...base, kind: "complaint" })).status, 401);
  const numbers = [];
  for (const kind of ["complaint", "report", "suggestion", "consultation"]) {
    const r = await postJson(rt.url, "/v1/complaints", { ...base, kind }, alice);
    assert.equal(r.status, 201, r.text);
    checkResponse("/v1/complaints", "post", r);
    assert.ok(r.body.deadline > new Date().toISOString().slice(0, 10));
    numbers.push(r.body.number);
  }
  assert.equal(new Set(numbers).size, 4);
  const inbox = await call(rt.url, "/v1/me/messages", auth(alice));
  assert.equal(inbox.body.messages.filter((m) => m.kind === "complaint").length, 4);
  const bad = await postJson(rt.url, "/v1/complaints", { kind: "rant", category: "", content: "x" }, alice);
  assert.equal(bad.status, 422);
  checkResponse("/v1/complaints", "post", bad);
});

test("a retry with the same Idempotency-Key returns the first record", async () => {
  const first = await postJson(rt.url, "/v1/complaints", { ...base, kind: "suggestion" }, alice, { "idempotency-key": "c-1" });
  const again = await postJson(rt.url, "/v1/complaints", { ...base, kind: "suggestion" }, alice, { "idempotency-key": "c-1" });
  assert.equal(first.status, 201);
  assert.equal(again.status, 200);
  assert.equal(again.body.number, first.body.number);
});

test("the public view carries no content or identity; the author sees everything", async () => {
  const made = await postJson(rt.url, "/v1/complaints", { ...base, kind: "complaint" }, alice);
  const pub = await call(rt.url, `/v1/complaints/${made.body.number}`);
  assert.equal(pub.status, 200);
  checkResponse("/v1/complaints/{number}", "get", pub);
  assert.ok(!/1[3-9]\d{9}/.test(pub.text) && !pub.text.includes("营业厅") && !pub.text.includes("材料"), pub.text);
  const asBob = await call(rt.url, `/v1/complaints/${made.body.number}`, auth(bob));
  assert.deepEqual(Object.keys(asBob.body).sort(), Object.keys(pub.body).sort(), "another citizen gets the public view");
  const own = await call(rt.url, `/v1/complaints/${made.body.number}`, auth(alice));
  checkResponse("/v1/complaints/{number}", "get", own);
  assert.equal(own.body.record.subject, "北苑营业厅");
  const last = made.body.number.at(-1) === "0" ? "1" : "0";
  const typo = await call(rt.url, `/v1/complaints/${made.body.number.slice(0, -1)}${last}`);
  assert.equal(typo.status, 400);
  assert.equal((await call(rt.url, "/v1/complaints/TS20260101ABCDEFGHJK5")).status >= 400, true);
});

test("handlers assign, reply and close; the author is told at each step and rates once", async () => {
  const handler = rt.token(["complaint_dispatcher"], "热线");
  const made = await postJson(rt.url, "/v1/complaints", { ...base, kind: "complaint", anonymous: false }, bob);
  const n = made.body.number;
  const list = await call(rt.url, "/v1/admin/complaints?status=received", auth(handler));
  checkResponse("/v1/admin/complaints", "get", list);
  assert.ok(list.body.complaints.some((c) => c.number === n));
  assert.equal((await call(rt.url, "/v1/admin/complaints", auth(rt.token(["hall_staff"])))).status, 403);
  const anon = list.body.complaints.find((c) => c.number !== n);
  assert.equal((await call(rt.url, `/v1/admin/complaints/${anon.number}`, auth(handler))).body.contact, "匿名");
  for (const step of [{ action: "assign", department: "供水公司客服部" }, { action: "reply", text: "已约谈窗口人员并整改，电话13700001111。" }, { action: "close", result: "已整改" }]) {
    const r = await postJson(rt.url, `/v1/admin/complaints/${n}/steps`, step, handler);
    assert.equal(r.status, 200, r.text);
    checkResponse("/v1/admin/complaints/{number}/steps", "post", r);
  }
  const closedAgain = await postJson(rt.url, `/v1/admin/complaints/${n}/steps`, { action: "close", result: "x" }, handler);
  assert.equal(closedAgain.status, 409);
  const pub = await call(rt.url, `/v1/complaints/${n}`);
  assert.deepEqual(pub.body.timeline.map((s) => s.status), ["received", "assigned", "replied", "closed"]);
  assert.ok(!pub.text.includes("13700001111"), "phone numbers in a public reply are masked");
  const inbox = await call(rt.url, "/v1/me/messages", auth(bob));
  assert.equal(inbox.body.messages.filter((m) => m.kind === "complaint").length, 4);
  assert.equal((await postJson(rt.url, `/v1/complaints/${n}/rating`, { score: 5 }, alice)).status, 404);
  assert.equal((await postJson(rt.url, `/v1/complaints/${n}/rating`, { score: 5, comment: "处理及时" }, bob)).status, 204);
  assert.equal((await postJson(rt.url, `/v1/complaints/${n}/rating`, { score: 4 }, bob)).status, 409);
});

test("lookups by number are limited per client so numbers cannot be probed", async () => {
  const made = await postJson(rt.url, "/v1/complaints", { ...base, kind: "consultation" }, alice);
  const from = { headers: { "cf-connecting-ip": "203.0.113.7" } };
  const minute = () => new Date().toISOString().slice(0, 16);
  const first = minute();
  let limited = 0;
  for (let i = 0; i < 32; i++) {
    const r = await call(rt.url, `/v1/complaints/${made.body.number}`, from);
    if (r.status === 429) limited++;
  }
  // Counts are per clock minute; a run that straddles a minute boundary is split.
  if (minute() === first) assert.equal(limited, 2, "the 31st and 32nd lookups of the minute are refused");
  const other = await call(rt.url, `/v1/complaints/${made.body.number}`, { headers: { "cf-connecting-ip": "203.0.113.8" } });
  assert.equal(other.status, 200);
});

test("the hourly sweep runs and statistics report volumes and the on-time rate", async () => {
  const handler = rt.token(["complaint_handler"], "热线统计");
  const worker = await rt.mf.getWorker("bianmin-complaint");
  await worker.scheduled({ cron: "7 * * * *" });
  const today = new Date(Date.now() + 8 * 3600e3).toISOString().slice(0, 10);
  const r = await call(rt.url, `/v1/admin/complaints/stats?from=${today}&to=${today}`, auth(handler));
  assert.equal(r.status, 200, r.text);
  checkResponse("/v1/admin/complaints/stats", "get", r);
  assert.ok(r.body.received >= 8);
  assert.equal(r.body.closed, 1);
  assert.equal(r.body.on_time_rate, 1);
  assert.equal(r.body.average_rating, 5);
  assert.ok(r.body.by_kind.some((k) => k.name === "consultation"));
  assert.equal((await call(rt.url, `/v1/admin/complaints/stats?from=${today}`, auth(handler))).status, 400);
  assert.equal((await call(rt.url, `/v1/admin/complaints/stats?from=${today}&to=${today}`, auth(alice))).status, 401);
});
