// 订阅消息 against workerd and the WeChat fake: a citizen reports one
// "accept" of the booking-reminder template; the day-before reminder goes by
// 订阅消息, the next one (the acceptance used up) by SMS; the access token is
// fetched once for both.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { boot, call, postJson } from "./helpers.mjs";
import { checkResponse } from "./contract.mjs";
import { demoCatalog } from "../../scripts/catalog/demo.mjs";

const demo = demoCatalog();
const [ITEM_A, ITEM_B, ITEM_C] = demo.items.map((i) => i.code);
const PHONE = "13912340001";
const REMINDER_SMS = "SMS_465900003";
let rt, citizen;

/** Beijing date `n` days from today, YYYY-MM-DD. */
const day = (n) => new Date(Date.now() + 8 * 3600e3 + n * 86400e3).toISOString().slice(0, 10);
const authed = (token) => ({ headers: { authorization: `Bearer ${token}` } });
const book = (item, time) => postJson(rt.url, "/v1/appointments", { resource: "WX1", item, start: `${day(1)}T${time}:00+08:00` }, citizen);
const cron = async () => (await rt.mf.getWorker("bianmin-appointment")).scheduled({ cron: "*/10 * * * *" });
const wechatSent = async () => (await call(rt.fakes.base, "/__fake/wechat-messages")).body;
const reminderSms = async () => (await call(rt.fakes.base, `/__fake/messages?phone=${PHONE}`)).body.filter((m) => m.template === REMINDER_SMS);

before(async () => {
  // Reminders from 00:00 Beijing, so the cron reminds tomorrow's bookings at any hour.
  rt = await boot({ APPT_REMINDER_TIME: "00:00" });
  assert.equal((await postJson(rt.url, "/v1/admin/items:import", demo, rt.token(["catalogue_reviewer"]))).status, 200);
  const staff = rt.token(["hall_staff"], "窗口人员", ["H001"]);
  const allDay = Array(7).fill([{ start: "00:00:00", end: "23:30:00" }]);
  const rules = { weekly: allDay, slot_minutes: 30, capacity: 5, first_day: 1, last_day: 14, min_notice_minutes: 0 };
  const put = await call(rt.url, "/v1/admin/appointments/resources/WX1", { method: "PUT", headers: { authorization: `Bearer ${staff}`, "content-type": "application/json" },
    body: JSON.stringify({ hall_id: "H001", kind: "window", name: "综合窗口", items: [ITEM_A, ITEM_B, ITEM_C], rules }) });
  assert.equal(put.status, 200, put.text);
  const login = await postJson(rt.url, "/v1/auth/wechat", { code: "ok-wxsub-1" });
  assert.equal(login.status, 200, login.text);
  citizen = login.body.token;
  // A phone, so the fallback has somewhere to go.
  await postJson(rt.url, "/v1/auth/sms-code", { phone: PHONE });
  const bound = await postJson(rt.url, "/v1/auth/phone", { phone: PHONE, code: rt.fakes.lastCode(PHONE) }, citizen);
  assert.equal(bound.status, 200, bound.text);
});
after(async () => { await rt?.stop(); });

test("the mini-program reports its requestSubscribeMessage result and reads what is left", async () => {
  const listed = await call(rt.url, "/v1/me/wechat-subscriptions", authed(citizen));
  assert.equal(listed.status, 200, listed.text);
  checkResponse("/v1/me/wechat-subscriptions", "get", listed);
  assert.ok(listed.body.subscriptions.every((s) => s.remaining === 0));
  const reminder = listed.body.subscriptions.find((s) => s.purpose === "booking_reminder").template_id;
  const confirmed = listed.body.subscriptions.find((s) => s.purpose === "booking_confirmed").template_id;
  const bad = await postJson(rt.url, "/v1/me/wechat-subscriptions", { "not-our-template": "accept", [reminder]: "maybe" }, citizen);
  assert.equal(bad.status, 422, bad.text);
  assert.deepEqual(bad.body.error.fields.map((f) => f.field).sort(), ["not-our-template", reminder].sort());
  assert.equal((await call(rt.url, "/v1/me/wechat-subscriptions", { method: "POST", headers: { "content-type": "application/json" }, body: "{}" })).status, 401);
  const r = await postJson(rt.url, "/v1/me/wechat-subscriptions", { errMsg: "requestSubscribeMessage:ok", [reminder]: "accept", [confirmed]: "reject" }, citizen);
  assert.equal(r.status, 200, r.text);
  checkResponse("/v1/me/wechat-subscriptions", "post", r);
  assert.equal(r.body.subscriptions.find((s) => s.template_id === reminder).remaining, 1);
  assert.equal(r.body.subscriptions.find((s) => s.template_id === confirmed).remaining, 0);
});

test("the reminder goes by 订阅消息 while an acceptance is left, then by SMS; the token is fetched once", async () => {
  const first = await book(ITEM_A, "09:00");
  assert.equal(first.status, 201, first.text);
  await cron();
  const openid = rt.sql(`SELECT c.openid FROM citizens c JOIN appointments a ON a.citizen_id = c.id WHERE a.id = '${first.body.id}'`)[0].openid;
  let sent = await wechatSent();
  assert.equal(sent.length, 1, "one 订阅消息");
  assert.equal(sent[0].touser, openid);
  assert.equal(sent[0].data.character_string3.value, first.body.id);
  assert.equal(sent[0].data.time2.value, `${day(1)} 09:00`);
  assert.equal((await reminderSms()).length, 0, "no SMS while WeChat took it");
  const left = await call(rt.url, "/v1/me/wechat-subscriptions", authed(citizen));
  assert.equal(left.body.subscriptions.find((s) => s.purpose === "booking_reminder").remaining, 0, "the acceptance is used up");

  const second = await book(ITEM_B, "10:00");
  assert.equal(second.status, 201, second.text);
  await cron();
  await cron();
  sent = await wechatSent();
  assert.equal(sent.length, 1, "no second 订阅消息 without an acceptance");
  const sms = await reminderSms();
  assert.equal(sms.length, 1, "the second reminder falls back to SMS, once across two runs");
  assert.equal(sms[0].params.time, `${day(1)} 10:00`);
  const fake = (await call(rt.fakes.base, "/__fake/wechat")).body;
  assert.equal(fake.token_calls, 1, "one access token for every send");
  const inbox = await call(rt.url, "/v1/me/messages", authed(citizen));
  assert.equal(inbox.body.messages.filter((m) => m.title === "明天有预约").length, 2, "the inbox has both whatever the channel");
  const rows = rt.sql("SELECT purpose, status FROM wechat_sends");
  assert.deepEqual(rows, [{ purpose: "booking_reminder", status: "sent" }]);
});

test("a token WeChat calls expired is refreshed once and the reminder still goes by 订阅消息", async () => {
  const reminder = (await call(rt.url, "/v1/me/wechat-subscriptions", authed(citizen))).body.subscriptions.find((s) => s.purpose === "booking_reminder").template_id;
  assert.equal((await postJson(rt.url, "/v1/me/wechat-subscriptions", { [reminder]: "accept" }, citizen)).status, 200);
  assert.equal((await postJson(rt.fakes.base, "/__fake/wechat", { expire_tokens: true })).status, 200);
  const third = await book(ITEM_C, "11:00");
  assert.equal(third.status, 201, third.text);
  await cron();
  const sent = await wechatSent();
  assert.equal(sent.length, 2);
  assert.equal(sent[1].data.character_string3.value, third.body.id);
  assert.equal((await call(rt.fakes.base, "/__fake/wechat")).body.token_calls, 2, "one forced refresh");
  assert.equal((await reminderSms()).length, 1, "no SMS for this one");
});

test("a booking is confirmed by 订阅消息 when the citizen accepted it, and by SMS when not", async () => {
  const subs = (await call(rt.url, "/v1/me/wechat-subscriptions", authed(citizen))).body.subscriptions;
  const confirmed = subs.find((s) => s.purpose === "booking_confirmed").template_id;
  assert.equal((await postJson(rt.url, "/v1/me/wechat-subscriptions", { [confirmed]: "accept" }, citizen)).status, 200);
  const bookingSms = async (id) => (await call(rt.fakes.base, `/__fake/messages?phone=${PHONE}`)).body.filter((m) => m.params?.number === id);
  // Tomorrow's three bookings above are done with (a citizen may hold three at once).
  for (const a of (await call(rt.url, "/v1/me/appointments", authed(citizen))).body.appointments.filter((x) => x.status === "booked")) {
    assert.equal((await postJson(rt.url, `/v1/appointments/${a.id}/cancel`, {}, citizen)).status, 200);
  }
  const before = (await wechatSent()).length;
  // The day after tomorrow: tomorrow's bookings above already use each item once.
  const bookOn2 = (item, time) => postJson(rt.url, "/v1/appointments", { resource: "WX1", item, start: `${day(2)}T${time}:00+08:00` }, citizen);
  const one = await bookOn2(ITEM_A, "14:00");
  assert.equal(one.status, 201, one.text);
  let sent = await wechatSent();
  assert.equal(sent.length, before + 1, "the confirmation went by 订阅消息");
  const msg = sent.at(-1);
  assert.equal(msg.template_id, confirmed);
  assert.equal(msg.data.character_string3.value, one.body.id);
  assert.equal(msg.data.time2.value, `${day(2)} 14:00`);
  assert.equal((await bookingSms(one.body.id)).length, 0, "no confirmation SMS when WeChat took it");

  const two = await bookOn2(ITEM_B, "15:00");
  assert.equal(two.status, 201, two.text);
  sent = await wechatSent();
  assert.equal(sent.length, before + 1, "no acceptance left: no 订阅消息");
  assert.equal((await bookingSms(two.body.id)).length, 1, "the confirmation SMS instead");
  const inbox = await call(rt.url, "/v1/me/messages", authed(citizen));
  assert.equal(inbox.body.messages.filter((m) => m.title === "预约成功" && (m.body.includes(one.body.id) || m.body.includes(two.body.id))).length, 2, "both confirmations in the inbox");
});
