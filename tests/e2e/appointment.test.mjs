// Appointments against workerd: the 50-on-10 race (repeated), the
// per-person rule, idempotent retry, owner-only access, cancel, slot listing.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { boot, call, postJson } from "./helpers.mjs";
import { checkResponse } from "./contract.mjs";
import { demoCatalog } from "../../scripts/catalog/demo.mjs";

const demo = demoCatalog();
const ITEM = demo.items[0].code;
let rt, staff;
const sessions = [];

/** Beijing date `n` days from today, YYYY-MM-DD. */
function day(n) {
  return new Date(Date.now() + 8 * 3600e3 + n * 86400e3).toISOString().slice(0, 10);
}
/** The bookable weekdays (Mon-Fri) from tomorrow to 14 days ahead, in order. */
const WEEKDAYS = Array.from({ length: 14 }, (_, i) => day(i + 1))
  .filter((d) => ![0, 6].includes(new Date(`${d}T12:00:00+08:00`).getUTCDay()));
const weekday = (i) => WEEKDAYS[i];

const put = (path, token, payload) => call(rt.url, path, { method: "PUT", headers: { authorization: `Bearer ${token}`, "content-type": "application/json" }, body: JSON.stringify(payload) });

before(async () => {
  // Reminders at 00:00 Beijing: the cron test can run at any hour.
  rt = await boot({ APPT_REMINDER_TIME: "00:00" });
  assert.equal((await postJson(rt.url, "/v1/admin/items:import", demo, rt.token(["catalogue_reviewer"]))).status, 200);
  staff = rt.token(["hall_staff"], "窗口人员", ["H001", "H002"]);
  const period = [{ start: "08:30:00", end: "12:00:00" }];
  const rules = { weekly: [period, period, period, period, period, [], []], slot_minutes: 30, capacity: 10, first_day: 1, last_day: 14, min_notice_minutes: 0 };
  const w1 = await put("/v1/admin/appointments/resources/W1", staff, { hall_id: "H001", kind: "window", name: "综合窗口", items: [ITEM], rules });
  assert.equal(w1.status, 200, w1.text);
  checkResponse("/v1/admin/appointments/resources/{id}", "put", w1);
  // Every day, all day, one place per slot: for holds, reschedules, reminders.
  const allDay = Array(7).fill([{ start: "00:00:00", end: "23:30:00" }]);
  const small = { weekly: allDay, slot_minutes: 30, capacity: 1, first_day: 1, last_day: 14, min_notice_minutes: 0 };
  assert.equal((await put("/v1/admin/appointments/resources/W2", staff, { hall_id: "H002", kind: "window", name: "小窗口", items: [ITEM], rules: small })).status, 200);
  assert.equal((await put("/v1/admin/appointments/resources/P1", staff, { hall_id: "H002", kind: "parking", name: "停车场", rules: { ...small, first_day: 0 } })).status, 200);
  const bad = await put("/v1/admin/appointments/resources/W3", staff, { hall_id: "H404", kind: "window", name: "", items: [], rules: { ...small, capacity: 0, weekly: [] } });
  assert.equal(bad.status, 422);
  assert.equal((await put("/v1/admin/appointments/resources/W3", rt.token(["auditor"]), { hall_id: "H001", kind: "window", name: "x", items: [ITEM], rules })).status, 403);
  for (let i = 0; i < 62; i++) {
    const r = await postJson(rt.url, "/v1/auth/wechat", { code: `ok-p${i}-1` });
    assert.equal(r.status, 200, r.text);
    sessions.push(r.body.token);
  }
});
after(async () => { await rt?.stop(); });

const book = (token, start, extra = {}) => postJson(rt.url, "/v1/appointments", { resource: "W1", item: ITEM, start }, token, extra);
const authed = (token) => ({ headers: { authorization: `Bearer ${token}` } });

test("50 citizens race for a slot of 10: exactly 10 win, 40 get slot_full, every time", async () => {
  // Three races on three days (one booking per person, item and day).
  for (const [date, time] of [[weekday(0), "08:30"], [weekday(1), "09:00"], [weekday(2), "11:30"]]) {
    const start = `${date}T${time}:00+08:00`;
    const answers = await Promise.all(sessions.slice(0, 50).map((s) => book(s, start)));
    const won = answers.filter((a) => a.status === 201);
    const full = answers.filter((a) => a.status === 409 && a.body.error.code === "slot_full");
    assert.equal(won.length, 10, `${time}: ${answers.map((a) => a.status).join()}`);
    const others = answers.filter((a) => a.status !== 201 && a.body?.error?.code !== "slot_full");
    assert.deepEqual(others.map((a) => a.text), [], "every loser is told the slot is full");
    assert.equal(full.length, 40);
    checkResponse("/v1/appointments", "post", won[0]);
    assert.match(full[0].body.error.message, /约满/);
    const listed = await call(rt.url, `/v1/halls/H001/slots?item=${ITEM}&date=${date}`);
    const slot = listed.body.resources[0].slots.find((s) => s.start === start);
    assert.equal(slot.remaining, 0);
  }
  const slots = await call(rt.url, `/v1/halls/H001/slots?date=${weekday(0)}`);
  checkResponse("/v1/halls/{id}/slots", "get", slots);
  assert.equal(slots.body.resources[0].slots.length, 7);
});

test("one booking per person, item and day; an idempotent retry returns the first", async () => {
  const date = weekday(4);
  const s = sessions[50];
  const first = await book(s, `${date}T10:00:00+08:00`, { "idempotency-key": "retry-1" });
  assert.equal(first.status, 201, first.text);
  const retry = await book(s, `${date}T10:00:00+08:00`, { "idempotency-key": "retry-1" });
  assert.equal(retry.status, 200);
  assert.equal(retry.body.id, first.body.id);
  const second = await book(s, `${date}T10:30:00+08:00`);
  assert.equal(second.status, 409);
  assert.equal(second.body.error.code, "booking_limit");
  const mine = await call(rt.url, "/v1/me/appointments", authed(s));
  checkResponse("/v1/me/appointments", "get", mine);
  assert.equal(mine.body.appointments.filter((a) => a.day === date).length, 1);
});

test("only the owner sees or cancels a booking; a cancelled place is free again", async () => {
  const date = weekday(5);
  const start = `${date}T11:00:00+08:00`;
  const [a, b] = [sessions[51], sessions[52]];
  const made = await book(a, start);
  assert.equal(made.status, 201, made.text);
  assert.equal((await call(rt.url, `/v1/appointments/${made.body.id}`, authed(b))).body.error.code, "appointment_not_found");
  assert.equal((await call(rt.url, `/v1/appointments/${made.body.id}`)).status, 401);
  const own = await call(rt.url, `/v1/appointments/${made.body.id}`, authed(a));
  checkResponse("/v1/appointments/{id}", "get", own);
  assert.equal((await postJson(rt.url, `/v1/appointments/${made.body.id}/cancel`, {}, b)).status, 404);
  const cancelled = await postJson(rt.url, `/v1/appointments/${made.body.id}/cancel`, {}, a);
  assert.equal(cancelled.status, 200, cancelled.text);
  assert.equal(cancelled.body.status, "cancelled");
  assert.equal((await postJson(rt.url, `/v1/appointments/${made.body.id}/cancel`, {}, a)).status, 409);
  assert.equal((await book(a, start)).status, 201, "the freed place can be booked again");
});

test("bad slots and bad input are clear 4xx answers", async () => {
  const s = sessions[53];
  const odd = await book(s, `${weekday(3)}T08:45:00+08:00`);
  assert.equal(odd.body.error.code, "slot_unavailable");
  const today = await book(s, `${day(0)}T09:00:00+08:00`);
  assert.equal(today.body.error.code, "slot_unavailable");
  const noZone = await book(s, `${weekday(3)}T09:00:00`);
  assert.equal(noZone.status, 400);
  assert.equal((await book(s, `${weekday(3)}T09:00:00+08:00`, { "idempotency-key": "x".repeat(80) })).status, 400);
  assert.equal((await call(rt.url, "/v1/halls/H999/slots")).body.error.code, "hall_not_found");
  assert.equal((await call(rt.url, "/v1/halls/H001/slots?date=tomorrow")).status, 400);
  assert.equal((await postJson(rt.url, "/v1/appointments/holds", {}, s)).status, 400, "resource and start are required");
});

const small = (token, start, extra = {}) => postJson(rt.url, "/v1/appointments", { resource: "W2", item: ITEM, start, ...extra }, token);

test("a hold keeps the place for its holder and becomes the booking", async () => {
  const start = `${day(3)}T10:00:00+08:00`;
  const [a, b] = [sessions[54], sessions[55]];
  const hold = await postJson(rt.url, "/v1/appointments/holds", { resource: "W2", item: ITEM, start }, a);
  assert.equal(hold.status, 201, hold.text);
  checkResponse("/v1/appointments/holds", "post", hold);
  assert.equal(hold.body.status, "held");
  assert.equal((await small(b, start)).body.error.code, "slot_full", "the hold counts against capacity");
  const confirmed = await small(a, start, { hold: hold.body.id });
  assert.equal(confirmed.status, 201, confirmed.text);
  assert.equal(confirmed.body.id, hold.body.id);
  assert.equal(confirmed.body.status, "booked");
  const again = await small(b, start, { hold: hold.body.id });
  assert.equal(again.status, 404, "someone else's hold is not found");
});

test("a reschedule into a full slot keeps the old booking; into a free one it moves", async () => {
  const [a, b] = [sessions[56], sessions[57]];
  const mine = await small(a, `${day(4)}T10:00:00+08:00`);
  await small(b, `${day(4)}T10:30:00+08:00`);
  const full = await postJson(rt.url, `/v1/appointments/${mine.body.id}/reschedule`, { start: `${day(4)}T10:30:00+08:00` }, a);
  assert.equal(full.status, 409);
  assert.equal(full.body.error.code, "slot_full");
  assert.equal((await call(rt.url, `/v1/appointments/${mine.body.id}`, authed(a))).body.status, "booked");
  const moved = await postJson(rt.url, `/v1/appointments/${mine.body.id}/reschedule`, { start: `${day(5)}T09:00:00+08:00` }, a);
  assert.equal(moved.status, 200, moved.text);
  checkResponse("/v1/appointments/{id}/reschedule", "post", moved);
  assert.equal((await call(rt.url, `/v1/appointments/${mine.body.id}`, authed(a))).body.status, "rescheduled");
  assert.equal((await small(b, `${day(4)}T10:00:00+08:00`)).status, 409, "b already has that item that day");
  assert.equal((await small(sessions[58], `${day(4)}T10:00:00+08:00`)).status, 201, "the old place is free again");
});

test("parking needs a bound plate; staff check in by code on the day", async () => {
  const a = sessions[59];
  // A slot later today (Beijing) when there is one, so check-in is on the day.
  const bj = new Date(Date.now() + 8 * 3600e3);
  const mins = bj.getUTCHours() * 60 + bj.getUTCMinutes() + 45;
  const today = mins <= 23 * 60;
  const hhmm = (m) => `${String(Math.floor(m / 60)).padStart(2, "0")}:${m % 60 < 30 ? "00" : "30"}`;
  const start = today ? `${day(0)}T${hhmm(mins)}:00+08:00` : `${day(1)}T09:00:00+08:00`;
  const noPlate = await postJson(rt.url, "/v1/appointments", { resource: "P1", start, plate: "浙G12345" }, a);
  assert.equal(noPlate.status, 400);
  assert.equal((await postJson(rt.url, "/v1/me/plates", { plate: "浙X" }, a)).status, 400);
  const bound = await postJson(rt.url, "/v1/me/plates", { plate: "浙g12345" }, a);
  assert.deepEqual(bound.body.plates, ["浙G12345"]);
  const parked = await postJson(rt.url, "/v1/appointments", { resource: "P1", start, plate: "浙G12345" }, a);
  assert.equal(parked.status, 201, parked.text);
  assert.equal(parked.body.plate, "浙G12345");
  const wrong = await postJson(rt.url, `/v1/admin/appointments/${parked.body.id}/check-in`, { code: "000000" }, staff);
  assert.equal(wrong.status, 400);
  const ok = await postJson(rt.url, `/v1/admin/appointments/${parked.body.id}/check-in`, { code: parked.body.checkin_code }, staff);
  if (today) {
    assert.equal(ok.status, 200, ok.text);
    assert.equal(ok.body.status, "checked_in");
  } else {
    assert.equal(ok.status, 409, "only on the day");
  }
  assert.equal((await postJson(rt.url, `/v1/admin/appointments/${parked.body.id}/check-in`, { code: parked.body.checkin_code }, sessions[60])).status, 401);
  assert.equal((await call(rt.url, `/v1/me/plates/${encodeURIComponent("浙G12345")}`, { method: "DELETE", ...authed(a) })).status, 204);
});

test("the cron marks no-shows, lapses parking, bans after three, and reminds exactly once", async () => {
  const victim = sessions[61];
  const me = (await call(rt.url, "/v1/me/appointments", authed(victim))).body;
  assert.deepEqual(me.appointments, []);
  // Bind a phone so the reminder SMS has somewhere to go.
  const phone = "13912345678";
  await postJson(rt.url, "/v1/auth/sms-code", { phone });
  const bound = await postJson(rt.url, "/v1/auth/phone", { phone, code: rt.fakes.lastCode(phone) }, victim);
  assert.equal(bound.status, 200, bound.text);
  const tomorrow = await small(victim, `${day(1)}T09:00:00+08:00`);
  assert.equal(tomorrow.status, 201, tomorrow.text);
  const cid = rt.sql(`SELECT citizen_id FROM appointments WHERE id = '${tomorrow.body.id}'`)[0].citizen_id;
  // Three bookings in the past (as if made last week) that nobody came to,
  // and a parking reservation two hours ago whose car never arrived.
  const values = [3, 2, 1].map((n) => `('YYPAST${n}', '${cid}', 'W1', 'H001', 'window', '${ITEM}', '${day(-n)}', '${day(-n)}T08:30:00+08:00', '${day(-n)}T09:00:00+08:00')`);
  const ago = new Date(Date.now() + 6 * 3600e3).toISOString().slice(0, 19);
  values.push(`('YYPARK1', '${cid}', 'P1', 'H002', 'parking', 'parking:P1', '${ago.slice(0, 10)}', '${ago}+08:00', '${ago}+08:00')`);
  rt.sql(`INSERT INTO appointments (id, citizen_id, resource_id, hall_id, kind, item_code, day, slot_start, slot_end, status, checkin_code, created_at, updated_at)
          SELECT column1, column2, column3, column4, column5, column6, column7, column8, column9, 'booked', '123456', 'x', 'x' FROM (VALUES ${values.join(", ")})`);
  const worker = await rt.mf.getWorker("bianmin-appointment");
  await worker.scheduled({ cron: "*/10 * * * *" });
  await worker.scheduled({ cron: "*/10 * * * *" });
  const statuses = rt.sql(`SELECT status FROM appointments WHERE id LIKE 'YYPAST%'`).map((r) => r.status);
  assert.deepEqual(statuses, ["no_show", "no_show", "no_show"]);
  assert.equal(rt.sql(`SELECT status FROM appointments WHERE id = 'YYPARK1'`)[0].status, "lapsed");
  const banned = await small(victim, `${day(2)}T09:00:00+08:00`);
  assert.equal(banned.status, 403);
  assert.equal(banned.body.error.code, "booking_banned");
  assert.match(banned.body.error.message, /前暂不能网上预约/);
  const sent = (await call(rt.fakes.base, `/__fake/messages?phone=${phone}`)).body;
  const sms = sent.filter((m) => m.template === "SMS_465900003");
  assert.equal(sms.length, 1, "one reminder SMS for tomorrow's booking across two cron runs");
  const confirmation = sent.filter((m) => m.template === "SMS_465900002");
  assert.equal(confirmation.length, 1, "the booking was confirmed by SMS");
  assert.equal(confirmation[0].params.number, tomorrow.body.id);
  const inbox = await call(rt.url, "/v1/me/messages", authed(victim));
  assert.equal(inbox.body.messages.filter((m) => m.title === "明天有预约").length, 1);
  assert.equal(inbox.body.messages.filter((m) => m.title === "预约成功").length, 1);
});

test("hall statistics count bookings per day", async () => {
  const r = await call(rt.url, `/v1/admin/appointments/stats?hall=H001&from=${day(-3)}&to=${day(14)}`, authed(staff));
  assert.equal(r.status, 200, r.text);
  checkResponse("/v1/admin/appointments/stats", "get", r);
  const race = r.body.days.find((d) => d.day === weekday(0));
  assert.equal(race.bookings, 10);
  assert.equal(r.body.days.find((d) => d.day === day(-1)).no_shows, 1);
  assert.equal((await call(rt.url, `/v1/admin/appointments/stats?hall=H001&from=${day(5)}&to=${day(0)}`, authed(staff))).status, 400);
  const cal = await put(`/v1/admin/appointments/calendar/${weekday(6)}`, rt.token(["calendar_admin"], "日历管理员"), { kind: "holiday", name: "测试假日" });
  assert.equal(cal.status, 204);
  const closed = await call(rt.url, `/v1/halls/H001/slots?date=${weekday(6)}`);
  assert.equal(closed.body.resources[0].closed, "该日期为法定节假日，大厅不办公");
});
