// 缴费与发票 in a real browser (Debian's Chromium driven by playwright-core)
// against the Wasm build in workerd, with the local WeChat Pay and Alipay
// fakes: a citizen's WeChat Pay order is answered by a genuine, signed
// notification of the wrong amount (held for review); two other orders are
// paid normally. A billing operator signs in, resolves the held payment in
// 支付复核 through the dialog (the open list empties, and the reviews API
// confirms the resolution); a staff member without billing_operator gets 403.
// 对账报告 runs reconciliation and shows the day's report; 发票申请 shows a
// citizen's application, its documents open with the session cookie, and it
// is issued (开票) and mailed (邮寄) in the drawer; 票据管理 shows that invoice, records a
// counter receipt and voids it. axe-core checks each page state; screenshots
// go to functions/console/web/screenshots/billing-*.png.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { call, postJson } from "./helpers.mjs";
import { wechatNotification } from "../fakes/payments.mjs";
import { apiSignIn, check, makeStaff, openConsole, signInAs } from "./browser.mjs";

let rt, page, env, operatorToken, alice, otn;
const auth = (t) => ({ headers: { authorization: `Bearer ${t}` } });
const today = new Date().toLocaleDateString("sv-SE", { timeZone: "Asia/Shanghai" });
const IMPORT = {
  accounts: [{ account_no: "50261001", holder_name: "义乌市某某贸易有限公司", holder_phone: "13900005555", address: "义乌市稠城街道工人北路1号", category: "非居民" }],
  bills: ["2026-08", "2026-09", "2026-10"].map((period, i) => ({ account_no: "50261001", period, usage_m3: 100 + i, amount_fen: 40000 + i * 1000, due_date: "2099-12-20" })),
};
const bill = (period) => `B50261001${period.replace("-", "")}`;
const pay = (id, provider) => postJson(rt.url, `/v1/bills/${id}/pay`, { provider }, alice);
const control = (path, body) => fetch(rt.fakes.base + path, { method: "POST", body: JSON.stringify(body) }).then((r) => r.json());
const PNG = Buffer.concat([Buffer.from("89504e470d0a1a0a0000000d49484452", "hex"), Buffer.alloc(200, 7)]);
const PDF = Buffer.concat([Buffer.from("%PDF-1.7\n"), Buffer.alloc(300, 65)]);
const upload = (bytes, type) => call(rt.url, "/v1/invoices/uploads", { method: "POST", headers: { authorization: `Bearer ${alice}`, "content-type": type }, body: bytes });
/** Clicks the primary button of the ElMessageBox that is open. */
const confirmBox = async () => {
  await page.waitForSelector(".el-message-box");
  await page.click(".el-message-box .el-button--primary");
  await page.waitForSelector(".el-message-box", { state: "hidden" });
};
const toastsGone = () => page.waitForSelector(".el-message", { state: "detached", timeout: 5000 }).catch(() => {});

before(async () => {
  env = await openConsole();
  ({ rt, page } = env);
  operatorToken = rt.token(["billing_operator"], "对账脚本");
  assert.equal((await postJson(rt.url, "/v1/admin/bills:import", IMPORT, operatorToken)).status, 200);
  alice = (await postJson(rt.url, "/v1/auth/wechat", { code: "ok-alice-1" })).body.token;
  assert.equal((await postJson(rt.url, "/v1/me/water-accounts", { account: "50261001", phone: "13900005555" }, alice)).status, 200);

  // Held for review: a genuine WeChat Pay notification of 0.01 元 for a 400.00 元 order.
  const held = await pay(bill("2026-08"), "wechatpay");
  assert.equal(held.status, 200, held.text);
  otn = held.body.order.out_trade_no;
  const tx = { appid: "wxbianmindev000001", mchid: rt.fakes.keys.mchid, out_trade_no: otn, transaction_id: "4200000000000000000000000101",
    trade_state: "SUCCESS", success_time: new Date().toISOString().replace(/\.\d+Z$/, "+00:00"), amount: { total: 1, currency: "CNY" } };
  const n = wechatNotification(rt.fakes.keys, tx);
  assert.equal((await call(rt.url, "/v1/payments/wechatpay/notify", { method: "POST", headers: n.headers, body: n.body })).status, 204);
  // Paid normally: one through WeChat Pay, one through Alipay.
  const wx = await pay(bill("2026-09"), "wechatpay");
  assert.equal((await control("/__fake/wechatpay/pay", { params: wx.body.wechatpay })).answer.status, 204);
  const ali = await pay(bill("2026-10"), "alipay");
  assert.equal((await control("/__fake/alipay/pay", { order_string: ali.body.alipay.order_string })).answer.body, "success");

  // An invoice application with its two documents.
  const lic = (await upload(PNG, "image/png")).body.id;
  const notice = (await upload(PDF, "application/pdf")).body.id;
  const applied = await postJson(rt.url, "/v1/invoices", { account_no: "50261001", company_name: "义乌市某某贸易有限公司", company_address: "义乌市稠城街道工人北路1号",
    contact_phone: "0579-85551234", tax_id: "91330782MA2E5W1K38", bank_name: "中国工商银行义乌分行", bank_account: "1208020009200123456", applicant: "陈会计",
    license_upload: lic, tax_notice_upload: notice }, alice);
  assert.equal(applied.status, 201, applied.text);
});
after(async () => { await env?.close(); });

test("支付复核: the held payment is resolved through the dialog; staff without billing_operator are refused", async () => {
  const outsider = await makeStaff(rt, "zhoujiu", "周九", ["complaint_dispatcher"]);
  const refused = await call(rt.url, "/v1/admin/payments/reviews?open=1", { headers: (await apiSignIn(rt, outsider.username, outsider.secret)).headers });
  assert.equal(refused.status, 403, refused.text);

  const who = await makeStaff(rt, "sunba", "孙八", ["billing_operator"]);
  await signInAs(page, rt, who);
  await page.click("nav.side >> text=缴费与发票");
  await page.waitForURL(/#\/billing\/reviews$/);
  await page.waitForSelector(".reviews-table .el-table__row");
  const rows = page.locator(".reviews-table .el-table__body-wrapper .el-table__row");
  assert.equal(await rows.count(), 1, "one payment held for review");
  const row = await rows.first().textContent();
  assert.match(row, /金额不符/);
  assert.match(row, /0\.01元/);
  assert.match(row, /微信支付/);
  assert.ok(row.includes(otn), "its order number");
  assert.match(await page.locator(".summary").textContent(), /待处理\s*1\s*笔，合计\s*0\.01元/);
  await toastsGone();
  await check(page, "billing-reviews");

  await page.click(".resolve-btn");
  await page.waitForSelector(".resolve-dialog .el-descriptions");
  assert.ok((await page.locator(".resolve-dialog").textContent()).includes(otn));
  await page.click(".resolve-dialog >> text=提交处理结果");
  await page.waitForSelector(".resolve-dialog .el-form-item__error >> text=请选择处理方式");
  await page.click(".resolve-dialog .el-radio >> text=已原路退款");
  await page.fill("#review-note", "退款单号 50300000001");
  await check(page, "billing-reviews-resolve");
  await page.click(".resolve-dialog >> text=提交处理结果");
  await confirmBox();
  await page.waitForSelector(".reviews-table >> text=暂无待复核的款项");
  assert.match(await page.locator(".summary").textContent(), /待处理\s*0\s*笔/);

  const all = await call(rt.url, "/v1/admin/payments/reviews?open=0", auth(operatorToken));
  assert.equal(all.status, 200);
  const r = all.body.reviews.find((x) => x.out_trade_no === otn);
  assert.equal(r.resolution, "已原路退款：退款单号 50300000001");
  assert.equal(r.resolved_by, "孙八");
  assert.ok(r.resolved_at);
  assert.equal((await call(rt.url, "/v1/admin/payments/reviews?open=1", auth(operatorToken))).body.reviews.length, 0);

  // 全部 shows it resolved, with who and what.
  await page.click(".el-radio-button >> text=全部");
  await page.waitForSelector(".reviews-table .resolution");
  assert.match(await page.locator(".reviews-table .resolution").textContent(), /已原路退款：退款单号 50300000001/);
});

test("对账报告: reconciliation runs and the day's report shows the payments and the held one", async () => {
  await page.click(".billing-tabs >> text=对账报告");
  await page.waitForSelector(".stats");
  assert.equal(await page.inputValue("#recon-date"), today);
  await page.click("button:has-text('立即对账')");
  await page.waitForSelector(".run-result");
  assert.match(await page.locator(".run-result").textContent(), /立即对账：向支付渠道查询 \d+ 笔订单/);
  const report = (await call(rt.url, `/v1/admin/payments/reconciliation?date=${today}`, auth(operatorToken))).body;
  const paid = report.providers.reduce((s, p) => s + p.paid_count, 0);
  const fen = report.providers.reduce((s, p) => s + p.paid_fen, 0);
  assert.equal(paid, 2, "the two normal payments");
  assert.equal(fen, 41000 + 42000);
  assert.equal((await page.locator(".stat-count").textContent()).trim(), `${paid} 笔`);
  assert.equal((await page.locator(".stat-amount").textContent()).trim(), `${(fen / 100).toFixed(2)}元`);
  const line = (label) => page.locator(".recon-table .el-table__body-wrapper .el-table__row", { hasText: label }).first().locator("td");
  const cells = async (label) => (await line(label).allTextContents()).map((t) => t.trim());
  assert.deepEqual((await cells("到账入账（笔）")).slice(1), ["1", "1", "2"], "微信支付, 支付宝, 合计");
  assert.deepEqual((await cells("转复核：金额不符")).slice(1), ["1", "0", "1"]);
  assert.equal(await page.locator(".chart svg").count(), 2, "both charts are drawn");
  const [download] = await Promise.all([page.waitForEvent("download"), page.click(".export-btn")]);
  assert.equal(download.suggestedFilename(), `对账报告-${today.replace(/-/g, "")}.csv`);
  const csv = readFileSync(await download.path(), "utf8");
  assert.match(csv, /"到账入账（笔）","1","1","2"/);
  assert.match(csv, /"到账金额（元）","410\.00","420\.00","830\.00"/);
  await toastsGone();
  await check(page, "billing-reconciliation");
});

test("发票申请 and 票据管理: documents open, the application is issued, the ledger records and voids", async () => {
  await page.click(".billing-tabs >> text=发票申请");
  await page.waitForSelector(".inv-table .el-table__row");
  assert.match(await page.locator(".inv-table .el-table__row").first().textContent(), /义乌市某某贸易有限公司[\s\S]*已受理/);
  await toastsGone();
  await check(page, "billing-invoices");

  await page.click(".detail-btn");
  await page.waitForSelector(".inv-drawer .el-timeline-item");
  const href = await page.locator(".doc-link >> text=税务事项通知书").getAttribute("href");
  const doc = await page.evaluate(async (u) => { const r = await fetch(u); return { status: r.status, type: r.headers.get("content-type") }; }, href);
  assert.deepEqual(doc, { status: 200, type: "application/pdf" }, "the same-origin link works with the session cookie");
  await page.fill("#inv-no", "33002612349999");
  await check(page, "billing-invoice-drawer");
  await page.click(".issue-btn");
  await confirmBox();
  await page.waitForSelector(".inv-drawer .el-timeline-item >> text=发票号码 33002612349999");
  await page.fill("#inv-tracking", "1190000000101");
  await page.click(".mail-btn");
  await confirmBox();
  await page.waitForSelector(".inv-drawer .el-timeline-item >> text=邮政EMS 运单号 1190000000101");
  assert.match(await page.locator(".inv-drawer .status-line").textContent(), /已邮寄/);
  const inv = (await call(rt.url, "/v1/admin/invoices?status=mailed", auth(operatorToken))).body.invoices;
  assert.deepEqual(inv.map((i) => [i.invoice_no, i.carrier, i.tracking_no]), [["33002612349999", "邮政EMS", "1190000000101"]]);
  await page.keyboard.press("Escape");

  await page.waitForSelector(".inv-drawer", { state: "hidden" });
  await page.click(".billing-tabs >> text=票据管理");
  await page.waitForSelector(".ledger-table .el-table__row");
  assert.match(await page.locator(".ledger-table .el-table__row").first().textContent(), /发票[\s\S]*33002612349999[\s\S]*陈会计[\s\S]*50261001/);

  await page.click("button:has-text('登记票据')");
  await page.fill("#ledger-number", "SF20261201001");
  await page.fill("#ledger-recipient", "王小明");
  await page.fill("#ledger-account", "50261001");
  await check(page, "billing-ledger-add");
  await page.click(".el-dialog__footer >> text=登记");
  await page.waitForSelector(".ledger-table .el-table__row >> text=SF20261201001");
  const receipt = page.locator(".ledger-table .el-table__body-wrapper .el-table__row", { hasText: "SF20261201001" });
  await receipt.locator(".void-btn").click();
  await page.click(".el-dialog__footer >> text=作废");
  await page.waitForSelector(".el-form-item__error >> text=请填写作废原因");
  await page.fill("#ledger-void-reason", "填写错误，作废重开");
  await toastsGone();
  await check(page, "billing-ledger-void");
  await page.click(".el-dialog__footer >> text=作废");
  await confirmBox();
  await page.waitForSelector(".ledger-table .void-reason >> text=填写错误，作废重开");
  const entries = (await call(rt.url, "/v1/admin/invoice-ledger", auth(operatorToken))).body.entries;
  assert.deepEqual(entries.map((e) => [e.kind, e.number, !!e.voided_at]).sort(), [["invoice", "33002612349999", false], ["receipt", "SF20261201001", true]]);
  await toastsGone();
  await check(page, "billing-ledger");
});
