// Attacks on the outage notices (issue 15, items 8, 12, 13), each written as
// the attack first, against workerd with the fake Aliyun SMS: subscribing to
// someone else's account to learn its building, a temporary carrier fault
// silencing a number for good, and a reply meant for something else dropping
// every outage alert.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { boot, call, postJson } from "./helpers.mjs";
import { loadTown } from "./outages.mjs";
import { checkResponse } from "./contract.mjs";

let rt, publisher;
const citizens = {};
const phones = { holder: "13710000001", snoop: "13710000002", quiet: "13710000003" };
const TOKEN = "dev-sms-callback-token";
const authed = (token) => ({ headers: { authorization: `Bearer ${token}` } });
const put = (path, token, payload) => call(rt.url, path, { method: "PUT", headers: { authorization: `Bearer ${token}`, "content-type": "application/json" }, body: JSON.stringify(payload) });
const beijing = (ms = Date.now()) => new Date(ms + 8 * 3600e3).toISOString().slice(0, 19);
const inHours = (h) => beijing(Date.now() + h * 3600e3) + "+08:00";
const emergency = (areas, reason) => ({ utility: "water", kind: "emergency", areas, start: inHours(1), end: inHours(6),
  reason, issuer: "义乌市供水有限公司", contact_phone: "0579-85510011" });
const sleep = (ms) => new Promise((ok) => setTimeout(ok, ms));

async function until(what, check, ms = 20000) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await sleep(100);
  }
}
const report = async (id) => (await call(rt.url, `/v1/admin/outages/${id}/delivery`, authed(publisher))).body;
const settled = (id) => until(`outage ${id} settled`, async () => {
  const v = (await report(id)).versions[0];
  return v && v.state === "fanned_out" && v.queued + v.sending === 0 && v;
});
const subscribe = (who, body) => postJson(rt.url, "/v1/me/outage-subscriptions", body, citizens[who]);
const subscriptions = async (who) => (await call(rt.url, "/v1/me/outage-subscriptions", authed(citizens[who]))).body.subscriptions;
/** Aliyun's SmsReport push for one message to `phone`. */
const receipt = (phone, bizId, success, code, sendTime = beijing().replace("T", " ")) =>
  postJson(rt.url, `/v1/sms/receipts?token=${TOKEN}`, [{ phone_number: phone, send_time: sendTime, report_time: sendTime,
    success, err_code: code, err_msg: success ? "用户接收成功" : code, sms_size: "1", biz_id: bizId, out_id: "" }]);

before(async () => {
  rt = await boot({ SMS_RETRY_BASE_SECONDS: "1", SMS_RETRY_MAX_SECONDS: "1" });
  publisher = rt.token(["outage_publisher"], "调度中心");
  await loadTown(rt.url, publisher);
  const billing = rt.token(["billing_operator"]);
  const accounts = await put("/v1/admin/supply-accounts", billing, { accounts: [
    { utility: "water", account_no: "20150001", area: "bw-1" }, { utility: "water", account_no: "20150002", area: "bw-2" },
    { utility: "gas", account_no: "G0001", area: "bw-1" }] });
  assert.equal(accounts.status, 200, accounts.text);
  const imported = await postJson(rt.url, "/v1/admin/bills:import", { accounts: [
    { account_no: "20150001", holder_name: "王小明", holder_phone: phones.holder, address: "义乌市稠城街道宾王路1号1幢101室", category: "居民" },
    { account_no: "20150002", holder_name: "李四", holder_phone: "13910000009", address: "义乌市稠城街道宾王路1号2幢202室", category: "居民" }] }, billing);
  assert.equal(imported.status, 200, imported.text);
  let i = 0;
  for (const [who, phone] of Object.entries(phones)) {
    const ip = { "cf-connecting-ip": `10.15.0.${++i}` };
    assert.equal((await postJson(rt.url, "/v1/auth/sms-code", { phone }, null, ip)).status, 200);
    const login = await postJson(rt.url, "/v1/auth/phone", { phone, code: rt.fakes.lastCode(phone) }, null, ip);
    assert.equal(login.status, 200, login.text);
    citizens[who] = login.body.token;
  }
  const bound = await postJson(rt.url, "/v1/me/water-accounts", { account: "20150001", phone: phones.holder }, citizens.holder);
  assert.equal(bound.status, 200, bound.text);
});
after(async () => { await rt?.stop(); });

test("subscribing to someone else's account is refused exactly like an unknown one and reveals no area", async () => {
  // The snoop holds no account: the holder's 20150001, 20150002 (bound to nobody), an unknown number, a gas account.
  const tries = [{ utility: "water", account_no: "20150001" }, { utility: "water", account_no: "20150002" },
    { utility: "water", account_no: "20159999" }, { utility: "gas", account_no: "G0001" }];
  const answers = [];
  for (const body of tries) answers.push(await subscribe("snoop", body));
  const seen = answers.map((a) => [a.status, a.body?.error?.code ?? a.body?.area_name, a.body?.error?.message]);
  assert.ok(answers.every((a) => a.status >= 400), `the snoop subscribed: ${JSON.stringify(seen)}`);
  assert.equal(new Set(answers.map((a) => JSON.stringify([a.status, a.body.error.code, a.body.error.message, a.body.error.fields ?? null]))).size, 1,
    `refusals differ: ${JSON.stringify(seen)}`);
  for (const a of answers) {
    checkResponse("/v1/me/outage-subscriptions", "post", a);
    assert.doesNotMatch(a.text, /宾王|1幢|2幢|bw-/);
  }
  assert.deepEqual(await subscriptions("snoop"), []);
  // The holder subscribes their own account and is told where it is.
  const own = await subscribe("holder", { utility: "water", account_no: "20150001" });
  assert.equal(own.status, 201, own.text);
  assert.equal(own.body.area_name, "稠城街道宾王小区1幢");
  // Gas goes by address.
  assert.equal((await subscribe("snoop", { utility: "gas", area: "bw-1" })).status, 201);
});

test("an out-of-service receipt does not silence a number; a blacklisted one is flagged, reported, and lifted by a later delivery", async () => {
  assert.equal((await subscribe("quiet", { utility: "water", area: "xh-1" })).status, 201);
  const first = await postJson(rt.url, "/v1/admin/outages", emergency(["绣湖小区"], "阀门检修"), publisher);
  assert.equal(first.status, 201, first.text);
  await settled(first.body.id);
  const [msg] = (await call(rt.fakes.base, `/__fake/messages?phone=${phones.quiet}`)).body.filter((m) => m.template === "SMS_465900011");
  // The phone is switched off today: the carrier reports the number out of service.
  const out = await receipt(phones.quiet, msg.bizId, false, "MOBILE_NOT_ON_SERVICE");
  assert.deepEqual([out.status, out.body.code], [200, 0]);
  const r1 = await report(first.body.id);
  assert.deepEqual(r1.versions[0].failed_by_reason, { MOBILE_NOT_ON_SERVICE: 1 });
  const second = await postJson(rt.url, "/v1/admin/outages", emergency(["绣湖小区"], "管网冲洗"), publisher);
  assert.equal((await settled(second.body.id)).recipients, 1, "a temporary fault silenced the number for good");
  assert.equal(r1.flagged_recipients, 0);
  // Blacklisted at the carrier: flagged, counted in the report, left out of the next outage.
  rt.fakes.state.blacklisted.add(phones.quiet);
  await rt.fakes.pushReports(`${rt.url}/v1/sms/receipts?token=${TOKEN}`);
  rt.fakes.state.blacklisted.delete(phones.quiet);
  const r2 = await call(rt.url, `/v1/admin/outages/${second.body.id}/delivery`, authed(publisher));
  checkResponse("/v1/admin/outages/{id}/delivery", "get", r2);
  assert.equal(r2.body.flagged_recipients, 1);
  const third = await postJson(rt.url, "/v1/admin/outages", emergency(["绣湖小区"], "水表更换"), publisher);
  assert.equal((await settled(third.body.id)).recipients, 0, "the flagged number is left out");
  // A later message to the number (a login code, say) is delivered: the flag lifts.
  await sleep(1100);
  const later = await receipt(phones.quiet, "LOGIN-CODE-1", true, "DELIVERED");
  assert.equal(later.status, 200);
  assert.equal((await report(second.body.id)).flagged_recipients, 0);
  const fourth = await postJson(rt.url, "/v1/admin/outages", emergency(["绣湖小区"], "二次供水设施清洗"), publisher);
  assert.equal((await settled(fourth.body.id)).recipients, 1, "the delivered number gets notices again");
});

test("a reply of T, N or 取消 meant for a booking keeps outage notices; TD or 退订 in any width unsubscribes and says so", async () => {
  const uplink = `${rt.url}/v1/sms/uplink?token=${TOKEN}`;
  const before = (await subscriptions("snoop")).length;
  assert.ok(before > 0);
  for (const content of ["T", "n", "取消", " 取消。", "取消订阅"]) {
    const r = await rt.fakes.reply(uplink, phones.snoop, content);
    assert.deepEqual([r.status, r.body.code], [200, 0]);
    assert.equal((await subscriptions("snoop")).length, before, `the reply ${JSON.stringify(content)} unsubscribed`);
  }
  const inbox = async () => (await call(rt.url, "/v1/me/messages", authed(citizens.snoop))).body.messages;
  assert.ok(!(await inbox()).some((m) => m.title === "已退订停水停气短信提醒"));
  const td = await rt.fakes.reply(uplink, phones.snoop, " ＴＤ ");
  assert.deepEqual([td.status, td.body.code], [200, 0]);
  assert.deepEqual(await subscriptions("snoop"), []);
  assert.ok((await inbox()).some((m) => m.title === "已退订停水停气短信提醒"), "the unsubscribe is acknowledged");
  assert.equal((await subscribe("snoop", { utility: "water", area: "bw-2" })).status, 201);
  await rt.fakes.reply(uplink, phones.snoop, "退订");
  assert.deepEqual(await subscriptions("snoop"), []);
});
