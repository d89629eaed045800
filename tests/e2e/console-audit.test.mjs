// 审计日志 in the staff console, in a real browser (Debian's Chromium driven by
// playwright-core) against the Wasm build in workerd: an administrator and an
// auditor from scripts/staff, enrolled over HTTP with TOTP codes the test
// computes; the administrator's new account is a change, a complaint
// dispatcher reading a complaint is an access to personal data; the auditor
// sees both logs, filters them and exports CSV, while the administrator cannot
// read the log at all (三员分立). axe-core checks the page (no serious or
// critical violation) and its screenshots go to functions/console/web/screenshots/.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { call, postJson } from "./helpers.mjs";
import { totp } from "../../scripts/totp.mjs";
import { PASSWORD, check as checkPage, enrolByApi, openConsole, staffScript, signInPage } from "./browser.mjs";

let rt, page, env;
before(async () => { env = await openConsole(); ({ rt, page } = env); });
after(async () => { await env?.close(); });
const check = (name) => checkPage(page, name);
const createAndEnrol = async (command, name, username) => enrolByApi(rt, staffScript(rt, command, name, username));

/** Signs in over HTTP (one step ahead, so never the enrolment's code); returns { cookie, csrf, id }. */
async function apiSignIn(username, secret) {
  const res = await postJson(rt.url, "/v1/staff/login", { username, password: PASSWORD, code: totp(secret, undefined, 1) }, null, { "cf-connecting-ip": "203.0.113.7" });
  assert.equal(res.status, 200, res.text);
  return { cookie: (res.headers.get("set-cookie") ?? "").split(";")[0], csrf: res.body.csrf_token, id: res.body.id };
}

let auditorSecret, adminId, complaintNumber, dispatcherName;

test("an administrator's new account and a dispatcher's reading of a complaint are logged, and the administrator cannot read the log", async () => {
  const adminSecret = await createAndEnrol("create-admin", "王五", "wangwu");
  auditorSecret = await createAndEnrol("create-auditor", "孙审", "sunshen");
  const admin = await apiSignIn("wangwu", adminSecret);
  adminId = admin.id;
  const made = await postJson(rt.url, "/v1/admin/staff", { username: "zhaoliu", display_name: "赵六", roles: ["catalogue_editor"] }, null, { cookie: admin.cookie, "x-csrf-token": admin.csrf });
  assert.equal(made.status, 201, made.text);
  const denied = await call(rt.url, "/v1/admin/audit-log", { headers: { cookie: admin.cookie } });
  assert.equal(denied.status, 403, "三员分立: the administrator reads no audit log");

  const citizen = (await postJson(rt.url, "/v1/auth/wechat", { code: "ok-alice-1" })).body.token;
  const filed = await postJson(rt.url, "/v1/complaints", { kind: "complaint", category: "供水", subject: "北苑营业厅", content: "柜台人员要求我补交与业务无关的材料。", anonymous: false }, citizen);
  assert.equal(filed.status, 201, filed.text);
  complaintNumber = filed.body.number;
  dispatcherName = "12345热线";
  const dispatcher = rt.token(["complaint_dispatcher"], dispatcherName);
  const read = await call(rt.url, `/v1/admin/complaints/${complaintNumber}`, { headers: { authorization: `Bearer ${dispatcher}` } });
  assert.equal(read.status, 200, read.text);

});

test("the auditor signs in and sees 审计日志, not 员工管理, and 工作台 points to it", async () => {
  await signInPage(page, rt, "sunshen", PASSWORD, totp(auditorSecret, undefined, 1));
  await page.waitForSelector(".hello");
  const nav = await page.textContent("nav");
  assert.match(nav, /审计日志/);
  assert.doesNotMatch(nav, /员工管理/);
  assert.ok(await page.locator("main a[href$='#/audit']").isVisible(), "工作台 links to 审计日志");
  const access = await page.evaluate(async () => {
    const r = await fetch("/v1/admin/audit-log?kind=access&action=access.complaint.");
    return { status: r.status, body: await r.json() };
  });
  assert.equal(access.status, 200, JSON.stringify(access));
  assert.ok(access.body.entries.every((e) => e.action.startsWith("access.complaint.")), JSON.stringify(access));
  assert.ok(access.body.entries.some((e) => e.action === "access.complaint.case" && e.target.includes(complaintNumber)), JSON.stringify(access));
  await page.goto(`${rt.url}/console/#/staff`);
  await page.waitForTimeout(600);
  assert.doesNotMatch(page.url(), /#\/staff/, "the route guard sends the auditor away from 员工管理");
});

const rowsText = () => page.textContent(".audit-table .el-table__body");

/** Types an action prefix and searches; waits for the table to settle. */
async function filterAction(prefix) {
  await page.fill("#audit-action", prefix);
  const answered = page.waitForResponse((r) => r.url().includes("/v1/admin/audit-log") && r.url().includes(`action=${encodeURIComponent(prefix)}`));
  await page.click(".filters button:has-text('查询')");
  assert.equal((await answered).status(), 200);
  await page.waitForTimeout(300);
}

/** Types a date range into the picker and searches; checks the dates reached the API. */
async function setDates(from, to) {
  await page.fill("#audit-from", from);
  await page.fill("#audit-to", to);
  await page.keyboard.press("Enter");
  await page.keyboard.press("Escape");
  const answered = page.waitForResponse((r) => r.url().includes("/v1/admin/audit-log") && r.url().includes(`from=${from}&to=${to}`));
  await page.click(".filters button:has-text('查询')");
  assert.equal((await answered).status(), 200);
  await page.waitForTimeout(300);
}

test("操作日志 shows the new account; 个人信息查看日志 shows the complaint read; the action prefix narrows both", async () => {
  await page.click("a.menu-item:has-text('审计日志')");
  await page.waitForSelector(".audit-table .el-table__row");
  let text = await rowsText();
  assert.match(text, /新增员工/);
  assert.match(text, /staff\.create/);
  assert.match(text, /王五/);
  assert.ok(text.includes(adminId), "the actor's id is shown");
  assert.doesNotMatch(text, /查看投诉详情/, "reads are not changes");
  await page.waitForSelector(".el-message", { state: "detached", timeout: 5000 }).catch(() => {}); // the welcome toast
  await check("audit");

  await setDates("2020-01-01", "2020-01-31");
  assert.match(await page.textContent(".audit-table"), /暂无记录/, "nothing that long ago");
  const today = new Date().toLocaleDateString("sv-SE", { timeZone: "Asia/Shanghai" });
  await setDates(today, today);
  assert.match(await rowsText(), /新增员工/);

  await filterAction("complaint.");
  assert.match(await page.textContent(".audit-table"), /暂无记录/, "no complaint was changed");
  await filterAction("staff.");
  text = await rowsText();
  assert.match(text, /新增员工/);

  await page.click(".el-tabs__item:has-text('个人信息查看日志')");
  await page.waitForFunction(() => /查看投诉详情/.test(document.querySelector(".audit-table .el-table__body")?.textContent ?? ""));
  text = await rowsText();
  assert.ok(text.includes(complaintNumber), "the complaint read is the target");
  assert.ok(text.includes(dispatcherName), "by the dispatcher's token");
  assert.doesNotMatch(text, /新增员工/, "changes are not reads");
  await filterAction("access.invoice.");
  assert.match(await page.textContent(".audit-table"), /暂无记录/);
  await filterAction("access.complaint.");
  assert.match(await rowsText(), /查看投诉详情/);
  await check("audit-access");
});

test("导出 CSV downloads the filtered log with a BOM, a header row and the entries", async () => {
  await page.click(".el-tabs__item:has-text('操作日志')");
  await page.waitForSelector(".audit-table .el-table__row");
  await filterAction("staff.");
  const [download] = await Promise.all([page.waitForEvent("download"), page.click("button:has-text('导出 CSV')")]);
  assert.match(download.suggestedFilename(), /^审计日志-\d{8}\.csv$/);
  const bytes = readFileSync(await download.path());
  assert.deepEqual([...bytes.subarray(0, 3)], [0xef, 0xbb, 0xbf], "a UTF-8 BOM, so Excel reads the Chinese");
  const lines = bytes.subarray(3).toString("utf8").trimEnd().split("\r\n");
  assert.equal(lines[0], '"时间（北京时间）","操作人","操作人编号","角色","操作","操作代码","对象","请求编号"');
  const row = lines.find((l) => l.includes('"staff.create"'));
  assert.ok(row, lines.join("\n"));
  assert.ok(row.includes('"新增员工"') && row.includes('"王五"') && row.includes(`"${adminId}"`), row);
  assert.ok(lines.slice(1).every((l) => /^"[^"]*"(,"([^"]|"")*")*$/.test(l)), "every field quoted");
  assert.ok(!lines.some((l) => l.includes("access.")), "only the filtered changes");
  await page.waitForSelector(".el-message--success");
  assert.match(await page.textContent(".el-message--success"), /已导出\d+条记录/);
});
