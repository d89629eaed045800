// 订阅消息 of a complaint's progress against workerd and the WeChat fake: a
// citizen accepts the complaint_progress template twice and files a
// complaint; the first two handling steps go by 订阅消息 with the case number
// and nothing personal, the third (no acceptance left) by the inbox alone;
// a complaint filed by phone without an account gets none.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { boot, call, postJson } from "./helpers.mjs";
import { checkResponse } from "./contract.mjs";

const ANON_PHONE = "13912340077";
let rt, citizen, dispatcher, template;
const authed = (token) => ({ headers: { authorization: `Bearer ${token}` } });
const wechatSent = async () => (await call(rt.fakes.base, "/__fake/wechat-messages")).body;
const complaint = {
  kind: "complaint", category: "供水", subject: "北苑营业厅", anonymous: true,
  content: "柜台人员张三要求我补交与业务无关的材料，联系电话13912345678。",
};
const stepOn = async (n, step) => {
  const r = await postJson(rt.url, `/v1/admin/complaints/${n}/steps`, step, dispatcher);
  assert.equal(r.status, 200, r.text);
  checkResponse("/v1/admin/complaints/{number}/steps", "post", r);
  return r;
};
const remaining = async () =>
  (await call(rt.url, "/v1/me/wechat-subscriptions", authed(citizen))).body.subscriptions.find((s) => s.purpose === "complaint_progress").remaining;

before(async () => {
  rt = await boot();
  const login = await postJson(rt.url, "/v1/auth/wechat", { code: "ok-wxcomplaint-1" });
  assert.equal(login.status, 200, login.text);
  citizen = login.body.token;
  dispatcher = rt.token(["complaint_dispatcher"], "热线");
  const listed = await call(rt.url, "/v1/me/wechat-subscriptions", authed(citizen));
  assert.equal(listed.status, 200, listed.text);
  template = listed.body.subscriptions.find((s) => s.purpose === "complaint_progress").template_id;
});
after(async () => { await rt?.stop(); });

test("two accepted steps go by 订阅消息 with the case number; the third, with none left, by the inbox alone", async () => {
  // The mini-program asks at two taps (submitting, opening the case): two acceptances.
  for (let i = 0; i < 2; i++) {
    const r = await postJson(rt.url, "/v1/me/wechat-subscriptions", { errMsg: "requestSubscribeMessage:ok", [template]: "accept" }, citizen);
    assert.equal(r.status, 200, r.text);
  }
  assert.equal(await remaining(), 2);
  const made = await postJson(rt.url, "/v1/complaints", complaint, citizen);
  assert.equal(made.status, 201, made.text);
  const n = made.body.number;
  assert.equal((await wechatSent()).length, 0, "受理 is on the citizen's screen: no 订阅消息 for it");
  assert.equal(await remaining(), 2);

  await stepOn(n, { action: "assign", department: "供水公司客服部" });
  await stepOn(n, { action: "reply", text: "已约谈张三并整改，如有疑问请致电13700001111。" });
  const openid = rt.sql("SELECT openid FROM citizens WHERE id = (SELECT citizen_id FROM complaints WHERE number = '" + n + "')")[0].openid;
  let sent = await wechatSent();
  assert.equal(sent.length, 2, "one 订阅消息 per step");
  for (const m of sent) {
    assert.equal(m.touser, openid);
    assert.equal(m.template_id, template);
    assert.equal(m.page, `pages/complaint/detail?no=${n}`);
    assert.equal(m.data.character_string1.value, n);
    assert.match(m.data.time4.value, /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}$/);
    const text = JSON.stringify(m);
    for (const secret of ["供水公司", "张三", "1370000", "1391234", "北苑", "材料"]) assert.ok(!text.includes(secret), `${secret} in ${text}`);
  }
  assert.deepEqual(sent.map((m) => m.data.phrase2.value), ["已转交", "已答复"]);
  assert.deepEqual(sent.map((m) => m.data.thing3.value), ["已转交承办部门办理", "已答复，请在小程序查看答复"]);
  assert.equal(await remaining(), 0, "both acceptances used");
  assert.deepEqual(rt.sql("SELECT ref, status FROM wechat_sends ORDER BY ref"), [{ ref: `${n}:2`, status: "sent" }, { ref: `${n}:3`, status: "sent" }]);

  await stepOn(n, { action: "close", result: "已整改" });
  const again = await postJson(rt.url, `/v1/admin/complaints/${n}/steps`, { action: "close", result: "已整改" }, dispatcher);
  assert.equal(again.status, 409, "a replayed close is refused");
  sent = await wechatSent();
  assert.equal(sent.length, 2, "no acceptance left: no third 订阅消息");
  assert.equal(rt.sql("SELECT count(*) AS n FROM wechat_sends")[0].n, 2, "nothing claimed for the third step");
  const inbox = await call(rt.url, "/v1/me/messages", authed(citizen));
  const mine = inbox.body.messages.filter((m) => m.kind === "complaint" && m.body.includes(n));
  assert.equal(mine.length, 4, "receipt and every step in the inbox, whatever the channel");
  assert.ok(mine.some((m) => m.title === "已办结" && m.body.includes("已整改")), JSON.stringify(mine));
});

test("a complaint filed by phone without an account gets no 订阅消息 at any step", async () => {
  const before = (await wechatSent()).length;
  assert.equal((await postJson(rt.url, "/v1/auth/sms-code", { phone: ANON_PHONE })).status < 300, true);
  const made = await postJson(rt.url, "/v1/complaints", { ...complaint, phone: ANON_PHONE, sms_code: rt.fakes.lastCode(ANON_PHONE) });
  assert.equal(made.status, 201, made.text);
  const n = made.body.number;
  await stepOn(n, { action: "assign", department: "供水公司客服部" });
  await stepOn(n, { action: "close", result: "已整改" });
  assert.equal((await wechatSent()).length, before, "nothing to WeChat");
  assert.equal(rt.sql(`SELECT count(*) AS n FROM wechat_sends WHERE ref LIKE '${n}:%'`)[0].n, 0);
  const steps = rt.sql(`SELECT count(*) AS n FROM messages WHERE body LIKE '%${n}%'`)[0].n;
  assert.equal(steps, 3, "the phone's account has the receipt and both steps in its inbox");
});
