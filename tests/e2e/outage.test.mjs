// Outage notices against workerd: lead times, the rendered message, the
// public notice at once, idempotent publishing.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { boot, call, postJson } from "./helpers.mjs";
import { checkResponse } from "./contract.mjs";

let rt, publisher;
const inHours = (h) => new Date(Date.now() + h * 3600e3 + 8 * 3600e3).toISOString().slice(0, 19) + "+08:00";
const body = (extra = {}) => ({ utility: "water", kind: "planned", areas: ["北苑街道春晗小区"], start: inHours(30), end: inHours(38),
  reason: "管网改造", issuer: "义乌市供水有限公司", contact_phone: "0579-85510011", ...extra });

before(async () => {
  rt = await boot();
  publisher = rt.token(["outage_publisher"], "调度中心");
  const areas = await call(rt.url, "/v1/admin/supply-areas", { method: "PUT", headers: { authorization: `Bearer ${publisher}`, "content-type": "application/json" },
    body: JSON.stringify({ areas: [{ code: "yw", name: "义乌市", level: "district" }, { code: "bc", name: "北苑街道", level: "street", parent: "yw" },
      { code: "bc-ch", name: "春晗小区", level: "community", parent: "bc" }] }) });
  assert.equal(areas.status, 200, areas.text);
});
after(async () => { await rt?.stop(); });

test("a planned water outage is published once and visible at once", async () => {
  assert.equal((await postJson(rt.url, "/v1/admin/outages", body())).status, 401);
  assert.equal((await postJson(rt.url, "/v1/admin/outages", body(), rt.token(["hall_staff"]))).status, 403);
  const preview = await postJson(rt.url, "/v1/admin/outages", body({ preview: true }), publisher);
  assert.equal(preview.status, 200, preview.text);
  assert.equal(preview.body.status, "preview");
  assert.ok(preview.body.message.startsWith("【义乌便民】") && preview.body.message.includes("义乌市供水有限公司"));
  const made = await postJson(rt.url, "/v1/admin/outages", body(), publisher, { "idempotency-key": "o-1" });
  assert.equal(made.status, 201, made.text);
  checkResponse("/v1/admin/outages", "post", made);
  const again = await postJson(rt.url, "/v1/admin/outages", body(), publisher, { "idempotency-key": "o-1" });
  assert.equal(again.body.id, made.body.id);
  const list = await call(rt.url, `/v1/outages?area=${encodeURIComponent("北苑街道春晗小区")}&utility=water`);
  checkResponse("/v1/outages", "get", list);
  assert.deepEqual(list.body.outages.map((o) => o.id), [made.body.id]);
  const one = await call(rt.url, `/v1/outages/${made.body.id}`);
  checkResponse("/v1/outages/{id}", "get", one);
  assert.equal((await call(rt.url, "/v1/outages/OUT404")).status, 404);
});

test("short notice is refused for planned stops and accepted for emergencies", async () => {
  const gas = await postJson(rt.url, "/v1/admin/outages", body({ utility: "gas" }), publisher);
  assert.equal(gas.status, 422);
  checkResponse("/v1/admin/outages", "post", gas);
  assert.match(gas.body.error.fields[0].message, /48小时/);
  const now = await postJson(rt.url, "/v1/admin/outages", body({ kind: "emergency", start: inHours(0.5), end: inHours(4) }), publisher);
  assert.equal(now.status, 201, now.text);
  assert.match(now.body.message, /紧急停水/);
  assert.equal(now.body.send_reason, "紧急停供，立即发送");
  const log = rt.sql("SELECT action FROM audit_log WHERE action LIKE 'outage.publish%' ORDER BY id");
  assert.deepEqual(log.map((r) => r.action), ["outage.publish", "outage.publish.emergency"]);
});

test("降压供水: water only, 24 hours ahead when planned, its own notice text", async () => {
  const pressure = (extra) => postJson(rt.url, "/v1/admin/outages", body({ effect: "reduced_pressure", reason: "管网冲洗", ...extra }), publisher);
  const gas = await pressure({ utility: "gas" });
  assert.equal(gas.status, 422, gas.text);
  assert.ok(gas.body.error.fields.some((f) => f.field === "effect" && f.message.includes("供水")), gas.text);
  checkResponse("/v1/admin/outages", "post", gas);
  const short = await pressure({ start: inHours(20), end: inHours(26) });
  assert.equal(short.status, 422, short.text);
  assert.match(short.text, /计划降压供水须至少提前24小时/);
  const ok = await pressure({});
  assert.equal(ok.status, 201, ok.text);
  checkResponse("/v1/admin/outages", "post", ok);
  assert.equal(ok.body.effect, "reduced_pressure");
  assert.match(ok.body.message, /降压供水，届时水压偏低/);
  const pub = await call(rt.url, `/v1/outages/${ok.body.id}`);
  assert.equal(pub.body.effect, "reduced_pressure");
  checkResponse("/v1/outages/{id}", "get", pub);
});
