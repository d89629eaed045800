// The routing and the error envelope, across all six workers.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { boot, call } from "./helpers.mjs";

let rt;
before(async () => { rt = await boot(); });
after(async () => { await rt?.stop(); });

const PLANNED = [
  ["GET", "/v1/items/search?q=水费"],
  ["POST", "/v1/appointments"],
  ["GET", "/v1/bills"],
  ["POST", "/v1/payments/wechatpay/notify"],
  ["GET", "/v1/outages"],
  ["POST", "/v1/complaints"],
  ["GET", "/open311/v2/services.json"],
  ["GET", "/v1/halls/H001/slots"],
];

test("each planned route answers 501 with the standard envelope", async () => {
  for (const [method, path] of PLANNED) {
    const r = await call(rt.url, path, { method });
    assert.equal(r.status, 501, `${method} ${path}`);
    assert.equal(r.body.error.code, "not_implemented");
    assert.match(r.body.error.message, /建设中/);
    assert.equal(r.body.request_id, r.headers.get("x-request-id"));
  }
});

test("unknown paths are a JSON 404 and wrong methods a JSON 405", async () => {
  const missing = await call(rt.url, "/v1/no-such-thing");
  assert.equal(missing.status, 404);
  assert.equal(missing.body.error.code, "not_found");
  const wrong = await call(rt.url, "/v1/items/search", { method: "DELETE" });
  assert.equal(wrong.status, 405);
  assert.equal(wrong.body.error.code, "method_not_allowed");
  const wrongGuide = await call(rt.url, "/v1/guides/91440300708461136T4000172009000", { method: "PUT" });
  assert.equal(wrongGuide.status, 405);
});

test("the static baseline route answers 200", async () => {
  const r = await call(rt.url, "/v1/health");
  assert.equal(r.status, 200);
  assert.deepEqual(r.body, { status: "ok" });
});
