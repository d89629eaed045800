// The relevance suite: realistic citizen queries over the demo catalogue,
// each with the item that must be in the top 3. Reports recall@1 and
// recall@3 (target: recall@3 >= 0.95).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { boot, call, postJson } from "./helpers.mjs";
import { demoCatalog } from "../../scripts/catalog/demo.mjs";
import { ROOT } from "../../scripts/runtime.mjs";

const { queries } = JSON.parse(readFileSync(join(ROOT, "tests", "relevance", "queries.json"), "utf8"));
let rt;
before(async () => {
  rt = await boot();
  const r = await postJson(rt.url, "/v1/admin/items:import", demoCatalog(), rt.token(["catalogue_editor", "catalogue_reviewer"]));
  assert.equal(r.status, 200, r.text);
});
after(async () => { await rt?.stop(); });

test(`recall@3 >= 0.95 over ${queries.length} citizen queries`, async () => {
  let at1 = 0, at3 = 0;
  const misses = [];
  for (const { q, expect, kind } of queries) {
    const r = await call(rt.url, `/v1/items/search?size=3&q=${encodeURIComponent(q)}`);
    assert.equal(r.status, 200, `${q}: ${r.text}`);
    const names = r.body.items.map((i) => i.name);
    if (names[0] === expect) at1++;
    if (names.includes(expect)) at3++;
    else misses.push(`${kind} "${q}" -> [${names.join(" / ")}] (want ${expect})`);
  }
  const r1 = at1 / queries.length, r3 = at3 / queries.length;
  console.log(`relevance: ${queries.length} queries, recall@1 ${r1.toFixed(3)}, recall@3 ${r3.toFixed(3)}`);
  for (const m of misses) console.log(`  miss: ${m}`);
  assert.ok(queries.length >= 60);
  assert.ok(r3 >= 0.95, `recall@3 ${r3.toFixed(3)} < 0.95`);
});
