// 停水停气 in a real browser (Debian's Chromium driven by playwright-core)
// against the Wasm build in workerd, with the local queue and the fake Aliyun
// SMS: supply areas and three subscribers are seeded over HTTP; an
// outage_publisher composes an emergency notice through the page (the area
// picked in the tree picker, the live SMS preview with its character count
// and parts), publishes it, and watches the delivery page reach 100 % on its
// own refreshes (the first send is rate limited by the fake, so the rows
// wait for the cron sweep, which the test triggers as fanout.test.mjs does);
// then cancels it and sees 已取消. axe-core checks every page; screenshots go
// to functions/console/web/screenshots/outages-*.png.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { call, postJson } from "./helpers.mjs";
import { checkResponse } from "./contract.mjs";
import { apiSignIn, check, makeStaff, openConsole, signInAs } from "./browser.mjs";

let rt, page, env, publisher, staffHeaders;
const phones = { c1: "13700000011", c2: "13700000012", c3: "13700000013" };
const sleep = (ms) => new Promise((ok) => setTimeout(ok, ms));

async function until(what, fn, ms = 20000) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await sleep(150);
  }
}

before(async () => {
  env = await openConsole();
  ({ rt, page } = env);
  publisher = await makeStaff(rt, "zhaoliu", "赵六", ["outage_publisher"]);
  ({ headers: staffHeaders } = await apiSignIn(rt, publisher.username, publisher.secret));
  const put = (path, payload) => call(rt.url, path, { method: "PUT", headers: { ...staffHeaders, "content-type": "application/json" }, body: JSON.stringify(payload) });
  const areas = await put("/v1/admin/supply-areas", { areas: [
    { code: "yw", name: "义乌市", level: "district" }, { code: "cc", name: "稠城街道", level: "street", parent: "yw" },
    { code: "bw", name: "宾王小区", level: "community", parent: "cc" }, { code: "xh", name: "绣湖小区", level: "community", parent: "cc" },
    { code: "bw-1", name: "1幢", level: "building", parent: "bw" }, { code: "xh-1", name: "1幢", level: "building", parent: "xh" }] });
  assert.equal(areas.status, 200, areas.text);
  // Three citizens with a phone: two in 宾王小区 (one by its building), one in 绣湖小区.
  let i = 0;
  for (const [who, area] of [["c1", "bw"], ["c2", "bw-1"], ["c3", "xh-1"]]) {
    const ip = { "cf-connecting-ip": `10.8.0.${++i}` };
    assert.equal((await postJson(rt.url, "/v1/auth/sms-code", { phone: phones[who] }, null, ip)).status, 200);
    const login = await postJson(rt.url, "/v1/auth/phone", { phone: phones[who], code: rt.fakes.lastCode(phones[who]) }, null, ip);
    assert.equal(login.status, 200, login.text);
    const sub = await postJson(rt.url, "/v1/me/outage-subscriptions", { utility: "water", area }, login.body.token);
    assert.equal(sub.status, 201, sub.text);
  }
  await call(rt.fakes.base, "/__fake/messages", { method: "DELETE" });
});
after(async () => { await env?.close(); });

const text = async (sel) => ((await page.locator(sel).first().textContent()) ?? "").trim();

test("an emergency is composed with the area picker and live preview, published, delivered to 100 %, and cancelled", async () => {
  await signInAs(page, rt, publisher);
  await page.click("nav.side >> text=停水停气");
  await page.waitForSelector(".outage-table");
  await page.waitForFunction(() => document.querySelector(".outage-table .el-table__empty-text")?.textContent.includes("暂无停水停气通知"));

  // 发布通知: an emergency for 宾王小区, picked from the hierarchy.
  await page.click("button:has-text('发布通知')");
  await page.waitForSelector(".preview-card");
  assert.match(await text(".preview-card"), /请填写影响区域/, "no preview until the notice is filled in");
  await page.click("label.el-radio-button:has-text('紧急抢修')");
  await page.locator(".el-form-item", { hasText: "影响区域" }).locator(".el-select__wrapper").click();
  await page.keyboard.type("宾王");
  await page.locator(".el-tree-node__content:visible", { hasText: "宾王小区" }).first().click();
  await page.keyboard.press("Escape");
  await page.fill("#outage-reason", "管网");
  await page.fill("#outage-issuer", "义乌市供水有限公司");
  await page.fill("#outage-phone", "0579-85510011");
  await page.waitForFunction(() => document.querySelector("[data-testid=sms-text]")?.textContent.includes("管网"));
  // The preview follows the form: the longer reason shows up, with the count and parts the API computed.
  await page.fill("#outage-reason", "宾王路供水主管爆裂抢修");
  await page.waitForFunction(() => document.querySelector("[data-testid=sms-text]")?.textContent.includes("宾王路供水主管爆裂抢修"));
  await page.waitForFunction(() => !document.querySelector(".preview-card")?.textContent.includes("更新中"));
  const sms = await text("[data-testid=sms-text]");
  assert.match(sms, /稠城街道宾王小区/, "the area as the message names it");
  assert.match(sms, /义乌市供水有限公司/);
  const chars = [...sms].length;
  assert.equal(await text(".sms-chars"), `${chars} / 500`, "字数 is the message's length");
  assert.equal(await text(".sms-parts"), String(chars <= 70 ? 1 : Math.ceil(chars / 67)), "条数 as the provider bills it");
  assert.match(await text(".preview-card"), /紧急停供，立即发送/);
  assert.match(await text(".preview-card"), /可以发布/);
  // 降压供水 is a choice of its own: the preview switches to its notice text, and back.
  await page.click("label.el-radio-button:has-text('降压供水')");
  await page.waitForFunction(() => document.querySelector("[data-testid=sms-text]")?.textContent.includes("水压偏低"));
  assert.match(await text("[data-testid=sms-text]"), /紧急降压供水/);
  await check(page, "outages-compose-pressure");
  await page.click("label.el-radio-button:has-text('停水')");
  await page.waitForFunction(() => !document.querySelector("[data-testid=sms-text]")?.textContent.includes("水压偏低"));
  await page.waitForFunction(() => !document.querySelector(".preview-card")?.textContent.includes("更新中"));
  await check(page, "outages-compose");

  // Publish; the fake provider rate-limits the first send, so the rows wait for the sweep.
  rt.fakes.failNext("isv.BUSINESS_LIMIT_CONTROL");
  await page.click("button.submit:has-text('发布通知')");
  await page.waitForSelector(".el-message-box");
  assert.match(await text(".el-message-box"), /稠城街道宾王小区/);
  await page.click(".el-message-box button:has-text('确定发布')");
  await page.waitForURL(/#\/outages\/OUT[0-9A-F]+$/);
  const id = page.url().split("/").at(-1);
  await page.waitForSelector(".overall-progress");
  // The page refreshes by itself until both rows are held back by the provider's rate limit.
  await page.waitForFunction(() => document.querySelector(".count-deferred")?.textContent.trim() === "2");
  assert.equal(await text(".fact-pending"), "2");
  assert.equal(await text(".fact-recipients"), "2", "c1 and c2 live in 宾王小区; c3 does not");
  assert.match(await text(".overall-progress"), /0%/);
  assert.match(await text(".card-head .muted"), /自动刷新/);
  assert.equal((await call(rt.fakes.base, `/__fake/messages?phone=${phones.c1}`)).body.length, 0, "nothing sent yet");

  // The cron sweep sends what waited; the page gets there by itself (no reload).
  rt.sql(`UPDATE outage_outbox SET next_at = '2000-01-01T00:00:00+08:00' WHERE outage_id = '${id}'`);
  const worker = await rt.mf.getWorker("bianmin-outage-sms");
  const url = page.url();
  await worker.scheduled({ cron: "* * * * *" });
  await page.waitForFunction(() => document.querySelector(".overall-progress")?.textContent.includes("100%"), null, { timeout: 20000 }).catch(async (e) => {
    // What the API says, to tell a page that stopped refreshing from a send that never happened.
    console.log(JSON.stringify((await call(rt.url, `/v1/admin/outages/${id}/delivery`, { headers: staffHeaders })).body));
    throw e;
  });
  assert.equal(page.url(), url);
  assert.equal(await text(".fact-pending"), "0");
  assert.equal(await text(".count-sent"), "2", "both accepted by the provider");
  assert.equal(await text(".fact-failed"), "0");
  assert.match(await text(".card-head .muted"), /已全部处理/, "the refreshing stopped");
  for (const p of [phones.c1, phones.c2]) assert.equal((await call(rt.fakes.base, `/__fake/messages?phone=${p}`)).body.length, 1);
  assert.equal((await call(rt.fakes.base, `/__fake/messages?phone=${phones.c3}`)).body.length, 0);
  await check(page, "outages-delivery");

  // Cancel, with a reason: 已取消 on the record, a cancellation to the two notified.
  await page.click("button:has-text('取消通知')");
  await page.waitForSelector(".el-message-box input");
  await page.fill(".el-message-box input", "管道已修复");
  await page.click(".el-message-box button:has-text('确定取消')");
  await page.waitForFunction(() => document.querySelector(".outage-status")?.textContent.includes("已取消"));
  await page.waitForFunction(() => document.querySelectorAll(".versions .el-table__row").length === 2);
  assert.match(await text(".versions"), /取消通知/);
  await until("the cancellation sent", async () => (await call(rt.fakes.base, `/__fake/messages?phone=${phones.c1}`)).body.length === 2);
  assert.equal(await page.locator("button:has-text('取消通知')").count(), 0, "nothing more to cancel");

  // A planned stop published over HTTP waits for its send time; the list shows both.
  const at = (h) => new Date(Date.now() + h * 3600e3 + 8 * 3600e3).toISOString().slice(0, 16) + ":00+08:00";
  const planned = await postJson(rt.url, "/v1/admin/outages", { utility: "water", kind: "planned", areas: ["xh"], start: at(50), end: at(58),
    reason: "管网改造", issuer: "义乌市供水有限公司", contact_phone: "0579-85510011", temporary_supply: "小区北门设临时供水点" }, null, staffHeaders);
  assert.equal(planned.status, 201, planned.text);
  await page.click("button:has-text('返回列表')");
  await page.waitForSelector(".outage-table .el-table__row");
  const rows = page.locator(".outage-table .el-table__body-wrapper .el-table__row");
  await until("two rows", async () => (await rows.count()) === 2);
  assert.match(await rows.nth(0).textContent(), /计划停水.*稠城街道绣湖小区/s, "newest first");
  assert.match(await rows.nth(1).textContent(), /已取消.*紧急停水.*稠城街道宾王小区.*100%/s);
  await page.waitForSelector(".el-message", { state: "detached", timeout: 5000 }).catch(() => {}); // the 已取消 toast
  await check(page, "outages-list");

  // 更改 the planned stop from the list: the form opens with its record, the preview follows the new reason.
  await rows.nth(0).locator("button:has-text('更改')").click();
  await page.waitForURL(/\/amend$/);
  await page.waitForFunction(() => document.querySelector("#outage-reason")?.value === "管网改造");
  assert.match(await text(".el-select__wrapper"), /绣湖小区/, "the stored area is picked");
  await page.fill("#outage-reason", "管网改造及水表更换");
  await page.waitForFunction(() => document.querySelector("[data-testid=sms-text]")?.textContent.includes("管网改造及水表更换"));
  await check(page, "outages-amend");
  await page.click("button.submit:has-text('保存更改')");
  await page.click(".el-message-box button:has-text('确定更改')");
  await page.waitForURL(new RegExp(`#/outages/${planned.body.id}$`));
  await page.waitForFunction(() => document.querySelectorAll(".versions .el-table__row").length === 2);
  assert.match(await text(".el-descriptions"), /管网改造及水表更换/);
  const record = await call(rt.url, `/v1/admin/outages/${planned.body.id}`, { headers: staffHeaders });
  assert.deepEqual([record.body.reason, record.body.version, record.body.temporary_supply], ["管网改造及水表更换", 2, "小区北门设临时供水点"]);
  checkResponse("/v1/admin/outages/{id}", "get", record);
});

test("the new staff views answer what the contract says, and refuse other roles", async () => {
  const get = (path, headers = staffHeaders) => call(rt.url, path, { headers });
  const list = await get("/v1/admin/outages?per_page=1");
  checkResponse("/v1/admin/outages", "get", list);
  assert.deepEqual([list.body.total, list.body.outages.length, list.body.page], [2, 1, 1]);
  const sending = await get("/v1/admin/outages?sending=true");
  checkResponse("/v1/admin/outages", "get", sending);
  assert.ok(sending.body.outages.every((o) => o.delivery.sending_now), "the 工作台 filter: only what is still on its way");
  const tree = await get("/v1/admin/supply-areas");
  checkResponse("/v1/admin/supply-areas", "get", tree);
  assert.deepEqual([tree.body.count, tree.body.areas[0].children[0].children.map((c) => c.name)], [6, ["宾王小区", "绣湖小区"]]);
  const body = { utility: "gas", kind: "planned", areas: ["bw-1"], start: "2026-01-01T08:00:00+08:00", end: "2026-01-01T12:00:00+08:00",
    reason: "燃气管道检修", issuer: "义乌市天然气有限公司", contact_phone: "0579-85520000" };
  const preview = await postJson(rt.url, "/v1/admin/outages:preview", body, null, staffHeaders);
  checkResponse("/v1/admin/outages:preview", "post", preview);
  assert.equal(preview.body.publishable, false, "a planned stop in the past cannot be published");
  assert.match(preview.body.message, /稠城街道宾王小区1幢/);
  assert.equal((await get("/v1/admin/outages?status=drafted")).status, 400);
  const other = await makeStaff(rt, "qianqi", "钱七", ["billing_operator"]);
  const { headers } = await apiSignIn(rt, other.username, other.secret);
  for (const path of ["/v1/admin/outages", "/v1/admin/supply-areas"]) assert.equal((await get(path, headers)).status, 403, path);
  assert.equal((await postJson(rt.url, "/v1/admin/outages:preview", body, null, headers)).status, 403);
});
