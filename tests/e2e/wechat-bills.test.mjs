// Bill reminders by 订阅消息 against workerd and the WeChat fake: Alice
// accepted bill_issued (twice) and bill_overdue, Bob accepted nothing; both
// are bound to the account and have a phone. Alice gets exactly one
// 订阅消息 出账通知 however often the cron fires; once a bill is overdue her
// 订阅消息 goes and she gets no SMS, while Bob gets the overdue SMS as before.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { boot, call, postJson } from "./helpers.mjs";
import { checkResponse } from "./contract.mjs";

const ACCOUNT = "40262002";
const ALICE_PHONE = "13700005551";
const BOB_PHONE = "13700005552";
const HOLDER = { account_no: ACCOUNT, holder_name: "钱七", holder_phone: "13900005555", address: "义乌市北苑街道", category: "居民" };
const ISSUED = { account_no: ACCOUNT, period: "2026-10", usage_m3: 12, amount_fen: 3840, due_date: "2099-11-20" };
const OVERDUE = { account_no: ACCOUNT, period: "2026-08", usage_m3: 9, amount_fen: 2005, due_date: "2026-09-20" };
let rt, operator, alice, bob, aliceOpenid;

const authed = (token) => ({ headers: { authorization: `Bearer ${token}` } });
const cron = async () => (await rt.mf.getWorker("bianmin-bill-payment")).scheduled({ cron: "*/10 * * * *" });
const wechatSent = async () => (await call(rt.fakes.base, "/__fake/wechat-messages")).body;
const smsTo = async (phone) => (await call(rt.fakes.base, `/__fake/messages?phone=${phone}`)).body;
const billInbox = async (token) => {
  const res = await call(rt.url, "/v1/me/messages", authed(token));
  assert.equal(res.status, 200, res.text);
  return res.body.messages.filter((m) => m.kind === "bill");
};
const importBills = async (bills) => {
  const res = await postJson(rt.url, "/v1/admin/bills:import", { accounts: [HOLDER], bills }, operator);
  assert.equal(res.status, 200, res.text);
};

before(async () => {
  // Quiet hours set away from now (Beijing), so the test runs at any hour.
  const hour = (new Date().getUTCHours() + 8) % 24;
  const hh = (h) => String(h % 24).padStart(2, "0");
  rt = await boot({ BILL_QUIET_HOURS: `${hh(hour + 2)}:00-${hh(hour + 3)}:00` });
  operator = rt.token(["billing_operator"], "收费员");
  alice = (await postJson(rt.url, "/v1/auth/wechat", { code: "ok-billalice-1" })).body.token;
  bob = (await postJson(rt.url, "/v1/auth/wechat", { code: "ok-billbob-1" })).body.token;
  await importBills([ISSUED]);
  for (const t of [alice, bob]) {
    const bound = await postJson(rt.url, "/v1/me/water-accounts", { account: ACCOUNT, phone: HOLDER.holder_phone }, t);
    assert.equal(bound.status, 200, bound.text);
  }
  // Alice accepts both bill templates in the mini-program (the 出账通知 one twice).
  const listed = await call(rt.url, "/v1/me/wechat-subscriptions", authed(alice));
  assert.equal(listed.status, 200, listed.text);
  checkResponse("/v1/me/wechat-subscriptions", "get", listed);
  const template = (purpose) => listed.body.subscriptions.find((s) => s.purpose === purpose).template_id;
  for (const body of [{ [template("bill_issued")]: "accept", [template("bill_overdue")]: "accept" }, { [template("bill_issued")]: "accept" }]) {
    const r = await postJson(rt.url, "/v1/me/wechat-subscriptions", body, alice);
    assert.equal(r.status, 200, r.text);
    checkResponse("/v1/me/wechat-subscriptions", "post", r);
  }
  const [me] = rt.sql("SELECT c.id, c.openid FROM citizens c JOIN wechat_acceptances a ON a.citizen_id = c.id GROUP BY c.id");
  aliceOpenid = me.openid;
  const bobId = rt.sql(`SELECT citizen_id FROM citizen_water_accounts WHERE citizen_id <> '${me.id}'`)[0].citizen_id;
  // Both have a confirmed phone: the overdue SMS could reach either.
  rt.sql(`UPDATE citizens SET phone = '${ALICE_PHONE}' WHERE id = '${me.id}'`);
  rt.sql(`UPDATE citizens SET phone = '${BOB_PHONE}' WHERE id = '${bobId}'`);
});
after(async () => { await rt?.stop(); });

test("a bound citizen who accepted bill_issued gets exactly one 订阅消息 出账通知, however often the cron fires", async () => {
  await cron();
  await cron();
  await cron();
  const sent = await wechatSent();
  assert.equal(sent.length, 1, JSON.stringify(sent));
  const [m] = sent;
  assert.equal(m.touser, aliceOpenid);
  assert.equal(m.template_id, "TMPL_bill_issued");
  assert.equal(m.page, "pages/bills/index");
  assert.deepEqual(
    Object.fromEntries(Object.entries(m.data).map(([k, v]) => [k, v.value])),
    { thing1: "表卡尾号 2002", character_string2: "2026-10", amount3: "38.40元", date4: "2099-11-20", thing5: "可在“水费缴纳”中查看明细并缴费" },
  );
  assert.ok(!JSON.stringify(m).includes(ACCOUNT) && !JSON.stringify(m).includes("钱"), "no account number or holder name");
  for (const t of [alice, bob]) {
    assert.equal((await billInbox(t)).filter((x) => x.title === "水费账单已出账").length, 1, "the inbox has it whatever the channel");
  }
  const left = await call(rt.url, "/v1/me/wechat-subscriptions", authed(alice));
  assert.equal(left.body.subscriptions.find((s) => s.purpose === "bill_issued").remaining, 1, "one acceptance spent, one kept");
  assert.deepEqual(rt.sql("SELECT purpose, ref, status FROM wechat_sends"), [{ purpose: "bill_issued", ref: `B${ACCOUNT}202610:issued`, status: "sent" }]);
});

test("with an overdue bill the accepted bill_overdue 订阅消息 goes and no SMS; a citizen without one gets the SMS once", async () => {
  await importBills([ISSUED, OVERDUE]);
  await cron();
  await cron();
  const overdue = (await wechatSent()).filter((m) => m.template_id === "TMPL_bill_overdue");
  assert.equal(overdue.length, 1, JSON.stringify(overdue));
  assert.equal(overdue[0].touser, aliceOpenid);
  assert.equal(overdue[0].data.character_string2.value, "2026-08");
  assert.equal(overdue[0].data.amount3.value, "20.05元");
  assert.equal(overdue[0].data.date4.value, "2026-09-20");
  assert.equal((await wechatSent()).length, 2, "and still the one 出账通知");
  assert.deepEqual(await smsTo(ALICE_PHONE), [], "no SMS to the citizen the 订阅消息 reached");
  const bobSms = await smsTo(BOB_PHONE);
  assert.equal(bobSms.length, 1, JSON.stringify(bobSms));
  assert.deepEqual(bobSms[0].params, { period: "2026-08", amount: "20.05", due: "2026-09-20" });
  for (const t of [alice, bob]) {
    assert.equal((await billInbox(t)).filter((x) => x.title === "水费已逾期").length, 1);
  }
  const rows = rt.sql("SELECT channel, status, COUNT(*) AS n FROM bill_notices GROUP BY channel, status ORDER BY channel");
  assert.deepEqual(rows.map((r) => [r.channel, r.status, r.n]), [["inbox", "posted", 4], ["sms", "sent", 1]]);
  const sends = rt.sql("SELECT purpose, ref, status FROM wechat_sends ORDER BY purpose");
  assert.deepEqual(sends, [
    { purpose: "bill_issued", ref: `B${ACCOUNT}202610:issued`, status: "sent" },
    { purpose: "bill_overdue", ref: `B${ACCOUNT}202608:overdue`, status: "sent" },
  ]);
});
