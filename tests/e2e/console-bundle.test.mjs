// The console's initial download (what the sign-in page needs: the entry
// script, its stylesheet and their modulepreloads) stays within the budget
// the README states, and the heavy parts (ECharts, the area pages) are not in it.
import { test } from "node:test";
import assert from "node:assert/strict";
import { INITIAL_BUDGET, initialBundle } from "../../scripts/console-weight.mjs";

test("the console's initial JS+CSS is within its gzip budget and leaves charts and area pages to load on demand", () => {
  const b = initialBundle();
  assert.ok(b.files.some((f) => f.file.endsWith(".js")) && b.files.some((f) => f.file.endsWith(".css")), JSON.stringify(b.files));
  assert.ok(b.js + b.css <= INITIAL_BUDGET, `initial ${(b.js + b.css) / 1024} KB gzip over the budget of ${INITIAL_BUDGET / 1024} KB`);
  const names = b.files.map((f) => f.file).join(" ");
  assert.doesNotMatch(names, /Chart|Edit|Compose|Record|Reviews|Day/, "lazy chunks stay out of the first download");
});
