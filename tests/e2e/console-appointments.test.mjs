// 预约管理 in a real browser (Debian's Chromium driven by playwright-core)
// against the Wasm build in workerd. A hall's staff member (scoped to H001)
// sets up a window over HTTP; two citizens book it over HTTP (one with a
// confirmed phone); the bookings are moved to today (as if booked for today)
// so check-in works at any hour. The staff member signs in, opens 预约日视图,
// sees the bookings with the phone masked, types a wrong code (told so), then
// the citizen's code with Enter: the row turns 已签到 and the citizen's own
// view agrees. Staff of another hall can neither see nor check in H001's
// booking (over HTTP). 统计分析 shows the chart and the same numbers in its
// table; 资源与时段 edits the window; a calendar_admin marks a holiday and a
// 调休 workday on the month view and removes one. axe-core checks every page
// state screenshotted (functions/console/web/screenshots/appointments-*.png).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { call, postJson } from "./helpers.mjs";
import { checkResponse } from "./contract.mjs";
import { check, openConsole, makeStaff, signInAs, apiSignIn } from "./browser.mjs";
import { demoCatalog } from "../../scripts/catalog/demo.mjs";

const demo = demoCatalog();
const ITEM = demo.items[0].code;
const PHONE = "13912345678";

/** Beijing date `n` days from today, YYYY-MM-DD. */
const bjDay = (n = 0) => new Date(Date.now() + 8 * 3600e3 + n * 86400e3).toISOString().slice(0, 10);

let rt, page, env;
let deskA, deskB, calAdmin, hallA, hallB;
const booked = {}; // alice, bob: the bookings as the citizens got them
const citizens = {};

before(async () => {
  env = await openConsole();
  ({ rt, page } = env);
  assert.equal((await postJson(rt.url, "/v1/admin/items:import", demo, rt.token(["catalogue_reviewer"]))).status, 200);
  deskA = await makeStaff(rt, "zhangsan", "张三", ["hall_staff"], { halls: ["H001"] });
  deskB = await makeStaff(rt, "lisi", "李四", ["hall_staff"], { halls: ["H002"] });
  calAdmin = await makeStaff(rt, "zhaoliu", "赵六", ["calendar_admin"]);
  hallA = await apiSignIn(rt, deskA.username, deskA.secret);
  hallB = await apiSignIn(rt, deskB.username, deskB.secret);

  // Every day 08:30-17:00 in half hours, from tomorrow on.
  const open = [{ start: "08:30:00", end: "17:00:00" }];
  const rules = { weekly: Array(7).fill(open), slot_minutes: 30, capacity: 5, first_day: 1, last_day: 14, min_notice_minutes: 0 };
  const put = await call(rt.url, "/v1/admin/appointments/resources/W1", { method: "PUT", headers: { ...hallA.headers, "content-type": "application/json" },
    body: JSON.stringify({ hall_id: "H001", kind: "window", name: "综合窗口", items: [ITEM], rules }) });
  assert.equal(put.status, 200, put.text);

  for (const who of ["alice", "bob"]) citizens[who] = (await postJson(rt.url, "/v1/auth/wechat", { code: `ok-${who}-1` })).body.token;
  await postJson(rt.url, "/v1/auth/sms-code", { phone: PHONE });
  const bound = await postJson(rt.url, "/v1/auth/phone", { phone: PHONE, code: rt.fakes.lastCode(PHONE) }, citizens.alice);
  assert.equal(bound.status, 200, bound.text);
  for (const [who, time] of [["alice", "09:00"], ["bob", "09:30"]]) {
    const r = await postJson(rt.url, "/v1/appointments", { resource: "W1", item: ITEM, start: `${bjDay(1)}T${time}:00+08:00` }, citizens[who]);
    assert.equal(r.status, 201, r.text);
    booked[who] = r.body;
  }
  // As if booked for today: check-in is on the day of the booking only.
  const today = bjDay(0);
  rt.sql(`UPDATE appointments SET day = '${today}', slot_start = replace(slot_start, '${bjDay(1)}', '${today}'), slot_end = replace(slot_end, '${bjDay(1)}', '${today}')`);
});
after(async () => { await env?.close(); });

const get = (path, headers) => call(rt.url, path, { headers });
const citizenView = async (who) => (await call(rt.url, `/v1/appointments/${booked[who].id}`, { headers: { authorization: `Bearer ${citizens[who]}` } })).body;

test("staff of another hall can neither see nor check in this hall's bookings", async () => {
  const today = bjDay(0);
  const seen = await get(`/v1/admin/appointments?hall=H001&day=${today}`, hallB.headers);
  assert.equal(seen.status, 403, seen.text);
  checkResponse("/v1/admin/appointments", "get", seen);
  const byCode = await postJson(rt.url, "/v1/admin/appointments/check-in", { hall_id: "H001", code: booked.alice.checkin_code }, null, hallB.headers);
  assert.equal(byCode.status, 403, byCode.text);
  const atOwn = await postJson(rt.url, "/v1/admin/appointments/check-in", { hall_id: "H002", code: booked.alice.checkin_code }, null, hallB.headers);
  assert.equal(atOwn.status, 404, "the code finds nothing at the other hall");
  checkResponse("/v1/admin/appointments/check-in", "post", atOwn);
  const byId = await postJson(rt.url, `/v1/admin/appointments/${booked.alice.id}/check-in`, { code: booked.alice.checkin_code }, null, hallB.headers);
  assert.equal(byId.status, 403, byId.text);
  assert.equal((await citizenView("alice")).status, "booked", "still booked");
  const theirs = await get("/v1/admin/appointments/today", hallB.headers);
  assert.equal(theirs.status, 200, theirs.text);
  checkResponse("/v1/admin/appointments/today", "get", theirs);
  assert.deepEqual(theirs.body.halls.map((h) => [h.hall_id, h.total]), [["H002", 0]]);
  const mine = await get("/v1/admin/appointments/today", hallA.headers);
  assert.deepEqual(mine.body.halls.map((h) => [h.hall_id, h.total, h.booked]), [["H001", 2, 2]]);
  const view = await get(`/v1/admin/appointments?hall=H001&day=${today}`, hallA.headers);
  assert.equal(view.status, 200, view.text);
  checkResponse("/v1/admin/appointments", "get", view);
  assert.deepEqual(view.body.rows.map((r) => [r.id, r.phone, r.status]), [[booked.alice.id, "139****5678", "booked"], [booked.bob.id, null, "booked"]]);
  assert.ok(view.body.rows.every((r) => !("checkin_code" in r)) && !view.text.includes(PHONE), "no codes, no full phone");
});

test("hall staff check a citizen in by code", async () => {
  await signInAs(page, rt, deskA);
  await page.click("nav.side >> text=预约管理");
  await page.waitForSelector("#appt-day-title");
  await page.waitForSelector(".day-table .el-table__body tr");
  const rowOf = (id) => page.locator(".day-table .el-table__body tr", { hasText: id });
  assert.equal(await page.locator(".day-table .el-table__body tr").count(), 2);
  const alice = rowOf(booked.alice.id);
  assert.match(await alice.textContent(), /139\*\*\*\*5678/);
  assert.match(await alice.textContent(), /待签到/);
  assert.match(await rowOf(booked.bob.id).textContent(), /未绑定/);
  assert.ok(!(await page.locator(".day-table").textContent()).includes(PHONE), "the full phone is never shown");
  const logged = rt.sql("SELECT target FROM audit_log WHERE action = 'access.appointment.day' AND actor_name = '张三'");
  assert.deepEqual(logged.map((r) => r.target), [`H001/${bjDay(0)}`, `H001/${bjDay(0)}`], "each read is in the access log once (the HTTP one above, then the page)");

  // A code nobody at this hall has today.
  const taken = new Set([booked.alice.checkin_code, booked.bob.checkin_code]);
  let wrong = 0;
  while (taken.has(String(wrong).padStart(6, "0"))) wrong++;
  await page.fill("#appt-code", String(wrong).padStart(6, "0"));
  await page.press("#appt-code", "Enter");
  await page.waitForSelector(".result.bad");
  assert.match(await page.locator(".result.bad").textContent(), /没有使用该签到码的预约/);

  await page.fill("#appt-code", booked.alice.checkin_code);
  await page.press("#appt-code", "Enter");
  await page.waitForSelector(".result.ok");
  assert.match(await page.locator(".result.ok").textContent(), new RegExp(`签到成功.*${booked.alice.id}`));
  assert.match(await rowOf(booked.alice.id).textContent(), /已签到/);
  assert.match(await rowOf(booked.bob.id).textContent(), /待签到/, "only that booking");
  const count = async (label) => (await page.locator(".counts div", { hasText: label }).locator("dd").textContent()).trim();
  assert.equal(await count("已签到"), "1");
  assert.equal(await count("待签到"), "1");
  assert.equal((await citizenView("alice")).status, "checked_in");
  assert.equal((await citizenView("bob")).status, "booked");

  // The same code again: already checked in.
  const again = await postJson(rt.url, "/v1/admin/appointments/check-in", { hall_id: "H001", code: booked.alice.checkin_code }, null, hallA.headers);
  assert.equal(again.status, 409, again.text);
  checkResponse("/v1/admin/appointments/check-in", "post", again);
  assert.equal(again.body.error.message, "该预约已签到");
  await page.waitForSelector(".el-message", { state: "detached", timeout: 5000 }).catch(() => {}); // the welcome toast
  await check(page, "appointments-day");

  // By booking number (two bookings sharing a code): the code is still needed.
  assert.equal(await rowOf(booked.alice.id).locator("button", { hasText: "签到" }).count(), 0, "nothing to do for a checked-in row");
  await rowOf(booked.bob.id).locator("button", { hasText: "签到" }).click();
  await page.waitForSelector(".el-message-box input");
  await page.fill(".el-message-box input", booked.bob.checkin_code === "000000" ? "000001" : "000000");
  await page.click(".el-message-box__btns button:has-text('签到')");
  await page.waitForSelector(".el-message--error");
  assert.match(await page.locator(".el-message--error").textContent(), /签到码不正确/);
  assert.match(await rowOf(booked.bob.id).textContent(), /待签到/);
});

test("统计 shows the day's bookings and check-ins as a chart and a table; 资源与时段 edits the window", async () => {
  await page.click(".appt-tabs >> text=统计分析");
  await page.waitForSelector(".stats-chart svg");
  assert.match(await page.locator(".stats-chart svg").textContent(), /预约.*签到.*未到.*签到率/s, "the chart's legend");
  const today = page.locator(".stats-table .el-table__body tr", { hasText: bjDay(0) });
  const cells = (await today.locator("td").allTextContents()).map((s) => s.trim());
  assert.deepEqual(cells.slice(0, 4), [bjDay(0), "2", "1", "0"], "two bookings, one checked in, none missed");
  assert.equal(cells[6], "50%");
  const yesterday = (await page.locator(".stats-table .el-table__body tr", { hasText: bjDay(-1) }).locator("td").allTextContents()).map((s) => s.trim());
  assert.deepEqual([yesterday[1], yesterday[6]], ["0", "—"], "no bookings, no rate");
  const summary = async (label) => (await page.locator(".summary div", { hasText: label }).locator("dd").textContent()).trim();
  assert.equal(await summary("预约总数"), "2");
  assert.equal(await summary("签到率"), "50%");
  await check(page, "appointments-stats");

  await page.click(".appt-tabs >> text=资源与时段");
  const row = page.locator(".res-table .el-table__body tr", { hasText: "综合窗口" });
  await row.waitFor();
  assert.match(await row.textContent(), /5 人/);
  await row.locator("button", { hasText: "编辑" }).click();
  await page.waitForSelector("#res-cap");
  await page.fill("#res-cap", "8");
  await page.press("#res-cap", "Tab");
  await check(page, "appointments-resources-edit");
  await page.click(".el-dialog__footer button:has-text('保存')");
  await page.waitForSelector(".el-dialog", { state: "hidden" });
  await page.waitForFunction(() => document.querySelector(".res-table")?.textContent.includes("8 人"));
  const saved = await get("/v1/admin/appointments/resources?hall=H001", hallA.headers);
  assert.equal(saved.body.resources.find((r) => r.id === "W1").rules.capacity, 8);
  await page.waitForSelector(".el-message", { state: "detached", timeout: 5000 }).catch(() => {});
  await check(page, "appointments-resources");
});

test("a calendar admin marks a holiday and a 调休 workday on the month view and removes one", async () => {
  await signInAs(page, rt, calAdmin);
  await page.click("nav.side >> text=预约管理");
  await page.waitForSelector("#appt-cal-title");
  assert.equal(await page.locator(".appt-tabs a").count(), 1, "only 节假日与调休 for a calendar admin");
  await page.goto(`${rt.url}/console/#/appointments/day`);
  await page.waitForFunction(() => location.hash === "#/appointments/calendar", null, { timeout: 5000 });
  assert.equal((await get(`/v1/admin/appointments?hall=H001&day=${bjDay(0)}`, (await apiSignIn(rt, calAdmin.username, calAdmin.secret)).headers)).status, 403, "no day view without hall_staff");
  await page.goto(`${rt.url}/console/#/appointments`);
  await page.waitForSelector("#appt-cal-title");
  const month = bjDay(0).slice(0, 7);
  const days = Array.from({ length: 28 }, (_, i) => `${month}-${String(i + 1).padStart(2, "0")}`);
  const wd = (d) => new Date(`${d}T00:00:00Z`).getUTCDay();
  const weekday = days.find((d) => wd(d) === 3); // a Wednesday
  const saturday = days.find((d) => wd(d) === 6);

  const setDay = async (day, kindLabel, name) => {
    await page.click(`button.cell[data-day="${day}"]`);
    await page.waitForSelector("#appt-cal-name");
    await page.click(`.el-dialog .el-radio:has-text('${kindLabel}')`);
    await page.fill("#appt-cal-name", name);
    await page.click(".el-dialog__footer button:has-text('保存')");
    await page.waitForSelector(".el-dialog", { state: "hidden" });
  };
  await setDay(weekday, "法定节假日", "测试假日");
  await setDay(saturday, "调休上班", "测试调休");
  await page.waitForSelector(`button.cell[data-day="${saturday}"] .tag.workday`);
  assert.match(await page.locator(`button.cell[data-day="${weekday}"]`).textContent(), /法定节假日（测试假日）/);
  assert.equal((await page.locator(`button.cell[data-day="${weekday}"] .tag`).textContent()).trim(), "休");
  const cal = await get(`/v1/admin/appointments/calendar?from=${month}-01&to=${month}-28`, hallA.headers);
  assert.deepEqual(cal.body.days.map((d) => [d.day, d.kind, d.name]), [[weekday, "holiday", "测试假日"], [saturday, "workday", "测试调休"]].sort());
  await page.waitForSelector(".el-message", { state: "detached", timeout: 5000 }).catch(() => {});
  await check(page, "appointments-calendar");

  await page.locator(".cal-table .el-table__body tr", { hasText: saturday }).locator("button", { hasText: "删除" }).click();
  await page.click(".el-message-box__btns button:has-text('删除')");
  await page.waitForFunction((d) => !document.querySelector(`button.cell[data-day="${d}"] .tag`), saturday);
  const after = await get(`/v1/admin/appointments/calendar?from=${month}-01&to=${month}-28`, hallA.headers);
  assert.deepEqual(after.body.days.map((d) => d.day), [weekday]);
});
