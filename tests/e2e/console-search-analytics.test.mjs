// 事项管理 › 搜索分析 (issue 19) in a real browser (Debian's Chromium via
// playwright-core) against the Wasm build in workerd, on the demo catalogue:
// citizens search through the public API (some queries find nothing, some
// find items whose guides are opened with the answer's search_id, some are
// never opened); a catalogue editor opens 搜索分析 from the area's tabs and
// sees, for the last seven days, the same numbers the API answers, in the
// tables and the chart, with the hint pointing at 分类与词表. A past week
// shows the empty state, a range over 92 days the API's own message. A hall's
// staff has no 事项管理 menu, is sent back from the page's URL, and the API
// refuses them. axe-core checks each page state; the screenshot goes to
// functions/console/web/screenshots/search-analytics.png.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { call, postJson } from "./helpers.mjs";
import { check, makeStaff, openConsole, signInAs } from "./browser.mjs";
import { demoCatalog } from "../../scripts/catalog/demo.mjs";

let rt, page, env, editor, desk;

before(async () => {
  env = await openConsole();
  ({ rt, page } = env);
  const imported = await postJson(rt.url, "/v1/admin/items:import", demoCatalog(), rt.token(["catalogue_reviewer"], "导入"));
  assert.equal(imported.status, 200, imported.text);
  editor = await makeStaff(rt, "sousuo", "周编辑", ["catalogue_editor"]);
  desk = await makeStaff(rt, "chuangkou", "吴窗口", ["hall_staff"]);
});
after(async () => { await env?.close(); });

/** A citizen's search (first page); returns the answer's body. */
async function search(q) {
  const r = await call(rt.url, `/v1/items/search?q=${encodeURIComponent(q)}`);
  assert.equal(r.status, 200, r.text);
  return r.body;
}

/** A guide opened from search answer `s` (its first item, with its search_id). */
async function open(s) {
  const r = await call(rt.url, `/v1/guides/${s.items[0].code}?sid=${s.search_id}`);
  assert.equal(r.status, 200, r.text);
}

// Nothing in the demo catalogue matches these (times searched).
const NOTHING = { 冲浪板: 6, 狗证: 5, 宽带: 4, 滑雪场: 3, 比特币: 2, 恐龙蛋: 1 };
// Found, then opened after some of the searches: [times searched, times a guide was opened].
const FOUND = { 自来水开户: [3, 1], 停车费: [2, 0], 社保卡: [4, 3], 护照: [2, 2] };

/** The text of each cell of each body row of the table in `card`. */
const cells = (card) =>
  page.$$eval(`${card} .el-table__body-wrapper tbody tr`, (rows) => rows.map((tr) => [...tr.querySelectorAll("td")].map((td) => td.textContent.trim())));

/** The analytics as the signed-in page's session reads them. */
const fromApi = (qs) =>
  page.evaluate(async (path) => {
    const r = await fetch(path, { headers: { accept: "application/json" } });
    return { status: r.status, body: await r.json() };
  }, `/v1/admin/search/analytics${qs}`);

const beijingDay = (ms = Date.now()) => new Date(ms + 8 * 3600e3).toISOString().slice(0, 10);
const addDays = (day, n) => new Date(Date.parse(`${day}T00:00:00Z`) + n * 864e5).toISOString().slice(0, 10);

test("an editor reads the searches that found nothing and those never opened, as the API counts them", async () => {
  for (const [q, n] of Object.entries(NOTHING)) {
    for (let i = 0; i < n; i++) assert.equal((await search(q)).total, 0, `${q} finds nothing`);
  }
  for (const [q, [n, opened]] of Object.entries(FOUND)) {
    for (let i = 0; i < n; i++) {
      const s = await search(q);
      assert.ok(s.total > 0 && s.search_id, `${q} finds something`);
      if (i < opened) await open(s);
    }
  }
  // Counts are written at most once a second per isolate: a search after that (one not counted) writes them.
  await new Promise((ok) => setTimeout(ok, 1100));
  await search("");

  await signInAs(page, rt, editor);
  await page.click("a.menu-item:has-text('事项管理')");
  await page.click("nav[aria-label='事项管理'] a:has-text('搜索分析')");
  await page.waitForSelector(".no-result-table .el-table__body-wrapper tbody tr");
  assert.match(page.url(), /#\/items\/search-analytics/);
  assert.equal(await page.getAttribute("nav[aria-label='事项管理'] a:has-text('搜索分析')", "aria-current"), "page");

  // The last seven Beijing days by default, in the picker and in the URL.
  const today = beijingDay();
  const from = addDays(today, -6);
  assert.equal(await page.inputValue("#search-analytics-from"), from);
  assert.equal(await page.inputValue("#search-analytics-to"), today);
  assert.match(page.url(), new RegExp(`from=${from}&to=${today}`));

  const api = await fromApi(`?from=${from}&to=${today}&limit=100`);
  assert.equal(api.status, 200, JSON.stringify(api.body));
  // What the citizens did, as the API counts it (the query is the text the index searched).
  assert.deepEqual(
    api.body.no_result.map((r) => [r.query, r.searches]),
    Object.entries(NOTHING),
  );
  const noClick = Object.fromEntries(api.body.no_click.map((r) => [r.query, r]));
  assert.equal(noClick["护照"], undefined, "every passport search was followed by a guide");
  assert.deepEqual(noClick["停车费"], { query: "停车费", searches: 2, opened: 0, rate: 1 });
  assert.deepEqual(noClick["社保卡"], { query: "社保卡", searches: 4, opened: 3, rate: 0.25 });
  assert.deepEqual(noClick["自来水开户"], { query: "自来水开户", searches: 3, opened: 1, rate: 0.667 });

  // The tables show exactly the API's rows, most frequent first, the rate as a percentage.
  assert.deepEqual(
    await cells(".no-result-table"),
    api.body.no_result.map((r, i) => [String(i + 1), r.query, String(r.searches)]),
  );
  const pct = (rate) => `${(Math.round(rate * 1000) / 10).toFixed(1)}%`;
  const shown = await cells(".no-click-table");
  assert.deepEqual(
    shown,
    api.body.no_click.map((r, i) => [String(i + 1), r.query, String(r.searches), String(r.opened), String(r.searches - r.opened), pct(r.rate)]),
  );
  // Most unopened first; of two with as many, the one searched more.
  assert.deepEqual(shown.map((r) => r[1]), ["自来水开户", "停车费", "社保卡"]);
  assert.deepEqual(shown[0].slice(2), ["3", "1", "2", "66.7%"]);
  assert.deepEqual(shown[2].slice(2), ["4", "3", "1", "25.0%"]);

  // The summary: the sums of the same numbers.
  const sum = (rows, f) => rows.reduce((n, r) => n + f(r), 0);
  assert.equal(await page.textContent(".stat-no-result .stat-value"), String(sum(api.body.no_result, (r) => r.searches)));
  assert.equal(await page.textContent(".stat-no-click .stat-value"), String(sum(api.body.no_click, (r) => r.searches - r.opened)));
  assert.match(await page.textContent(".stat-no-result .stat-note"), new RegExp(`${from} 至 ${today}，6个搜索词`));

  // The chart: the top queries as bars (SVG text), named for screen readers.
  const chart = page.locator(".no-result-chart");
  assert.equal(
    await chart.getAttribute("aria-label"),
    `无结果次数最多的6个搜索词条形图，详细数字见下表：${api.body.no_result.map((r) => `${r.query}${r.searches}次`).join("，")}。`,
  );
  await page.waitForFunction(() => document.querySelectorAll(".no-result-chart svg text").length > 6);
  const texts = await page.$$eval(".no-result-chart svg text", (ts) => ts.map((t) => t.textContent));
  for (const [q, n] of Object.entries(NOTHING)) {
    assert.ok(texts.includes(q), `${q} on the chart`);
    assert.ok(texts.includes(String(n)), `${n} on the chart`);
  }

  // What to do about them, linking to the word lists.
  const advice = page.locator(".advice");
  assert.match(await advice.textContent(), /政务主题词库.*同义词.*错别字/s);
  assert.equal(await advice.locator("a", { hasText: "分类与词表" }).getAttribute("href"), "#/items/taxonomy");

  await page.waitForSelector(".el-message", { state: "detached", timeout: 8000 }).catch(() => {}); // the welcome toast
  await check(page, "search-analytics");

  // The link opens the word lists.
  await advice.locator("a", { hasText: "分类与词表" }).click();
  await page.waitForSelector("h1:has-text('分类与词表')");
});

test("a week without failed searches shows the empty state, and a range over 92 days the API's message", async () => {
  const today = beijingDay();
  const [from, to] = [addDays(today, -20), addDays(today, -14)];
  await page.goto(`${rt.url}/console/#/items/search-analytics?from=${from}&to=${to}`);
  await page.waitForSelector(".empty-analytics");
  assert.equal(await page.inputValue("#search-analytics-from"), from);
  assert.match(await page.textContent(".empty-analytics"), new RegExp(`${from} 至 ${to}没有无结果或未打开指南的搜索`));
  assert.equal(await page.locator(".no-result-table").count(), 0);
  await check(page, null);

  // The API checks the range; its Chinese message (and the field's) is what the page says.
  const far = addDays(today, -100);
  const refused = await fromApi(`?from=${far}&to=${today}&limit=100`);
  assert.equal(refused.status, 400);
  await page.goto(`${rt.url}/console/#/items/search-analytics?from=${far}&to=${today}`);
  const alert = page.locator(".load-failed");
  await alert.waitFor();
  const said = await alert.textContent();
  assert.ok(said.includes(refused.body.error.message), said);
  for (const f of refused.body.error.fields ?? []) assert.ok(said.includes(f.message), `${f.message} in ${said}`);
  assert.match(said, /92天/);
  assert.equal(await page.locator(".empty-analytics, .no-result-table").count(), 0, "no stale figures under the error");
  await check(page, null);
});

test("hall staff have no 搜索分析: no menu, the page's URL goes back to 工作台, the API refuses", async () => {
  await page.context().clearCookies();
  await signInAs(page, rt, desk);
  const nav = await page.textContent("nav.side");
  assert.match(nav, /预约管理/);
  assert.doesNotMatch(nav, /事项管理/);
  await page.goto(`${rt.url}/console/#/items/search-analytics`);
  await page.waitForFunction(() => location.hash === "#/", null, { timeout: 5000 });
  assert.equal(await page.locator(".no-result-table, .advice").count(), 0);
  assert.equal((await fromApi("")).status, 403);
});
