// 订阅消息 of an application's progress against workerd and the WeChat fake:
// the applicant accepts the application_progress template three times, submits,
// is sent a one-time notice, resubmits, is accepted and the case is completed.
// Each step goes by 订阅消息 while an acceptance lasts (one each, never twice),
// then by the inbox alone; a WeChat refusal never fails the handler's step, and
// the inbox has every step whatever the channel.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { boot, call, postJson } from "./helpers.mjs";
import { checkResponse } from "./contract.mjs";
import { walkTree, uploadFile } from "./applications.mjs";
import { demoCatalog } from "../../scripts/catalog/demo.mjs";

const demo = demoCatalog();
const TRANSFER = demo.items.find((i) => i.name === "水表过户");
const PDF = Buffer.from("%PDF-1.4\n% bianmin e2e wechat\n");
const ADDRESS = "稠城街道8号";
const NOTE = "复印件不清晰，请重新拍照";

let rt, citizen, handler, openid, template;
const auth = (t) => ({ headers: { authorization: `Bearer ${t}` } });
const put = (path, payload, token) => call(rt.url, path, { method: "PUT", headers: { authorization: `Bearer ${token}`, "content-type": "application/json" }, body: JSON.stringify(payload) });
const step = (n, body) => postJson(rt.url, `/v1/admin/applications/${n}/steps`, body, handler);
/** The 订阅消息 the fake took for our applicant and template. */
const sent = async () => (await call(rt.fakes.base, `/__fake/wechat-messages?touser=${openid}`)).body.filter((m) => m.template_id === template);
const inboxTitles = async () => (await call(rt.url, "/v1/me/messages", auth(citizen))).body.messages.filter((m) => m.kind === "application").map((m) => m.title);
const remaining = async () => (await call(rt.url, "/v1/me/wechat-subscriptions", auth(citizen))).body.subscriptions.find((s) => s.purpose === "application_progress").remaining;

before(async () => {
  rt = await boot();
  assert.equal((await postJson(rt.url, "/v1/admin/items:import", demo, rt.token(["catalogue_reviewer"]))).status, 200);
  const login = await postJson(rt.url, "/v1/auth/wechat", { code: "ok-wxapp-1" });
  assert.equal(login.status, 200, login.text);
  citizen = login.body.token;
  handler = rt.token(["application_handler"], "供水预审", [], [TRANSFER.department]);
  openid = rt.sql("SELECT openid FROM citizens WHERE openid IS NOT NULL")[0].openid;
});
after(async () => { await rt?.stop(); });

const walk = (code) => walkTree(rt.url, code);
const upload = () => uploadFile(rt.url, citizen, PDF);

async function attach(number, material) {
  const r = await put(`/v1/applications/${number}/materials`, { material, upload_id: await upload() }, citizen);
  assert.equal(r.status, 200, r.text);
  return r.body;
}

async function submit(number) {
  const r = await postJson(rt.url, `/v1/applications/${number}/submit`, {}, citizen);
  assert.equal(r.status, 200, r.text);
  checkResponse("/v1/applications/{number}/submit", "post", r);
  return r.body;
}

test("the applicant accepts the application_progress template three times", async () => {
  const listed = await call(rt.url, "/v1/me/wechat-subscriptions", auth(citizen));
  assert.equal(listed.status, 200, listed.text);
  template = listed.body.subscriptions.find((s) => s.purpose === "application_progress").template_id;
  for (let i = 0; i < 3; i++) {
    const r = await postJson(rt.url, "/v1/me/wechat-subscriptions", { errMsg: "requestSubscribeMessage:ok", [template]: "accept" }, citizen);
    assert.equal(r.status, 200, r.text);
  }
  assert.equal(await remaining(), 3);
});

test("each step goes by 订阅消息 once while acceptances last, then by the inbox alone", async () => {
  const resolved = await walk(TRANSFER.code);
  const created = await postJson(rt.url, "/v1/applications", { item_code: TRANSFER.code, answers: resolved.answered, form: { 联系地址: ADDRESS } }, citizen);
  assert.equal(created.status, 201, created.text);
  const number = created.body.number;
  for (const m of created.body.materials) await attach(number, m.name);
  assert.equal((await sent()).length, 0, "a draft tells nobody anything");

  // 1. Submitted: the first 订阅消息.
  let a = await submit(number);
  let msgs = await sent();
  assert.equal(msgs.length, 1, "one 订阅消息 for the submission");
  const [first] = msgs;
  assert.equal(first.data.character_string1.value, number);
  assert.equal(first.data.thing2.value, TRANSFER.name.slice(0, 20));
  assert.equal(first.data.phrase3.value, "已提交");
  assert.match(first.data.time4.value, /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}$/);
  assert.equal(first.page, `pages/application/detail?no=${number}`);
  assert.deepEqual(Object.keys(first.data).sort(), ["character_string1", "phrase3", "thing2", "time4"]);

  // 2. One-time notice: the second; a replay of the same step is refused and sends nothing.
  const target = a.materials.at(-1).name;
  const notice = { action: "notify", version: a.version, items: [{ material: target, note: NOTE }] };
  let r = await step(number, notice);
  assert.equal(r.status, 200, r.text);
  checkResponse("/v1/admin/applications/{number}/steps", "post", r);
  assert.equal((await sent()).length, 2);
  assert.equal((await sent()).at(-1).data.phrase3.value, "待补正");
  const replay = await step(number, notice);
  assert.equal(replay.status, 409, replay.text);
  assert.equal((await sent()).length, 2, "the replayed step sends nothing");

  // 3. Resubmitted: the third and last acceptance.
  await attach(number, target);
  a = await submit(number);
  msgs = await sent();
  assert.equal(msgs.length, 3);
  assert.equal(msgs.at(-1).data.phrase3.value, "已补正");
  assert.equal(await remaining(), 0, "every acceptance used");

  // 4. Accepted: no acceptance left, no 订阅消息; the staff step succeeds all the same.
  r = await step(number, { action: "accept", version: a.version });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.body.status, "accepted");
  assert.equal((await sent()).length, 3, "no 订阅消息 without an acceptance");

  // 5. One more acceptance, but WeChat says the user refuses (43101): the step still succeeds.
  assert.equal((await postJson(rt.url, "/v1/me/wechat-subscriptions", { [template]: "accept" }, citizen)).status, 200);
  assert.equal((await postJson(rt.fakes.base, "/__fake/wechat", { refuse: openid })).status, 200);
  r = await step(number, { action: "complete", version: r.body.version, delivery: { method: "pickup", hall: "义乌市行政服务中心" } });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.body.status, "completed");
  assert.equal((await sent()).length, 3, "the refused message was not taken");
  assert.equal(await remaining(), 0, "a refusal ends the acceptances");

  // The inbox has every step whatever the channel.
  const titles = await inboxTitles();
  for (const t of ["申请已提交", "请补正材料（一次性告知）", "补正材料已提交", "申请已受理", "申请已办结"]) assert.ok(titles.includes(t), `${t} in ${titles}`);
  assert.equal(titles.length, 5, titles.join(", "));

  // Each message its own reference; nothing sent twice; no content beyond number, item and status.
  const rows = rt.sql(`SELECT ref, status FROM wechat_sends WHERE purpose = 'application_progress' ORDER BY at, ref`);
  assert.equal(rows.length, 4, JSON.stringify(rows));
  assert.equal(new Set(rows.map((x) => x.ref)).size, 4);
  assert.ok(rows.every((x) => x.ref.startsWith(`${number}:`)), JSON.stringify(rows));
  assert.deepEqual(rows.map((x) => x.status).sort(), ["refused", "sent", "sent", "sent"]);
  const text = JSON.stringify(await sent());
  for (const secret of [ADDRESS, NOTE, "义乌市行政服务中心", "供水预审"]) assert.ok(!text.includes(secret), `${secret} in ${text}`);
});
