// 工作台's attention items in a real browser (Debian's Chromium driven by
// playwright-core) against the Wasm build in workerd: an administrator from
// scripts/staff creates over HTTP a staff member holding complaint_dispatcher
// and billing_operator; a citizen files a complaint (open, so in the queue);
// the staff member signs in and 工作台 shows the complaint card with that count
// and the payments card empty. axe-core checks the page (no serious or
// critical violation); its screenshot goes to functions/console/web/screenshots/.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { postJson } from "./helpers.mjs";
import { totp } from "../../scripts/totp.mjs";
import { PASSWORD, check, enrolByApi, openConsole, staffScript, signInPage } from "./browser.mjs";
import { demoCatalog } from "../../scripts/catalog/demo.mjs";

let rt, page, env;
before(async () => { env = await openConsole(); ({ rt, page } = env); });
after(async () => { await env?.close(); });

/** Signs in over HTTP (one step ahead, so never the enrolment's code); returns { cookie, csrf }. */
async function apiSignIn(username, secret) {
  const res = await postJson(rt.url, "/v1/staff/login", { username, password: PASSWORD, code: totp(secret, undefined, 1) }, null, { "cf-connecting-ip": "203.0.113.9" });
  assert.equal(res.status, 200, res.text);
  return { cookie: (res.headers.get("set-cookie") ?? "").split(";")[0], csrf: res.body.csrf_token };
}

test("工作台 shows a dispatcher, billing operator, hall staff and outage publisher the open complaint, no payments held, today's bookings of the hall and no outage sending; a card's entry opens its page", async () => {
  const demo = demoCatalog();
  assert.equal((await postJson(rt.url, "/v1/admin/items:import", { halls: demo.halls, items: [] }, rt.token(["catalogue_reviewer"]))).status, 200);
  const adminSecret = await enrolByApi(rt, staffScript(rt, "create-admin", "王五", "wangwu"));
  const admin = await apiSignIn("wangwu", adminSecret);
  const made = await postJson(rt.url, "/v1/admin/staff", { username: "qianqi", display_name: "钱七", roles: ["complaint_dispatcher", "billing_operator", "hall_staff", "outage_publisher"], halls: ["H001"] }, null, { cookie: admin.cookie, "x-csrf-token": admin.csrf });
  assert.equal(made.status, 201, made.text);
  const secret = await enrolByApi(rt, made.body.enrol_url);

  const citizen = (await postJson(rt.url, "/v1/auth/wechat", { code: "ok-alice-1" })).body.token;
  const filed = await postJson(rt.url, "/v1/complaints", { kind: "complaint", category: "供水", subject: "北苑营业厅排队过久", content: "周一上午在北苑营业厅排队一个多小时。", anonymous: false }, citizen);
  assert.equal(filed.status, 201, filed.text);

  await signInPage(page, rt, "qianqi", PASSWORD, totp(secret, undefined, 1));
  await page.waitForSelector(".todo-complaints .todo-stats");
  await page.waitForSelector(".todo-payments .todo-stats");

  const complaints = page.locator(".todo-complaints");
  assert.match(await complaints.locator("h3").textContent(), /投诉与建议待办/);
  const stat = async (card, label) => (await card.locator(".todo-stats div", { hasText: label }).locator("dd").textContent()).trim();
  assert.equal(await stat(complaints, "未办结"), "1", "the citizen's complaint is open");
  assert.equal(await stat(complaints, "两日内到期"), "0", "its deadline is further off");
  assert.equal(await stat(complaints, "已超期"), "0");
  assert.equal(await complaints.locator(".todo-list li").count(), 1);
  assert.match(await complaints.locator(".todo-list").textContent(), /北苑营业厅排队过久/);

  const payments = page.locator(".todo-payments");
  assert.match(await payments.locator("h3").textContent(), /待复核支付/);
  assert.equal(await stat(payments, "待复核"), "0");
  assert.match(await payments.locator(".todo-empty").textContent(), /暂无/);

  const bookings = page.locator(".todo-bookings");
  await page.waitForSelector(".todo-bookings .todo-stats");
  assert.equal(await stat(bookings, "今日预约"), "0");
  assert.equal(await bookings.locator(".todo-list li").count(), 1, "the one hall the staff member serves");
  assert.match(await bookings.locator(".todo-list").textContent(), new RegExp(demo.halls.find((h) => h.id === "H001").name));
  const outages = page.locator(".todo-outages");
  await page.waitForSelector(".todo-outages .todo-stats");
  assert.equal(await stat(outages, "发送中"), "0");
  assert.match(await outages.locator(".todo-empty").textContent(), /暂无/);

  assert.equal(await page.locator(".todo-review").count(), 0, "no catalogue_reviewer card without the role");
  assert.equal(await page.locator("#summary-title").count(), 0, "no staff counts without staff_admin");
  assert.equal(await page.locator(".todo-error").count(), 0);
  await page.waitForSelector(".el-message", { state: "detached", timeout: 5000 }).catch(() => {}); // the welcome toast
  await check(page, "home-attention");

  await complaints.locator(".todo-list a", { hasText: "北苑营业厅排队过久" }).click();
  await page.waitForURL(new RegExp(`#/complaints/${filed.body.number}$`));
});
