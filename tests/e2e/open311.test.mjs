// Complaints without a login (a phone confirmed by SMS code), lookup by the
// last four digits, and Open311 GeoReport v2 against workerd, every Open311
// answer validated against the GeoReport v2 JSON Schemas; no public or
// Open311 answer may carry a phone number, a name or an ID number.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, existsSync } from "node:fs";
import { join } from "node:path";
import Ajv from "ajv";
import addFormats from "ajv-formats";
import { boot, call, postJson } from "./helpers.mjs";
import { checkResponse } from "./contract.mjs";
import { ROOT } from "../../scripts/runtime.mjs";

const SCHEMAS = ["service", "services", "service-definition", "request", "requests"];
const dir = join(ROOT, "tests", "fixtures", "open311");
const ajv = new Ajv({ strict: false, allErrors: true });
addFormats(ajv);
for (const f of SCHEMAS) ajv.addSchema(JSON.parse(readFileSync(join(dir, `${f}.json`), "utf8")), `${f}.json`);
function valid(name, body) {
  const v = ajv.getSchema(`${name}.json`);
  assert.ok(v(body), `${name}.json: ${ajv.errorsText(v.errors)} in ${JSON.stringify(body)}`);
}

let rt, handler;
const KEY = "open311-e2e-key";
const form = (fields) => new URLSearchParams(fields).toString();
const o311 = (fields) => call(rt.url, "/open311/v2/requests.json", { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: form(fields) });
const PII = ["13812345678", "13600001234", "张三丰", "330782199001011234", "李四光", "someone@example.com"];
function noPii(label, res) {
  for (const p of PII) assert.ok(!res.text.includes(p), `${label} leaks ${p}: ${res.text}`);
}

before(async () => {
  rt = await boot({ OPEN311_API_KEYS: `e2e_app:${KEY},other:another-key` });
  handler = rt.token(["complaint_dispatcher"], "12345热线");
});
after(async () => { await rt?.stop(); });

test("the schema copies match the product owner's when present", () => {
  const theirs = join(ROOT, "..", "shared", "fixtures", "open311");
  if (!existsSync(theirs)) return;
  for (const f of SCHEMAS) assert.equal(readFileSync(join(dir, `${f}.json`), "utf8"), readFileSync(join(theirs, `${f}.json`), "utf8"), f);
});

test("discovery, services and a service definition follow GeoReport v2", async () => {
  const d = await call(rt.url, "/open311/v2/discovery.json");
  assert.equal(d.status, 200);
  assert.equal(d.body.endpoints[0].specification, "http://wiki.open311.org/GeoReport_v2");
  const s = await call(rt.url, "/open311/v2/services.json");
  valid("services", s.body);
  assert.ok(s.body.length >= 5);
  for (const one of s.body) valid("service", one);
  const def = await call(rt.url, "/open311/v2/services/road.json");
  valid("service-definition", def.body);
  const missing = await call(rt.url, "/open311/v2/services/nope.json");
  assert.equal(missing.status, 404);
  assert.deepEqual(Object.keys(missing.body[0]).sort(), ["code", "description"]);
  assert.equal(missing.body[0].code, 404);
});

test("a client creates a request with its api_key; it is read back in the standard's terms", async () => {
  const nokey = await o311({ service_code: "road", lat: "29.3069", long: "120.0751", description: "路灯不亮已经一周了" });
  assert.equal(nokey.status, 403);
  assert.equal(nokey.body[0].code, 403);
  const badService = await o311({ api_key: KEY, service_code: "nope", lat: "29.3", long: "120.0", description: "路灯不亮已经一周了" });
  assert.equal(badService.status, 422);
  assert.match(badService.body[0].description, /service_code/);
  const noPlace = await o311({ api_key: KEY, service_code: "road", description: "路灯不亮已经一周了" });
  assert.equal(noPlace.status, 422);
  const made = await o311({ api_key: KEY, service_code: "road", lat: "29.306912", long: "120.075133", description: "宾王路路灯不亮，联系我13812345678，张三丰",
    first_name: "三丰", last_name: "张", phone: "13812345678", email: "someone@example.com" });
  assert.equal(made.status, 201, made.text);
  const id = made.body[0].service_request_id;
  assert.match(id, /^TS\d{8}[0-9A-Z]{11}$/);
  assert.match(made.body[0].service_notice, /前答复/);
  const one = await call(rt.url, `/open311/v2/requests/${id}.json`);
  assert.equal(one.status, 200);
  valid("requests", one.body);
  valid("request", one.body[0]);
  assert.deepEqual([one.body[0].status, one.body[0].service_code, one.body[0].lat, one.body[0].long], ["open", "road", 29.307, 120.075]);
  noPii("requests/{id}.json", one);
  // The same number through the complaint API: same numbering, same handling.
  const pub = await call(rt.url, `/v1/complaints/${id}`);
  assert.equal(pub.status, 200);
  for (const step of [{ action: "assign", department: "市政园林局" }, { action: "close", result: "已修复" }]) {
    const r = await postJson(rt.url, `/v1/admin/complaints/${id}/steps`, step, handler);
    assert.equal(r.status, 200, r.text);
  }
  const closed = await call(rt.url, `/open311/v2/requests/${id}.json`);
  valid("request", closed.body[0]);
  assert.deepEqual([closed.body[0].status, closed.body[0].agency_responsible], ["closed", "市政园林局"]);
  const list = await call(rt.url, "/open311/v2/requests.json?service_code=road&status=closed");
  valid("requests", list.body);
  assert.ok(list.body.some((r) => r.service_request_id === id));
  const open = await call(rt.url, "/open311/v2/requests.json?status=open");
  assert.ok(!open.body.some((r) => r.service_request_id === id));
  const later = await call(rt.url, `/open311/v2/requests.json?start_date=${encodeURIComponent("2099-01-01T00:00:00+08:00")}`);
  assert.deepEqual(later.body, []);
  const badDate = await call(rt.url, "/open311/v2/requests.json?start_date=yesterday");
  assert.equal(badDate.status, 400);
  assert.equal(badDate.body[0].code, 400);
});

test("without a login: a phone confirmed by SMS code; lookups by number and the last four digits", async () => {
  const phone = "13600001234";
  const ip = { "cf-connecting-ip": "10.8.0.1" };
  const body = { kind: "complaint", category: "供水", subject: "某供水营业厅", content: "窗口人员态度差，张三丰说我的身份证330782199001011234不对", anonymous: true };
  const none = await postJson(rt.url, "/v1/complaints", body);
  assert.equal(none.status, 401);
  assert.equal(none.body.error.code, "login_required");
  assert.equal((await postJson(rt.url, "/v1/auth/sms-code", { phone }, null, ip)).status, 200);
  const wrong = await postJson(rt.url, "/v1/complaints", { ...body, phone, sms_code: "000000" });
  assert.ok([400, 401, 422].includes(wrong.status), wrong.text);
  const code = rt.fakes.lastCode(phone);
  const made = await postJson(rt.url, "/v1/complaints", { ...body, phone, sms_code: code }, null, { "idempotency-key": "anon-1" });
  assert.equal(made.status, 201, made.text);
  checkResponse("/v1/complaints", "post", made);
  const again = await postJson(rt.url, "/v1/complaints", { ...body, phone, sms_code: code }, null, { "idempotency-key": "anon-1" });
  assert.deepEqual([again.status, again.body.number], [200, made.body.number], "a retry returns the first, the code already spent");
  const n = made.body.number;
  const pub = await call(rt.url, `/v1/complaints/${n}`);
  checkResponse("/v1/complaints/{number}", "get", pub);
  noPii("public view", pub);
  assert.equal(pub.body.content, undefined);
  const mine = await call(rt.url, `/v1/complaints/${n}?phone_last4=1234`);
  assert.equal(mine.status, 200);
  assert.equal(mine.body.record.content, body.content);
  const notMine = await call(rt.url, `/v1/complaints/${n}?phone_last4=4321`);
  assert.equal(notMine.status, 404);
  // The inbox of the phone's account has the receipt: a later login by phone shows it.
  const login = await postJson(rt.url, "/v1/auth/sms-code", { phone }, null, { "cf-connecting-ip": "10.8.0.2" });
  assert.ok([200, 429].includes(login.status));
  // 举报 are never listed through Open311, and no Open311 answer carries personal data.
  const cit = await postJson(rt.url, "/v1/auth/wechat", { code: "ok-whistle-1" });
  const report = await postJson(rt.url, "/v1/complaints", { kind: "report", category: "道路设施", subject: "李四光", content: "李四光占道经营，电话13812345678", location: { address: "宾王路88号" } }, cit.body.token);
  assert.equal(report.status, 201, report.text);
  assert.equal((await call(rt.url, `/open311/v2/requests/${report.body.number}.json`)).status, 404);
  const all = await call(rt.url, "/open311/v2/requests.json");
  valid("requests", all.body);
  assert.ok(!all.body.some((r) => r.service_request_id === n), "filed outside Open311 and not made public: not listed");
  assert.ok(!all.body.some((r) => r.service_request_id === report.body.number));
  noPii("requests.json", all);
  noPii("public view of the report", await call(rt.url, `/v1/complaints/${report.body.number}`));
});

test("an answered consultation becomes a public FAQ entry that search finds", async () => {
  const cit = await postJson(rt.url, "/v1/auth/wechat", { code: "ok-asker-1" });
  const asked = await postJson(rt.url, "/v1/complaints", { kind: "consultation", category: "供水", content: "水表过户需要带什么材料？我叫张三丰" }, cit.body.token);
  assert.equal(asked.status, 201, asked.text);
  const n = asked.body.number;
  const entry = { question: "水表过户需要哪些材料？", answer: "请携带身份证与房产证明到供水营业厅办理，咨询电话13812345678。" };
  const early = await postJson(rt.url, `/v1/admin/complaints/${n}/faq`, entry, handler);
  assert.equal(early.status, 409, "not answered yet");
  assert.equal((await postJson(rt.url, `/v1/admin/complaints/${n}/steps`, { action: "reply", text: "请携带身份证与房产证明办理。" }, handler)).status, 200);
  assert.equal((await postJson(rt.url, `/v1/admin/complaints/${n}/faq`, entry, rt.token(["auditor"]))).status, 403);
  const made = await postJson(rt.url, `/v1/admin/complaints/${n}/faq`, entry, handler);
  assert.equal(made.status, 201, made.text);
  checkResponse("/v1/admin/complaints/{number}/faq", "post", made);
  assert.equal((await postJson(rt.url, `/v1/admin/complaints/${n}/faq`, entry, handler)).status, 409, "once");
  const found = await call(rt.url, `/v1/faq?q=${encodeURIComponent("过户 材料")}`);
  checkResponse("/v1/faq", "get", found);
  assert.deepEqual(found.body.faq.map((f) => f.id), [made.body.id]);
  noPii("faq", found);
  assert.deepEqual((await call(rt.url, `/v1/faq?q=${encodeURIComponent("发票")}`)).body.faq, []);
});

test("photos: the author's own fresh images, seen by handlers only", async () => {
  const PNG = Buffer.from("89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d4944415478da63f8ffffff7f0009fb03fd2a86e38a0000000049454e44ae426082", "hex");
  const [a, b] = [await postJson(rt.url, "/v1/auth/wechat", { code: "ok-photoa-1" }), await postJson(rt.url, "/v1/auth/wechat", { code: "ok-photob-1" })];
  const up = (tok, bytes, type) => call(rt.url, "/v1/complaints/uploads", { method: "POST", headers: { authorization: `Bearer ${tok}`, "content-type": type }, body: bytes });
  assert.equal((await up(a.body.token, Buffer.from("%PDF-1.7\n"), "application/pdf")).status, 422, "images only");
  assert.equal((await up(a.body.token, PNG, "image/jpeg")).status, 422, "the declared type must match the bytes");
  const mine = await up(a.body.token, PNG, "image/png");
  assert.equal(mine.status, 201, mine.text);
  checkResponse("/v1/complaints/uploads", "post", mine);
  const theirs = await up(b.body.token, PNG, "image/png");
  const body = { kind: "complaint", category: "环境卫生", subject: "某小区物业", content: "垃圾桶满了三天没有清运", photos: [theirs.body.id] };
  const refused = await postJson(rt.url, "/v1/complaints", body, a.body.token);
  assert.equal(refused.status, 422);
  assert.equal(refused.body.error.fields[0].field, "photos");
  const made = await postJson(rt.url, "/v1/complaints", { ...body, photos: [mine.body.id] }, a.body.token);
  assert.equal(made.status, 201, made.text);
  const n = made.body.number;
  const c = await call(rt.url, `/v1/admin/complaints/${n}`, { headers: { authorization: `Bearer ${handler}` } });
  checkResponse("/v1/admin/complaints/{number}", "get", c);
  assert.deepEqual(c.body.photos, [mine.body.id]);
  const photo = await call(rt.url, `/v1/admin/complaints/${n}/photos/${mine.body.id}`, { headers: { authorization: `Bearer ${handler}` } });
  assert.equal(photo.status, 200);
  assert.equal(photo.headers.get("content-type"), "image/png");
  assert.equal((await call(rt.url, `/v1/admin/complaints/${n}/photos/${theirs.body.id}`, { headers: { authorization: `Bearer ${handler}` } })).status, 404, "not this case's");
  assert.equal((await call(rt.url, `/v1/admin/complaints/${n}/photos/${mine.body.id}`, { headers: { authorization: `Bearer ${a.body.token}` } })).status, 401);
  const pub = await call(rt.url, `/v1/complaints/${n}`);
  assert.ok(!pub.text.includes(mine.body.id), "the public view does not list photos");
});
