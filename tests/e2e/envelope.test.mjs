// The routing and the error envelope, across all six workers.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { boot, call } from "./helpers.mjs";
import { checkResponse, spec } from "./contract.mjs";

let rt;
before(async () => { rt = await boot(); });
after(async () => { await rt?.stop(); });

// Every route the contract marks as planned, with its {params} filled in.
const PLANNED = Object.entries(spec.paths).flatMap(([path, ops]) =>
  Object.entries(ops).filter(([, op]) => op.tags?.includes("planned")).map(([method, op]) => [method, path]));

test("every route of the contract is built: none is left planned (501)", () => {
  // The last planned routes (outage subscriptions, Open311) were built in issues 7 and 8; a route
  // planned again must answer 501 with the standard envelope, as this test checked until then.
  assert.deepEqual(PLANNED, []);
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
