// The staff console in a real browser (Debian's Chromium driven by
// playwright-core) against the Wasm build in workerd: enrolment by the
// one-time link with a TOTP code the test computes, sign-in, a wrong code and
// the lock, 员工管理, and a staff member without a role seeing neither its
// menu nor its pages nor its data. axe-core checks every page (no serious or
// critical violation); each page's screenshot is saved for the README in
// functions/console/web/screenshots/.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { postJson } from "./helpers.mjs";
import { totp } from "../../scripts/totp.mjs";
import { PASSWORD, check as checkPage, openConsole, staffScript, signInPage } from "./browser.mjs";

let rt, page, env;
before(async () => { env = await openConsole(); ({ rt, page } = env); });
after(async () => { await env?.close(); });
const check = (name) => checkPage(page, name);

/** Enrols through the page behind a link; returns the TOTP secret the page showed. */
async function enrolInBrowser(link, shot) {
  await page.goto(link);
  await page.waitForSelector("#enrol-password");
  assert.ok(await page.locator("svg").first().isVisible(), "the QR code is shown");
  if (shot) await check(shot);
  const secret = (await page.textContent(".secret code")).replace(/\s+/g, "");
  await page.fill("#enrol-password", PASSWORD);
  await page.fill("#enrol-confirm", PASSWORD);
  await page.fill("#enrol-code", totp(secret));
  await page.click("text=完成开通");
  await page.waitForURL(/#\/login/);
  return secret;
}

const signIn = (username, password, code) => signInPage(page, rt, username, password, code);

const adminUser = "wangwu";
let adminSecret;

test("the first administrator enrols by the link in the browser, a wrong code is refused, the right one signs in", async () => {
  adminSecret = await enrolInBrowser(staffScript(rt, "create-admin", "王五", adminUser), "enrol");
  await page.waitForSelector("#login-username");
  await check("login");
  await signIn(adminUser, PASSWORD, "000000");
  await page.waitForSelector(".el-alert--error");
  assert.match(await page.textContent(".el-alert--error"), /用户名、密码或动态口令不正确/);
  await page.fill("#login-code", totp(adminSecret, undefined, 1));
  await page.click("button:has-text('登录')");
  await page.waitForSelector(".stat-value");
  assert.match(await page.textContent("main"), /系统管理员/);
  await check("home");
  const cookies = await page.context().cookies();
  const session = cookies.find((c) => c.name === "__Host-bm_staff");
  assert.ok(session?.httpOnly && session.secure && session.sameSite === "Strict", JSON.stringify(cookies));
  await page.reload();
  await page.waitForSelector(".stat-value");
  assert.equal((await page.textContent(".topbar .name")).trim(), "王五", "a reload keeps the session");
});

let editorLink;

test("员工管理: the administrator adds an editor and gets a one-time link; the history shows the failed sign-in", async () => {
  await page.click("a.menu-item:has-text('员工管理')");
  await page.waitForSelector(".staff-table .el-table__row");
  await check("staff");
  await page.click("button:has-text('新增员工')");
  await page.fill("#staff-username", "zhaoliu");
  await page.fill("#staff-name", "赵六");
  await page.locator(".el-select", { has: page.locator("#staff-roles") }).click();
  await page.click(".el-select-dropdown__item:has-text('事项编辑')");
  await page.keyboard.press("Escape");
  await check("staff-create");
  await page.click(".el-dialog__footer button:has-text('创建')");
  await page.waitForSelector("#enrol-link");
  editorLink = await page.inputValue("#enrol-link");
  assert.ok(editorLink.startsWith(`${rt.url}/console/#/enrol/bme_`), editorLink);
  await check("staff-link");
  await page.click("button:has-text('我已保存链接')");
  const self = page.locator(".staff-table .el-table__body tr", { hasText: adminUser }).first();
  await self.locator("button:has-text('登录记录')").click();
  await page.waitForSelector(".el-drawer .el-table__row");
  const history = await page.textContent(".el-drawer .el-table__body");
  assert.match(history, /成功/);
  assert.match(history, /密码或动态口令错误/);
  await check("staff-logins");
  await page.keyboard.press("Escape");
  await page.click("a.menu-item:has-text('修改密码')");
  await page.waitForSelector("#pw-old");
  await check("password");
  await page.click("button:has-text('退出登录')");
  await page.waitForURL(/#\/login/);
});

// Each area another role holds: its menu label, its page and one of its APIs.
const OTHERS = [
  { label: "预约管理", path: "appointments", api: "/v1/admin/appointments/stats" },
  { label: "投诉与建议", path: "complaints", api: "/v1/admin/complaints" },
  { label: "停水停气", path: "outages", api: "/v1/admin/outages/o_1/delivery" },
  { label: "缴费与发票", path: "billing", api: "/v1/admin/payments/reviews" },
  { label: "员工管理", path: "staff", api: "/v1/admin/staff" },
  { label: "审计日志", path: "audit", api: "/v1/admin/audit-log" },
];

test("an editor sees only 事项管理: no other area's menu, page by direct URL, or data from its API", async () => {
  const secret = await enrolInBrowser(editorLink);
  await signIn("zhaoliu", PASSWORD, totp(secret, undefined, 1));
  await page.waitForSelector(".hello");
  const nav = await page.textContent("nav");
  assert.match(nav, /事项管理/, "the editor's own area");
  for (const o of OTHERS) {
    assert.doesNotMatch(nav, new RegExp(o.label), `no ${o.label} menu`);
    await page.goto(`${rt.url}/console/#/${o.path}`);
    await page.waitForFunction(() => location.hash === "#/", null, { timeout: 5000 });
    const status = await page.evaluate(async (path) => (await fetch(path)).status, o.api);
    assert.equal(status, 403, `${o.api} refused to the editor`);
  }
  const write = await page.evaluate(async () => (await fetch("/v1/admin/staff", { method: "POST", headers: { "content-type": "application/json" }, body: "{}" })).status);
  assert.equal(write, 403, "a write without the CSRF token, even from the console's own origin");
});

test("five wrong sign-ins lock the account and the page says so", async () => {
  await page.click("button:has-text('退出登录')").catch(() => {});
  for (let i = 0; i < 5; i++) {
    const r = await postJson(rt.url, "/v1/staff/login", { username: "zhaoliu", password: `Wrong-Guess-${i}!x`, code: "000000" }, null, { "cf-connecting-ip": `198.51.100.${i + 1}` });
    assert.ok([401, 429].includes(r.status), r.text);
  }
  await signIn("zhaoliu", "Wrong-Again-2026!", "000000");
  await page.waitForSelector(".el-alert--error");
  assert.match(await page.textContent(".el-alert--error"), /锁定/);
  await check("login-locked");
});
