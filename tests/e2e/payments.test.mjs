// Paying water bills against workerd with local WeChat Pay and Alipay fakes
// (keys generated at start, real signatures both ways): full pay flows,
// every kind of bad notification, 20 concurrent deliveries, TRADE_FINISHED
// after TRADE_SUCCESS, the same bill paid through both providers, and
// reconciliation finding lost notifications.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { boot, call, postJson } from "./helpers.mjs";
import { checkResponse } from "./contract.mjs";
import { wechatNotification, alipayNotification } from "../fakes/payments.mjs";

let rt, operator, alice, bob, fake;
const auth = (t) => ({ headers: { authorization: `Bearer ${t}` } });
const periods = ["2026-03", "2026-04", "2026-05", "2026-06", "2026-07", "2026-08", "2026-09", "2026-10"];
const IMPORT = {
  accounts: [
    { account_no: "30261001", holder_name: "王小明", holder_phone: "13900001111", address: "义乌市北苑街道春晗路8号", category: "居民" },
    { account_no: "30261002", holder_name: "李四", holder_phone: "13900002222", address: "义乌市江东街道", category: "非居民" },
  ],
  bills: [
    ...periods.map((period, i) => ({ account_no: "30261001", period, usage_m3: 10 + i, amount_fen: 3000 + i * 100, due_date: "2099-12-20" })),
    { account_no: "30261002", period: "2026-09", usage_m3: 300, amount_fen: 120000, due_date: "2099-12-20" },
    { account_no: "30261002", period: "2026-10", usage_m3: 280, amount_fen: 112000, due_date: "2099-12-20" },
  ],
};
const bill = (acct, period) => `B${acct}${period.replace("-", "")}`;
const pay = (token, id, provider, extra = {}) => postJson(rt.url, `/v1/bills/${id}/pay`, { provider, ...extra }, token);
const control = (path, body) => fetch(fake + path, { method: "POST", body: JSON.stringify(body) }).then((r) => r.json());
const post = (path, headers, body) => call(rt.url, path, { method: "POST", headers, body });
const count = (sql) => rt.sql(sql)[0].n;

before(async () => {
  rt = await boot();
  fake = rt.fakes.base;
  operator = rt.token(["billing_operator"], "收费员");
  assert.equal((await postJson(rt.url, "/v1/admin/bills:import", IMPORT, operator)).status, 200);
  alice = (await postJson(rt.url, "/v1/auth/wechat", { code: "ok-alice-1" })).body.token;
  bob = (await postJson(rt.url, "/v1/auth/wechat", { code: "ok-bob-1" })).body.token;
  assert.equal((await postJson(rt.url, "/v1/me/water-accounts", { account: "30261001", phone: "13900001111" }, alice)).status, 200);
  assert.equal((await postJson(rt.url, "/v1/me/water-accounts", { account: "30261002", phone: "13900002222" }, bob)).status, 200);
});
after(async () => { await rt?.stop(); });

test("bill ids are the import's (B + account + period)", () => {
  assert.equal(count(`SELECT COUNT(*) AS n FROM bills WHERE id = '${bill("30261001", "2026-03")}'`), 1);
});

test("WeChat Pay: an order with JSAPI parameters, paid once, the citizen told", async () => {
  const id = bill("30261001", "2026-03");
  const first = await pay(alice, id, "wechatpay");
  assert.equal(first.status, 200, first.text);
  checkResponse("/v1/bills/{id}/pay", "post", first);
  assert.equal(first.body.order.amount_fen, 3000);
  assert.equal(first.body.wechatpay.signType, "RSA");
  const again = await pay(alice, id, "wechatpay");
  assert.equal(again.body.order.out_trade_no, first.body.order.out_trade_no, "a double tap reuses the open order");
  assert.equal(rt.fakes.pay.calls.prepay, 1, "and its prepay id");
  const paid = await control("/__fake/wechatpay/pay", { params: again.body.wechatpay });
  assert.equal(paid.answer.status, 204, JSON.stringify(paid.answer));
  assert.equal(paid.answer.body, "", "success has no body");
  const b = await call(rt.url, `/v1/bills/${id}`, auth(alice));
  assert.equal(b.body.status, "paid");
  const order = await call(rt.url, `/v1/payments/${first.body.order.out_trade_no}`, auth(alice));
  checkResponse("/v1/payments/{out_trade_no}", "get", order);
  assert.equal(order.body.status, "paid");
  assert.deepEqual(order.body.bills, [id]);
  // Replays (also signed with the WeChat Pay public key instead of the certificate) change nothing.
  const replay = await post("/v1/payments/wechatpay/notify", paid.notification.headers, paid.notification.body);
  assert.equal(replay.status, 204);
  const byKey = wechatNotification(rt.fakes.keys, paid.transaction, { signer: "pubkey" });
  assert.equal((await post("/v1/payments/wechatpay/notify", byKey.headers, byKey.body)).status, 204);
  const otn = first.body.order.out_trade_no;
  assert.equal(count(`SELECT COUNT(*) AS n FROM payments WHERE out_trade_no = '${otn}'`), 1);
  assert.deepEqual(rt.sql(`SELECT outcome FROM payment_events WHERE out_trade_no = '${otn}' ORDER BY id`).map((r) => r.outcome), ["applied", "duplicate", "duplicate"]);
  const inbox = await call(rt.url, "/v1/me/messages", auth(alice));
  assert.equal(inbox.body.messages.filter((m) => m.kind === "bill" && m.title === "水费缴纳成功").length, 1);
  const twice = await pay(alice, id, "alipay");
  assert.equal(twice.status, 409);
  assert.equal(twice.body.error.code, "bill_already_paid");
});

test("20 concurrent deliveries of one notification apply once", async () => {
  const id = bill("30261001", "2026-04");
  const o = await pay(alice, id, "wechatpay");
  const lost = await control("/__fake/wechatpay/pay", { params: o.body.wechatpay, deliver: false });
  const answers = await Promise.all(Array.from({ length: 20 }, () => post("/v1/payments/wechatpay/notify", lost.notification.headers, lost.notification.body)));
  assert.deepEqual([...new Set(answers.map((a) => a.status))], [204]);
  const otn = o.body.order.out_trade_no;
  assert.equal(count(`SELECT COUNT(*) AS n FROM payments WHERE out_trade_no = '${otn}'`), 1);
  assert.equal(count(`SELECT COUNT(*) AS n FROM payment_events WHERE out_trade_no = '${otn}' AND outcome = 'applied'`), 1);
  assert.equal(count(`SELECT COUNT(*) AS n FROM payment_events WHERE out_trade_no = '${otn}' AND outcome = 'duplicate'`), 19);
  const inbox = await call(rt.url, "/v1/me/messages", auth(alice));
  assert.equal(inbox.body.messages.filter((m) => m.body.includes(otn)).length, 1);
});

test("tampered, expired, probe, headerless, unknown-order, wrong-merchant and wrong-amount notifications", async () => {
  const k = rt.fakes.keys;
  const id = bill("30261001", "2026-05");
  const o = await pay(alice, id, "wechatpay");
  const otn = o.body.order.out_trade_no;
  const tx = { appid: "wxbianmindev000001", mchid: k.mchid, out_trade_no: otn, transaction_id: "4200000000000000000000000001", trade_state: "SUCCESS", success_time: "2026-11-23T10:00:00+08:00", amount: { total: 3200, currency: "CNY" } };
  const before = count("SELECT COUNT(*) AS n FROM payment_events WHERE outcome = 'rejected'");
  const expectFail = async (n, status, message) => {
    const r = await post("/v1/payments/wechatpay/notify", n.headers, n.body);
    assert.equal(r.status, status, r.text);
    assert.equal(r.body.code, "FAIL");
    assert.match(r.body.message, message);
  };
  const good = wechatNotification(k, tx);
  await expectFail({ headers: good.headers, body: good.body.replace('"支付成功"', '"支付成功 "') }, 401, /签名/);
  await expectFail(wechatNotification(k, tx, { timestamp: Math.floor(Date.now() / 1000) - 600 }), 401, /5分钟/);
  await expectFail({ headers: { ...good.headers, "Wechatpay-Signature": `WECHATPAY/SIGNTEST/${good.headers["Wechatpay-Signature"]}` }, body: good.body }, 401, /签名/);
  await expectFail({ headers: { ...good.headers, "Wechatpay-Serial": "0000" }, body: good.body }, 401, /签名/);
  const { "Wechatpay-Nonce": _n, ...headerless } = good.headers;
  await expectFail({ headers: headerless, body: good.body }, 400, /签名头/);
  assert.equal(count("SELECT COUNT(*) AS n FROM payment_events WHERE outcome = 'rejected'"), before + 5, "refusals are logged too");
  assert.equal(count(`SELECT COUNT(*) AS n FROM payment_events WHERE reason = 'probe'`), 1);
  // Genuine but wrong: kept for review, never applied.
  const unknown = wechatNotification(k, { ...tx, out_trade_no: "W20261123000000nosuch", transaction_id: "4200000000000000000000000002" });
  assert.equal((await post("/v1/payments/wechatpay/notify", unknown.headers, unknown.body)).status, 204, "recorded: a retry cannot make the order exist");
  const amount = wechatNotification(k, { ...tx, amount: { total: 1, currency: "CNY" }, transaction_id: "4200000000000000000000000003" });
  assert.equal((await post("/v1/payments/wechatpay/notify", amount.headers, amount.body)).status, 204);
  const merchant = wechatNotification(k, { ...tx, mchid: "1900000999", transaction_id: "4200000000000000000000000004" });
  await expectFail(merchant, 400, /商户/);
  assert.equal((await call(rt.url, `/v1/bills/${id}`, auth(alice))).body.status, "unpaid");
  assert.deepEqual(rt.sql("SELECT reason FROM payment_reviews ORDER BY reason").map((r) => r.reason), ["amount_mismatch", "merchant_mismatch", "unknown_order"]);
  assert.ok(!JSON.stringify(rt.sql("SELECT * FROM payment_events")).includes(k.apiv3), "the APIv3 key is never logged");
  const reviews = await call(rt.url, "/v1/admin/payments/reviews", auth(operator));
  checkResponse("/v1/admin/payments/reviews", "get", reviews);
  assert.equal(reviews.body.reviews.length, 3);
  const resolved = await postJson(rt.url, `/v1/admin/payments/reviews/${reviews.body.reviews[0].id}/resolve`, { resolution: "已与微信支付核实并退款" }, operator);
  assert.equal(resolved.status, 200, resolved.text);
  assert.ok(resolved.body.resolved_at);
  assert.equal((await postJson(rt.url, `/v1/admin/payments/reviews/${reviews.body.reviews[0].id}/resolve`, { resolution: "再次处理" }, operator)).status, 409);
});

test("Alipay: the signed order string, success, TRADE_FINISHED afterwards, and refusals", async () => {
  const id = bill("30261002", "2026-09");
  const o = await pay(bob, id, "alipay", { with_bills: [bill("30261002", "2026-10")] });
  assert.equal(o.status, 200, o.text);
  checkResponse("/v1/bills/{id}/pay", "post", o);
  assert.equal(o.body.order.amount_fen, 232000, "统一补缴: two bills, one order");
  assert.equal(o.body.order.amount, "2320.00");
  const paid = await control("/__fake/alipay/pay", { order_string: o.body.alipay.order_string });
  assert.deepEqual(paid.answer, { status: 200, body: "success" });
  for (const p of ["2026-09", "2026-10"]) assert.equal((await call(rt.url, `/v1/bills/${bill("30261002", p)}`, auth(bob))).body.status, "paid");
  const form = (params) => post("/v1/payments/alipay/notify", { "content-type": "application/x-www-form-urlencoded; charset=utf-8" }, new URLSearchParams(params).toString());
  const finished = alipayNotification(rt.fakes.keys, { ...paid.notification, trade_status: "TRADE_FINISHED" });
  assert.equal((await form(finished)).text, "success");
  const otn = o.body.order.out_trade_no;
  assert.equal(count(`SELECT COUNT(*) AS n FROM payments WHERE out_trade_no = '${otn}'`), 1);
  assert.deepEqual(rt.sql(`SELECT state, outcome FROM payment_events WHERE out_trade_no = '${otn}' ORDER BY id`), [
    { state: "TRADE_SUCCESS", outcome: "applied" }, { state: "TRADE_FINISHED", outcome: "duplicate" }]);
  const tampered = { ...paid.notification, total_amount: "0.01" };
  assert.equal((await form(tampered)).text, "fail");
  const otherApp = alipayNotification(rt.fakes.keys, { ...paid.notification, trade_no: "2026999" }, { app_id: "2021000000009999" });
  assert.equal((await form(otherApp)).text, "fail", "another app's notification is not acknowledged");
  // Bob cannot see or pay Alice's bills, nor read her orders.
  assert.equal((await pay(bob, bill("30261001", "2026-06"), "alipay")).status, 404);
  const mine = rt.sql(`SELECT out_trade_no FROM payment_orders WHERE provider = 'wechatpay' LIMIT 1`)[0].out_trade_no;
  assert.equal((await call(rt.url, `/v1/payments/${mine}`, auth(bob))).status, 404);
});

test("the same bill paid through both providers: one payment, one state change, the rest for review", async () => {
  const id = bill("30261001", "2026-06");
  const wx = await pay(alice, id, "wechatpay");
  const ali = await pay(alice, id, "alipay");
  assert.notEqual(wx.body.order.out_trade_no, ali.body.order.out_trade_no);
  const a = await control("/__fake/alipay/pay", { order_string: ali.body.alipay.order_string });
  assert.equal(a.answer.body, "success");
  const w = await control("/__fake/wechatpay/pay", { params: wx.body.wechatpay });
  assert.equal(w.answer.status, 204, "the money arrived: WeChat Pay is told to stop, an operator refunds");
  assert.equal(count(`SELECT COUNT(*) AS n FROM payments p JOIN payment_order_bills b ON b.out_trade_no = p.out_trade_no WHERE b.bill_id = '${id}'`), 1);
  assert.equal(rt.sql(`SELECT status FROM payment_orders WHERE out_trade_no = '${wx.body.order.out_trade_no}'`)[0].status, "review");
  assert.equal(count("SELECT COUNT(*) AS n FROM payment_reviews WHERE reason = 'double_payment'"), 1);
  const inbox = await call(rt.url, "/v1/me/messages", auth(alice));
  assert.ok(inbox.body.messages.some((m) => m.title === "水费重复缴纳待处理"));
});

test("reconciliation finds lost notifications through the providers' order queries", async () => {
  const wx = await pay(alice, bill("30261001", "2026-07"), "wechatpay");
  const ali = await pay(alice, bill("30261001", "2026-08"), "alipay");
  const never = await pay(alice, bill("30261001", "2026-09"), "alipay");
  await control("/__fake/wechatpay/pay", { params: wx.body.wechatpay, deliver: false });
  await control("/__fake/alipay/pay", { order_string: ali.body.alipay.order_string, deliver: false });
  const otns = [wx, ali, never].map((r) => `'${r.body.order.out_trade_no}'`).join(",");
  // As if opened 20 minutes ago: past the 15 minutes after which a silent order is queried.
  const ago = new Date(Date.now() + 8 * 3600e3 - 20 * 60e3).toISOString().slice(0, 19) + "+08:00";
  rt.sql(`UPDATE payment_orders SET created_at = '${ago}' WHERE out_trade_no IN (${otns})`);
  const worker = await rt.mf.getWorker("bianmin-bill-payment");
  await worker.scheduled({ cron: "*/10 * * * *" });
  const rows = rt.sql(`SELECT out_trade_no, status, paid_via, query_count FROM payment_orders WHERE out_trade_no IN (${otns}) ORDER BY out_trade_no`);
  const by = Object.fromEntries(rows.map((r) => [r.out_trade_no, r]));
  assert.equal(by[wx.body.order.out_trade_no].status, "paid");
  assert.equal(by[wx.body.order.out_trade_no].paid_via, "query");
  assert.equal(by[ali.body.order.out_trade_no].status, "paid");
  assert.equal(by[never.body.order.out_trade_no].status, "pending", "never paid: still open, queried again later");
  assert.ok(rows.every((r) => r.query_count === 1));
  // A second run right away queries nothing (30 minutes between queries).
  const again = await postJson(rt.url, "/v1/admin/payments:reconcile", {}, operator);
  assert.equal(again.status, 200, again.text);
  assert.equal(again.body.queried, 0);
  const report = await call(rt.url, "/v1/admin/payments/reconciliation", auth(operator));
  checkResponse("/v1/admin/payments/reconciliation", "get", report);
  const wxDay = report.body.providers.find((p) => p.provider === "wechatpay");
  const aliDay = report.body.providers.find((p) => p.provider === "alipay");
  assert.equal(wxDay.found_by_query, 1);
  assert.equal(aliDay.found_by_query, 1);
  assert.ok(wxDay.events.rejected >= 5);
  assert.equal(wxDay.paid_count + aliDay.paid_count, count("SELECT COUNT(*) AS n FROM payments"));
  assert.equal((await call(rt.url, "/v1/admin/payments/reconciliation", auth(alice))).status, 401);
});
