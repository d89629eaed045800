// Bill reminders against workerd: an import for an account two citizens
// bound, then the cron: each citizen's inbox has exactly one 出账通知, and
// still one after the cron fires again; an overdue bill's SMS goes once.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { boot, call, postJson } from "./helpers.mjs";
import { checkResponse } from "./contract.mjs";

let rt, operator, alice, bob;
const auth = (t) => ({ headers: { authorization: `Bearer ${t}` } });
const PHONE = "13700003333";
const IMPORT = {
  accounts: [{ account_no: "40261001", holder_name: "赵六", holder_phone: "13900004444", address: "义乌市稠城街道", category: "居民" }],
  bills: [
    { account_no: "40261001", period: "2026-10", usage_m3: 12, amount_fen: 3840, due_date: "2099-11-20" },
    { account_no: "40261001", period: "2026-08", usage_m3: 9, amount_fen: 2005, due_date: "2026-09-20" },
  ],
};
const cron = async () => (await rt.mf.getWorker("bianmin-bill-payment")).scheduled({ cron: "*/10 * * * *" });
const inbox = async (token) => {
  const res = await call(rt.url, "/v1/me/messages", auth(token));
  assert.equal(res.status, 200, res.text);
  checkResponse("/v1/me/messages", "get", res);
  return res.body.messages.filter((m) => m.kind === "bill");
};

before(async () => {
  // Quiet hours set away from now (Beijing), so the test runs at any hour.
  const hour = (new Date().getUTCHours() + 8) % 24;
  const hh = (h) => String(h % 24).padStart(2, "0");
  rt = await boot({ BILL_QUIET_HOURS: `${hh(hour + 2)}:00-${hh(hour + 3)}:00` });
  operator = rt.token(["billing_operator"], "收费员");
  alice = (await postJson(rt.url, "/v1/auth/wechat", { code: "ok-alice-1" })).body.token;
  bob = (await postJson(rt.url, "/v1/auth/wechat", { code: "ok-bob-1" })).body.token;
  const imported = await postJson(rt.url, "/v1/admin/bills:import", IMPORT, operator);
  assert.equal(imported.status, 200, imported.text);
  for (const t of [alice, bob]) {
    const bound = await postJson(rt.url, "/v1/me/water-accounts", { account: "40261001", phone: "13900004444" }, t);
    assert.equal(bound.status, 200, bound.text);
  }
  // Alice has a confirmed phone: the overdue SMS goes to her.
  const me = rt.sql("SELECT citizen_id FROM citizen_water_accounts ORDER BY bound_at LIMIT 1")[0].citizen_id;
  rt.sql(`UPDATE citizens SET phone = '${PHONE}' WHERE id = '${me}'`);
});
after(async () => { await rt?.stop(); });

test("each citizen bound to the account gets exactly one 出账通知, however often the cron fires", async () => {
  assert.equal((await inbox(alice)).length, 0, "the import itself posts nothing");
  await cron();
  for (const t of [alice, bob]) {
    const issued = (await inbox(t)).filter((m) => m.title === "水费账单已出账");
    assert.equal(issued.length, 1);
    assert.match(issued[0].body, /账期 2026-10，金额 38\.40 元，缴费截止日期 2099-11-20/);
    assert.equal(issued[0].link, "/v1/bills?account=40261001");
    assert.ok(!issued[0].body.includes("赵") && !issued[0].body.includes("13900004444"), "no holder name or phone");
  }
  await cron();
  for (const t of [alice, bob]) {
    const bills = await inbox(t);
    assert.equal(bills.filter((m) => m.title === "水费账单已出账").length, 1);
    assert.equal(bills.filter((m) => m.title === "水费已逾期").length, 1, "the 2026-08 bill is overdue");
  }
});

test("the overdue SMS goes once to the bound citizen with a phone", async () => {
  await cron();
  const sent = (await call(rt.fakes.base, `/__fake/messages?phone=${PHONE}`)).body;
  assert.equal(sent.length, 1, JSON.stringify(sent));
  assert.deepEqual(sent[0].params, { period: "2026-08", amount: "20.05", due: "2026-09-20" });
  const rows = rt.sql("SELECT channel, status, COUNT(*) AS n FROM bill_notices GROUP BY channel, status ORDER BY channel");
  assert.deepEqual(rows.map((r) => [r.channel, r.status, r.n]), [["inbox", "posted", 4], ["sms", "sent", 1]]);
});
