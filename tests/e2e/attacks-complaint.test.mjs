// Attacks on complaint records over HTTP (issue 15, items 1, 2, 10 and 11),
// against workerd: each test is the attack, named after it, and asserts it
// fails.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { boot, call, postJson } from "./helpers.mjs";
import { checkResponse } from "./contract.mjs";

let rt, handler, citizen;
const KEY = "attack-e2e-key";
const auth = (t) => ({ headers: { authorization: `Bearer ${t}` } });
let ipSeq = 0;
/** A new client address per request, as an attacker with many would. */
const fresh = () => ({ "cf-connecting-ip": `198.18.${Math.floor(++ipSeq / 250) % 250}.${(ipSeq % 250) + 1}` });
const body = { kind: "complaint", category: "供水", subject: "某供水营业厅", content: "窗口人员态度差，让我补交无关材料", anonymous: true };

/** A code sent to `phone`, as the citizen would receive it. */
async function codeFor(phone) {
  const sent = await postJson(rt.url, "/v1/auth/sms-code", { phone }, null, fresh());
  assert.equal(sent.status, 200, sent.text);
  return rt.fakes.lastCode(phone);
}

before(async () => {
  rt = await boot({ OPEN311_API_KEYS: `attack_app:${KEY}` });
  handler = rt.token(["complaint_dispatcher"], "12345热线");
  citizen = (await postJson(rt.url, "/v1/auth/wechat", { code: "ok-attack-citizen-1" })).body.token;
  // An FAQ entry: D1 only evaluates a LIKE pattern when there is a row to match.
  const asked = await postJson(rt.url, "/v1/complaints", { kind: "consultation", category: "供水", content: "水表过户需要带什么材料？" }, citizen);
  const n = asked.body.number;
  assert.equal((await postJson(rt.url, `/v1/admin/complaints/${n}/steps`, { action: "reply", text: "请携带身份证与房产证明办理。" }, handler)).status, 200);
  const entry = { question: "水表过户需要哪些材料？", answer: "请携带身份证与房产证明到供水营业厅办理。" };
  assert.equal((await postJson(rt.url, `/v1/admin/complaints/${n}/faq`, entry, handler)).status, 201);
});
after(async () => { await rt?.stop(); });

// ---- item 2 ----

test("an Idempotency-Key already used for a phone does not replay the record to a wrong SMS code", async () => {
  const phone = "13700002222";
  const code = await codeFor(phone);
  const made = await postJson(rt.url, "/v1/complaints", { ...body, phone, sms_code: code }, null, { "idempotency-key": "victim-1" });
  assert.equal(made.status, 201, made.text);
  for (const guess of ["000000", "123456", "999999"]) {
    if (guess === code) continue;
    const stolen = await postJson(rt.url, "/v1/complaints", { ...body, phone, sms_code: guess }, null, { "idempotency-key": "victim-1" });
    assert.equal(stolen.status, 400, stolen.text);
    assert.equal(stolen.body.error.code, "sms_code_invalid");
    assert.ok(!stolen.text.includes(made.body.number) && !stolen.text.includes("态度差"), stolen.text);
  }
  // The author's retry with the code that created it still gets the first record.
  const retry = await postJson(rt.url, "/v1/complaints", { ...body, phone, sms_code: code }, null, { "idempotency-key": "victim-1" });
  assert.deepEqual([retry.status, retry.body.number], [200, made.body.number]);
});

// ---- item 1 ----

test("Open311 lists neither a mini-program complaint nor a handler's note", async () => {
  const note = "已约谈王五科长，他家住宾王路8号";
  const reply = async (n) => {
    const r = await postJson(rt.url, `/v1/admin/complaints/${n}/steps`, { action: "reply", text: note }, handler);
    assert.equal(r.status, 200, r.text);
  };
  const hidden = await postJson(rt.url, "/v1/complaints", { ...body }, citizen);
  assert.equal(hidden.status, 201, hidden.text);
  await reply(hidden.body.number);
  const before = await call(rt.url, "/open311/v2/requests.json");
  assert.equal(before.status, 200);
  assert.ok(!before.body.some((r) => r.service_request_id === hidden.body.number), `a mini-program complaint is listed: ${before.text}`);
  assert.equal((await call(rt.url, `/open311/v2/requests/${hidden.body.number}.json`)).status, 404);
  assert.deepEqual((await call(rt.url, `/open311/v2/requests.json?service_request_id=${hidden.body.number}`)).body, []);
  // Its author may make it public; Open311 filings are listed. Notes are standard phrases.
  const shown = await postJson(rt.url, "/v1/complaints", { ...body, kind: "suggestion", public: true }, citizen);
  assert.equal(shown.status, 201, shown.text);
  checkResponse("/v1/complaints", "post", shown);
  const filed = await call(rt.url, "/open311/v2/requests.json", { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ api_key: KEY, service_code: "road", lat: "29.3069", long: "120.0751", description: "路灯不亮已经一周了" }).toString() });
  assert.equal(filed.status, 201, filed.text);
  const via311 = filed.body[0].service_request_id;
  await reply(shown.body.number);
  await reply(via311);
  const all = await call(rt.url, "/open311/v2/requests.json");
  const ids = all.body.map((r) => r.service_request_id);
  assert.ok(!ids.includes(hidden.body.number), "a mini-program complaint is not listed");
  assert.ok(ids.includes(shown.body.number) && ids.includes(via311), "public and Open311 requests are");
  assert.ok(!all.text.includes("王五") && !all.text.includes("宾王路8号"), all.text);
  assert.deepEqual([...new Set(all.body.map((r) => r.status_notes))], ["已答复"]);
});

test("walking phone_last4 of a known number from rotating addresses is refused after five wrong tries", async () => {
  const phone = "13700000042";
  const made = await postJson(rt.url, "/v1/complaints", { ...body, phone, sms_code: await codeFor(phone) });
  assert.equal(made.status, 201, made.text);
  const n = made.body.number;
  const seen = { 200: 0, 404: 0, 429: 0 };
  let message;
  for (let i = 0; i < 100; i++) {
    const r = await call(rt.url, `/v1/complaints/${n}?phone_last4=${String(i).padStart(4, "0")}`, { headers: fresh() });
    seen[r.status] = (seen[r.status] ?? 0) + 1;
    if (r.status === 429) message = r.body.error.message;
  }
  assert.deepEqual(seen, { 200: 0, 404: 5, 429: 95 }, "0042, the right digits, came after the lock");
  assert.match(message, /受理编号/);
  // An unknown number answers the same, so a refusal reveals nothing.
  const unknown = `${n.slice(0, 10)}${n[10] === "A" ? "B" : "A"}${n.slice(11)}`;
  const statuses = [];
  for (let i = 0; i < 7; i++) statuses.push((await call(rt.url, `/v1/complaints/${unknown}?phone_last4=0042`, { headers: fresh() })).status);
  assert.ok(statuses.every((s) => [400, 404, 429].includes(s)), statuses.join());
});

// ---- item 10 ----

const PIECES = ["水表过户需要哪些材料我家住在宾王路", "😀🚰💧👨‍👩‍👧", "\u0001\u0007\u001b\t\r\n\u007f", "%_\\'\";--/*", "' OR 1=1 --", "[a-z]*?%25%00"];
const LENGTHS = [1, 17, 30, 101, 2000];
const texts = () => PIECES.flatMap((p) => LENGTHS.map((n) => Array.from({ length: n }, (_, i) => [...p][i % [...p].length]).join("")));

test("a long Chinese sentence in the FAQ search answers 200, not 500", async () => {
  const sentence = "水表过户需要哪些材料我家住在宾王路"; // 17 characters, 51 bytes
  const r = await call(rt.url, `/v1/faq?q=${encodeURIComponent(sentence)}`);
  assert.equal(r.status, 200, r.text);
  checkResponse("/v1/faq", "get", r);
  const found = await call(rt.url, `/v1/faq?q=${encodeURIComponent("水表过户需要哪些材料")}`);
  assert.equal(found.body.faq.length, 1, found.text);
  const long = await call(rt.url, `/v1/faq?q=${encodeURIComponent("水".repeat(101))}`);
  assert.equal(long.status, 400);
  assert.match(long.body.error.fields[0].message, /搜索词/);
});

// ---- item 11 ----

test("a department's handler cannot list, read, photograph, answer or reassign another department's cases", async () => {
  const water = rt.token(["complaint_handler"], "供水公司客服", [], ["供水公司"]);
  const cases = [];
  for (const department of ["供水公司", "城管局", null]) {
    const made = await postJson(rt.url, "/v1/complaints", { ...body, subject: `范围测试-${department}` }, citizen);
    assert.equal(made.status, 201, made.text);
    if (department) {
      const r = await postJson(rt.url, `/v1/admin/complaints/${made.body.number}/steps`, { action: "assign", department }, handler);
      assert.equal(r.status, 200, r.text);
    }
    cases.push(made.body.number);
  }
  const [ours, theirs, unassigned] = cases;
  const listed = await call(rt.url, "/v1/admin/complaints", auth(water));
  assert.equal(listed.status, 200, listed.text);
  assert.deepEqual(listed.body.complaints.map((c) => c.number), [ours], "its own department's case only");
  for (const n of [theirs, unassigned]) {
    const read = await call(rt.url, `/v1/admin/complaints/${n}`, auth(water));
    assert.equal(read.status, 403, read.text);
    assert.match(read.body.error.message, /部门/);
    assert.equal((await call(rt.url, `/v1/admin/complaints/${n}/photos/up_0000000000000000`, auth(water))).status, 403);
    assert.equal((await postJson(rt.url, `/v1/admin/complaints/${n}/steps`, { action: "reply", text: "已处理" }, water)).status, 403);
    assert.equal((await postJson(rt.url, `/v1/admin/complaints/${n}/steps`, { action: "assign", department: "供水公司" }, water)).status, 403, "pulling a case in");
  }
  assert.equal((await postJson(rt.url, `/v1/admin/complaints/${ours}/steps`, { action: "assign", department: "城管局" }, water)).status, 403, "pushing one out");
  const replied = await postJson(rt.url, `/v1/admin/complaints/${ours}/steps`, { action: "reply", text: "已安排人员上门核实" }, water);
  assert.equal(replied.status, 200, replied.text);
  const none = rt.token(["complaint_handler"], "未分配部门");
  assert.deepEqual((await call(rt.url, "/v1/admin/complaints", auth(none))).body.complaints, [], "no department, no cases");
});

test("hostile text in any parameter of the complaint routes answers 2xx or a clear 4xx, never 5xx", async () => {
  const fails = [];
  const check = async (label, p) => {
    const r = await p;
    if (r.status >= 500 || r.status < 200) fails.push(`${label}: ${r.status} ${r.text.slice(0, 200)}`);
    else if (r.status >= 400) assert.ok(r.text.length > 0, `${label}: an empty ${r.status}`);
  };
  const form = (fields) => call(rt.url, "/open311/v2/requests.json", { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: new URLSearchParams(fields).toString() });
  for (const t of texts()) {
    const u = encodeURIComponent(t);
    const label = `${JSON.stringify(t.slice(0, 12))}×${[...t].length}`;
    await check(`faq q ${label}`, call(rt.url, `/v1/faq?q=${u}`));
    await check(`faq category ${label}`, call(rt.url, `/v1/faq?category=${u}&q=${encodeURIComponent(t.slice(0, 20))}`));
    await check(`lookup number ${label}`, call(rt.url, `/v1/complaints/${u}`, { headers: fresh() }));
    await check(`lookup last4 ${label}`, call(rt.url, `/v1/complaints/TS20260101ABCDEFGHJK5?phone_last4=${u}`, { headers: fresh() }));
    await check(`staff list ${label}`, call(rt.url, `/v1/admin/complaints?status=${u}`, auth(handler)));
    for (const k of ["service_request_id", "service_code", "start_date", "end_date", "status"]) {
      await check(`open311 ${k} ${label}`, call(rt.url, `/open311/v2/requests.json?${k}=${u}`));
    }
    await check(`open311 one ${label}`, call(rt.url, `/open311/v2/requests/${u}.json`));
    await check(`open311 service ${label}`, call(rt.url, `/open311/v2/services/${u}.json`));
    for (const k of ["service_code", "description", "address_string", "lat"]) {
      await check(`open311 POST ${k} ${label}`, form({ api_key: KEY, service_code: "road", address_string: "宾王路", description: "路灯不亮已经一周了", [k]: t }));
    }
    for (const k of ["kind", "category", "subject", "content"]) {
      await check(`submit ${k} ${label}`, postJson(rt.url, "/v1/complaints", { ...body, [k]: t }, citizen));
    }
    await check(`submit address ${label}`, postJson(rt.url, "/v1/complaints", { ...body, location: { address: t } }, citizen));
    await check(`submit photos ${label}`, postJson(rt.url, "/v1/complaints", { ...body, photos: [t] }, citizen));
    await check(`submit phone ${label}`, postJson(rt.url, "/v1/complaints", { ...body, phone: t, sms_code: "123456" }));
    await check(`submit sms_code ${label}`, postJson(rt.url, "/v1/complaints", { ...body, phone: "13700003333", sms_code: t }));
    await check(`submit key ${label}`, postJson(rt.url, "/v1/complaints", { ...body, phone: "13700003333", sms_code: "123456" }, null, { "idempotency-key": encodeURIComponent(t).slice(0, 4000) }));
  }
  assert.deepEqual(fails, []);
});
