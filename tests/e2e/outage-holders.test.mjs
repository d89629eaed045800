// Outage notices reach every affected household (issue 18), against workerd
// with the local queue and the fake Aliyun SMS: a billing holder who never
// used the mini-program gets the SMS; a phone behind three accounts and a
// subscription gets one; the citizen who bound an affected account finds the
// notice in the inbox; the report splits recipients by how they were reached
// and by channel; a TD reply stops the holder's next notice; the holder's
// phone is sealed in D1 and shown by no answer.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { boot, call, postJson } from "./helpers.mjs";
import { loadTown } from "./outages.mjs";
import { checkResponse } from "./contract.mjs";

let rt, publisher, billing, citizen;
const BOTH = "13700000021"; // a citizen, subscribed, and holder of three accounts
const HOLDER = "13700000022"; // never used the mini-program
const AWAY = "13700000023"; // holds an account outside the outage
const TOKEN = "dev-sms-callback-token";
const inHours = (h) => new Date(Date.now() + h * 3600e3 + 8 * 3600e3).toISOString().slice(0, 19) + "+08:00";
const authed = (token) => ({ headers: { authorization: `Bearer ${token}` } });
const put = (path, token, payload) => call(rt.url, path, { method: "PUT", headers: { authorization: `Bearer ${token}`, "content-type": "application/json" }, body: JSON.stringify(payload) });
const emergency = (reason) => ({ utility: "water", kind: "emergency", areas: ["宾王小区"], start: inHours(1), end: inHours(6),
  reason, issuer: "义乌市供水有限公司", contact_phone: "0579-85510011" });
const sleep = (ms) => new Promise((ok) => setTimeout(ok, ms));
const sentTo = async (phone) => (await call(rt.fakes.base, `/__fake/messages?phone=${phone}`)).body;
const report = async (id) => (await call(rt.url, `/v1/admin/outages/${id}/delivery`, authed(publisher)));

async function settled(id) {
  const end = Date.now() + 20000;
  for (;;) {
    const v = (await report(id)).body.versions[0];
    if (v && v.state === "fanned_out" && v.queued + v.sending === 0) return v;
    if (Date.now() > end) assert.fail(`outage ${id} did not settle`);
    await sleep(100);
  }
}

const account = (account_no, holder_phone, address) => ({ account_no, holder_name: "陈大明", holder_phone, address, category: "居民" });

before(async () => {
  rt = await boot();
  publisher = rt.token(["outage_publisher"], "调度中心");
  billing = rt.token(["billing_operator"], "营业所");
  await loadTown(rt.url, publisher);
  const map = await put("/v1/admin/supply-accounts", billing, { accounts: [
    ["30010001", "bw-1"], ["30010002", "bw-1"], ["30010003", "bw-2"], ["30010004", "bw-2"], ["30010005", "xh-1"],
  ].map(([account_no, area]) => ({ utility: "water", account_no, area })) });
  assert.equal(map.status, 200, map.text);
  const imported = await postJson(rt.url, "/v1/admin/bills:import", { accounts: [
    account("30010001", BOTH, "义乌市稠城街道宾王路1号101"), account("30010002", BOTH, "义乌市稠城街道宾王路1号102"),
    account("30010003", BOTH, "义乌市稠城街道宾王路2号101"), account("30010004", HOLDER, "义乌市稠城街道宾王路2号102"),
    account("30010005", AWAY, "义乌市稠城街道绣湖路1号")] }, billing);
  assert.equal(imported.status, 200, imported.text);
  for (const p of [BOTH, HOLDER, AWAY]) assert.ok(!imported.text.includes(p), "the import's answer shows no phone");
  const ip = { "cf-connecting-ip": "10.9.1.1" };
  assert.equal((await postJson(rt.url, "/v1/auth/sms-code", { phone: BOTH }, null, ip)).status, 200);
  const login = await postJson(rt.url, "/v1/auth/phone", { phone: BOTH, code: rt.fakes.lastCode(BOTH) }, null, ip);
  assert.equal(login.status, 200, login.text);
  citizen = login.body.token;
  const bound = await postJson(rt.url, "/v1/me/water-accounts", { account: "30010001", phone: BOTH }, citizen);
  assert.equal(bound.status, 200, bound.text);
  assert.equal((await postJson(rt.url, "/v1/me/outage-subscriptions", { utility: "water", area: "bw" }, citizen)).status, 201);
  await call(rt.fakes.base, "/__fake/messages", { method: "DELETE" });
});
after(async () => { await rt?.stop(); });

test("the holders' phones are sealed in D1: no column holds one in the clear", () => {
  const rows = rt.sql("SELECT * FROM water_accounts WHERE account_no LIKE '3001%'");
  assert.equal(rows.length, 5);
  const text = JSON.stringify(rows);
  for (const p of [BOTH, HOLDER, AWAY]) assert.ok(!text.includes(p), `${p} in ${text.slice(0, 200)}`);
  assert.ok(rows.every((r) => /^[\w-]+\.[A-Za-z0-9+/=]+$/.test(r.holder_phone_enc) && r.holder_phone_kid === r.holder_phone_enc.split(".")[0]));
});

test("every affected household is told once per phone; the bound citizen's inbox too; the report splits how", async () => {
  const made = await postJson(rt.url, "/v1/admin/outages", emergency("主管爆裂抢修"), publisher);
  assert.equal(made.status, 201, made.text);
  const v = await settled(made.body.id);
  assert.equal(v.recipients, 2);
  assert.equal((await sentTo(BOTH)).length, 1, "three accounts and a subscription: one message");
  const holder = await sentTo(HOLDER);
  assert.equal(holder.length, 1, "a holder who never used the mini-program is told");
  assert.equal(holder[0].params.reason, "主管爆裂抢修");
  assert.equal((await sentTo(AWAY)).length, 0, "outside the outage: nothing");
  const r = await report(made.body.id);
  checkResponse("/v1/admin/outages/{id}/delivery", "get", r);
  assert.deepEqual(r.body.versions[0].reached, { holder: 1, subscription: 1 });
  assert.deepEqual(r.body.versions[0].channels, { inbox: 1, sms: 2 });
  for (const p of [BOTH, HOLDER]) assert.ok(!r.text.includes(p), "the report shows no phone");
  const inbox = (await call(rt.url, "/v1/me/messages", authed(citizen))).body.messages.filter((m) => m.kind === "outage");
  assert.equal(inbox.length, 1);
  assert.equal(inbox[0].link, `/v1/outages/${made.body.id}`);
});

test("a holder's TD reply stops their next notice; the subscriber is still told", async () => {
  const reply = await rt.fakes.reply(`${rt.url}/v1/sms/uplink?token=${TOKEN}`, HOLDER, "TD");
  assert.deepEqual([reply.status, reply.body.code], [200, 0]);
  const before = (await sentTo(HOLDER)).length;
  const next = await postJson(rt.url, "/v1/admin/outages", emergency("二次抢修"), publisher);
  assert.equal(next.status, 201, next.text);
  const v = await settled(next.body.id);
  assert.equal(v.recipients, 1);
  assert.equal((await sentTo(HOLDER)).length, before, "TD holds");
  assert.equal((await sentTo(BOTH)).length, 2);
});

test("a citizen who bound an affected account and accepted the template gets the notice by 订阅消息 once", async () => {
  const WX = "13700000024";
  const imported = await postJson(rt.url, "/v1/admin/bills:import", { accounts: [account("30010006", WX, "义乌市稠城街道宾王路1号201")] }, billing);
  assert.equal(imported.status, 200, imported.text);
  assert.equal((await put("/v1/admin/supply-accounts", billing, { accounts: [{ utility: "water", account_no: "30010006", area: "bw-1" }] })).status, 200);
  const login = await postJson(rt.url, "/v1/auth/wechat", { code: "ok-outage-wx-1" });
  assert.equal(login.status, 200, login.text);
  const wx = login.body.token;
  const ip = { "cf-connecting-ip": "10.9.1.2" };
  assert.equal((await postJson(rt.url, "/v1/auth/sms-code", { phone: WX }, null, ip)).status, 200);
  assert.equal((await postJson(rt.url, "/v1/auth/phone", { phone: WX, code: rt.fakes.lastCode(WX) }, wx, ip)).status, 200);
  assert.equal((await postJson(rt.url, "/v1/me/water-accounts", { account: "30010006", phone: WX }, wx)).status, 200);
  const subs = (await call(rt.url, "/v1/me/wechat-subscriptions", authed(wx))).body.subscriptions;
  const template = subs.find((s) => s.purpose === "outage_notice").template_id;
  assert.equal((await postJson(rt.url, "/v1/me/wechat-subscriptions", { [template]: "accept" }, wx)).status, 200);
  const openid = rt.sql("SELECT c.openid FROM citizens c JOIN citizen_water_accounts h ON h.citizen_id = c.id WHERE h.account_no = '30010006'")[0].openid;
  const toHer = async () => (await call(rt.fakes.base, `/__fake/wechat-messages?touser=${openid}`)).body;

  const made = await postJson(rt.url, "/v1/admin/outages", emergency("阀门更换"), publisher);
  assert.equal(made.status, 201, made.text);
  await settled(made.body.id);
  const end = Date.now() + 15000;
  while ((await toHer()).length === 0 && Date.now() < end) await sleep(100);
  const sent = await toHer();
  assert.equal(sent.length, 1, "one 订阅消息");
  assert.equal(sent[0].template_id, template);
  assert.equal(sent[0].data.thing1.value, "宾王小区");
  assert.equal(sent[0].page, `pages/outage/detail?id=${made.body.id}`);
  assert.ok(!JSON.stringify(sent[0]).includes(WX), "no phone in the message");
  assert.equal((await sentTo(WX)).filter((m) => m.params?.reason === "阀门更换").length, 1, "the SMS to the holder goes as well");
  const inbox = (await call(rt.url, "/v1/me/messages", authed(wx))).body.messages.filter((m) => m.link === `/v1/outages/${made.body.id}`);
  assert.equal(inbox.length, 1);
  assert.equal(rt.sql(`SELECT count(*) AS n FROM wechat_sends WHERE purpose = 'outage_notice'`)[0].n, 1);
});
