// Water accounts and bills against workerd: the operator's import, binding
// with the holder's phone, bills unpaid first, statements, privacy.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { boot, call, postJson } from "./helpers.mjs";
import { checkResponse } from "./contract.mjs";

let rt, operator, alice, bob;
const auth = (t) => ({ headers: { authorization: `Bearer ${t}` } });
const IMPORT = {
  accounts: [
    { account_no: "20261001", holder_name: "王小明", holder_phone: "13900001111", address: "义乌市北苑街道春晗路8号2幢101室", category: "居民" },
    { account_no: "20261002", holder_name: "李四", holder_phone: "13900002222", address: "义乌市江东街道", category: "非居民" },
  ],
  bills: [
    { account_no: "20261001", period: "2026-08", usage_m3: 15, amount_fen: 4800, due_date: "2026-09-20", items: [{ name: "水费", amount_fen: 3300 }, { name: "污水处理费", amount_fen: 1500 }] },
    { account_no: "20261001", period: "2026-10", usage_m3: 9, amount_fen: 2880, due_date: "2099-11-20" },
    { account_no: "20261002", period: "2026-10", usage_m3: 300, amount_fen: 120000, due_date: "2026-11-20" },
  ],
};

before(async () => {
  rt = await boot();
  operator = rt.token(["billing_operator"], "收费员");
  alice = (await postJson(rt.url, "/v1/auth/wechat", { code: "ok-alice-1" })).body.token;
  bob = (await postJson(rt.url, "/v1/auth/wechat", { code: "ok-bob-1" })).body.token;
});
after(async () => { await rt?.stop(); });

test("billing operators import accounts and bills, all or nothing", async () => {
  assert.equal((await postJson(rt.url, "/v1/admin/bills:import", IMPORT)).status, 401);
  assert.equal((await postJson(rt.url, "/v1/admin/bills:import", IMPORT, rt.token(["hall_staff"]))).status, 403);
  const bad = structuredClone(IMPORT);
  bad.bills[1].period = "2026-13";
  const refused = await postJson(rt.url, "/v1/admin/bills:import", bad, operator);
  assert.equal(refused.status, 422);
  checkResponse("/v1/admin/bills:import", "post", refused);
  assert.deepEqual(refused.body.error.fields.map((f) => f.field), ["bills[1].period"]);
  const ok = await postJson(rt.url, "/v1/admin/bills:import", IMPORT, operator);
  assert.equal(ok.status, 200, ok.text);
  assert.deepEqual(ok.body, { accounts: 2, bills: 3 });
  const stored = rt.sql("SELECT holder_masked, holder_phone_hash FROM water_accounts WHERE account_no = '20261001'")[0];
  assert.equal(stored.holder_masked, "王**");
  assert.ok(!stored.holder_phone_hash.includes("13900001111"), "the holder's phone is kept only as an HMAC");
});

test("a citizen binds with the holder's phone and sees only their own bills", async () => {
  const wrong = await postJson(rt.url, "/v1/me/water-accounts", { account: "20261001", phone: "13900009999" }, alice);
  assert.equal(wrong.status, 422);
  assert.equal(wrong.body.error.message, "表卡编号或户主手机号不正确");
  const bound = await postJson(rt.url, "/v1/me/water-accounts", { account: "20261001", phone: "13900001111" }, alice);
  assert.equal(bound.status, 200, bound.text);
  checkResponse("/v1/me/water-accounts", "post", bound);
  assert.deepEqual(bound.body.accounts.map((a) => [a.holder, a.unpaid_fen, a.unpaid_bills]), [["王**", 7680, 2]]);
  assert.ok(!bound.body.accounts[0].address.includes("101室"), "the address is masked");
  const list = await call(rt.url, "/v1/bills?account=20261001", auth(alice));
  checkResponse("/v1/bills", "get", list);
  assert.deepEqual(list.body.bills.map((b) => [b.period, b.overdue]), [["2026-08", true], ["2026-10", false]]);
  const one = await call(rt.url, `/v1/bills/${list.body.bills[0].id}`, auth(alice));
  checkResponse("/v1/bills/{id}", "get", one);
  assert.equal(one.body.amount, "48.00");
  const statement = await call(rt.url, "/v1/bills/statement?account=20261001&from=2026-01&to=2026-12", auth(alice));
  checkResponse("/v1/bills/statement", "get", statement);
  assert.equal(statement.body.total_fen, 7680);
  // Bob has bound nothing: the same ids and accounts are simply not found.
  assert.equal((await call(rt.url, `/v1/bills/${list.body.bills[0].id}`, auth(bob))).status, 404);
  assert.equal((await call(rt.url, "/v1/bills?account=20261001", auth(bob))).status, 404);
  assert.equal((await call(rt.url, "/v1/bills?account=20261001")).status, 401);
  assert.equal((await call(rt.url, "/v1/bills?account=20261001&from=2026", auth(alice))).status, 400);
  assert.equal((await call(rt.url, "/v1/me/water-accounts/20261001", { method: "DELETE", ...auth(alice) })).status, 204);
  assert.equal((await call(rt.url, `/v1/bills/${list.body.bills[0].id}`, auth(alice))).status, 404);
});
