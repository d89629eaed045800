// Citizen identity end to end: WeChat login through a local jscode2session,
// SMS codes through a local Aliyun SMS that checks request signatures,
// sessions (expiry, logout), the personal center, the inbox, account
// deletion, and one citizen trying to reach another's data.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { boot, call, postJson } from "./helpers.mjs";
import { checkResponse } from "./contract.mjs";

let rt;
before(async () => { rt = await boot(); });
after(async () => { await rt?.stop(); });

const auth = (token) => ({ authorization: `Bearer ${token}` });
const get = (path, token) => call(rt.url, path, { headers: token ? auth(token) : {} });
const send = (method, path, token, body) => call(rt.url, path, {
  method, headers: { ...(token ? auth(token) : {}), ...(body ? { "content-type": "application/json" } : {}) },
  body: body ? JSON.stringify(body) : undefined,
});
let n = 0;
const wechat = async (who) => postJson(rt.url, "/v1/auth/wechat", { code: `ok-${who}-${++n}` });
const phoneFor = (i) => `139${String(10000000 + i).padStart(8, "0")}`;
async function codeFor(phone, ip) {
  const r = await postJson(rt.url, "/v1/auth/sms-code", { phone }, null, ip ? { "cf-connecting-ip": ip } : {});
  assert.equal(r.status, 200, r.text);
  return rt.fakes.lastCode(phone);
}

test("WeChat login creates the citizen once and returns an opaque session token", async () => {
  const first = await wechat("alice");
  assert.equal(first.status, 200, first.text);
  checkResponse("/v1/auth/wechat", "post", first);
  assert.match(first.body.token, /^bms_[0-9a-f]{64}$/);
  assert.equal(first.body.new_account, true);
  assert.deepEqual(first.body.citizen.login_methods, ["wechat"]);
  const again = await wechat("alice");
  assert.equal(again.body.new_account, false);
  assert.equal(again.body.citizen.id, first.body.citizen.id);
  assert.notEqual(again.body.token, first.body.token);
  assert.ok(!first.body.token.includes(first.body.citizen.id));
});

test("WeChat's error codes become distinct, clear errors", async () => {
  const used = `ok-bob-${++n}`;
  assert.equal((await postJson(rt.url, "/v1/auth/wechat", { code: used })).status, 200);
  const cases = [[used, 400, "wechat_code_used"], ["bad-1", 400, "wechat_code_invalid"], ["limit-1", 429, "wechat_rate_limited"], ["busy-1", 503, "wechat_unavailable"]];
  for (const [code, status, expected] of cases) {
    const r = await postJson(rt.url, "/v1/auth/wechat", { code });
    assert.equal(r.status, status, code);
    assert.equal(r.body.error.code, expected);
    checkResponse("/v1/auth/wechat", "post", r);
  }
  assert.equal((await postJson(rt.url, "/v1/auth/wechat", {})).status, 400);
});

test("citizen routes refuse missing and unknown tokens with 401", async () => {
  for (const token of [null, "bms_" + "0".repeat(64), "garbage"]) {
    const r = await get("/v1/me", token);
    assert.equal(r.status, 401);
    assert.equal(r.body.error.code, "login_required");
    checkResponse("/v1/me", "get", r);
  }
});

test("an SMS code binds a phone: wrong code counted, right code used once", async () => {
  const { body: { token } } = await wechat("carol");
  const phone = phoneFor(1);
  const code = await codeFor(phone);
  assert.match(code, /^\d{6}$/);
  const wrong = await send("POST", "/v1/auth/phone", token, { phone, code: code === "000000" ? "111111" : "000000" });
  assert.equal(wrong.status, 400);
  assert.equal(wrong.body.error.code, "sms_code_invalid");
  assert.match(wrong.body.error.message, /还可尝试4次/);
  const ok = await send("POST", "/v1/auth/phone", token, { phone, code });
  assert.equal(ok.status, 200, ok.text);
  assert.equal(ok.body.phone, `139****${phone.slice(-4)}`);
  assert.deepEqual(ok.body.login_methods, ["wechat", "phone"]);
  const reuse = await send("POST", "/v1/auth/phone", token, { phone, code });
  assert.equal(reuse.status, 400);
  const me = await get("/v1/me", token);
  assert.equal(me.body.phone, ok.body.phone);
  assert.ok(!me.text.includes(phone), "the full number never leaves");
});

test("sending is limited per number (1 a minute) and per client IP", async () => {
  const phone = phoneFor(2);
  await codeFor(phone);
  const again = await postJson(rt.url, "/v1/auth/sms-code", { phone });
  assert.equal(again.status, 429);
  assert.equal(again.body.error.code, "sms_send_limited");
  assert.match(again.body.error.message, /秒后再试/);
  checkResponse("/v1/auth/sms-code", "post", again);
  // Move that send back two minutes: the per-minute window frees, the hourly one still counts it.
  rt.sql("UPDATE sms_log SET at = '2000-01-01T00:00:00+08:00' WHERE phone_masked = '139****" + phone.slice(-4) + "'");
  assert.equal((await postJson(rt.url, "/v1/auth/sms-code", { phone })).status, 200);
  for (let i = 0; i < 20; i++) await codeFor(phoneFor(100 + i), "203.0.113.7");
  const ipLimited = await postJson(rt.url, "/v1/auth/sms-code", { phone: phoneFor(200) }, null, { "cf-connecting-ip": "203.0.113.7" });
  assert.equal(ipLimited.status, 429);
  assert.match(ipLimited.body.error.message, /当前网络/);
  assert.equal((await postJson(rt.url, "/v1/auth/sms-code", { phone: phoneFor(200) }, null, { "cf-connecting-ip": "198.51.100.9" })).status, 200);
});

test("the hourly limit (5) and the daily limit (10) hold too", async () => {
  const phone = phoneFor(3);
  // Ages this number's sends (Beijing time, the format the log uses).
  const age = (minutes) => rt.sql(`UPDATE sms_log SET at = strftime('%Y-%m-%dT%H:%M:%S+08:00', 'now', '+8 hours', '-${minutes} minutes') WHERE phone_masked = '139****${phone.slice(-4)}'`);
  for (let i = 0; i < 5; i++) { await codeFor(phone); age(30); }
  const hourly = await postJson(rt.url, "/v1/auth/sms-code", { phone });
  assert.equal(hourly.status, 429);
  assert.match(hourly.body.error.message, /1小时/);
  age(180);
  for (let i = 0; i < 5; i++) { await codeFor(phone); age(180); }
  const daily = await postJson(rt.url, "/v1/auth/sms-code", { phone });
  assert.equal(daily.status, 429);
  assert.match(daily.body.error.message, /24小时/);
});

test("five wrong codes void the code, and an expired code is refused", async () => {
  const phone = phoneFor(4);
  const code = await codeFor(phone);
  const wrongCode = code === "999999" ? "888888" : "999999";
  for (let i = 0; i < 4; i++) assert.equal((await postJson(rt.url, "/v1/auth/phone", { phone, code: wrongCode })).status, 400);
  const fifth = await postJson(rt.url, "/v1/auth/phone", { phone, code: wrongCode });
  assert.equal(fifth.status, 429);
  assert.equal(fifth.body.error.code, "sms_code_attempts_exceeded");
  assert.equal((await postJson(rt.url, "/v1/auth/phone", { phone, code })).body.error.code, "sms_code_attempts_exceeded");

  const phone2 = phoneFor(5);
  const code2 = await codeFor(phone2);
  rt.sql("UPDATE sms_codes SET expires_at = '2000-01-01T00:00:00+08:00'");
  const expired = await postJson(rt.url, "/v1/auth/phone", { phone: phone2, code: code2 });
  assert.equal(expired.status, 400);
  assert.equal(expired.body.error.code, "sms_code_expired");
});

test("a phone logs in without WeChat, and a bound phone cannot be taken by another account", async () => {
  const phone = phoneFor(6);
  const login = await postJson(rt.url, "/v1/auth/phone", { phone, code: await codeFor(phone) });
  assert.equal(login.status, 200, login.text);
  assert.equal(login.body.new_account, true);
  assert.equal(login.body.citizen.real_name_level, 1);
  assert.deepEqual(login.body.citizen.login_methods, ["phone"]);
  rt.sql("UPDATE sms_log SET at = '2000-01-01T00:00:00+08:00'");
  const { body: { token } } = await wechat("dave");
  const taken = await send("POST", "/v1/auth/phone", token, { phone, code: await codeFor(phone) });
  assert.equal(taken.status, 409);
  assert.equal(taken.body.error.code, "phone_already_bound");
});

test("provider failures are classified and logged with the failure class", async () => {
  rt.fakes.failNext("isv.BUSINESS_LIMIT_CONTROL");
  const limited = await postJson(rt.url, "/v1/auth/sms-code", { phone: phoneFor(7) });
  assert.equal(limited.status, 429);
  rt.fakes.failNext("isp.SYSTEM_ERROR");
  const down = await postJson(rt.url, "/v1/auth/sms-code", { phone: phoneFor(8) });
  assert.equal(down.status, 503);
  assert.equal(down.body.error.code, "sms_unavailable");
  const rows = rt.sql("SELECT status, error_code, failure_class, phone_masked, phone_hash FROM sms_log WHERE status = 'failed' ORDER BY id");
  assert.deepEqual(rows.map((r) => [r.error_code, r.failure_class]), [["isv.BUSINESS_LIMIT_CONTROL", "rate_limited"], ["isp.SYSTEM_ERROR", "retryable"]]);
  assert.ok(rows.every((r) => /^139\*{4}\d{4}$/.test(r.phone_masked) && /^[0-9a-f]{64}$/.test(r.phone_hash)));
  const sent = rt.sql("SELECT biz_id FROM sms_log WHERE status = 'sent' LIMIT 1");
  assert.match(sent[0].biz_id, /\^0$/);
});

test("logout revokes the session; later use is session_revoked", async () => {
  const { body: { token } } = await wechat("erin");
  assert.equal((await get("/v1/me", token)).status, 200);
  assert.equal((await send("POST", "/v1/auth/logout", token)).status, 204);
  const after = await get("/v1/me", token);
  assert.equal(after.status, 401);
  assert.equal(after.body.error.code, "session_revoked");
  assert.equal((await send("POST", "/v1/auth/logout", token)).status, 401);
});

test("the personal center edits contact fields and validates them", async () => {
  const { body: { token } } = await wechat("frank");
  const ok = await send("PATCH", "/v1/me", token, { email: "frank@example.cn", mailing_address: "义乌市稠城街道宾王路158号" });
  assert.equal(ok.status, 200, ok.text);
  checkResponse("/v1/me", "patch", ok);
  assert.equal(ok.body.email, "frank@example.cn");
  const bad = await send("PATCH", "/v1/me", token, { email: "not-an-email", mailing_address: "长".repeat(201) });
  assert.equal(bad.status, 422);
  assert.deepEqual(bad.body.error.fields.map((f) => f.field).sort(), ["email", "mailing_address"]);
  const unknown = await send("PATCH", "/v1/me", token, { phone: "13800000000" });
  assert.equal(unknown.status, 400);
  const cleared = await send("PATCH", "/v1/me", token, { email: "" });
  assert.equal(cleared.body.email, null);
  assert.equal(cleared.body.mailing_address, "义乌市稠城街道宾王路158号");
});

test("the inbox lists one's own messages and marks them read; others' are not found", async () => {
  const a = (await wechat("gina")).body.token;
  const b = (await wechat("hank")).body.token;
  const inbox = await get("/v1/me/messages", a);
  assert.equal(inbox.status, 200);
  checkResponse("/v1/me/messages", "get", inbox);
  assert.equal(inbox.body.unread, 1);
  const [welcome] = inbox.body.messages;
  assert.equal(welcome.title, "欢迎使用便民服务");
  assert.equal((await send("POST", `/v1/me/messages/${welcome.id}/read`, b)).status, 404);
  assert.equal((await send("POST", `/v1/me/messages/${welcome.id}/read`, a)).status, 204);
  const after = await get("/v1/me/messages?unread=true", a);
  assert.equal(after.body.unread, 0);
  assert.equal(after.body.messages.length, 0);
  const bInbox = await get("/v1/me/messages", b);
  assert.ok(bInbox.body.messages.every((m) => m.id !== welcome.id));
  assert.equal((await get("/v1/me/messages?unread=maybe", a)).status, 400);
});

test("deleting the account erases personal data and ends every session", async () => {
  const phone = phoneFor(9);
  rt.sql("UPDATE sms_log SET at = '2000-01-01T00:00:00+08:00'");
  const login = await postJson(rt.url, "/v1/auth/phone", { phone, code: await codeFor(phone) });
  const { token, citizen } = login.body;
  await send("PATCH", "/v1/me", token, { email: "ivy@example.cn" });
  assert.equal((await send("DELETE", "/v1/me", token)).status, 204);
  assert.equal((await get("/v1/me", token)).status, 401);
  const [row] = rt.sql(`SELECT phone, phone_hash, openid, email, deleted_at FROM citizens WHERE id = '${citizen.id}'`);
  assert.deepEqual([row.phone, row.phone_hash, row.openid, row.email], [null, null, null, null]);
  assert.ok(row.deleted_at);
  assert.equal(rt.sql(`SELECT COUNT(*) AS n FROM messages WHERE citizen_id = '${citizen.id}'`)[0].n, 0);
  assert.equal(rt.sql(`SELECT COUNT(*) AS n FROM sms_log WHERE phone_masked = '139****${phone.slice(-4)}' AND phone_hash IS NOT NULL`)[0].n, 0);
  rt.sql("UPDATE sms_log SET at = '2000-01-01T00:00:00+08:00'");
  const again = await postJson(rt.url, "/v1/auth/phone", { phone, code: await codeFor(phone) });
  assert.equal(again.body.new_account, true);
  assert.notEqual(again.body.citizen.id, citizen.id);
});

test("sessions expire after SESSION_TTL_SECS", async () => {
  const short = await boot({ SESSION_TTL_SECS: "1" });
  try {
    const login = await postJson(short.url, "/v1/auth/wechat", { code: "ok-judy-1" });
    assert.equal((await call(short.url, "/v1/me", { headers: auth(login.body.token) })).status, 200);
    await new Promise((ok) => setTimeout(ok, 1500));
    const r = await call(short.url, "/v1/me", { headers: auth(login.body.token) });
    assert.equal(r.status, 401);
    assert.equal(r.body.error.code, "session_expired");
  } finally {
    await short.stop();
  }
});
