// 网上申报 (预审) in a real browser (Debian's Chromium driven by playwright-core)
// against the Wasm build in workerd: a citizen applies for 水表过户 over HTTP
// (demo catalogue, WeChat sign-in, 情形引导 resolved, draft, PDFs, submit); a
// handler of 义乌市供水有限公司 finds it in 预审队列, opens 办件详情 (form,
// material files, timeline), gives the one-time notice through the page (the
// button then gone, the API refusing a second), the citizen corrects over
// HTTP, the handler accepts (受理通知书 printable) and completes by post. A
// second application is accepted under 容缺受理 and, once past its deadline,
// tagged overdue; a third, rejected meanwhile by a colleague, answers 受理 with
// "该申请已被他人处理，请刷新". A 不满意 rating becomes a 整改任务 closed with its
// outcome. 统计 shows the figures the statistics API answers for the same
// months (summary, the month's row, by department and by item, sortable), or
// an empty state to a department without applications. A staff member
// without the role gets neither the menu nor the page.
// axe-core checks each page state (no serious or critical violation);
// screenshots go to functions/console/web/screenshots/ (applications-*).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { call, postJson } from "./helpers.mjs";
import { walkTree, uploadFile } from "./applications.mjs";
import { check, makeStaff, openConsole, signInAs } from "./browser.mjs";
import { demoCatalog } from "../../scripts/catalog/demo.mjs";

const demo = demoCatalog();
const byName = (n) => demo.items.find((i) => i.name === n);
const TRANSFER = byName("水表过户");
const CONNECT = byName("个人客户接水申请");
const DEPT = TRANSFER.department;
const PDF = Buffer.from("%PDF-1.4\n% bianmin console e2e\n");

let rt, page, env, citizen, handler;
before(async () => {
  env = await openConsole();
  ({ rt, page } = env);
  assert.equal((await postJson(rt.url, "/v1/admin/items:import", demo, rt.token(["catalogue_reviewer"]))).status, 200);
  citizen = (await postJson(rt.url, "/v1/auth/wechat", { code: "ok-wangwu-console" })).body.token;
});
after(async () => { await env?.close(); });

const auth = (t) => ({ headers: { authorization: `Bearer ${t}` } });
const put = (path, payload) => call(rt.url, path, { method: "PUT", headers: { authorization: `Bearer ${citizen}`, "content-type": "application/json" }, body: JSON.stringify(payload) });

const walk = (code) => walkTree(rt.url, code);
const upload = () => uploadFile(rt.url, citizen, PDF);

/** The citizen's submitted application for `code`, every material attached. */
async function apply(code, form = { 联系地址: "稠城街道北门街12号", 联系电话: "13700001111" }) {
  const resolved = await walk(code);
  assert.ok(resolved, `the tree of ${code} reaches the item`);
  const made = await postJson(rt.url, "/v1/applications", { item_code: code, answers: resolved.answered, form }, citizen);
  assert.equal(made.status, 201, made.text);
  for (const m of made.body.materials) {
    const r = await put(`/v1/applications/${made.body.number}/materials`, { material: m.name, upload_id: await upload() });
    assert.equal(r.status, 200, r.text);
  }
  const sent = await postJson(rt.url, `/v1/applications/${made.body.number}/submit`, {}, citizen);
  assert.equal(sent.status, 200, sent.text);
  return sent.body;
}

async function inboxTitles() {
  const r = await call(rt.url, "/v1/me/messages", auth(citizen));
  assert.equal(r.status, 200, r.text);
  return r.body.messages.filter((m) => m.kind === "application").map((m) => m.title);
}

/** Sends the open step dialog and confirms it; waits for the dialog to close. */
async function sendStep() {
  await page.click(".step-dialog .step-submit");
  await page.click(".el-message-box__btns button:has-text('确定')");
  await page.waitForSelector(".step-dialog", { state: "hidden" });
}

/** Waits for the toasts (welcome, step done) to go, so the screenshot shows the page. */
const quiet = () => page.waitForSelector(".el-message", { state: "detached", timeout: 6000 }).catch(() => {});
const rows = () => page.locator(".queue .el-table__body tr");
const row = (n) => page.locator(".queue .el-table__body tr", { hasText: n });
const status = () => page.locator(".status-tag").textContent();
const waitStatus = (label) => page.waitForFunction((l) => document.querySelector(".status-tag")?.textContent.trim() === l, label);
const timeline = () => page.locator(".timeline").textContent();

test("a handler gives one notice, accepts after the correction and completes by post; 容缺受理, overdue, a race and a 整改任务", async () => {
  handler = await makeStaff(rt, "yushen", "李预审", ["application_handler"], { departments: [DEPT] });
  const a = await apply(TRANSFER.code);
  const b = await apply(CONNECT.code);

  // 预审队列: both, 待预审, no deadline yet; the menu has the area.
  await signInAs(page, rt, handler);
  assert.match(await page.locator("nav.side").textContent(), /网上申报/);
  await page.goto(`${rt.url}/console/#/applications`);
  await row(a.number).waitFor();
  await row(b.number).waitFor();
  assert.equal(await rows().count(), 2);
  assert.match(await row(a.number).textContent(), /水表过户.*待预审.*受理后计算/);
  await quiet();
  await check(page, "applications-queue");

  // 办件详情: the form, the materials with their files, the timeline.
  await row(a.number).locator("button.number").click();
  await page.waitForSelector(".facts");
  assert.match(await page.locator(".facts").textContent(), new RegExp(`水表过户.*${DEPT}`));
  assert.match(await page.locator(".form-fields").textContent(), /联系地址.*稠城街道北门街12号/);
  const links = page.locator(".materials a.material-link");
  assert.equal(await links.count(), a.materials.length);
  const last = a.materials.at(-1).name;
  const href = await links.last().getAttribute("href");
  assert.equal(href, `/v1/admin/applications/${a.number}/material?name=${encodeURIComponent(last)}`);
  const file = await page.request.get(`${rt.url}${href}`);
  assert.equal(file.status(), 200);
  assert.match((await file.body()).toString(), /^%PDF/);
  assert.match(await timeline(), /提交申请/);
  assert.equal(await page.locator(".receipt-link").count(), 0, "no 受理通知书 before acceptance");
  assert.equal(await page.locator(".act-complete").count(), 0, "not completed before acceptance");
  await check(page, "applications-record");

  // 一次性告知: nothing chosen, or a note missing, is said before anything is sent.
  await page.click(".act-notify");
  await page.click(".step-dialog .step-submit");
  assert.match(await page.locator(".step-dialog .el-form-item__error").textContent(), /请选择需要补正的材料或填报项/);
  await page.locator(".step-dialog .pick", { hasText: last }).locator(".el-checkbox").click();
  await page.locator(".step-dialog .pick", { hasText: "联系地址" }).locator(".el-checkbox").click();
  await page.click(".step-dialog .step-submit");
  assert.match(await page.locator(".step-dialog .field-error").first().textContent(), /补正要求/);
  await page.fill(`.step-dialog input[aria-label="“${last}”的补正要求"]`, "复印件不清晰，请重新拍照上传");
  await page.fill('.step-dialog input[aria-label="“联系地址”的补正要求"]', "请写到门牌号和室号");
  await page.waitForSelector(".step-dialog .field-error", { state: "detached", timeout: 3000 }); // gone once typed
  await check(page, "applications-notify");
  await sendStep();
  await waitStatus("待补正");
  assert.match(await timeline(), /一次性告知.*复印件不清晰/);
  assert.match(await page.locator(".form-fields").textContent(), /待补正：请写到门牌号和室号/);
  assert.equal(await page.locator(".act-notify").count(), 0);
  assert.match(await page.locator(".actions-card").textContent(), /等待申请人补正/);

  // The citizen corrects what was named and resubmits (over HTTP).
  assert.equal((await put(`/v1/applications/${a.number}/form`, { form: { 联系地址: "稠城街道北门街12号3幢201室", 联系电话: "13700001111" } })).status, 200);
  assert.equal((await put(`/v1/applications/${a.number}/materials`, { material: last, upload_id: await upload() })).status, 200);
  const again = await postJson(rt.url, `/v1/applications/${a.number}/submit`, {}, citizen);
  assert.equal(again.body.status, "submitted", again.text);

  // Back to 待预审: the notice was given, so its button is gone and the API refuses a second.
  await page.reload();
  await waitStatus("待预审");
  await page.waitForSelector(".act-accept");
  assert.equal(await page.locator(".act-notify").count(), 0, "one notice only");
  assert.match(await page.locator(".actions-card").textContent(), /已一次性告知过申请人，不能再次告知/);
  assert.match(await timeline(), /补正后重新提交/);
  const colleague = rt.token(["application_handler"], "王预审", [], [DEPT]);
  const second = await postJson(rt.url, `/v1/admin/applications/${a.number}/steps`, { action: "notify", version: again.body.version, items: [{ material: last, note: "again" }] }, colleague);
  assert.equal(second.status, 409, second.text);

  // 受理: the deadline, and the printable 受理通知书.
  await page.click(".act-accept");
  await sendStep();
  await waitStatus("已受理");
  assert.match(await page.locator(".facts").textContent(), /办结期限\s*\d{4}-\d{2}-\d{2}/);
  const receipt = await page.locator(".receipt-link").getAttribute("href");
  assert.equal(receipt, `/v1/admin/applications/${a.number}/receipt`);
  const printed = await page.request.get(`${rt.url}${receipt}`);
  assert.equal(printed.status(), 200);
  const html = await printed.text();
  assert.ok(html.includes("受理通知书") && html.includes(a.number));

  // 办结 by post: a bad tracking number is said first.
  await page.click(".act-complete");
  await page.fill("#step-carrier", "中国邮政EMS");
  await page.fill("#step-tracking", "12-34");
  await page.click(".step-dialog .step-submit");
  assert.match(await page.locator(".step-dialog .el-form-item__error").textContent(), /6到30位字母或数字/);
  await page.fill("#step-tracking", "1100123456789");
  await check(page, "applications-complete");
  await sendStep();
  await waitStatus("已办结");
  assert.match(await page.locator(".facts").textContent(), /邮寄：中国邮政EMS，单号 1100123456789/);
  assert.equal(await page.locator(".actions").count(), 0, "nothing more to do once completed");
  await quiet();
  await check(page, "applications-completed");
  const titles = await inboxTitles();
  for (const t of ["请补正材料（一次性告知）", "申请已受理", "申请已办结"]) assert.ok(titles.includes(t), `${t} in ${titles}`);

  // 容缺受理 of the second: materials and a date.
  await page.click("button:has-text('返回预审队列')");
  await row(b.number).waitFor();
  assert.equal(await row(a.number).count(), 0, "a completed application leaves the open queue");
  await row(b.number).locator("button.number").click();
  await page.waitForSelector(".act-accept_pending");
  await page.click(".act-accept_pending");
  const pending = b.materials.at(-1).name;
  await page.locator(".pending-materials .el-checkbox", { hasText: pending }).click();
  await check(page, "applications-accept-pending");
  await sendStep();
  await waitStatus("容缺受理");
  assert.match(await timeline(), new RegExp(`容缺受理：请于.*前补交${pending}`));
  assert.equal(await page.locator(".act-complete").count(), 0, "completed only once the materials are in");
  assert.equal(await page.locator(".receipt-link").count(), 1);

  // Past its deadline (as the hourly sweep marks it): tagged in the queue, found by its status.
  const past = new Date(Date.now() + 8 * 3600e3 - 3 * 864e5).toISOString().slice(0, 10);
  rt.sql(`UPDATE applications SET deadline = '${past}', overdue = 1 WHERE number = '${b.number}'`);
  await page.click("button:has-text('返回预审队列')");
  await row(b.number).waitFor();
  assert.match(await row(b.number).textContent(), new RegExp(`容缺受理.*${past}.*已超期`));
  assert.match(await row(b.number).getAttribute("class"), /deadline-overdue/);
  await page.click(".filters label:has-text('容缺受理')");
  await page.waitForFunction(() => location.hash.includes("status=accepted_pending"));
  await page.waitForFunction(() => document.querySelectorAll(".queue .el-table__body tr").length === 1);
  await page.click(".filters label:has-text('已办结')");
  await page.waitForFunction((n) => document.querySelector(".queue .el-table__body")?.textContent.includes(n), a.number);
  assert.equal(await rows().count(), 1);
  await page.click(".filters label:has-text('全部待办')");
  await row(b.number).waitFor();
  await quiet();
  await check(page, "applications-queue-overdue");

  // A race: a colleague rejects the third while the page shows it 待预审.
  const c = await apply(TRANSFER.code);
  await page.goto(`${rt.url}/console/#/applications/${c.number}`);
  await page.waitForSelector(".act-accept");
  const rejected = await postJson(rt.url, `/v1/admin/applications/${c.number}/steps`, { action: "reject", version: c.version, reason: "申请人不是该户不动产权利人" }, colleague);
  assert.equal(rejected.status, 200, rejected.text);
  await page.click(".act-accept");
  await page.click(".step-dialog .step-submit");
  await page.click(".el-message-box__btns button:has-text('确定')");
  await page.waitForSelector(".step-dialog [role=alert]");
  assert.match(await page.locator(".step-dialog [role=alert]").textContent(), /该申请已被他人处理，请刷新/);
  await check(page, "applications-conflict");
  await page.click(".step-dialog .refresh");
  await waitStatus("不予受理");
  assert.match(await timeline(), /申请人不是该户不动产权利人/);
  assert.equal(await page.locator(".actions").count(), 0);

  // 不满意 opens a 整改任务; the handler closes it with the outcome, which the citizen hears.
  assert.equal((await postJson(rt.url, `/v1/applications/${a.number}/rating`, { grade: 2, reasons: "补正要求说得不清楚" }, citizen)).status, 204);
  await page.click(".applications-tabs a:has-text('整改任务')");
  const task = page.locator(".tasks .el-table__body tr", { hasText: a.number });
  await task.waitFor();
  assert.match(await task.textContent(), /2分.*不满意.*补正要求说得不清楚.*整改中/);
  await quiet();
  await check(page, "applications-rectifications");
  await task.locator(".act-rectify").click();
  await page.click(".rectify-dialog .rectify-submit");
  assert.match(await page.locator(".rectify-dialog .el-form-item__error").textContent(), /请写明整改结果/);
  await page.fill("#rectify-outcome", "已约谈经办人员，补正告知改为逐项写明要求和示例");
  await check(page, null);
  await page.click(".rectify-dialog .rectify-submit");
  await page.click(".el-message-box__btns button:has-text('确定')");
  await page.waitForSelector(".rectify-dialog", { state: "hidden" });
  await page.waitForFunction(() => document.querySelector(".tasks .el-table__body")?.textContent.includes("已整改"));
  assert.match(await task.textContent(), /已整改.*已约谈经办人员/);
  assert.ok((await inboxTitles()).includes("整改结果"));
});

test("统计 shows what the API answers for the same months: figures, the month's row, by department and by item; a department without applications sees the empty state", async () => {
  // Three more applications over HTTP: one noticed, corrected, accepted and completed late;
  // one completed the same day; one accepted and still open.
  const colleague = rt.token(["application_handler"], "王预审", [], [DEPT]);
  const steps = async (number, version, ...bodies) => {
    for (const b of bodies) {
      const r = await postJson(rt.url, `/v1/admin/applications/${number}/steps`, { ...b, version }, colleague);
      assert.equal(r.status, 200, r.text);
      ({ version } = r.body);
    }
    return version;
  };
  const complete = { action: "complete", delivery: { method: "post", carrier: "中国邮政EMS", tracking: "1100987654321" } };
  const d = await apply(TRANSFER.code);
  const missing = d.materials.at(-1).name;
  await steps(d.number, d.version, { action: "notify", items: [{ material: missing, note: "复印件不清晰，请重新上传" }] });
  assert.equal((await put(`/v1/applications/${d.number}/materials`, { material: missing, upload_id: await upload() })).status, 200);
  const again = await postJson(rt.url, `/v1/applications/${d.number}/submit`, {}, citizen);
  assert.equal(again.status, 200, again.text);
  await steps(d.number, again.body.version, { action: "accept" }, complete);
  const day = (n) => new Date(Date.now() + 8 * 3600e3 + n * 864e5).toISOString().slice(0, 10);
  rt.sql(`UPDATE applications SET accepted_on = '${day(-10)}', deadline = '${day(-3)}' WHERE number = '${d.number}'`);
  const e = await apply(TRANSFER.code);
  await steps(e.number, e.version, { action: "accept" }, complete);
  const f = await apply(CONNECT.code);
  await steps(f.number, f.version, { action: "accept" });

  // The API for the page's default range (the last six months) and this month.
  const month = day(0).slice(0, 7);
  const shift = (ym, n) => new Date(Date.UTC(Number(ym.slice(0, 4)), Number(ym.slice(5)) - 1 + n, 1)).toISOString().slice(0, 7);
  const end = (ym) => new Date(Date.UTC(Number(ym.slice(0, 4)), Number(ym.slice(5)), 0)).toISOString().slice(0, 10);
  const stats = async (from, to) => {
    const r = await call(rt.url, `/v1/admin/applications/stats?from=${from}&to=${to}`, { headers: { authorization: `Bearer ${colleague}` } });
    assert.equal(r.status, 200, r.text);
    return r.body;
  };
  const whole = await stats(`${shift(month, -5)}-01`, end(month));
  const mine = await stats(`${month}-01`, end(month));
  assert.ok(whole.total.completed >= 2 && whole.total.on_time < whole.total.completed && whole.total.noticed >= 1, JSON.stringify(whole.total));
  assert.ok(whole.total.avg_working_days > 0, "the late one took working days");
  const pct = (x) => (x == null ? "—" : `${(Math.round(x * 1000) / 10).toFixed(1)}%`);
  const avg = (x) => (x == null ? "—" : x.toFixed(1));
  const cellsOf = (g) => [g.submitted, g.noticed, pct(g.notice_rate), g.completed, g.on_time, pct(g.on_time_rate), avg(g.avg_working_days)].map(String);
  const texts = async (loc) => (await loc.locator("td").allTextContents()).map((t) => t.trim());

  const viewer = await makeStaff(rt, "tongji", "赵统计", ["application_handler"], { departments: [DEPT] });
  await page.context().clearCookies();
  await signInAs(page, rt, viewer);
  await page.goto(`${rt.url}/console/#/applications`);
  await page.click(".applications-tabs a:has-text('统计')");
  await page.waitForSelector(".stat-submitted");
  assert.equal(await page.locator(".applications-tabs a[aria-current=page]").textContent().then((t) => t.trim()), "统计");
  const stat = async (k) => (await page.locator(`.stat-${k} .stat-value`).textContent()).trim();
  assert.deepEqual(
    [await stat("submitted"), await stat("completed"), await stat("on-time"), await stat("notice"), await stat("days")],
    [String(whole.total.submitted), String(whole.total.completed), pct(whole.total.on_time_rate), pct(whole.total.notice_rate), avg(whole.total.avg_working_days)],
  );
  const label = `${Number(month.slice(0, 4))}年${Number(month.slice(5))}月`;
  assert.equal(await page.locator(".months .el-table__body tr").count(), 6);
  assert.deepEqual(await texts(page.locator(".months .el-table__body tr", { hasText: label })), [label, ...cellsOf(mine.total)]);
  const deptRows = page.locator(".group-department .el-table__body tr");
  assert.equal(await deptRows.count(), Object.keys(whole.by_department).length);
  assert.deepEqual(await texts(deptRows.filter({ hasText: DEPT })), [DEPT, ...cellsOf(whole.by_department[DEPT])]);
  const itemRows = page.locator(".group-item .el-table__body tr");
  assert.equal(await itemRows.count(), Object.keys(whole.by_item).length);
  for (const [name, g] of Object.entries(whole.by_item)) assert.deepEqual(await texts(itemRows.filter({ hasText: name })), [name, ...cellsOf(g)]);
  // Sortable: most applications first, fewest first once 申报 is sorted ascending.
  const names = async () => (await page.locator(".group-item .el-table__body tr td:first-child").allTextContents()).map((t) => t.trim());
  const order = Object.entries(whole.by_item).sort((x, y) => y[1].submitted - x[1].submitted).map(([n]) => n);
  assert.deepEqual(await names(), order);
  await page.locator(".group-item th", { hasText: /^申报$/ }).locator(".sort-caret.ascending").click();
  assert.deepEqual(await names(), [...order].reverse());
  await page.waitForFunction(() => [...document.querySelectorAll(".chart svg text")].some((t) => t.textContent.includes("一次性告知率")));
  await quiet();
  await check(page, "applications-stats");

  // A handler of a department without applications: the empty state, no figures.
  const other = await makeStaff(rt, "tongji2", "钱统计", ["application_handler"], { departments: ["义乌市燃气有限公司"] });
  await page.context().clearCookies();
  await signInAs(page, rt, other);
  await page.goto(`${rt.url}/console/#/applications/stats`);
  await page.waitForSelector(".empty-stats");
  assert.match(await page.locator(".empty-stats").textContent(), /没有提交的申请，暂无统计数据/);
  assert.equal(await page.locator(".stat-submitted").count(), 0);
  await quiet();
  await check(page, "applications-stats-empty");
});

test("电子 delivery: the handler uploads the result file on the record, then completes; the applicant downloads it", async () => {
  const handlerE = await makeStaff(rt, "dianzi", "周电子", ["application_handler"], { departments: [DEPT] });
  const a = await apply(TRANSFER.code);
  const colleague = rt.token(["application_handler"], "王预审", [], [DEPT]);
  const ok = await postJson(rt.url, `/v1/admin/applications/${a.number}/steps`, { action: "accept", version: a.version }, colleague);
  assert.equal(ok.status, 200, ok.text);
  await signInAs(page, rt, handlerE);
  await page.goto(`${rt.url}/console/#/applications/${a.number}`);
  await waitStatus("已受理");
  // 电子 without a file: the dialog says so and the API refuses.
  await page.click(".act-complete");
  await page.click(".step-dialog .methods label:has-text('电子结果')");
  await page.locator(".no-result").waitFor();
  await page.click(".step-dialog button:has-text('取消')");
  // A file that is not a PDF or picture is refused before it leaves the browser.
  await page.setInputFiles("#result-file", { name: "结果.txt", mimeType: "text/plain", buffer: Buffer.from("not a result") });
  assert.match(await page.locator(".result-file .field-error").textContent(), /PDF、PNG 或 JPG/);
  const RESULT = Buffer.from("%PDF-1.4\n% 用水证明 (console e2e)\n");
  await page.setInputFiles("#result-file", { name: "用水证明.pdf", mimeType: "application/pdf", buffer: RESULT });
  await page.locator(".result-link").waitFor();
  assert.match(await page.locator(".result-file").textContent(), /已上传.*办结后申请人可下载/s);
  assert.match(await timeline(), /上传电子结果/);
  const seen = await page.request.get(`${rt.url}/v1/admin/applications/${a.number}/result`);
  assert.equal(seen.status(), 200);
  assert.equal((await seen.body()).toString(), RESULT.toString());
  await page.click(".act-complete");
  await page.click(".step-dialog .methods label:has-text('电子结果')");
  assert.equal(await page.locator(".no-result").count(), 0, "the file is there");
  await page.fill("#step-note", "用水证明已生成，可在“我的办件”中下载");
  await quiet();
  await check(page, "applications-electronic");
  await sendStep();
  await waitStatus("已办结");
  assert.match(await page.locator(".result-file").textContent(), /申请人可在“我的办件”中下载/);
  const got = await call(rt.url, `/v1/applications/${a.number}/result`, auth(citizen));
  assert.equal(got.status, 200, got.text);
  assert.equal(got.text, RESULT.toString());
  assert.match(got.headers.get("content-disposition"), /^attachment;/);
});

test("a staff member without the role gets neither the menu nor the page, and the API refuses them", async () => {
  const outsider = await makeStaff(rt, "tousu", "孙投诉", ["complaint_handler"], { departments: [DEPT] });
  await page.context().clearCookies();
  await signInAs(page, rt, outsider);
  assert.doesNotMatch(await page.locator("nav.side").textContent(), /网上申报/);
  for (const path of ["/applications", "/applications/rectifications"]) {
    await page.goto(`${rt.url}/console/#${path}`);
    await page.waitForFunction(() => location.hash === "#/");
  }
  assert.equal(await page.locator(".applications-tabs").count(), 0);
  const refused = await page.request.get(`${rt.url}/v1/admin/applications`);
  assert.equal(refused.status(), 403);
});
