// Attacks on online applications (网上申报, issue 17) over HTTP, against
// workerd: each test is the attack, named after what must hold, and asserts
// that it fails. An attack that succeeds stays here as `todo` with the hole.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { Readable } from "node:stream";
import { boot, call, postJson } from "./helpers.mjs";
import { walkTree, uploadFile } from "./applications.mjs";
import { checkResponse } from "./contract.mjs";
import { demoCatalog } from "../../scripts/catalog/demo.mjs";

const demo = demoCatalog();
const byName = (n) => demo.items.find((i) => i.name === n);
const TRANSFER = byName("水表过户");
const CONNECT = byName("个人客户接水申请");
const PDF = Buffer.from("%PDF-1.4\n% bianmin attack\n");
const PNG = Buffer.concat([Buffer.from("89504e470d0a1a0a", "hex"), Buffer.alloc(32)]);

let rt, alice, bob, handler, gas, auditor, hall;
const auth = (t) => ({ headers: { authorization: `Bearer ${t}` } });
const put = (path, payload, token) => call(rt.url, path, { method: "PUT", headers: { authorization: `Bearer ${token}`, "content-type": "application/json" }, body: typeof payload === "string" ? payload : JSON.stringify(payload) });
let ipSeq = 0;
/** A new client address per request, as an attacker with many would. */
const fresh = () => ({ "cf-connecting-ip": `198.19.${Math.floor(++ipSeq / 250) % 250}.${(ipSeq % 250) + 1}` });

before(async () => {
  rt = await boot();
  assert.equal((await postJson(rt.url, "/v1/admin/items:import", demo, rt.token(["catalogue_reviewer"]))).status, 200);
  alice = (await postJson(rt.url, "/v1/auth/wechat", { code: "ok-alice-app-attack" })).body.token;
  bob = (await postJson(rt.url, "/v1/auth/wechat", { code: "ok-bob-app-attack" })).body.token;
  handler = rt.token(["application_handler"], "供水预审", [], [TRANSFER.department]);
  gas = rt.token(["application_handler"], "燃气预审", [], ["义乌市燃气有限公司"]);
  auditor = rt.token(["auditor"], "审计");
  hall = rt.token(["hall_staff"], "大厅");
});
after(async () => { await rt?.stop(); });

const walk = (code) => walkTree(rt.url, code);

const answered = new Map();
async function answersFor(code) {
  if (!answered.has(code)) answered.set(code, (await walk(code)).answered);
  return answered.get(code);
}

const upload = (token, bytes = PDF, type = "application/pdf", path = "/v1/applications/uploads") => uploadFile(rt.url, token, bytes, type, path);

async function draft(token, code = TRANSFER.code, form = { 联系地址: "宾王路8号3幢201室" }) {
  const r = await postJson(rt.url, "/v1/applications", { item_code: code, answers: await answersFor(code), form }, token);
  assert.equal(r.status, 201, r.text);
  return r.body;
}

async function fill(token, a) {
  let last = a;
  for (const m of a.materials) {
    const r = await put(`/v1/applications/${a.number}/materials`, { material: m.name, upload_id: await upload(token) }, token);
    assert.equal(r.status, 200, r.text);
    last = r.body;
  }
  return last;
}

async function submitted(token, code = TRANSFER.code) {
  const a = await fill(token, await draft(token, code));
  const r = await postJson(rt.url, `/v1/applications/${a.number}/submit`, {}, token);
  assert.equal(r.status, 200, r.text);
  return r.body;
}

const step = (n, body, token = handler) => postJson(rt.url, `/v1/admin/applications/${n}/steps`, body, token);

async function completed(token) {
  let a = await submitted(token);
  let r = await step(a.number, { action: "accept", version: a.version });
  assert.equal(r.status, 200, r.text);
  r = await step(a.number, { action: "complete", version: r.body.version, delivery: { method: "pickup", hall: "稠城便民服务中心" } });
  assert.equal(r.status, 200, r.text);
  return r.body;
}

/** The same number with another (wrong) check character. */
const forge = (n) => `${n.slice(0, -1)}${n.at(-1) === "A" ? "B" : "A"}`;

test("another citizen's application answers 404 on every route, exactly as a number that does not exist", async () => {
  const a = await submitted(alice);
  const done = await completed(alice);
  const bobsFile = await upload(bob);
  const tries = (n) => [
    ["GET", call(rt.url, `/v1/applications/${n}`, auth(bob))],
    ["PUT form", put(`/v1/applications/${n}/form`, { form: { 联系地址: "x" } }, bob)],
    ["PUT materials", put(`/v1/applications/${n}/materials`, { material: a.materials[0].name, upload_id: bobsFile }, bob)],
    ["submit", postJson(rt.url, `/v1/applications/${n}/submit`, {}, bob)],
    ["rating", postJson(rt.url, `/v1/applications/${n}/rating`, { grade: 1, reasons: "故意差评" }, bob)],
  ];
  for (const n of [a.number, done.number]) {
    const theirs = await Promise.all(tries(n).map(async ([label, p]) => [label, await p]));
    for (const [label, r] of theirs) {
      assert.equal(r.status, 404, `${label}: ${r.text}`);
      assert.ok(!r.text.includes("宾王路"), r.text);
    }
    const none = await call(rt.url, `/v1/applications/${forge(n)}`, auth(bob));
    assert.deepEqual([none.status, none.body.error.message], [404, theirs[0][1].body.error.message], "indistinguishable");
  }
  const mine = await call(rt.url, "/v1/applications/mine", auth(bob));
  assert.ok(!mine.text.includes(a.number), mine.text);
  // Nothing changed on Alice's side.
  const still = await call(rt.url, `/v1/applications/${done.number}`, auth(alice));
  assert.equal(still.body.rating, null);
  assert.equal(rt.sql(`SELECT COUNT(*) AS n FROM uploads WHERE id = '${bobsFile}' AND used_by IS NOT NULL`)[0].n, 0);
});

test("progress by number: forged or draft numbers are 404, no notes or form, and one address is limited", async () => {
  const a = await submitted(alice);
  const seen = await call(rt.url, `/v1/admin/applications/${a.number}`, auth(handler));
  const r = await step(a.number, { action: "reject", version: seen.body.version, reason: "申请人张小明不是产权人" });
  assert.equal(r.status, 200, r.text);
  const pub = await call(rt.url, `/v1/applications/${a.number}/progress`, { headers: fresh() });
  assert.equal(pub.status, 200, pub.text);
  checkResponse("/v1/applications/{number}/progress", "get", pub);
  for (const secret of ["张小明", "产权人", "宾王路", "up_", "供水预审"]) assert.ok(!pub.text.includes(secret), `${secret} in ${pub.text}`);
  const d = await draft(alice);
  for (const n of [forge(a.number), d.number, a.number.slice(0, -1), "SB", "%27%20OR%201%3D1", "SB20260930" + "A".repeat(400)]) {
    const x = await call(rt.url, `/v1/applications/${n}/progress`, { headers: fresh() });
    assert.equal(x.status, 404, `${n}: ${x.text}`);
  }
  // Walking numbers from one address runs into the limit (30 a minute).
  const statuses = [];
  for (let i = 0; i < 35; i++) statuses.push((await call(rt.url, `/v1/applications/${forge(a.number)}/progress`, { headers: { "cf-connecting-ip": "203.0.113.77" } })).status);
  assert.ok(statuses.includes(429), statuses.join());
  assert.ok(statuses.every((s) => s === 404 || s === 429), statuses.join());
});

test("a file used by a complaint, another citizen's file or a forged id cannot be attached, and a complaint cannot take an application's file", async () => {
  const a = await draft(alice);
  const material = a.materials[0].name;
  const photo = await upload(alice, PNG, "image/png", "/v1/complaints/uploads");
  const filed = await postJson(rt.url, "/v1/complaints", { kind: "complaint", category: "供水", subject: "营业厅", content: "窗口人员让我补交无关材料", anonymous: false, photos: [photo] }, alice);
  assert.equal(filed.status, 201, filed.text);
  const bobs = await upload(bob);
  for (const id of [photo, bobs, "up_000000000000000000000000", "", "' OR '1'='1", "x".repeat(5000)]) {
    const r = await put(`/v1/applications/${a.number}/materials`, { material, upload_id: id }, alice);
    assert.equal(r.status, 422, `${id.slice(0, 30)}: ${r.text}`);
    assert.ok(r.body.error.fields?.[0]?.message, r.text);
  }
  // Alice's application file, attached, cannot then be a complaint photo.
  const png = await upload(alice, PNG, "image/png");
  assert.equal((await put(`/v1/applications/${a.number}/materials`, { material, upload_id: png }, alice)).status, 200);
  const stolen = await postJson(rt.url, "/v1/complaints", { kind: "complaint", category: "供水", subject: "营业厅", content: "再投诉一次", anonymous: false, photos: [png] }, alice);
  assert.ok(stolen.status >= 400 && stolen.status < 500, stolen.text);
  assert.equal(rt.sql(`SELECT used_by FROM uploads WHERE id = '${png}'`)[0].used_by, a.number);
  // A declared type that the bytes do not match, an empty or a too large file.
  for (const [bytes, type] of [[PDF, "image/png"], [Buffer.from("<html><script>alert(1)</script>"), "text/html"], [Buffer.alloc(0), "application/pdf"]]) {
    const r = await call(rt.url, "/v1/applications/uploads", { method: "POST", headers: { authorization: `Bearer ${alice}`, "content-type": type }, body: bytes });
    assert.ok(r.status >= 400 && r.status < 500, `${type} ${bytes.length}: ${r.status} ${r.text.slice(0, 200)}`);
    assert.ok(r.body?.error?.message, r.text.slice(0, 200));
  }
  // Over 5 MB, sent chunked so the worker reads it and refuses it by size.
  const big = await call(rt.url, "/v1/applications/uploads", { method: "POST", duplex: "half",
    headers: { authorization: `Bearer ${alice}`, "content-type": "application/pdf" },
    body: Readable.from([Buffer.from("%PDF-1.4\n"), Buffer.alloc(5 * 1024 * 1024)]) });
  assert.equal(big.status, 413, big.text.slice(0, 200));
});

test("of two submits at once one wins, and the citizen hears once", async () => {
  const a = await fill(alice, await draft(alice));
  const both = await Promise.all([0, 1].map(() => postJson(rt.url, `/v1/applications/${a.number}/submit`, {}, alice)));
  assert.deepEqual(both.map((r) => r.status).sort(), [200, 409], both.map((r) => r.text).join("\n"));
  const events = rt.sql(`SELECT COUNT(*) AS n FROM application_events WHERE number = '${a.number}' AND action = 'submit'`)[0].n;
  const notes = rt.sql(`SELECT COUNT(*) AS n FROM messages WHERE body LIKE '%${a.number}%' AND title = '申请已提交'`)[0].n;
  assert.deepEqual([events, notes], [1, 1]);
});

test("of two ratings at once one counts and one 整改 task opens", async () => {
  const a = await completed(alice);
  const both = await Promise.all([
    postJson(rt.url, `/v1/applications/${a.number}/rating`, { grade: 1, reasons: "态度差" }, alice),
    postJson(rt.url, `/v1/applications/${a.number}/rating`, { grade: 5 }, alice),
  ]);
  assert.deepEqual(both.map((r) => r.status).sort(), [204, 409], both.map((r) => r.text).join("\n"));
  const tasks = rt.sql(`SELECT COUNT(*) AS n FROM application_rectifications WHERE number = '${a.number}'`)[0].n;
  const rating = rt.sql(`SELECT rating FROM applications WHERE number = '${a.number}'`)[0].rating;
  assert.equal(tasks, rating === 1 ? 1 : 0, `rating ${rating}`);
  assert.equal((await postJson(rt.url, `/v1/applications/${a.number}/rating`, { grade: 3 }, alice)).status, 409, "rated once");
});

test("a flood of drafts at once stops at the cap of 20", async () => {
  const carol = (await postJson(rt.url, "/v1/auth/wechat", { code: "ok-carol-app-attack" })).body.token;
  const answers = await answersFor(TRANSFER.code);
  const all = await Promise.all(Array.from({ length: 26 }, () => postJson(rt.url, "/v1/applications", { item_code: TRANSFER.code, answers }, carol)));
  const tally = {};
  for (const r of all) tally[r.status] = (tally[r.status] ?? 0) + 1;
  assert.deepEqual(tally, { 201: 20, 409: 6 }, all.filter((r) => r.status !== 201).map((r) => r.text).join("\n"));
  const refused = all.find((r) => r.status === 409);
  assert.match(refused.body.error.message, /草稿/);
  const parts = [{ item_code: CONNECT.code, answers: await answersFor(CONNECT.code) }, { item_code: TRANSFER.code, answers }];
  const bundle = await postJson(rt.url, "/v1/applications/bundles", { parts }, carol);
  assert.equal(bundle.status, 409, bundle.text);
  const mine = await call(rt.url, "/v1/applications/mine", auth(carol));
  assert.equal(mine.body.applications.length, 20);
});

test("a handler of another department, an auditor or a hall clerk cannot act, open a file, print a receipt or close a task", async () => {
  const a = await completed(alice);
  assert.equal((await postJson(rt.url, `/v1/applications/${a.number}/rating`, { grade: 2, reasons: "等太久" }, alice)).status, 204);
  const b = await submitted(alice);
  const name = encodeURIComponent(b.materials[0].name);
  for (const [who, token, canRead] of [["gas", gas, false], ["auditor", auditor, true], ["hall", hall, false]]) {
    const read = await call(rt.url, `/v1/admin/applications/${b.number}`, auth(token));
    assert.equal(read.status, canRead ? 200 : 403, `${who} read: ${read.text}`);
    const s = await step(b.number, { action: "accept", version: b.version }, token);
    assert.equal(s.status, 403, `${who} step: ${s.text}`);
    assert.equal((await call(rt.url, `/v1/admin/applications/${b.number}/material?name=${name}`, auth(token))).status, 403, `${who} file`);
    assert.equal((await call(rt.url, `/v1/admin/applications/${a.number}/receipt`, auth(token))).status, 403, `${who} receipt`);
    const close = await postJson(rt.url, `/v1/admin/applications/${a.number}/rectification`, { outcome: "已整改" }, token);
    assert.equal(close.status, 403, `${who} close: ${close.text}`);
  }
  const tasks = await call(rt.url, "/v1/admin/applications/rectifications", auth(gas));
  assert.ok(!tasks.text.includes(a.number), tasks.text);
  const after = await call(rt.url, `/v1/admin/applications/${b.number}`, auth(handler));
  assert.deepEqual([after.body.status, after.body.version], ["submitted", b.version]);
  assert.equal(rt.sql(`SELECT status FROM application_rectifications WHERE number = '${a.number}'`)[0].status, "open");
});

test("every staff read of an application or its file is access-logged", async () => {
  const a = await submitted(alice);
  const before = rt.sql(`SELECT COUNT(*) AS n FROM audit_log WHERE action LIKE 'access.application.%' AND target LIKE '%${a.number}%'`)[0].n;
  assert.equal((await call(rt.url, `/v1/admin/applications/${a.number}`, auth(handler))).status, 200);
  assert.equal((await call(rt.url, `/v1/admin/applications/${a.number}/material?name=${encodeURIComponent(a.materials[0].name)}`, auth(handler))).status, 200);
  assert.equal((await call(rt.url, `/v1/admin/applications/${a.number}`, auth(auditor))).status, 200);
  const after = rt.sql(`SELECT COUNT(*) AS n FROM audit_log WHERE action LIKE 'access.application.%' AND target LIKE '%${a.number}%'`)[0].n;
  assert.equal(after - before, 3);
});

test("listing 整改 tasks, which carry the citizen's own words, is access-logged", async () => {
  const a = await completed(alice);
  assert.equal((await postJson(rt.url, `/v1/applications/${a.number}/rating`, { grade: 1, reasons: "窗口人员泄露了我家的地址" }, alice)).status, 204);
  const before = rt.sql("SELECT COUNT(*) AS n FROM audit_log WHERE action LIKE 'access.%'")[0].n;
  const list = await call(rt.url, "/v1/admin/applications/rectifications", auth(auditor));
  assert.ok(list.text.includes("泄露了我家的地址"), list.text);
  const after = rt.sql("SELECT COUNT(*) AS n FROM audit_log WHERE action LIKE 'access.%'")[0].n;
  assert.equal(after - before, 1);
});

test("a citizen's drafts never show in the department's queue", async () => {
  const d = await draft(bob);
  const q = await call(rt.url, "/v1/admin/applications?status=draft", auth(handler));
  assert.ok(q.status === 400 || (q.status === 200 && !q.text.includes(d.number)), q.text);
});

test("容缺受理 cannot put the missing materials off for decades", async () => {
  const a = await submitted(alice);
  const r = await step(a.number, { action: "accept_pending", version: a.version, materials: [a.materials[0].name], due: "+99999-01-01" });
  assert.equal(r.status, 422, r.text.slice(0, 200));
  const after = await call(rt.url, `/v1/applications/${a.number}`, auth(alice));
  assert.equal(after.body.status, "submitted");
});

test("the 受理通知书 is served under a policy that runs no script", async () => {
  const a = await submitted(alice);
  const r = await step(a.number, { action: "accept", version: a.version });
  assert.equal(r.status, 200, r.text);
  const receipt = await call(rt.url, `/v1/admin/applications/${a.number}/receipt`, auth(handler));
  assert.equal(receipt.status, 200);
  assert.match(receipt.headers.get("content-security-policy") ?? "", /default-src 'none'/);
  assert.equal(receipt.headers.get("cache-control"), "no-store");
  assert.ok(!/<script/i.test(receipt.text), receipt.text);
  // Before 受理 there is no receipt: a clear 409.
  const b = await submitted(alice);
  const none = await call(rt.url, `/v1/admin/applications/${b.number}/receipt`, auth(handler));
  assert.equal(none.status, 409, none.text);
  assert.match(none.body.error.message, /受理/);
});

test("hostile input on every application route answers a clear 4xx JSON, never 5xx", async () => {
  const a = await submitted(alice);
  const d = await draft(alice);
  const fails = [];
  const check = async (label, p, okToo = false) => {
    const r = await p;
    if (okToo && r.status === 200) return;
    if (r.status >= 500 || r.status < 400) fails.push(`${label}: ${r.status} ${r.text.slice(0, 160)}`);
    else if (!r.body?.error?.message) fails.push(`${label}: ${r.status} without a message: ${r.text.slice(0, 160)}`);
  };
  let deep = "1";
  for (let i = 0; i < 3000; i++) deep = `{"a":${deep}}`;
  const many = Object.fromEntries(Array.from({ length: 41 }, (_, i) => [`f${i}`, "x"]));
  const texts = ["' OR 1=1 --", "😀".repeat(300), "\u0000\u0007\u001b", "<script>alert(1)</script>", "长".repeat(20000)];
  const bodies = [
    ["create deep form", "/v1/applications", `{"item_code":"${TRANSFER.code}","answers":[],"form":${deep}}`],
    ["create many fields", "/v1/applications", { item_code: TRANSFER.code, answers: await answersFor(TRANSFER.code), form: many }],
    ["create huge answers", "/v1/applications", { item_code: TRANSFER.code, answers: Array(5000).fill("本人") }],
    ["create nested field", "/v1/applications", { item_code: TRANSFER.code, answers: await answersFor(TRANSFER.code), form: { 地址: { 省: "浙江" } } }],
    ["create unknown key", "/v1/applications", { item_code: TRANSFER.code, answers: [], admin: true }],
    ["create not json", "/v1/applications", "{item_code:"],
    ["create too big", "/v1/applications", { item_code: TRANSFER.code, answers: [], form: { x: "x".repeat(70000) } }],
    ["resolve deep", "/v1/applications/resolve", `{"item_code":"${TRANSFER.code}","answers":${"[".repeat(3000)}${"]".repeat(3000)}}`],
    ["bundle one", "/v1/applications/bundles", { parts: [{ item_code: TRANSFER.code }] }],
    ["bundle seven", "/v1/applications/bundles", { parts: Array(7).fill({ item_code: TRANSFER.code, answers: [] }) }],
    ["bundle unknown item", "/v1/applications/bundles", { parts: [{ item_code: "NOPE" }, { item_code: "NOPE2" }] }],
    ["submit twice", `/v1/applications/${a.number}/submit`, {}],
    ["rating grade text", `/v1/applications/${a.number}/rating`, { grade: "5" }],
    ["rating grade float", `/v1/applications/${a.number}/rating`, { grade: 4.5 }],
    ["rating grade huge", `/v1/applications/${a.number}/rating`, { grade: 1e300 }],
    ["rating too early", `/v1/applications/${a.number}/rating`, { grade: 5 }],
  ];
  for (const t of texts) {
    bodies.push([`create item ${t.slice(0, 8)}`, "/v1/applications", { item_code: t, answers: [] }]);
    bodies.push([`resolve answer ${t.slice(0, 8)}`, "/v1/applications/resolve", { item_code: TRANSFER.code, answers: [t] }]);
    bodies.push([`rating reasons ${t.slice(0, 8)}`, `/v1/applications/${d.number}/rating`, { grade: 1, reasons: t }]);
    const u = encodeURIComponent(t).slice(0, 3000);
    await check(`GET number ${t.slice(0, 8)}`, call(rt.url, `/v1/applications/${u}`, auth(alice)));
    await check(`progress ${t.slice(0, 8)}`, call(rt.url, `/v1/applications/${u}/progress`, { headers: fresh() }));
    await check(`reusable ${t.slice(0, 8)}`, call(rt.url, `/v1/applications/reusable?material=${u}&material=x`, auth(alice)), true);
    await check(`PUT material ${t.slice(0, 8)}`, put(`/v1/applications/${d.number}/materials`, { material: t, upload_id: "up_x" }, alice));
    await check(`PUT form ${t.slice(0, 8)}`, put(`/v1/applications/${d.number}/form`, { form: { [t]: { x: 1 } } }, alice));
    await check(`staff case ${t.slice(0, 8)}`, call(rt.url, `/v1/admin/applications/${u}`, auth(handler)));
    await check(`staff queue ${t.slice(0, 8)}`, call(rt.url, `/v1/admin/applications?status=${u}`, auth(handler)));
    await check(`staff material ${t.slice(0, 8)}`, call(rt.url, `/v1/admin/applications/${a.number}/material?name=${u}`, auth(handler)));
    await check(`step reason ${t.slice(0, 8)}`, step(a.number, { action: "reject", version: a.version + 99, reason: t }));
    await check(`step action ${t.slice(0, 8)}`, step(a.number, { action: t, version: a.version }));
    await check(`close ${t.slice(0, 8)}`, postJson(rt.url, `/v1/admin/applications/${a.number}/rectification`, { outcome: t }, handler));
  }
  for (const [label, path, payload] of bodies) await check(label, postJson(rt.url, path, payload, alice));
  for (const [label, payload] of [
    ["version text", { action: "accept", version: "1" }],
    ["version huge", { action: "accept", version: 1e300 }],
    ["notify nothing", { action: "notify", version: a.version, items: [] }],
    ["notify 31", { action: "notify", version: a.version, items: Array.from({ length: 31 }, (_, i) => ({ field: `f${i}`, note: "n" })) }],
    ["pending bad date", { action: "accept_pending", version: a.version, materials: [a.materials[0].name], due: "2026-02-30" }],
    ["pending past", { action: "accept_pending", version: a.version, materials: [a.materials[0].name], due: "2000-01-01" }],
    ["complete early", { action: "complete", version: a.version, delivery: { method: "post", carrier: "EMS", tracking: "<script>" } }],
    ["delivery unknown", { action: "complete", version: a.version, delivery: { method: "drone" } }],
  ]) await check(`step ${label}`, step(a.number, payload));
  await check("form not json", put(`/v1/applications/${d.number}/form`, "{form:", alice));
  await check("material missing name", call(rt.url, `/v1/admin/applications/${a.number}/material`, auth(handler)));
  await check("reusable missing name", call(rt.url, "/v1/applications/reusable", auth(alice)));
  await check("DELETE an application", call(rt.url, `/v1/applications/${a.number}`, { method: "DELETE", headers: { authorization: `Bearer ${alice}` } }));
  assert.deepEqual(fails, []);
  const still = await call(rt.url, `/v1/applications/${a.number}`, auth(alice));
  assert.deepEqual([still.body.status, still.body.version], ["submitted", a.version], "nothing changed");
});
