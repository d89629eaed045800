// VAT invoice applications (增值税发票办理, 000 §7.3) against workerd: the two
// documents checked and kept private, the fields validated, 受理 -> 开票 ->
// 邮寄 by a billing operator with inbox notices, and 票据管理.
import { test, before, after } from "node:test";
import { Readable } from "node:stream";
import assert from "node:assert/strict";
import { boot, call, postJson } from "./helpers.mjs";
import { checkResponse } from "./contract.mjs";

let rt, operator, alice, bob;
const auth = (t) => ({ headers: { authorization: `Bearer ${t}` } });
const PNG = Buffer.concat([Buffer.from("89504e470d0a1a0a0000000d49484452", "hex"), Buffer.alloc(200, 7)]);
const PDF = Buffer.concat([Buffer.from("%PDF-1.7\n"), Buffer.alloc(300, 65)]);
const upload = (token, bytes, type) => call(rt.url, "/v1/invoices/uploads", { method: "POST", headers: { authorization: `Bearer ${token}`, "content-type": type }, body: bytes });
const FORM = { account_no: "40261001", company_name: "义乌市某某贸易有限公司", company_address: "义乌市稠城街道工人北路1号", contact_phone: "0579-85551234",
  tax_id: "91330782MA2E5W1K38", bank_name: "中国工商银行义乌分行", bank_account: "1208020009200123456", applicant: "陈会计" };

before(async () => {
  rt = await boot();
  operator = rt.token(["billing_operator"], "开票员");
  const imp = { accounts: [{ account_no: "40261001", holder_name: "义乌市某某贸易有限公司", holder_phone: "13900004444", address: "义乌市稠城街道", category: "非居民" }], bills: [] };
  assert.equal((await postJson(rt.url, "/v1/admin/bills:import", imp, operator)).status, 200);
  alice = (await postJson(rt.url, "/v1/auth/wechat", { code: "ok-invalice-1" })).body.token;
  bob = (await postJson(rt.url, "/v1/auth/wechat", { code: "ok-invbob-1" })).body.token;
  assert.equal((await postJson(rt.url, "/v1/me/water-accounts", { account: "40261001", phone: "13900004444" }, alice)).status, 200);
});
after(async () => { await rt?.stop(); });

test("documents: type and size checked against the bytes, never public", async () => {
  assert.equal((await upload(null, PNG, "image/png")).status, 401);
  const lying = await upload(alice, PDF, "image/png");
  assert.equal(lying.status, 422);
  assert.equal(lying.body.error.code, "upload_invalid");
  assert.equal((await upload(alice, Buffer.from("hello"), "text/plain")).status, 422);
  // Sent chunked (no Content-Length), so the worker reads the bytes and
  // refuses them by size: with a Content-Length it answers 413 before
  // reading and workerd resets the connection while the client still writes.
  const big = await call(rt.url, "/v1/invoices/uploads", { method: "POST", duplex: "half",
    headers: { authorization: `Bearer ${alice}`, "content-type": "image/png" },
    body: Readable.from([PNG, Buffer.alloc(5 * 1024 * 1024)]) });
  assert.equal(big.status, 413);
  const ok = await upload(alice, PNG, "image/png");
  assert.equal(ok.status, 201, ok.text);
  checkResponse("/v1/invoices/uploads", "post", ok);
  assert.equal(ok.body.size, PNG.length);
  const back = await call(rt.url, `/v1/invoices/uploads/${ok.body.id}`, auth(alice));
  assert.ok([404, 405].includes(back.status), "no route reads a document back");
});

test("an application, validated, then 受理 -> 开票 -> 邮寄 with inbox notices and 票据管理", async () => {
  const lic = (await upload(alice, PNG, "image/png")).body.id;
  const notice = (await upload(alice, PDF, "application/pdf")).body.id;
  const bad = await postJson(rt.url, "/v1/invoices", { ...FORM, tax_id: "91330782MA2E5W1K39", contact_phone: "12", bank_account: "x", license_upload: lic, tax_notice_upload: lic }, alice);
  assert.equal(bad.status, 422);
  assert.deepEqual(bad.body.error.fields.map((f) => f.field).sort(), ["bank_account", "contact_phone", "tax_id"]);
  const bobs = await postJson(rt.url, "/v1/invoices", { ...FORM, license_upload: lic, tax_notice_upload: notice }, bob);
  assert.equal(bobs.status, 422, "bob has not bound the account and the documents are not his");
  const made = await postJson(rt.url, "/v1/invoices", { ...FORM, license_upload: lic, tax_notice_upload: notice }, alice);
  assert.equal(made.status, 201, made.text);
  checkResponse("/v1/invoices", "post", made);
  assert.equal(made.body.status, "accepted");
  const id = made.body.id;
  assert.equal((await postJson(rt.url, "/v1/invoices", { ...FORM, license_upload: lic, tax_notice_upload: notice }, alice)).status, 422, "a document serves one application");
  assert.equal((await call(rt.url, `/v1/invoices/${id}`, auth(bob))).status, 404);
  const list = await call(rt.url, "/v1/invoices", auth(alice));
  checkResponse("/v1/invoices", "get", list);
  assert.deepEqual(list.body.invoices.map((i) => i.id), [id]);
  // The operator's side.
  const queue = await call(rt.url, "/v1/admin/invoices", auth(operator));
  checkResponse("/v1/admin/invoices", "get", queue);
  assert.deepEqual(queue.body.invoices.map((i) => i.id), [id]);
  const doc = await fetch(`${rt.url}/v1/admin/invoices/${id}/documents/tax-notice`, auth(operator));
  assert.equal(doc.status, 200);
  assert.equal(doc.headers.get("content-type"), "application/pdf");
  assert.ok(Buffer.from(await doc.arrayBuffer()).equals(PDF), "the bytes come back intact");
  assert.equal((await call(rt.url, `/v1/admin/invoices/${id}/documents/license`, auth(alice))).status, 401);
  const step = (body) => postJson(rt.url, `/v1/admin/invoices/${id}/steps`, body, operator);
  const early = await step({ action: "mail", carrier: "邮政EMS", tracking_no: "1190000000001" });
  assert.equal(early.status, 409);
  assert.equal(early.body.error.code, "invoice_state_invalid");
  const issued = await step({ action: "issue", invoice_no: "33002612345678" });
  assert.equal(issued.status, 200, issued.text);
  checkResponse("/v1/admin/invoices/{id}/steps", "post", issued);
  assert.equal(issued.body.status, "issued");
  const mailed = await step({ action: "mail", carrier: "邮政EMS", tracking_no: "1190000000001" });
  assert.equal(mailed.body.status, "mailed");
  assert.equal(mailed.body.tracking_no, "1190000000001");
  assert.equal((await step({ action: "reject", reason: "资料不全" })).status, 409);
  const inbox = await call(rt.url, "/v1/me/messages", auth(alice));
  assert.deepEqual(inbox.body.messages.filter((m) => m.title.includes("发票")).map((m) => m.title).reverse(),
    ["增值税发票申请已受理", "增值税发票已开具", "增值税发票已邮寄"]);
  // 票据管理: the issued invoice is there; a counter receipt is recorded, then voided once.
  const ledger = await call(rt.url, "/v1/admin/invoice-ledger", auth(operator));
  checkResponse("/v1/admin/invoice-ledger", "get", ledger);
  assert.deepEqual(ledger.body.entries.map((e) => [e.kind, e.number, e.recipient, e.account_no]), [["invoice", "33002612345678", "陈会计", "40261001"]]);
  const receipt = await postJson(rt.url, "/v1/admin/invoice-ledger", { kind: "receipt", number: "SF20261123001", issued_on: "2026-11-23", recipient: "王小明", account_no: "40261001" }, operator);
  assert.equal(receipt.status, 201, receipt.text);
  assert.equal((await postJson(rt.url, "/v1/admin/invoice-ledger", { kind: "receipt", number: "SF20261123001", issued_on: "2026-11-23", recipient: "王小明", account_no: "40261001" }, operator)).status, 409);
  const voided = await postJson(rt.url, `/v1/admin/invoice-ledger/${receipt.body.id}/void`, { reason: "填写错误，作废重开" }, operator);
  assert.equal(voided.status, 200, voided.text);
  assert.ok(voided.body.voided_at);
  assert.equal((await postJson(rt.url, `/v1/admin/invoice-ledger/${receipt.body.id}/void`, { reason: "再次作废" }, operator)).status, 409);
  const audit = rt.sql("SELECT action FROM audit_log WHERE action LIKE 'invoice%' ORDER BY id").map((r) => r.action);
  assert.deepEqual(audit, ["invoice.issue", "invoice.mail", "invoice_ledger.record", "invoice_ledger.void"]);
});
