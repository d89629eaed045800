// Holders' phones in the billing import: sealed under PHONE_KEYS, never in
// the clear in D1, the answer or the audit; the re-seal route and
// scripts/rekey-phones against workerd (with the same key nothing remains).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { join } from "node:path";
import { boot, call, postJson } from "./helpers.mjs";
import { ROOT } from "../../scripts/runtime.mjs";
import { checkResponse } from "./contract.mjs";

let rt, operator;
const PHONES = ["13911112222", "13933334444"];
const IMPORT = {
  accounts: PHONES.map((holder_phone, i) => ({
    account_no: `7700100${i}`, holder_name: "赵六", holder_phone, address: "义乌市稠城街道", category: "居民",
  })),
};
const ROUTE = "/v1/admin/billing/phone-keys:rekey";
const rekey = (...args) => promisify(execFile)(join(ROOT, "scripts", "rekey-phones"), args, { cwd: ROOT, env: { ...process.env, BIANMIN_ADMIN_TOKEN: "" } });

before(async () => {
  rt = await boot();
  operator = rt.token(["billing_operator"], "收费员");
});
after(async () => { await rt?.stop(); });

test("an imported holder's phone is stored only sealed under the current key", async () => {
  const ok = await postJson(rt.url, "/v1/admin/bills:import", IMPORT, operator);
  assert.equal(ok.status, 200, ok.text);
  assert.deepEqual(ok.body, { accounts: 2, bills: 0 });
  const rows = rt.sql("SELECT account_no, holder_phone_enc, holder_phone_kid FROM water_accounts ORDER BY account_no");
  assert.deepEqual(rows.map((r) => [r.holder_phone_kid, r.holder_phone_enc.split(".")[0]]), [["dev1", "dev1"], ["dev1", "dev1"]]);
  const stored = JSON.stringify([rt.sql("SELECT * FROM water_accounts"), rt.sql("SELECT * FROM audit_log")]);
  for (const p of PHONES) {
    assert.ok(!stored.includes(p) && !stored.includes(p.slice(3)), `${p} is nowhere in the clear`);
    assert.ok(!ok.text.includes(p));
  }
});

test("the re-seal route is for billing operators, checks its limit and says what remains", async () => {
  assert.equal((await postJson(rt.url, ROUTE, {})).status, 401);
  const clerk = await postJson(rt.url, ROUTE, {}, rt.token(["hall_staff"]));
  assert.equal(clerk.status, 403);
  checkResponse(ROUTE, "post", clerk);
  const bad = await postJson(rt.url, ROUTE, { limit: 0 }, operator);
  assert.equal(bad.status, 422, bad.text);
  checkResponse(ROUTE, "post", bad);
  assert.deepEqual(bad.body.error.fields.map((f) => f.field), ["limit"]);
  const done = await postJson(rt.url, ROUTE, { limit: 10 }, operator);
  assert.equal(done.status, 200, done.text);
  checkResponse(ROUTE, "post", done);
  assert.deepEqual(done.body, { current_kid: "dev1", rekeyed: 0, remaining: 0, unreadable: 0, without_phone: 0 });
  const empty = await call(rt.url, ROUTE, { method: "POST", headers: { authorization: `Bearer ${operator}` } });
  assert.equal(empty.status, 200, "the body is optional");
});

test("scripts/rekey-phones with the same key reports nothing remaining, and a refused token fails clearly", async () => {
  const { stdout } = await rekey("--base-url", rt.url, "--token", operator);
  assert.match(stdout, /剩余 0 户/);
  assert.match(stdout, /完成/);
  const refused = await rekey("--base-url", rt.url, "--token", "bma_" + "0".repeat(64)).catch((e) => e);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /HTTP 401/);
  const missing = await rekey("--base-url", rt.url).catch((e) => e);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /BIANMIN_ADMIN_TOKEN/);
});
