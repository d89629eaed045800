// Attacks on citizen identity (issue 15, items 5 and 14), end to end against
// the Wasm build in workerd: each test is the attack, named after it, and
// asserts the attack fails. Requests are fired concurrently where the attack
// is a race between isolates checking and writing a counter.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { boot, call, postJson } from "./helpers.mjs";

let rt;
before(async () => { rt = await boot(); });
after(async () => { await rt?.stop(); });

const MAX_ATTEMPTS = 5;
const auth = (token) => ({ authorization: `Bearer ${token}` });
const phoneFor = (i) => `137${String(20000000 + i).padStart(8, "0")}`;
const masked = (phone) => `${phone.slice(0, 3)}****${phone.slice(-4)}`;
const sent = (phone) => rt.fakes.state.messages.filter((m) => m.phone === phone).length;
let ipSeq = 0;
const freshIp = () => `198.18.${Math.floor(++ipSeq / 250)}.${ipSeq % 250 + 1}`;
/** Frees every per-number window (moves all sends back in time). */
const ageSends = () => rt.sql("UPDATE sms_log SET at = '2000-01-01T00:00:00+08:00'");

async function codeFor(phone) {
  const r = await postJson(rt.url, "/v1/auth/sms-code", { phone }, null, { "cf-connecting-ip": freshIp() });
  assert.equal(r.status, 200, r.text);
  return rt.fakes.lastCode(phone);
}
const other = (code, i) => {
  const g = String((Number(code) + 1 + i) % 1_000_000).padStart(6, "0");
  assert.notEqual(g, code);
  return g;
};
const tally = (replies) => {
  const t = {};
  for (const r of replies) {
    const key = `${r.status} ${r.body?.error?.code ?? "ok"}`;
    t[key] = (t[key] ?? 0) + 1;
  }
  return t;
};

// ---- item 5: counters read, compared and written in separate statements ----

test("300 concurrent wrong guesses of an SMS code get at most five 'wrong code' answers, and the right code is void after", async () => {
  const phone = phoneFor(1);
  const code = await codeFor(phone);
  const replies = await Promise.all(Array.from({ length: 300 }, (_, i) =>
    postJson(rt.url, "/v1/auth/phone", { phone, code: other(code, i) })));
  const t = tally(replies);
  const wrong = t["400 sms_code_invalid"] ?? 0;
  const exceeded = t["429 sms_code_attempts_exceeded"] ?? 0;
  assert.ok(wrong <= MAX_ATTEMPTS, `at most ${MAX_ATTEMPTS} guesses are compared, got ${JSON.stringify(t)}`);
  assert.equal(wrong + exceeded, 300, `every other guess is refused as attempts exceeded: ${JSON.stringify(t)}`);
  const [row] = rt.sql("SELECT attempts, consumed_at FROM sms_codes ORDER BY created_at DESC LIMIT 1");
  assert.equal(row.attempts, MAX_ATTEMPTS);
  const right = await postJson(rt.url, "/v1/auth/phone", { phone, code });
  assert.equal(right.status, 429, right.text);
  assert.equal(right.body.error.code, "sms_code_attempts_exceeded");
});

test("a right guess racing 300 wrong ones is compared only within the five tries", async () => {
  const phone = phoneFor(2);
  const code = await codeFor(phone);
  // The right code is sent last, after the wrong ones are in flight.
  const guesses = Array.from({ length: 300 }, (_, i) => postJson(rt.url, "/v1/auth/phone", { phone, code: other(code, i) }));
  guesses.push(postJson(rt.url, "/v1/auth/phone", { phone, code }));
  const replies = await Promise.all(guesses);
  const t = tally(replies);
  const compared = (t["400 sms_code_invalid"] ?? 0) + (t["200 ok"] ?? 0);
  assert.ok(compared <= MAX_ATTEMPTS, `at most ${MAX_ATTEMPTS} guesses are compared, got ${JSON.stringify(t)}`);
});

test("30 concurrent code requests to one number send one SMS (1 a minute)", async () => {
  const phone = phoneFor(3);
  const replies = await Promise.all(Array.from({ length: 30 }, () =>
    postJson(rt.url, "/v1/auth/sms-code", { phone }, null, { "cf-connecting-ip": freshIp() })));
  const t = tally(replies);
  assert.equal(sent(phone), 1, `SMS sent to one number at once: ${sent(phone)} (${JSON.stringify(t)})`);
  assert.deepEqual(t, { "200 ok": 1, "429 sms_send_limited": 29 });
});

test("concurrent bursts never pass the hourly (5) and daily (10) limits of one number", async () => {
  const phone = phoneFor(4);
  const age = (minutes) => rt.sql(`UPDATE sms_log SET at = strftime('%Y-%m-%dT%H:%M:%S+08:00', 'now', '+8 hours', '-${minutes} minutes') WHERE phone_masked = '${masked(phone)}' AND at > strftime('%Y-%m-%dT%H:%M:%S+08:00', 'now', '+8 hours', '-${minutes} minutes')`);
  const burst = () => Promise.all(Array.from({ length: 10 }, () =>
    postJson(rt.url, "/v1/auth/sms-code", { phone }, null, { "cf-connecting-ip": freshIp() })));
  for (let i = 0; i < 8; i++) { await burst(); age(2); }
  assert.equal(sent(phone), 5, `sends in the last hour: ${sent(phone)}`);
  age(120);
  for (let i = 0; i < 8; i++) { await burst(); age(2); }
  assert.equal(sent(phone), 10, `sends in the last 24 hours: ${sent(phone)}`);
});

test("40 concurrent code requests from one client IP send at most 20 SMS (20 an hour)", async () => {
  const ip = "203.0.113.99";
  const phones = Array.from({ length: 40 }, (_, i) => phoneFor(100 + i));
  const replies = await Promise.all(phones.map((phone) =>
    postJson(rt.url, "/v1/auth/sms-code", { phone }, null, { "cf-connecting-ip": ip })));
  const t = tally(replies);
  const total = phones.reduce((s, p) => s + sent(p), 0);
  assert.equal(total, 20, `SMS sent from one IP at once: ${total} (${JSON.stringify(t)})`);
  assert.equal(t["200 ok"], 20);
});

// ---- item 14: a session replacing the bound phone with the new phone's code alone ----

async function citizenWithPhone(who, phone) {
  const login = await postJson(rt.url, "/v1/auth/wechat", { code: `ok-${who}-1` });
  assert.equal(login.status, 200, login.text);
  const token = login.body.token;
  const bound = await postJson(rt.url, "/v1/auth/phone", { phone, code: await codeFor(phone) }, token);
  assert.equal(bound.status, 200, bound.text);
  return { token, id: login.body.citizen.id };
}

test("a stolen session cannot replace the bound phone with a code sent to the thief's phone", async () => {
  const victimPhone = phoneFor(200);
  const thiefPhone = phoneFor(201);
  const { token, id } = await citizenWithPhone("victim", victimPhone);
  const swap = await postJson(rt.url, "/v1/auth/phone", { phone: thiefPhone, code: await codeFor(thiefPhone) }, token);
  assert.equal(swap.status, 400, `the swap was answered ${swap.status}: ${swap.text}`);
  assert.equal(swap.body.error.fields?.[0]?.field, "old_phone_code");
  assert.equal((await call(rt.url, "/v1/me", { headers: auth(token) })).body.phone, masked(victimPhone));
  // The thief's phone does not log in to the victim's account.
  ageSends();
  const login = await postJson(rt.url, "/v1/auth/phone", { phone: thiefPhone, code: await codeFor(thiefPhone) });
  assert.equal(login.status, 200, login.text);
  assert.notEqual(login.body.citizen.id, id, "the thief's phone logs in to the victim's account");
});

test("a phone login older than ten minutes is no proof of the old phone", async () => {
  const oldPhone = phoneFor(210);
  const thiefPhone = phoneFor(211);
  const login = await postJson(rt.url, "/v1/auth/phone", { phone: oldPhone, code: await codeFor(oldPhone) });
  assert.equal(login.status, 200, login.text);
  rt.sql(`UPDATE sessions SET created_at = strftime('%Y-%m-%dT%H:%M:%S+08:00', 'now', '+8 hours', '-11 minutes') WHERE citizen_id = '${login.body.citizen.id}'`);
  const swap = await postJson(rt.url, "/v1/auth/phone", { phone: thiefPhone, code: await codeFor(thiefPhone) }, login.body.token);
  assert.equal(swap.status, 400, `the swap was answered ${swap.status}: ${swap.text}`);
  assert.equal(swap.body.error.fields?.[0]?.field, "old_phone_code");
});

test("a wrong code for the old phone does not change the phone", async () => {
  const oldPhone = phoneFor(220);
  const newPhone = phoneFor(221);
  const { token } = await citizenWithPhone("wanda", oldPhone);
  ageSends();
  const oldCode = await codeFor(oldPhone);
  const swap = await postJson(rt.url, "/v1/auth/phone",
    { phone: newPhone, code: await codeFor(newPhone), old_phone_code: other(oldCode, 0) }, token);
  assert.equal(swap.status, 400, swap.text);
  assert.equal(swap.body.error.code, "sms_code_invalid");
  assert.equal(swap.body.error.fields?.[0]?.field, "old_phone_code");
  assert.equal((await call(rt.url, "/v1/me", { headers: auth(token) })).body.phone, masked(oldPhone));
});

test("the owner changes the phone with a code to the old phone, and every other session ends", async () => {
  const oldPhone = phoneFor(230);
  const newPhone = phoneFor(231);
  const { token } = await citizenWithPhone("olga", oldPhone);
  ageSends();
  const second = await postJson(rt.url, "/v1/auth/phone", { phone: oldPhone, code: await codeFor(oldPhone) });
  assert.equal(second.status, 200, second.text);
  assert.equal((await call(rt.url, "/v1/me", { headers: auth(second.body.token) })).status, 200);
  ageSends();
  const oldCode = await codeFor(oldPhone);
  const changed = await postJson(rt.url, "/v1/auth/phone",
    { phone: newPhone, code: await codeFor(newPhone), old_phone_code: oldCode }, token);
  assert.equal(changed.status, 200, changed.text);
  assert.equal(changed.body.phone, masked(newPhone));
  assert.equal((await call(rt.url, "/v1/me", { headers: auth(token) })).status, 200, "the session that changed it stays");
  const revoked = await call(rt.url, "/v1/me", { headers: auth(second.body.token) });
  assert.equal(revoked.status, 401);
  assert.equal(revoked.body.error.code, "session_revoked");
});

test("a fresh login by the old phone is proof enough to change it", async () => {
  const oldPhone = phoneFor(240);
  const newPhone = phoneFor(241);
  const { token: wechatToken } = await citizenWithPhone("pete", oldPhone);
  ageSends();
  const login = await postJson(rt.url, "/v1/auth/phone", { phone: oldPhone, code: await codeFor(oldPhone) });
  assert.equal(login.status, 200, login.text);
  const changed = await postJson(rt.url, "/v1/auth/phone", { phone: newPhone, code: await codeFor(newPhone) }, login.body.token);
  assert.equal(changed.status, 200, changed.text);
  assert.equal(changed.body.phone, masked(newPhone));
  const revoked = await call(rt.url, "/v1/me", { headers: auth(wechatToken) });
  assert.equal(revoked.status, 401);
  assert.equal(revoked.body.error.code, "session_revoked");
  // The same login is no proof for the new phone: a second change needs the new phone's code.
  const third = phoneFor(242);
  const again = await postJson(rt.url, "/v1/auth/phone", { phone: third, code: await codeFor(third) }, login.body.token);
  assert.equal(again.status, 400, again.text);
  assert.equal(again.body.error.fields?.[0]?.field, "old_phone_code");
});
