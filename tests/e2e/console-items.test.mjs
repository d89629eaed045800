// 事项管理 in a real browser (Debian's Chromium via playwright-core) against
// the Wasm build in workerd, on the demo catalogue: two staff review an item.
// The editor (who also holds the reviewer role) finds the item, is shown the
// API's field errors beside their fields, walks its 情形引导 as a citizen
// would, saves the change and submits it; the page will not let them publish
// their own submission and the API refuses it (403 self_review_forbidden); a
// second person, a reviewer, sees the change beside the published text and
// publishes it; citizen search finds the new name within seconds. Then the
// area's other pages: 事项同步, 分类与词表, 地图管理. axe-core checks every page
// state screenshotted (functions/console/web/screenshots/items-*.png).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { call, postJson } from "./helpers.mjs";
import { checkResponse } from "./contract.mjs";
import { check, makeStaff, openConsole, signInAs } from "./browser.mjs";
import { demoCatalog } from "../../scripts/catalog/demo.mjs";
import { diffItems, changedFields } from "../../functions/console/web/src/pages/items/diff.js";
import { choose, problems, removeQuestion, startWalk, toTree } from "../../functions/console/web/src/pages/items/situations.js";
import { cleanItem, formErrors, withDefaults } from "../../functions/console/web/src/pages/items/itemForm.js";

const demo = demoCatalog();
const ITEM = demo.items.find((i) => i.name === "个人客户接水申请");
const NEW_NAME = "个人客户接水申请（一户一表改造）";
let rt, page, env, editor, reviewer;

before(async () => {
  env = await openConsole();
  ({ rt, page } = env);
  const imported = await postJson(rt.url, "/v1/admin/items:import", demo, rt.token(["catalogue_reviewer"], "导入"));
  assert.equal(imported.status, 200, imported.text);
  editor = await makeStaff(rt, "zhangbian", "张编", ["catalogue_editor", "catalogue_reviewer"]);
  reviewer = await makeStaff(rt, "lishen", "李审", ["catalogue_reviewer"]);
});
after(async () => { await env?.close(); });

const search = async (q) => (await call(rt.url, `/v1/items/search?q=${encodeURIComponent(q)}&size=50`)).body;

/** A POST as whoever is signed in in the browser (its cookie, the CSRF token /v1/staff/me gives). */
async function postAsPage(path) {
  const me = await (await page.request.get(`${rt.url}/v1/staff/me`)).json();
  const res = await page.request.post(`${rt.url}${path}`, { headers: { "x-csrf-token": me.csrf_token, "content-type": "application/json" }, data: "{}" });
  return { status: res.status(), body: await res.json() };
}

/** Waits out the toasts (they would cover the screenshot). */
const settle = () => page.waitForSelector(".el-message", { state: "detached", timeout: 8000 }).catch(() => {});

async function confirmBox(button) {
  const box = page.locator(".el-message-box");
  await box.waitFor();
  await box.locator("button", { hasText: button }).click();
  await box.waitFor({ state: "hidden" });
}

test("the page logic: the difference, the 情形引导 walk and checks, the form's shape", () => {
  const before = ITEM;
  const after = structuredClone(ITEM);
  after.halls = [...after.halls].reverse(); // halls are a set: order is no change
  after.guide.process.pop();
  after.materials[0].copies = 2;
  const changed = changedFields(before, after);
  assert.deepEqual(changed.map((d) => d.path), ["materials", "guide.process"]);
  const mat = changed[0];
  assert.deepEqual([mat.before.filter((l) => l.mark).length, mat.after.filter((l) => l.mark).length], [1, 1]);
  assert.ok(diffItems(null, ITEM).every((d) => d.before.length === 0), "a new item has nothing published");

  const qs = ITEM.guide.situations;
  let walk = startWalk(qs);
  walk = choose(qs, walk, 1, ITEM); // 原有房屋改建
  walk = choose(qs, walk, 0, ITEM); // 住宅，本人办理 ends
  assert.deepEqual(walk.end.materials.map((m) => m.name), ["居民身份证", "不动产权证书或购房合同", "个人接水申请表", "原水表户号（表卡编号）"]);
  assert.deepEqual(problems(qs, ITEM), []);
  const broken = [...removeQuestion(qs, "q2"), { id: "q9", text: "孤立问题", options: [{ label: "是", next: "q9" }, { label: "否", item_code: ITEM.code, materials: ["不存在的材料"] }] }];
  const found = problems(broken, ITEM);
  assert.ok(found.some((p) => p.includes("「新建房屋首次接水」必须指向")), found.join("\n"));
  assert.ok(found.some((p) => p.includes("不存在的材料")));
  assert.ok(found.some((p) => p.includes("循环")));
  assert.ok(found.some((p) => p.includes("q9 从第一个问题出发无法到达")));
  assert.equal(toTree(qs, ITEM.code)[0].children[0].children[0].id, "q2");

  assert.deepEqual(cleanItem(withDefaults(ITEM)).guide.situations, qs.map((q) => ({ ...q, options: q.options.map((o) => ({ next: null, item_code: null, materials: [], ...o })) })));
  assert.deepEqual(formErrors({ "item.guide.scope": "适用范围不能为空", item: "字段缺失" }), { "guide.scope": "适用范围不能为空", "": "字段缺失" });
});

test("the editor drafts and submits, cannot publish it; a reviewer publishes; citizen search follows", async () => {
  assert.equal((await search("一户一表改造")).items.some((i) => i.name === NEW_NAME), false, "not there before");

  // 事项列表: filter by name keyword and category.
  await signInAs(page, rt, editor);
  await page.click("nav.side a:has-text('事项管理')");
  await page.waitForSelector(".items-table .el-table__row");
  assert.ok((await page.locator(".items-table .el-table__row").count()) >= 20, "a full first page");
  assert.match(await page.locator(".pager").textContent(), new RegExp(`共 ${demo.items.length} 条`));
  await page.fill("#items-q", "接水");
  await page.click("button:has-text('查询')");
  await page.waitForFunction(() => document.querySelectorAll(".items-table .el-table__row").length < 10);
  const names = await page.locator(".items-table .item-link").allTextContents();
  assert.ok(names.includes(ITEM.name), names.join());
  assert.ok(names.every((n) => n.includes("接水")), names.join());
  await settle();
  await check(page, "items-list");

  // 新增事项: an empty form comes back with every missing field named.
  await page.click("button:has-text('新增事项')");
  await page.waitForSelector("#item-code");
  await page.click("button:has-text('保存草稿')");
  await page.waitForSelector(".err-box");
  assert.ok((await page.locator(".err-box li").count()) >= 10, await page.locator(".err-box").textContent());
  assert.match(await page.locator(".el-form-item", { has: page.locator("#item-name") }).locator(".el-form-item__error").textContent(), /事项名称不能为空/);
  await page.click("button:has-text('返回')");
  await page.waitForFunction(() => document.querySelectorAll(".items-table .el-table__row").length === 1 && document.querySelector("#items-q")?.value === "接水");

  // 编辑: a cleared required field comes back as the API's error beside it.
  await page.locator(".items-table .el-table__row", { hasText: ITEM.name }).locator("button:has-text('编辑')").click();
  await page.waitForFunction(() => document.querySelector("#item-name")?.value);
  assert.equal(await page.inputValue("#item-name"), ITEM.name, "the published text is the starting point");
  await page.fill("#item-name", NEW_NAME);
  await page.click(".el-tabs__item:has-text('办事指南')");
  await page.fill("#g-scope", "");
  await page.click("button:has-text('保存草稿')");
  const scopeItem = page.locator(".el-form-item", { has: page.locator("#g-scope") });
  await scopeItem.locator(".el-form-item__error").waitFor();
  assert.match(await scopeItem.locator(".el-form-item__error").textContent(), /适用范围不能为空/);
  assert.match(await page.locator(".err-box").textContent(), /适用范围/);
  assert.equal(await page.locator(".el-tabs__item:has-text('办事指南') .tab-badge").textContent(), "1");
  await settle();
  await check(page, "items-edit");
  await page.fill("#g-scope", ITEM.guide.scope);
  // The other tabs of the form pass axe too (one screenshot, of the materials).
  for (const [tab, ready] of [["基本信息", "#item-code"], ["申请材料", ".mat-table"], ["办理流程", ".steps"], ["时限与收费", "#g-legal-days"], ["办理渠道与地点", "#p-halls"]]) {
    await page.click(`.el-tabs__item:has-text('${tab}')`);
    await page.waitForSelector(ready);
    await check(page, tab === "申请材料" ? "items-edit-materials" : null);
  }
  assert.equal(await page.locator(".mat-table .el-table__row").count(), ITEM.materials.length);

  // 情形引导: the tree, a question added and removed, and 试一试 to the end.
  await page.click(".el-tabs__item:has-text('情形引导')");
  await page.waitForSelector(".sit-tree");
  assert.match(await page.locator(".sit-tree").textContent(), /q1：接水的原因是？[\s\S]*q2：房屋是否已取得不动产权证书？/);
  await page.click("button:has-text('添加问题')");
  await page.waitForSelector("h3:has-text('编辑问题 q6')");
  assert.match(await page.locator(".sit .el-alert--warning").textContent(), /问题 q6 从第一个问题出发无法到达/);
  await page.click("button:has-text('删除问题')");
  await confirmBox("删除");
  assert.equal(await page.locator(".sit .el-alert--warning").count(), 0, "the tree is whole again");
  await page.click(".col-try button:has-text('新建房屋首次接水')");
  await page.click(".col-try button:has-text('已取得')");
  await page.click(".col-try button:has-text('住宅，委托他人代办')");
  const mats = await page.locator(".col-try .mats li").allTextContents();
  assert.deepEqual(mats.map((m) => m.split("（")[0]), ["居民身份证", "不动产权证书或购房合同", "个人接水申请表", "授权委托书", "代办人身份证"]);
  await settle();
  await check(page, "items-guide-tree");

  // 保存并提交审核.
  await page.click("button:has-text('保存并提交审核')");
  await confirmBox("提交");
  await page.waitForSelector(".review-state");
  assert.equal((await page.locator(".review-state").textContent()).trim(), "待审核");
  assert.ok(await page.locator(".btn-publish").isDisabled(), "no publishing one's own submission");
  assert.match(await page.locator(".own-note").textContent(), /其他审核人员/);
  const own = await postAsPage(`/v1/admin/items/${ITEM.code}:publish`);
  assert.equal(own.status, 403);
  assert.equal(own.body.error.code, "self_review_forbidden");
  assert.equal((await search("一户一表改造")).items.some((i) => i.name === NEW_NAME), false, "not searchable while under review");

  // The reviewer, another person, sees the difference and publishes.
  await page.click("button:has-text('退出登录')");
  await page.waitForSelector("#login-username");
  await signInAs(page, rt, reviewer);
  await page.goto(`${rt.url}/console/#/items/list?review=submitted`);
  // The list names items by their published name until the change is published.
  await page.locator(".items-table .el-table__row", { hasText: ITEM.code }).locator("button:has-text('审核')").click();
  await page.waitForSelector("table.diff");
  const nameRow = page.locator("table.diff tr[data-field='name']");
  assert.equal(await nameRow.locator(".del").textContent().then((t) => t.replace("删除：", "").trim()), ITEM.name);
  assert.equal(await nameRow.locator(".ins").textContent().then((t) => t.replace("新增：", "").trim()), NEW_NAME);
  assert.equal(await page.locator("table.diff tbody tr").count(), 1, "only the name changed");
  assert.ok(!(await page.locator(".btn-publish").isDisabled()));
  await settle();
  await check(page, "items-review");
  await page.click(".btn-publish");
  await confirmBox("确定");
  await page.waitForSelector("text=无待审草稿");

  const t0 = Date.now();
  for (;;) {
    const found = (await search("一户一表改造")).items.some((i) => i.name === NEW_NAME && i.code === ITEM.code);
    if (found) break;
    assert.ok(Date.now() - t0 < 10000, "search shows the change within 10 s");
    await new Promise((ok) => setTimeout(ok, 250));
  }
  console.log(`citizen search found the published change after ${Date.now() - t0} ms`);
});

test("the reviewer runs a sync, adds a search word, and looks at the halls", async () => {
  // 事项同步: a feed with one changed item and one broken row.
  const changed = { ...structuredClone(demo.items[3]), name: `${demo.items[3].name}（同步）` };
  const broken = { ...structuredClone(demo.items[4]), halls: ["H404"] };
  await call(rt.fakes.base, "/__fake/feed", { method: "PUT", body: JSON.stringify({ status: 200, items: [changed, broken] }) });
  await page.click(".items-tabs a:has-text('事项同步')");
  await page.waitForSelector(".runs");
  await page.click("button:has-text('立即同步')");
  await confirmBox("开始同步");
  await page.waitForSelector(".sync-report");
  const cells = await page.locator(".sync-report .el-descriptions__content").allTextContents();
  assert.deepEqual(cells.map((c) => c.trim()), ["0", "1", "0", "1"]);
  assert.match(await page.locator(".sync-report .el-table").textContent(), /办理大厅第1项：办理大厅不存在：H404/);
  await page.waitForSelector(".runs .el-table__row");
  assert.match(await page.locator(".runs .el-table__row").first().textContent(), /手动/);
  await settle();
  await check(page, "items-sync");

  // 分类与词表: a thesaurus entry, then search answers it.
  await page.click(".items-tabs a:has-text('分类与词表')");
  await page.waitForSelector("#word-term");
  await page.waitForSelector(".grid .el-table__row");
  assert.ok((await page.locator(".grid .el-table__row").count()) > 3, "categories and tags are listed");
  await page.fill("#word-term", "装个水表");
  await page.fill("#word-target", "个人客户接水申请");
  await page.click(".word-form button:has-text('添加')");
  await page.waitForSelector(".words .el-table__row:has-text('装个水表')");
  await settle();
  await check(page, "items-taxonomy");

  // 地图管理: every hall on the plot; one hall's items.
  await page.click(".items-tabs a:has-text('地图管理')");
  await page.waitForSelector(".plot .pt");
  assert.equal(await page.locator(".plot .pt").count(), demo.halls.length);
  const hall = demo.halls[1];
  await page.locator(".halls .el-table__row", { hasText: hall.name }).locator("button").click();
  await page.waitForSelector(`.detail-card h2:has-text('${hall.name}')`);
  const served = demo.items.filter((i) => i.halls.includes(hall.id)).length;
  assert.equal(await page.locator(".hall-items .el-table__row").count(), served);
  await settle();
  await check(page, "items-halls");
});

test("a reviewer sends a change back with a reason and withdraws an item", async () => {
  // A change made and submitted over HTTP by an integration's editor token.
  const target = demo.items.find((i) => i.name === "水表过户");
  const token = rt.token(["catalogue_editor"], "编辑接口");
  const auth = { authorization: `Bearer ${token}`, "content-type": "application/json" };
  const stored = await call(rt.url, `/v1/admin/items/${target.code}/published`, { headers: auth });
  checkResponse("/v1/admin/items/{code}/published", "get", stored);
  const changed = { ...stored.body, guide: { ...stored.body.guide, conditions: [...stored.body.guide.conditions, "新增一条未经核实的条件"] } };
  assert.equal((await call(rt.url, `/v1/admin/items/${target.code}`, { method: "PUT", headers: auth, body: JSON.stringify(changed) })).status, 200);
  assert.equal((await postJson(rt.url, `/v1/admin/items/${target.code}:submit`, {}, token)).status, 200);

  await page.goto(`${rt.url}/console/#/items/${target.code}`);
  await page.waitForSelector("table.diff");
  assert.deepEqual(await page.locator("table.diff tbody th").allTextContents(), ["申请条件已修改"]);
  assert.equal((await page.locator("table.diff .ins").textContent()).replace("新增：", "").trim(), "新增一条未经核实的条件");
  await page.click("button:has-text('退回修改')");
  await page.click(".el-dialog button:has-text('退回')");
  assert.match(await page.locator(".el-dialog .el-form-item__error").textContent(), /请填写退回原因/);
  await page.fill("#reject-reason", "新增条件无依据，请删除");
  await page.click(".el-dialog button:has-text('退回')");
  await page.waitForSelector(".review-state:has-text('已退回')");
  assert.match(await page.locator(".reason").textContent(), /新增条件无依据/);
  assert.equal((await call(rt.url, `/v1/admin/items/${target.code}`, { headers: auth })).body.draft.reason, "新增条件无依据，请删除");

  // 下架: confirmed, then gone from citizen search; its text stays readable for editing it back.
  await page.click("button:has-text('下架')");
  await confirmBox("确定");
  await page.waitForSelector(".el-descriptions .el-tag:has-text('已下架')");
  const t0 = Date.now();
  while ((await search("水表过户")).items.some((i) => i.code === target.code)) {
    assert.ok(Date.now() - t0 < 10000, "search drops a withdrawn item within 10 s");
    await new Promise((ok) => setTimeout(ok, 250));
  }
  const withdrawn = await call(rt.url, `/v1/admin/items/${target.code}/published`, { headers: auth });
  assert.equal(withdrawn.status, 200);
  assert.equal(withdrawn.body.name, target.name);
  assert.equal((await call(rt.url, `/v1/admin/items/${target.code}/published`)).status, 401);
  assert.equal((await call(rt.url, "/v1/admin/items/91330782MA2D4W8J3L4000172009999/published", { headers: auth })).status, 404);
});
