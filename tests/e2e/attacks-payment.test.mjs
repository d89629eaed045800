// Attacks on paying water bills, against workerd with the WeChat Pay and
// Alipay fakes (issue 15, items 3, 5, 7 and 16): junk callbacks filling the
// event log, duplicated form keys, a production deployment missing the
// merchant identities it checks, concurrent taps opening several orders, and
// parallel guesses of a holder's phone.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { boot, call, postJson } from "./helpers.mjs";
import { alipayNotification, wechatSign } from "../fakes/payments.mjs";

let rt, operator, alice, fake;
const periods = ["2026-05", "2026-06", "2026-07", "2026-08", "2026-09", "2026-10"];
const IMPORT = {
  accounts: [{ account_no: "40261001", holder_name: "赵六", holder_phone: "13900004444", address: "义乌市稠江街道", category: "居民" }],
  bills: periods.map((period, i) => ({ account_no: "40261001", period, usage_m3: 10, amount_fen: 2000 + i * 100, due_date: "2099-12-20" })),
};
const bill = (period) => `B40261001${period.replace("-", "")}`;
const pay = (token, id, provider) => postJson(rt.url, `/v1/bills/${id}/pay`, { provider }, token);
const post = (url, path, headers, body) => call(url, path, { method: "POST", headers, body });
const FORM = { "content-type": "application/x-www-form-urlencoded; charset=utf-8" };
const count = (sql) => rt.sql(sql)[0].n;
const control = (path, body) => fetch(fake + path, { method: "POST", body: JSON.stringify(body) }).then((r) => r.json());
const sha256 = (s) => createHash("sha256").update(s).digest("hex");

before(async () => {
  rt = await boot();
  fake = rt.fakes.base;
  operator = rt.token(["billing_operator"], "收费员");
  assert.equal((await postJson(rt.url, "/v1/admin/bills:import", IMPORT, operator)).status, 200);
  alice = (await postJson(rt.url, "/v1/auth/wechat", { code: "ok-alice-1" })).body.token;
  assert.equal((await postJson(rt.url, "/v1/me/water-accounts", { account: "40261001", phone: "13900004444" }, alice)).status, 200);
});
after(async () => { await rt?.stop(); });

// Item 3: 20 junk posts of 64 KiB each stored 1.28 MB before.
test("junk posted to the notify routes keeps only its reason, hash, length and first KiB", async (t) => {
  const junk = (i) => `{"junk":"${"x".repeat(64_000 - 20)}${String(i).padStart(6, "0")}"}`;
  const before = count("SELECT COUNT(*) AS n FROM payment_events");
  for (let i = 0; i < 20; i++) {
    const ip = { "cf-connecting-ip": `198.51.100.${i + 1}` };
    const headers = { "content-type": "application/json", ...ip, "Wechatpay-Timestamp": String(Math.floor(Date.now() / 1000)),
      "Wechatpay-Nonce": "n".repeat(4000), "Wechatpay-Serial": "s".repeat(4000), "Wechatpay-Signature": "A".repeat(8000) };
    const wx = await post(rt.url, "/v1/payments/wechatpay/notify", headers, junk(i));
    assert.equal(wx.status, 401, wx.text);
    assert.equal(wx.body.code, "FAIL");
    const ali = await post(rt.url, "/v1/payments/alipay/notify", { ...FORM, ...ip }, `a=${junk(i)}`);
    assert.equal(ali.text, "fail");
  }
  const recent = `FROM payment_events WHERE id > (SELECT MAX(id) FROM payment_events) - ${count("SELECT COUNT(*) AS n FROM payment_events") - before}`;
  assert.equal(count(`SELECT COUNT(*) AS n ${recent} AND outcome = 'rejected'`), 40, "every junk post is still on record");
  const stored = count(`SELECT SUM(LENGTH(CAST(raw_body AS BLOB)) + COALESCE(LENGTH(CAST(headers AS BLOB)), 0)) AS n ${recent}`);
  t.diagnostic(`40 junk posts of 64 KB stored ${stored} bytes`);
  assert.ok(stored <= 40 * 3 * 1024, `stored ${stored} bytes for 40 junk posts of 64 KB`);
  const first = rt.sql(`SELECT provider, reason, raw_body, headers, body_sha256, body_bytes ${recent} AND provider = 'wechatpay' ORDER BY id LIMIT 1`)[0];
  assert.equal(first.body_sha256, sha256(junk(0)));
  assert.equal(first.body_bytes, junk(0).length);
  assert.ok(Buffer.byteLength(first.raw_body) <= 1024);
  assert.ok(junk(0).startsWith(first.raw_body));
  assert.equal(first.reason, "bad_signature");
  assert.doesNotThrow(() => JSON.parse(first.headers), "the clipped headers are still JSON");
});

test("one client flooding the notify routes with junk gets its error answers but only its hourly share is stored", async (t) => {
  const ip = { "cf-connecting-ip": "203.0.113.9" };
  const before = count("SELECT COUNT(*) AS n FROM payment_events");
  const answers = [];
  for (let i = 0; i < 30; i++) answers.push((await post(rt.url, "/v1/payments/alipay/notify", { ...FORM, ...ip }, `junk=${i}`)).text);
  assert.deepEqual([...new Set(answers)], ["fail"], "every one is refused as before");
  const stored = count("SELECT COUNT(*) AS n FROM payment_events") - before;
  t.diagnostic(`${stored} of 30 junk posts from one client stored`);
  assert.ok(stored <= 10, `${stored} of 30 junk posts from one client stored`);
  assert.ok(stored >= 1, "the first ones are still on record");
});

// Item 16: a valid notification with a key given twice was read "first wins".
test("an Alipay notification with a duplicated form key is refused, not read first-wins", async () => {
  const o = await pay(alice, bill("2026-05"), "alipay");
  assert.equal(o.status, 200, o.text);
  const paid = await control("/__fake/alipay/pay", { order_string: o.body.alipay.order_string, deliver: false });
  const signed = new URLSearchParams(paid.notification).toString();
  // Alipay signs no empty value: a leading empty duplicate leaves the signature valid.
  const answer = await post(rt.url, "/v1/payments/alipay/notify", FORM, `trade_status=&${signed}`);
  assert.equal(answer.status, 400);
  assert.equal(answer.text, "fail");
  const otn = o.body.order.out_trade_no;
  assert.equal(count(`SELECT COUNT(*) AS n FROM payment_events WHERE out_trade_no = '${otn}'`), 0, "nothing was read from it");
  assert.equal(count("SELECT COUNT(*) AS n FROM payment_events WHERE reason = 'duplicate_key'"), 1);
  const genuine = await post(rt.url, "/v1/payments/alipay/notify", FORM, signed);
  assert.equal(genuine.text, "success");
  assert.equal(rt.sql(`SELECT status FROM payment_orders WHERE out_trade_no = '${otn}'`)[0].status, "paid");
});

test("in production without ALIPAY_SELLER_ID and WECHATPAY_MCHID the payment routes answer 503 and accept no notification unchecked", async () => {
  const prod = await boot({ ENVIRONMENT: "production", ALIPAY_SELLER_ID: "", WECHATPAY_MCHID: "" });
  try {
    const k = prod.fakes.keys;
    // Genuinely signed by Alipay, but for another merchant (seller) of the same app.
    const other = alipayNotification(k, { out_trade_no: "A20261123100000abcdef012345", trade_no: "2026112322001", trade_status: "TRADE_SUCCESS", total_amount: "20.00" },
      { seller_id: "2088999999999999" });
    const ali = await post(prod.url, "/v1/payments/alipay/notify", FORM, new URLSearchParams(other).toString());
    assert.equal(ali.status, 503, ali.text);
    assert.equal(ali.text, "fail");
    const body = JSON.stringify({ id: "x", resource: {} });
    const wx = await post(prod.url, "/v1/payments/wechatpay/notify", { "content-type": "application/json", ...wechatSign(k, body) }, body);
    assert.equal(wx.status, 503, wx.text);
    assert.equal(wx.body.code, "FAIL");
    const stored = prod.sql("SELECT (SELECT COUNT(*) FROM payment_events) + (SELECT COUNT(*) FROM payment_reviews) AS n")[0].n;
    assert.equal(stored, 0, "nothing was read, nothing recorded as genuine");
    const op = prod.token(["billing_operator"]);
    assert.equal((await postJson(prod.url, "/v1/admin/bills:import", IMPORT, op)).status, 200);
    const bob = (await postJson(prod.url, "/v1/auth/wechat", { code: "ok-bob-1" })).body.token;
    assert.equal((await postJson(prod.url, "/v1/me/water-accounts", { account: "40261001", phone: "13900004444" }, bob)).status, 200);
    for (const provider of ["alipay", "wechatpay"]) {
      const r = await postJson(prod.url, `/v1/bills/${bill("2026-06")}/pay`, { provider }, bob);
      assert.equal(r.status, 503, r.text);
      assert.equal(r.body.error.code, "payment_unavailable");
    }
    assert.equal(prod.sql("SELECT COUNT(*) AS n FROM payment_orders")[0].n, 0);
  } finally {
    await prod.stop();
  }
});

// Item 7: read-then-insert let concurrent taps open one order each.
test("20 concurrent taps on pay open exactly one pending order per bill set and provider", async () => {
  for (const [period, provider] of [["2026-07", "alipay"], ["2026-08", "wechatpay"]]) {
    const answers = await Promise.all(Array.from({ length: 20 }, () => pay(alice, bill(period), provider)));
    assert.deepEqual([...new Set(answers.map((a) => a.status))], [200], answers.map((a) => a.text).join("\n"));
    assert.equal(new Set(answers.map((a) => a.body.order.out_trade_no)).size, 1, "every tap got the same order");
    assert.equal(count(`SELECT COUNT(*) AS n FROM payment_orders WHERE bill_key = '${bill(period)}' AND provider = '${provider}' AND status = 'pending'`), 1);
  }
});

// Item 5: the failure count was read before and written after the check.
test("20 parallel wrong guesses of the holder's phone: at most 5 are checked, the rest and then the right phone refused", async (t) => {
  const mallory = (await postJson(rt.url, "/v1/auth/wechat", { code: "ok-mallory-1" })).body.token;
  const guesses = await Promise.all(Array.from({ length: 20 }, (_, i) =>
    postJson(rt.url, "/v1/me/water-accounts", { account: "40261001", phone: `1390000${String(5000 + i)}` }, mallory)));
  const statuses = guesses.map((g) => g.status);
  assert.ok(statuses.every((s) => s === 422 || s === 429), statuses.join(","));
  t.diagnostic(`checked ${statuses.filter((s) => s === 422).length}, refused ${statuses.filter((s) => s === 429).length}`);
  assert.ok(statuses.filter((s) => s === 422).length <= 5, `${statuses.filter((s) => s === 422).length} guesses were checked`);
  const right = await postJson(rt.url, "/v1/me/water-accounts", { account: "40261001", phone: "13900004444" }, mallory);
  assert.equal(right.status, 429, right.text);
  assert.equal(right.body.error.code, "rate_limited");
});
