// Boots the runtime with the demo catalogue and an all-roles admin token,
// seeds what the operations taking an id need (supply areas and accounts,
// outages, bills, a bound water account, an invoice application, a counter
// receipt, complaints, online applications), then runs schemathesis against it (asynchronously:
// this process hosts workerd). The seeded ids reach scripts/schemathesis.toml
// as environment variables (BM_*), which names the values each operation uses.
import { spawn } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT } from "./runtime.mjs";
import { boot } from "../tests/e2e/helpers.mjs";
import { loadCatalog } from "./load-catalog.mjs";
import { demoCatalog } from "./catalog/demo.mjs";
import { HALLS } from "./catalog/common.mjs";
import { wechatNotification } from "../tests/fakes/payments.mjs";

const examples = process.argv[2] ?? "40";
// The Open311 key of the local runtime (tests/fakes/providers.mjs), as the contract's example has it.
const OPEN311_KEY = "dev-open311-key";
// The token Aliyun's pushes carry in their URL (SMS_CALLBACK_TOKEN).
const SMS_TOKEN = "fuzz-sms-callback-token";
const rt = await boot({ OPEN311_API_KEYS: `dev:${OPEN311_KEY}`, SMS_CALLBACK_TOKEN: SMS_TOKEN });
let code = 1;

/** Sends JSON (or raw bytes with a content type) and fails loudly unless the status is `want`. */
async function send(method, path, token, body, want, type = "application/json") {
  const headers = { "content-type": type };
  if (token) headers.authorization = `Bearer ${token}`;
  const res = await fetch(rt.url + path, { method, headers, body: type === "application/json" ? JSON.stringify(body) : body });
  const text = await res.text();
  if (res.status !== want) throw new Error(`seeding: ${method} ${path} answered ${res.status}, not ${want}: ${text}`);
  return text ? JSON.parse(text) : null;
}

/** Beijing time `h` hours from now, with its offset, as the outage routes take it. */
const inHours = (h) => new Date(Date.now() + h * 3600e3 + 8 * 3600e3).toISOString().slice(0, 19) + "+08:00";

/** A TOML inline value (one line) for a JSON value; nulls are left out, as TOML has none. */
function toml(v) {
  if (Array.isArray(v)) return `[${v.filter((x) => x !== null).map(toml).join(", ")}]`;
  if (v && typeof v === "object") return `{ ${Object.entries(v).filter(([, x]) => x !== null).map(([k, x]) => `${JSON.stringify(k)} = ${toml(x)}`).join(", ")} }`;
  return JSON.stringify(v);
}

/** Body overrides for an item draft: every field of a demo item (an item cannot be generated: codes carry check characters, guides cross-reference). */
const itemBody = (item) => Object.fromEntries(Object.entries(item).map(([k, v]) => [`body.${k}`, v]));

async function seed(staff, reviewer, citizen, items) {
  const env = {};
  const png = Buffer.concat([Buffer.from("89504e470d0a1a0a0000000d49484452", "hex"), Buffer.alloc(200, 7)]);
  // Item drafts: one to submit, two submitted for another reviewer to publish or reject (items[2] is edited: config()).
  const [submit, publish, reject] = items.slice(3, 6);
  for (const item of [submit, publish, reject]) await send("PUT", `/v1/admin/items/${item.code}`, staff, { ...item, name: `${item.name}（修订）` }, 200);
  for (const item of [publish, reject]) await send("POST", `/v1/admin/items/${item.code}:submit`, staff, undefined, 200);
  Object.assign(env, { BM_ITEM_SUBMIT: submit.code, BM_ITEM_PUBLISH: publish.code, BM_ITEM_REJECT: reject.code, BM_REVIEWER: reviewer });
  env.BM_TAG_DELETE = "挪车";
  env.BM_TAG_RENAME = "老年卡";
  // Supply areas and accounts: outages name areas that exist.
  await send("PUT", "/v1/admin/supply-areas", staff, { areas: [{ code: "yw", name: "义乌市", level: "district" }, { code: "bc", name: "北苑街道", level: "street", parent: "yw" },
    { code: "bc-ch", name: "春晗小区", level: "community", parent: "bc" }, { code: "bc-ch-1", name: "春晗小区1幢", level: "building", parent: "bc-ch" }] }, 200);
  await send("PUT", "/v1/admin/supply-accounts", staff, { accounts: [{ utility: "water", account_no: "20261001", area: "bc-ch-1" }, { utility: "gas", account_no: "20261001", area: "bc-ch-1" }] }, 200);
  // One outage per operation that changes one (a cancelled outage cannot be amended).
  const outage = { utility: "water", kind: "planned", areas: ["春晗小区"], start: inHours(80), end: inHours(88), reason: "管网改造", issuer: "义乌市供水有限公司", contact_phone: "0579-85510011" };
  for (const name of ["OUTAGE_ID", "OUTAGE_AMEND_ID", "OUTAGE_CANCEL_ID"]) env[`BM_${name}`] = (await send("POST", "/v1/admin/outages", staff, outage, 201)).id;
  env.BM_OUTAGE_START = inHours(96);
  env.BM_OUTAGE_END = inHours(100);
  // Water accounts and bills; the citizen binds the first account.
  await send("POST", "/v1/admin/bills:import", staff, { accounts: [
    { account_no: "20261001", holder_name: "王小明", holder_phone: "13900001111", address: "义乌市北苑街道春晗路8号2幢101室", category: "居民" },
    { account_no: "40261001", holder_name: "义乌市某某贸易有限公司", holder_phone: "13900004444", address: "义乌市稠城街道", category: "非居民" },
    { account_no: "30261002", holder_name: "钱七", holder_phone: "13900005555", address: "义乌市后宅街道", category: "居民" }],
  bills: [{ account_no: "20261001", period: "2026-08", usage_m3: 15, amount_fen: 4800, due_date: "2026-09-20", items: [{ name: "水费", amount_fen: 3300 }, { name: "污水处理费", amount_fen: 1500 }] },
    { account_no: "20261001", period: "2026-10", usage_m3: 9, amount_fen: 2880, due_date: "2099-11-20" }] }, 200);
  await send("POST", "/v1/me/water-accounts", citizen, { account: "20261001", phone: "13900001111" }, 200);
  await send("POST", "/v1/me/water-accounts", citizen, { account: "40261001", phone: "13900004444" }, 200);
  await send("POST", "/v1/me/water-accounts", citizen, { account: "30261002", phone: "13900005555" }, 200);
  await send("POST", "/v1/me/plates", citizen, { plate: "浙G12345" }, 200);
  // A bound phone (outage reminders need one) and a subscription to end.
  await send("POST", "/v1/auth/sms-code", null, { phone: "13700009999" }, 200);
  await send("POST", "/v1/auth/phone", citizen, { phone: "13700009999", code: rt.fakes.lastCode("13700009999") }, 200);
  await send("POST", "/v1/me/outage-subscriptions", citizen, { utility: "water", account_no: "20261001" }, 201);
  env.BM_SUBSCRIPTION_ID = (await send("POST", "/v1/me/outage-subscriptions", citizen, { utility: "gas", area: "春晗小区" }, 201)).id;
  const bills = await (await fetch(`${rt.url}/v1/bills?account=20261001`, { headers: { authorization: `Bearer ${citizen}` } })).json();
  const unpaid = bills.bills.filter((b) => b.status !== "paid");
  env.BM_BILL_ID = unpaid[0].id;
  env.BM_OUT_TRADE_NO = (await send("POST", `/v1/bills/${unpaid[unpaid.length - 1].id}/pay`, citizen, { provider: "alipay" }, 200)).order.out_trade_no;
  // An invoice application with its two documents, for the operator's steps and documents.
  const pdf = Buffer.concat([Buffer.from("%PDF-1.7\n"), Buffer.alloc(300, 65)]);
  const lic = (await send("POST", "/v1/invoices/uploads", citizen, png, 201, "image/png")).id;
  const notice = (await send("POST", "/v1/invoices/uploads", citizen, pdf, 201, "application/pdf")).id;
  env.BM_INVOICE_ID = (await send("POST", "/v1/invoices", citizen, { account_no: "40261001", company_name: "义乌市某某贸易有限公司", company_address: "义乌市稠城街道工人北路1号",
    contact_phone: "0579-85551234", tax_id: "91330782MA2E5W1K38", bank_name: "中国工商银行义乌分行", bank_account: "1208020009200123456", applicant: "陈会计",
    license_upload: lic, tax_notice_upload: notice }, 201)).id;
  // A counter receipt to void.
  env.BM_LEDGER_ID = String((await send("POST", "/v1/admin/invoice-ledger", staff, { kind: "receipt", number: "SF-FUZZ-0001", issued_on: "2026-11-23", recipient: "王小明", account_no: "20261001" }, 201)).id);
  // Complaints: one to handle step by step, one consultation answered for the FAQ.
  const complaint = { category: "供水", subject: "北苑营业厅", content: "柜台人员要求我补交与业务无关的材料。", anonymous: false };
  env.BM_COMPLAINT = (await send("POST", "/v1/complaints", citizen, { ...complaint, kind: "complaint" }, 201)).number;
  env.BM_CONSULTATION = (await send("POST", "/v1/complaints", citizen, { ...complaint, kind: "consultation", content: "水表过户需要带哪些材料？" }, 201)).number;
  await send("POST", `/v1/admin/complaints/${env.BM_CONSULTATION}/steps`, staff, { action: "reply", text: "带户主身份证与房产证明到营业厅办理。" }, 200);
  env.BM_CITIZEN_COMPLAINT = (await send("POST", "/v1/complaints", citizen, { ...complaint, kind: "suggestion", content: "建议延长营业厅周末办理时间。", public: true }, 201)).number;
  env.BM_CLOSED_COMPLAINT = (await send("POST", "/v1/complaints", citizen, { ...complaint, kind: "complaint", content: "营业厅空调坏了很久没人修。" }, 201)).number;
  await send("POST", `/v1/admin/complaints/${env.BM_CLOSED_COMPLAINT}/steps`, staff, { action: "close", result: "已维修" }, 200);
  // A complaint with a photo, for the staff's photo view.
  const photo = (await send("POST", "/v1/complaints/uploads", citizen, png, 201, "image/png")).id;
  env.BM_PHOTO_COMPLAINT = (await send("POST", "/v1/complaints", citizen, { ...complaint, kind: "complaint", content: "营业厅门口的台阶破损，见照片。", photos: [photo] }, 201)).number;
  env.BM_PHOTO_ID = photo;
  // A genuine notification for an order that does not exist: kept for review.
  const k = rt.fakes.keys;
  const unknown = wechatNotification(k, { appid: "wxbianmindev000001", mchid: k.mchid, out_trade_no: "W20261123000000nosuch", transaction_id: "4200000000000000000000000001",
    trade_state: "SUCCESS", success_time: "2026-11-23T10:00:00+08:00", amount: { total: 3200, currency: "CNY" } });
  const notified = await fetch(`${rt.url}/v1/payments/wechatpay/notify`, { method: "POST", headers: { "content-type": "application/json", ...unknown.headers }, body: unknown.body });
  if (notified.status !== 204) throw new Error(`seeding: the review notification answered ${notified.status}: ${await notified.text()}`);
  const reviews = await (await fetch(`${rt.url}/v1/admin/payments/reviews`, { headers: { authorization: `Bearer ${staff}` } })).json();
  env.BM_REVIEW_ID = String(reviews.reviews[0].id);
  // Appointments: a window open every day, all day; bookings to read, reschedule, cancel and check in.
  const allDay = Array(7).fill([{ start: "00:00:00", end: "23:30:00" }]);
  await send("PUT", "/v1/admin/appointments/resources/WF", staff, { hall_id: "H001", kind: "window", name: "模糊测试窗口", items: [items[0].code],
    rules: { weekly: allDay, slot_minutes: 30, capacity: 50, first_day: 0, last_day: 14, min_notice_minutes: 0 } }, 200);
  const day = (n) => new Date(Date.now() + 8 * 3600e3 + n * 86400e3).toISOString().slice(0, 10);
  const book = async (start) => send("POST", "/v1/appointments", citizen, { resource: "WF", item: items[0].code, start }, 201);
  env.BM_APPT_ID = (await book(`${day(9)}T09:00:00+08:00`)).id;
  const bj = new Date(Date.now() + 8 * 3600e3);
  const mins = bj.getUTCHours() * 60 + bj.getUTCMinutes() + 45;
  const hhmm = (m) => `${String(Math.floor(m / 60)).padStart(2, "0")}:${m % 60 < 30 ? "00" : "30"}`;
  // Check-in is on the day only: a slot later today when there is one.
  const today = mins <= 23 * 60 ? await book(`${day(0)}T${hhmm(mins)}:00+08:00`) : null;
  env.BM_CHECKIN_ID = today?.id ?? env.BM_APPT_ID;
  env.BM_CHECKIN_CODE = today?.checkin_code ?? "000000";
  env.BM_SLOT = `${day(10)}T10:00:00+08:00`;
  env.BM_TODAY = new Date(Date.now() + 8 * 3600e3).toISOString().slice(0, 10);
  env.BM_OPEN311_KEY = OPEN311_KEY;
  env.BM_SMS_TOKEN = SMS_TOKEN;
  return env;
}

/** Online applications (水表过户, 供水公司): a draft and an unclaimed file to attach, one ready to submit, one submitted
 * (its version is the contract's step example), one accepted (受理通知书), one completed to rate, one rated 2 to rectify,
 * one completed by 电子 delivery with its result file. */
async function seedApplications(citizen, handler, items) {
  const env = {};
  const transfer = items.find((i) => i.name === "水表过户").code;
  const pdf = Buffer.concat([Buffer.from("%PDF-1.7\n"), Buffer.alloc(300, 66)]);
  const upload = async () => (await send("POST", "/v1/applications/uploads", citizen, pdf, 201, "application/pdf")).id;
  const draft = () => send("POST", "/v1/applications", citizen, { item_code: transfer, answers: ["已结清", "房屋买卖", "本人办理"], form: { 联系地址: "稠城街道1号" } }, 201);
  const filled = async () => {
    let a = await draft();
    for (const m of a.materials) a = await send("PUT", `/v1/applications/${a.number}/materials`, citizen, { material: m.name, upload_id: await upload() }, 200);
    return a;
  };
  const submitted = async () => send("POST", `/v1/applications/${(await filled()).number}/submit`, citizen, undefined, 200);
  const step = (a, body) => send("POST", `/v1/admin/applications/${a.number}/steps`, handler, { ...body, version: a.version }, 200);
  const completed = async () => step(await step(await submitted(), { action: "accept" }), { action: "complete", delivery: { method: "pickup", hall: "北苑营业厅" } });
  env.BM_APPLICATION_DRAFT = (await draft()).number;
  env.BM_APPLICATION_UPLOAD = await upload();
  env.BM_APPLICATION_FILLED = (await filled()).number;
  const pending = await submitted();
  // gen-openapi.mjs's application-step example carries this version.
  if (pending.version !== 5) throw new Error(`seeding: a submitted application has version ${pending.version}, not 5 as the contract's example`);
  env.BM_APPLICATION_SUBMITTED = pending.number;
  env.BM_APPLICATION_ACCEPTED = (await step(await submitted(), { action: "accept" })).number;
  env.BM_APPLICATION_COMPLETED = (await completed()).number;
  // 电子 delivery: the result file attached after acceptance, then 办结; both downloads read it.
  const accepted = await step(await submitted(), { action: "accept" });
  const withResult = await send("PUT", `/v1/admin/applications/${accepted.number}/result`, handler, pdf, 200, "application/pdf");
  env.BM_APPLICATION_ELECTRONIC = (await step(withResult, { action: "complete", delivery: { method: "electronic", note: "请在办件详情中下载" } })).number;
  const low = await completed();
  await send("POST", `/v1/applications/${low.number}/rating`, citizen, { grade: 2, reasons: "补正要求说得不清楚" }, 204);
  env.BM_APPLICATION_RECTIFY = low.number;
  env.BM_APPLICATION_HANDLER = handler;
  return env;
}

/** scripts/schemathesis.toml, plus the item bodies the catalogue operations send (too big to keep by hand). */
function config(items, dir) {
  const [create] = items;
  const fresh = { ...create, code: "91330782MA2D4W8J3L4000172009099", basic_code: "000172009099", name: "模糊测试事项" };
  const ops = [["createItemDraft", itemBody(fresh)], ["updateItemDraft", { "path.code": items[2].code, ...itemBody(items[2]) }]];
  ops.push(["importItems", { "body.items": [], "body.halls": HALLS.slice(0, 1) }]);
  const extra = ops.map(([op, parameters]) => `\n[[operations]]\ninclude-operation-id = "${op}"\nparameters = ${toml(parameters)}\n`).join("");
  const file = join(dir, "schemathesis.toml");
  writeFileSync(file, readFileSync(join(ROOT, "scripts", "schemathesis.toml"), "utf8") + extra);
  return file;
}

try {
  const token = rt.token(["catalogue_editor", "catalogue_reviewer", "auditor", "hall_staff", "calendar_admin", "billing_operator", "complaint_dispatcher", "outage_publisher"], "schemathesis", ["H001", "H002"]);
  const catalog = demoCatalog();
  await loadCatalog(rt.url, token, catalog);
  const reviewer = rt.token(["catalogue_reviewer"], "schemathesis-reviewer");
  const login = await send("POST", "/v1/auth/wechat", null, { code: "ok-fuzz-1" }, 200);
  const env = await seed(token, reviewer, login.token, catalog.items);
  const handler = rt.token(["application_handler"], "schemathesis-application", [], ["义乌市供水有限公司"]);
  Object.assign(env, await seedApplications(login.token, handler, catalog.items));
  const configFile = config(catalog.items, rt.state);
  const run = (bearer, extra) => new Promise((resolve) => {
    const args = [
      "--config-file", configFile,
      "run", join(ROOT, "schemas", "openapi.json"), "--url", rt.url,
      "--checks", "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance",
      "--max-examples", examples, "--seed", "20261123",
      "--header", `Authorization: Bearer ${bearer}`, "--suppress-health-check", "all", "--no-color", ...extra,
    ];
    const p = spawn(process.env.SCHEMATHESIS_BIN, args, { stdio: "inherit", env: { ...process.env, ...env } });
    p.on("exit", (c) => resolve(c ?? 1));
  });
  // Pass 1: everything but the citizen's own routes, as staff. Pass 2: those
  // with a citizen session (as staff they could only ever answer 401).
  const citizenRoutes = "^/v1/(me|auth|appointments|bills|invoices|complaints|applications|payments/\\{out_trade_no\\})";
  // ST_INCLUDE_PATH_REGEX (optional) narrows both passes to the paths it matches, e.g. "^/v1/(admin/)?applications".
  const only = process.env.ST_INCLUDE_PATH_REGEX;
  code = await run(token, [...(only ? ["--include-path-regex", only] : []), "--exclude-path-regex", citizenRoutes]);
  // Logout and account deletion would end the session mid-run; the e2e suite covers them.
  const citizenOnly = only ? `(?=${citizenRoutes})(?=.*?(?:${only}))` : citizenRoutes;
  code = code || (await run(login.token, ["--include-path-regex", citizenOnly, "--exclude-operation-id", "logout", "--exclude-operation-id", "deleteMe"]));
} finally {
  await rt.stop();
}
process.exit(code);
