// The outage SMS fan-out against workerd with the local queue and the fake
// Aliyun SMS (which verifies request signatures, and can be told to fail,
// throttle or refuse numbers): subscriptions, one message per subscriber,
// republish, duplicate queue delivery, error classes, amendments and
// cancellations, delivery receipts, unsubscribing by replying TD.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { boot, call, postJson } from "./helpers.mjs";
import { loadTown } from "./outages.mjs";
import { checkResponse } from "./contract.mjs";

let rt, publisher;
const citizens = {};
const phones = { c1: "13700000001", c2: "13700000002", c3: "13700000003", c4: "13700000004" };
const inHours = (h) => new Date(Date.now() + h * 3600e3 + 8 * 3600e3).toISOString().slice(0, 19) + "+08:00";
const authed = (token) => ({ headers: { authorization: `Bearer ${token}` } });
const put = (path, token, payload) => call(rt.url, path, { method: "PUT", headers: { authorization: `Bearer ${token}`, "content-type": "application/json" }, body: JSON.stringify(payload) });
const emergency = (areas, extra = {}) => ({ utility: "water", kind: "emergency", areas, start: inHours(1), end: inHours(6),
  reason: "爆管抢修", issuer: "义乌市供水有限公司", contact_phone: "0579-85510011", ...extra });
const sleep = (ms) => new Promise((ok) => setTimeout(ok, ms));
const TOKEN = "dev-sms-callback-token";

async function until(what, check, ms = 20000) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await sleep(100);
  }
}
const sentTo = async (phone) => (await call(rt.fakes.base, `/__fake/messages?phone=${phone}`)).body;
const report = async (id) => (await call(rt.url, `/v1/admin/outages/${id}/delivery`, authed(publisher))).body;
const settled = (id, version = 1) => until(`outage ${id} v${version} settled`, async () => {
  const v = (await report(id)).versions.find((x) => x.version === version);
  return v && v.state === "fanned_out" && v.queued + v.sending === 0 && v;
});

before(async () => {
  rt = await boot({ SMS_RETRY_BASE_SECONDS: "1", SMS_RETRY_MAX_SECONDS: "1" });
  publisher = rt.token(["outage_publisher"], "调度中心");
  await loadTown(rt.url, publisher);
  const accounts = await put("/v1/admin/supply-accounts", rt.token(["billing_operator"]), { accounts: [
    { utility: "water", account_no: "20150001", area: "bw-1" }, { utility: "water", account_no: "20150002", area: "xh-1" }] });
  assert.equal(accounts.status, 200, accounts.text);
  // An account subscription needs the account bound to the citizen (issue 15): c1 holds 20150001, c3 20150002.
  const imported = await postJson(rt.url, "/v1/admin/bills:import", { accounts: [
    { account_no: "20150001", holder_name: "王小明", holder_phone: phones.c1, address: "义乌市稠城街道宾王路1号", category: "居民" },
    { account_no: "20150002", holder_name: "李四", holder_phone: phones.c3, address: "义乌市稠城街道绣湖路2号", category: "居民" }] },
    rt.token(["billing_operator"]));
  assert.equal(imported.status, 200, imported.text);
  let i = 0;
  for (const [who, phone] of Object.entries(phones)) {
    const ip = { "cf-connecting-ip": `10.9.0.${++i}` };
    assert.equal((await postJson(rt.url, "/v1/auth/sms-code", { phone }, null, ip)).status, 200);
    const login = await postJson(rt.url, "/v1/auth/phone", { phone, code: rt.fakes.lastCode(phone) }, null, ip);
    assert.equal(login.status, 200, login.text);
    citizens[who] = login.body.token;
  }
  for (const [who, account] of [["c1", "20150001"], ["c3", "20150002"]]) {
    const bound = await postJson(rt.url, "/v1/me/water-accounts", { account, phone: phones[who] }, citizens[who]);
    assert.equal(bound.status, 200, bound.text);
  }
  await call(rt.fakes.base, "/__fake/messages", { method: "DELETE" });
});
after(async () => { await rt?.stop(); });

const subscribe = (who, body) => postJson(rt.url, "/v1/me/outage-subscriptions", body, citizens[who]);

test("subscriptions by account and by address, listed and deleted by their owner", async () => {
  assert.equal((await postJson(rt.url, "/v1/me/outage-subscriptions", { utility: "water", area: "bw" })).status, 401);
  const a = await subscribe("c1", { utility: "water", account_no: "20150001" });
  assert.equal(a.status, 201, a.text);
  checkResponse("/v1/me/outage-subscriptions", "post", a);
  assert.equal(a.body.area_name, "稠城街道宾王小区1幢");
  assert.equal((await subscribe("c1", { utility: "water", area: "宾王小区" })).status, 201);
  assert.equal((await subscribe("c1", { utility: "water", area: "bw" })).status, 200, "the same address again");
  assert.equal((await subscribe("c2", { utility: "water", area: "bw-2" })).status, 201);
  assert.equal((await subscribe("c3", { utility: "water", account_no: "20150002" })).status, 201);
  assert.equal((await subscribe("c4", { utility: "water", area: "xh-1" })).status, 201);
  const unknown = await subscribe("c2", { utility: "water", account_no: "20159999" });
  assert.equal(unknown.status, 404);
  const ambiguous = await subscribe("c2", { utility: "water", area: "1幢" });
  assert.equal(ambiguous.status, 422);
  assert.match(ambiguous.body.error.fields[0].message, /不唯一/);
  // Without a phone there is nowhere to send.
  const nophone = await postJson(rt.url, "/v1/auth/wechat", { code: "ok-nophone-1" });
  const refused = await postJson(rt.url, "/v1/me/outage-subscriptions", { utility: "water", area: "bw" }, nophone.body.token);
  assert.equal(refused.status, 422);
  assert.equal(refused.body.error.code, "phone_required");
  const extra = await subscribe("c2", { utility: "water", area: "xh" });
  const list = await call(rt.url, "/v1/me/outage-subscriptions", authed(citizens.c2));
  checkResponse("/v1/me/outage-subscriptions", "get", list);
  assert.equal(list.body.subscriptions.length, 2);
  assert.equal((await call(rt.url, `/v1/me/outage-subscriptions/${extra.body.id}`, { method: "DELETE", ...authed(citizens.c1) })).status, 404, "not c1's");
  assert.equal((await call(rt.url, `/v1/me/outage-subscriptions/${extra.body.id}`, { method: "DELETE", ...authed(citizens.c2) })).status, 204);
  assert.equal((await call(rt.url, "/v1/me/outage-subscriptions", authed(citizens.c2))).body.subscriptions.length, 1);
});

test("one message per subscriber across overlapping areas; a republish and a duplicate queue delivery send nothing more", async () => {
  const made = await postJson(rt.url, "/v1/admin/outages", emergency(["宾王小区", "bw-1"]), publisher);
  assert.equal(made.status, 201, made.text);
  const v = await settled(made.body.id);
  assert.deepEqual([v.recipients, v.sent, v.progress], [2, 2, 1]);
  checkResponse("/v1/admin/outages/{id}/delivery", "get", { status: 200, body: await report(made.body.id), headers: new Headers({ "content-type": "application/json" }) });
  const c1 = await sentTo(phones.c1);
  assert.equal(c1.length, 1);
  assert.equal(c1[0].template, "SMS_465900011");
  assert.equal(c1[0].params.what, "紧急停水");
  assert.equal(c1[0].params.issuer, "义乌市供水有限公司");
  assert.equal((await sentTo(phones.c2)).length, 1);
  assert.equal((await sentTo(phones.c3)).length, 0);
  const again = await postJson(rt.url, `/v1/admin/outages/${made.body.id}:republish`, {}, publisher);
  assert.equal(again.status, 200, again.text);
  assert.deepEqual([again.body.added, again.body.recipients], [0, 2]);
  // The queue delivers a chunk twice (at-least-once): nothing is left to claim.
  const [chunk] = rt.sql(`SELECT outage_id, version, MIN(id) AS lo, MAX(id) AS hi FROM outage_outbox WHERE outage_id = '${made.body.id}'`);
  const queue = await rt.mf.getQueueProducer("OUTAGE_QUEUE", "bianmin-outage-sms");
  await queue.send(chunk);
  await queue.send(chunk);
  await sleep(2500);
  assert.equal((await sentTo(phones.c1)).length, 1);
  assert.equal((await sentTo(phones.c2)).length, 1);
  assert.equal(rt.fakes.state.smsCalls.SendSms >= 1, true);
});

test("transient errors back off and succeed, rate limits wait for the sweep, bad numbers are split out and flagged", async () => {
  // Transient: the queue redelivers after the backoff.
  rt.fakes.failNext("isp.SYSTEM_ERROR");
  const t1 = await postJson(rt.url, "/v1/admin/outages", emergency(["绣湖小区"]), publisher);
  const v1 = await settled(t1.body.id);
  assert.deepEqual([v1.recipients, v1.sent], [2, 2]);
  assert.deepEqual(rt.sql(`SELECT DISTINCT attempts, error_code FROM outage_outbox WHERE outage_id = '${t1.body.id}'`), [{ attempts: 2, error_code: null }]);
  // Rate limited: deferred past the window, never retried in a loop; the cron sweep sends it after.
  rt.fakes.failNext("isv.BUSINESS_LIMIT_CONTROL");
  const t2 = await postJson(rt.url, "/v1/admin/outages", emergency(["绣湖小区"], { reason: "水表更换" }), publisher);
  const deferred = await until("deferred", async () => (await report(t2.body.id)).versions[0].deferred === 2);
  assert.ok(deferred);
  await sleep(1500);
  assert.equal((await report(t2.body.id)).versions[0].deferred, 2, "still waiting for its window");
  const [{ next_at }] = rt.sql(`SELECT DISTINCT next_at FROM outage_outbox WHERE outage_id = '${t2.body.id}'`);
  assert.ok(Date.parse(next_at) - Date.now() > 30e3, `waits about a minute: ${next_at}`);
  rt.sql(`UPDATE outage_outbox SET next_at = '2000-01-01T00:00:00+08:00' WHERE outage_id = '${t2.body.id}'`);
  const worker = await rt.mf.getWorker("bianmin-outage-sms");
  await worker.scheduled({ cron: "* * * * *" });
  assert.equal((await settled(t2.body.id)).sent, 2);
  // A number the provider refuses: split out, recorded, flagged; the rest of the batch is sent.
  rt.fakes.state.badNumbers.add(phones.c4);
  const t3 = await postJson(rt.url, "/v1/admin/outages", emergency(["绣湖小区"], { reason: "阀门检修" }), publisher);
  const v3 = await settled(t3.body.id);
  assert.deepEqual([v3.sent, v3.failed, v3.failed_by_reason], [1, 1, { "isv.MOBILE_NUMBER_ILLEGAL": 1 }]);
  const t4 = await postJson(rt.url, "/v1/admin/outages", emergency(["绣湖小区"], { reason: "二次供水设施清洗" }), publisher);
  assert.equal((await settled(t4.body.id)).recipients, 1, "the flagged number is left out");
  rt.fakes.state.badNumbers.clear();
});

test("what keeps failing goes to the dead-letter queue and is reported failed", async () => {
  rt.fakes.failNext("isp.SYSTEM_ERROR", 20);
  const made = await postJson(rt.url, "/v1/admin/outages", emergency(["bw-2"]), publisher);
  const v = await until("dead-lettered", async () => {
    const x = (await report(made.body.id)).versions[0];
    return x.failed === 1 && x;
  }, 40000);
  assert.deepEqual(v.failed_by_reason, { "isp.SYSTEM_ERROR": 1 });
  assert.equal(rt.sql(`SELECT failure_class FROM outage_outbox WHERE outage_id = '${made.body.id}'`)[0].failure_class, "dead_letter");
  rt.fakes.state.failures.length = 0;
});

test("an amendment reaches the notified and the newly affected; a cancellation the notified", async () => {
  const made = await postJson(rt.url, "/v1/admin/outages", emergency(["bw-2"], { reason: "管道抢修" }), publisher);
  await settled(made.body.id);
  const before = { c2: (await sentTo(phones.c2)).length, c1: (await sentTo(phones.c1)).length };
  const amended = await postJson(rt.url, `/v1/admin/outages/${made.body.id}:amend`, { areas: ["bw-1"], end: inHours(8) }, publisher);
  assert.equal(amended.status, 200, amended.text);
  checkResponse("/v1/admin/outages/{id}:amend", "post", amended);
  assert.match(amended.body.message, /^【义乌便民】更正：稠城街道宾王小区1幢紧急停水调整为/);
  const v2 = await settled(made.body.id, 2);
  assert.equal(v2.recipients, 2, "c2 (told before) and c1 (newly affected)");
  const c1 = await sentTo(phones.c1);
  assert.equal(c1.length, before.c1 + 1);
  assert.equal(c1.at(-1).template, "SMS_465900012");
  const cancelled = await postJson(rt.url, `/v1/admin/outages/${made.body.id}:cancel`, { reason: "已提前修复" }, publisher);
  assert.equal(cancelled.status, 200, cancelled.text);
  assert.equal(cancelled.body.status, "cancelled");
  const v3 = await settled(made.body.id, 3);
  assert.equal(v3.recipients, 2);
  assert.equal((await sentTo(phones.c2)).at(-1).template, "SMS_465900013");
  assert.equal((await call(rt.url, `/v1/outages/${made.body.id}`)).body.status, "cancelled");
  const late = await postJson(rt.url, `/v1/admin/outages/${made.body.id}:amend`, { reason: "x" }, publisher);
  assert.equal(late.status, 409);
  assert.equal(late.body.error.code, "outage_state_invalid");
});

test("delivery receipts update each message; replying TD unsubscribes", async () => {
  rt.fakes.state.blacklisted.add(phones.c2);
  const made = await postJson(rt.url, "/v1/admin/outages", emergency(["宾王小区"], { reason: "水质检测" }), publisher);
  await settled(made.body.id);
  const bad = await postJson(rt.url, "/v1/sms/receipts?token=wrong", []);
  assert.equal(bad.status, 401);
  const pushed = await rt.fakes.pushReports(`${rt.url}/v1/sms/receipts?token=${TOKEN}`);
  assert.ok(pushed.every((a) => a.status === 200 && a.body.code === 0), JSON.stringify(pushed));
  const v = (await report(made.body.id)).versions[0];
  assert.deepEqual([v.delivered, v.failed, v.failed_by_reason], [1, 1, { MOBILE_IN_BLACK: 1 }]);
  // c1 replies TD: no more subscriptions, and the inbox says so.
  const reply = await rt.fakes.reply(`${rt.url}/v1/sms/uplink?token=${TOKEN}`, phones.c1, "TD");
  assert.deepEqual([reply.status, reply.body.code], [200, 0]);
  assert.equal((await call(rt.url, "/v1/me/outage-subscriptions", authed(citizens.c1))).body.subscriptions.length, 0);
  const inbox = (await call(rt.url, "/v1/me/messages", authed(citizens.c1))).body;
  assert.ok(inbox.messages.some((m) => m.title === "已退订停水停气短信提醒"));
  const next = await postJson(rt.url, "/v1/admin/outages", emergency(["宾王小区"], { reason: "停电影响" }), publisher);
  assert.equal((await settled(next.body.id)).recipients, 0, "c1 unsubscribed, c2 flagged by its receipt");
});
