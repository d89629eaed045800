// Online applications (网上申报) against workerd: 情形引导 resolved through the
// API, a draft with new and reused materials, one 一次性告知, correction,
// 受理 with a deadline over the city calendar, 办结 by post, 好差评 with a
// 整改 task, progress by number without content, scope, a race, a bundle.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { boot, call, postJson } from "./helpers.mjs";
import { checkResponse } from "./contract.mjs";
import { walkTree, uploadFile } from "./applications.mjs";
import { demoCatalog } from "../../scripts/catalog/demo.mjs";

const demo = demoCatalog();
const byName = (n) => demo.items.find((i) => i.name === n);
const TRANSFER = byName("水表过户");
const CONNECT = byName("个人客户接水申请");
const PDF = Buffer.from("%PDF-1.4\n% bianmin e2e\n");
const RESULT = Buffer.from("%PDF-1.4\n% 用水证明 (e2e result)\n");

let rt, alice, bob, handler, holidays;
const auth = (t) => ({ headers: { authorization: `Bearer ${t}` } });
const put = (path, payload, token) => call(rt.url, path, { method: "PUT", headers: { authorization: `Bearer ${token}`, "content-type": "application/json" }, body: JSON.stringify(payload) });

before(async () => {
  rt = await boot();
  assert.equal((await postJson(rt.url, "/v1/admin/items:import", demo, rt.token(["catalogue_reviewer"]))).status, 200);
  alice = (await postJson(rt.url, "/v1/auth/wechat", { code: "ok-alice-app" })).body.token;
  bob = (await postJson(rt.url, "/v1/auth/wechat", { code: "ok-bob-app" })).body.token;
  handler = rt.token(["application_handler"], "供水预审", [], [TRANSFER.department]);
  // The city calendar has two working days off in the coming week.
  const mark = (offset) => { const d = new Date(Date.now() + 8 * 3600e3 + offset * 86400e3); while ([0, 6].includes(d.getUTCDay())) d.setUTCDate(d.getUTCDate() + 1); return d.toISOString().slice(0, 10); };
  holidays = [mark(1), mark(3)].filter((d, i, all) => all.indexOf(d) === i);
  for (const day of holidays) rt.sql(`INSERT OR REPLACE INTO appt_calendar (day, kind, name) VALUES ('${day}', 'holiday', 'e2e假日')`);
});
after(async () => { await rt?.stop(); });

const walk = (code) => walkTree(rt.url, code, [], (r) => checkResponse("/v1/applications/resolve", "post", r));
const upload = (token) => uploadFile(rt.url, token, PDF, "application/pdf", "/v1/applications/uploads", (r) => checkResponse("/v1/applications/uploads", "post", r));

async function draft(token, code, form = { 联系地址: "稠城街道1号" }) {
  const resolved = await walk(code);
  assert.ok(resolved, `the tree of ${code} reaches the item`);
  const r = await postJson(rt.url, "/v1/applications", { item_code: code, answers: resolved.answered, form }, token);
  assert.equal(r.status, 201, r.text);
  checkResponse("/v1/applications", "post", r);
  return r.body;
}

async function fill(token, a, skip = new Map()) {
  let last = a;
  for (const m of a.materials) {
    const id = skip.get(m.name) ?? (await upload(token));
    const r = await put(`/v1/applications/${a.number}/materials`, { material: m.name, upload_id: id }, token);
    assert.equal(r.status, 200, r.text);
    checkResponse("/v1/applications/{number}/materials", "put", r);
    last = r.body;
  }
  return last;
}

const step = (n, body, token = handler) => postJson(rt.url, `/v1/admin/applications/${n}/steps`, body, token);

/** `n` working days after today in Beijing over weekends and the given holidays. */
function workingDaysAfter(n, holidays) {
  const d = new Date(Date.now() + 8 * 3600 * 1000);
  let left = n;
  while (left > 0) {
    d.setUTCDate(d.getUTCDate() + 1);
    const iso = d.toISOString().slice(0, 10);
    if (d.getUTCDay() !== 0 && d.getUTCDay() !== 6 && !holidays.includes(iso)) left--;
  }
  return d.toISOString().slice(0, 10);
}

test("a citizen resolves 过户, applies with reused and new files, corrects once, is accepted, gets the result by post and rates it", async () => {
  // An earlier application leaves a file to reuse.
  const earlier = await fill(alice, await draft(alice, CONNECT.code));
  const transfer = await draft(alice, TRANSFER.code);
  assert.equal(transfer.status, "draft");
  assert.ok(transfer.materials.every((m) => m.why.length > 0), "each material says why it is needed");
  const shared = transfer.materials.find((m) => earlier.materials.some((e) => e.name === m.name));
  assert.ok(shared, "a material both items need");
  const offered = await call(rt.url, `/v1/applications/reusable?material=${encodeURIComponent(shared.name)}`, auth(alice));
  assert.equal(offered.body.files.length, 1, offered.text);
  checkResponse("/v1/applications/reusable", "get", offered);
  let a = await fill(alice, transfer, new Map([[shared.name, offered.body.files[0].upload_id]]));
  assert.equal(a.materials.find((m) => m.name === shared.name).reused, true);
  // Bob neither sees nor changes it; a stranger's progress view has no content.
  const hidden = await call(rt.url, `/v1/applications/${a.number}`, auth(bob));
  assert.equal(hidden.status, 404);
  checkResponse("/v1/applications/{number}", "get", hidden);
  let r = await postJson(rt.url, `/v1/applications/${a.number}/submit`, {}, alice);
  assert.equal(r.status, 200, r.text);
  checkResponse("/v1/applications/{number}/submit", "post", r);
  assert.equal(r.body.status, "submitted");

  // The department's queue has it; one notice names one material and one field.
  const q = await call(rt.url, "/v1/admin/applications", auth(handler));
  assert.ok(q.body.applications.some((x) => x.number === a.number), q.text);
  checkResponse("/v1/admin/applications", "get", q);
  const refused = await call(rt.url, "/v1/admin/applications", auth(rt.token(["hall_staff"])));
  assert.equal(refused.status, 403);
  checkResponse("/v1/admin/applications", "get", refused);
  const gas = rt.token(["application_handler"], "燃气预审", [], ["义乌市燃气有限公司"]);
  const elsewhere = await call(rt.url, `/v1/admin/applications/${a.number}`, auth(gas));
  assert.equal(elsewhere.status, 403);
  checkResponse("/v1/admin/applications/{number}", "get", elsewhere);
  const seen = await call(rt.url, `/v1/admin/applications/${a.number}`, auth(handler));
  checkResponse("/v1/admin/applications/{number}", "get", seen);
  const target = seen.body.materials.at(-1).name;
  r = await step(a.number, { action: "notify", version: seen.body.version, items: [{ material: target, note: "复印件不清晰，请重新拍照" }, { field: "联系地址", note: "请写到门牌号" }] });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.body.status, "correction");
  checkResponse("/v1/admin/applications/{number}/steps", "post", r);
  const file = await call(rt.url, `/v1/admin/applications/${a.number}/material?name=${encodeURIComponent(target)}`, auth(handler));
  assert.equal(file.status, 200);
  checkResponse("/v1/admin/applications/{number}/material", "get", file);

  // Only what was named may change.
  const other = a.materials.find((m) => m.name !== target);
  r = await put(`/v1/applications/${a.number}/materials`, { material: other.name, upload_id: await upload(alice) }, alice);
  assert.equal(r.status, 409, r.text);
  checkResponse("/v1/applications/{number}/materials", "put", r);
  r = await put(`/v1/applications/${a.number}/form`, { form: { 联系地址: "稠城街道1号3幢201室" } }, alice);
  assert.equal(r.status, 200, r.text);
  checkResponse("/v1/applications/{number}/form", "put", r);
  r = await put(`/v1/applications/${a.number}/materials`, { material: target, upload_id: await upload(alice) }, alice);
  assert.equal(r.status, 200, r.text);
  r = await postJson(rt.url, `/v1/applications/${a.number}/submit`, {}, alice);
  assert.equal(r.body.status, "submitted", r.text);
  r = await step(a.number, { action: "notify", version: r.body.version, items: [{ material: target, note: "again" }] });
  assert.equal(r.status, 409, "a second notice breaks the one-time rule");
  checkResponse("/v1/admin/applications/{number}/steps", "post", r);

  // Accepted: the deadline is in working days over the city calendar (过户 is 即办: today).
  const current = (await call(rt.url, `/v1/admin/applications/${a.number}`, auth(handler))).body;
  // Two staff at once: one wins, the other gets 409.
  const both = await Promise.all([step(a.number, { action: "accept", version: current.version }), step(a.number, { action: "reject", version: current.version, reason: "不符合条件" })]);
  assert.deepEqual(both.map((x) => x.status).sort(), [200, 409], both.map((x) => x.text).join("\n"));
  for (const x of both) checkResponse("/v1/admin/applications/{number}/steps", "post", x);
  const won = both.find((x) => x.status === 200).body;
  if (won.status === "rejected") return assert.fail("the reject won the race; rerun");
  assert.equal(won.deadline, workingDaysAfter(current.promised_days, holidays));
  const receipt = await call(rt.url, `/v1/admin/applications/${a.number}/receipt`, auth(handler));
  assert.equal(receipt.status, 200);
  checkResponse("/v1/admin/applications/{number}/receipt", "get", receipt);
  assert.ok(receipt.text.includes("受理通知书") && receipt.text.includes(a.number));

  r = await step(a.number, { action: "complete", version: won.version, delivery: { method: "post", carrier: "中国邮政EMS", tracking: "1100123456789" } });
  assert.equal(r.body.status, "completed", r.text);
  const pub = await call(rt.url, `/v1/applications/${a.number}/progress`);
  assert.equal(pub.status, 200);
  checkResponse("/v1/applications/{number}/progress", "get", pub);
  assert.equal(pub.body.status, "completed");
  assert.ok(!pub.text.includes("1100123456789") && !pub.text.includes("门牌号") && !pub.text.includes("稠城"), pub.text);

  // 不满意 needs a reason, and opens a rectification for the department.
  const unexplained = await postJson(rt.url, `/v1/applications/${a.number}/rating`, { grade: 2 }, alice);
  assert.equal(unexplained.status, 422);
  checkResponse("/v1/applications/{number}/rating", "post", unexplained);
  const rated = await postJson(rt.url, `/v1/applications/${a.number}/rating`, { grade: 2, reasons: "补正要求说得不清楚" }, alice);
  assert.equal(rated.status, 204);
  checkResponse("/v1/applications/{number}/rating", "post", rated);
  const tasks = await call(rt.url, "/v1/admin/applications/rectifications", auth(handler));
  checkResponse("/v1/admin/applications/rectifications", "get", tasks);
  assert.ok(tasks.body.rectifications.some((t) => t.number === a.number && t.status === "open"), tasks.text);
  const inbox = await call(rt.url, "/v1/me/messages", auth(alice));
  const titles = inbox.body.messages.filter((m) => m.kind === "application").map((m) => m.title);
  for (const t of ["申请已提交", "请补正材料（一次性告知）", "申请已受理", "申请已办结", "您的评价已转部门整改"]) assert.ok(titles.includes(t), `${t} in ${titles}`);
  const mine = await call(rt.url, "/v1/applications/mine", auth(alice));
  assert.equal(mine.body.applications.find((x) => x.number === a.number).status, "completed");
  checkResponse("/v1/applications/mine", "get", mine);
});

test("新房入住 files its items as one bundle, each handled on its own", async () => {
  const parts = [];
  for (const item of [CONNECT, TRANSFER]) parts.push({ item_code: item.code, answers: (await walk(item.code)).answered });
  const r = await postJson(rt.url, "/v1/applications/bundles", { parts, form: { 联系地址: "稠城街道2号" } }, bob);
  assert.equal(r.status, 201, r.text);
  assert.equal(r.body.numbers.length, 2);
  checkResponse("/v1/applications/bundles", "post", r);
  const second = await call(rt.url, `/v1/applications/${r.body.numbers[1]}`, auth(bob));
  assert.equal(second.body.bundle, r.body.numbers[0]);
  checkResponse("/v1/applications/{number}", "get", second);
  // Each part is handled on its own: 接水 accepted alone, its deadline skipping the holidays.
  const [connect] = r.body.numbers;
  const first = await fill(bob, (await call(rt.url, `/v1/applications/${connect}`, auth(bob))).body);
  assert.equal((await postJson(rt.url, `/v1/applications/${connect}/submit`, {}, bob)).status, 200);
  const ok = await step(connect, { action: "accept", version: first.version + 1 });
  assert.equal(ok.status, 200, ok.text);
  assert.ok(first.promised_days > 0);
  assert.equal(ok.body.deadline, workingDaysAfter(first.promised_days, holidays));
  const other = await call(rt.url, `/v1/applications/${r.body.numbers[1]}`, auth(bob));
  assert.equal(other.body.status, "draft", "the other part is untouched");
  const single = await postJson(rt.url, "/v1/applications/bundles", { parts: parts.slice(0, 1) }, bob);
  assert.equal(single.status, 422);
  checkResponse("/v1/applications/bundles", "post", single);
});

test("a result by 电子 delivery: attached while handling, downloadable by the applicant only once 办结", async () => {
  const a = await fill(alice, await draft(alice, TRANSFER.code));
  const submitted = await postJson(rt.url, `/v1/applications/${a.number}/submit`, {}, alice);
  assert.equal(submitted.status, 200, submitted.text);
  const accepted = await step(a.number, { action: "accept", version: submitted.body.version });
  assert.equal(accepted.status, 200, accepted.text);
  const electronic = (version) => step(a.number, { action: "complete", version, delivery: { method: "electronic", note: "用水证明请在办件详情中下载" } });
  const early = await electronic(accepted.body.version);
  assert.equal(early.status, 409, "no file, no 电子 delivery");
  checkResponse("/v1/admin/applications/{number}/steps", "post", early);
  const putFile = (body, type, token = handler) => call(rt.url, `/v1/admin/applications/${a.number}/result`, { method: "PUT", headers: { authorization: `Bearer ${token}`, "content-type": type }, body });
  const lie = await putFile("<html>not a pdf</html>", "application/pdf");
  assert.equal(lie.status, 422, lie.text);
  checkResponse("/v1/admin/applications/{number}/result", "put", lie);
  const foreign = rt.token(["application_handler"], "燃气预审", [], ["义乌市燃气有限公司"]);
  assert.equal((await putFile(RESULT, "application/pdf", foreign)).status, 403, "another department");
  assert.equal((await putFile(RESULT, "application/pdf", alice)).status, 401, "a citizen is no staff");
  const attached = await putFile(RESULT, "application/pdf");
  assert.equal(attached.status, 200, attached.text);
  checkResponse("/v1/admin/applications/{number}/result", "put", attached);
  assert.equal(attached.body.result_file, true);
  assert.equal(attached.body.result_download, null);
  assert.equal((await call(rt.url, `/v1/applications/${a.number}/result`, auth(alice))).status, 404, "not before 办结");
  assert.equal((await electronic(accepted.body.version)).status, 409, "the upload moved the version");
  const done = await electronic(attached.body.version);
  assert.equal(done.status, 200, done.text);
  assert.equal(done.body.result_download, `/v1/applications/${a.number}/result`);

  const file = await call(rt.url, done.body.result_download, auth(alice));
  assert.equal(file.status, 200);
  checkResponse("/v1/applications/{number}/result", "get", file);
  assert.equal(file.text, RESULT.toString());
  assert.equal(file.headers.get("content-type"), "application/pdf");
  assert.equal(file.headers.get("cache-control"), "no-store");
  assert.match(file.headers.get("content-disposition"), /^attachment; .*filename\*=UTF-8''SB\w+-%E5%8A%9E%E7%90%86%E7%BB%93%E6%9E%9C\.pdf$/);
  for (const [who, want] of [[bob, 404], [undefined, 401]]) {
    const r = await call(rt.url, done.body.result_download, who ? auth(who) : {});
    assert.equal(r.status, want, `${who ? "another citizen" : "no session"}: ${r.text}`);
    checkResponse("/v1/applications/{number}/result", "get", r);
  }
  const staffRead = await call(rt.url, `/v1/admin/applications/${a.number}/result`, auth(handler));
  assert.equal(staffRead.status, 200);
  checkResponse("/v1/admin/applications/{number}/result", "get", staffRead);
  const logged = rt.sql(`SELECT COUNT(*) AS n FROM audit_log WHERE action = 'access.application.result' AND target = '${a.number}'`);
  assert.equal(logged[0].n, 1, "the department's read is logged");
  // Whoever holds only the number learns nothing of the file.
  const progress = await call(rt.url, `/v1/applications/${a.number}/progress`);
  assert.ok(!progress.text.includes("/result") && !progress.text.includes("up_"), progress.text);
  // The inbox says where the result is.
  const inbox = await call(rt.url, "/v1/me/messages", auth(alice));
  assert.ok(inbox.text.includes("电子结果已发放"), inbox.text.slice(0, 300));
});

test("bad input is a clear 4xx, never a 500", async () => {
  for (const [path, body, token] of [
    ["/v1/applications/resolve", { item_code: "nope" }, undefined],
    ["/v1/applications/resolve", { item_code: TRANSFER.code, answers: ["不存在的选项"] }, undefined],
    ["/v1/applications", { item_code: TRANSFER.code, answers: [] }, alice],
    ["/v1/applications", { item_code: TRANSFER.code, form: [1, 2] }, alice],
    ["/v1/applications", { item_code: TRANSFER.code }, undefined],
  ]) {
    const r = await postJson(rt.url, path, body, token);
    assert.ok(r.status >= 400 && r.status < 500, `${path} ${JSON.stringify(body)} -> ${r.status} ${r.text}`);
    assert.ok(r.body?.error?.message, r.text);
    checkResponse(path, "post", r);
  }
  const unknown = await call(rt.url, "/v1/applications/SB20261201ABCDEFGHJK0/progress");
  assert.equal(unknown.status, 404);
  checkResponse("/v1/applications/{number}/progress", "get", unknown);
});
