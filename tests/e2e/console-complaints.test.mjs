// 投诉与建议 in a real browser (Debian's Chromium driven by playwright-core)
// against the Wasm build in workerd: a citizen files a complaint with a photo
// over HTTP; a 12345 dispatcher finds it in 工单队列, opens 工单详情, sees the
// photo and assigns it to 供水公司客服部; a handler of that department replies
// and closes it through the page; after each step the citizen's inbox (over
// HTTP) has that step. A handler of another department neither lists nor
// opens it. 统计 shows this month's on-time rate as the API reports it, with
// the 97 % target line. axe-core checks each page state (no serious or
// critical violation); screenshots go to functions/console/web/screenshots/
// (complaints-queue, -record, -stats).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { deflateSync } from "node:zlib";
import { call, postJson } from "./helpers.mjs";
import { apiSignIn, check, makeStaff, openConsole, signInAs } from "./browser.mjs";

let rt, page, env;
before(async () => { env = await openConsole(); ({ rt, page } = env); });
after(async () => { await env?.close(); });

let citizen, dispatcher, handler, outsider, other; // the citizen and the staff of test 1 (other: the outsider's API headers)
let dispatcherApi = null;
/** The dispatcher signed in over HTTP (once). */
async function dispatcherHeaders() {
  dispatcherApi ??= await apiSignIn(rt, dispatcher.username, dispatcher.secret);
  return dispatcherApi;
}

const DEPT = "供水公司客服部";
const OTHER = "城管局";

/** A small real PNG (a 320x200 street scene in flat colours), so the thumbnail shows something. */
function png(width = 320, height = 200) {
  const crcTable = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc = (buf) => {
    let c = 0xffffffff;
    for (const b of buf) c = crcTable[(c ^ b) & 0xff] ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  };
  const chunk = (type, data) => {
    const head = Buffer.alloc(8);
    head.writeUInt32BE(data.length, 0);
    head.write(type, 4, "ascii");
    const tail = Buffer.alloc(4);
    tail.writeUInt32BE(crc(Buffer.concat([head.subarray(4), data])), 0);
    return Buffer.concat([head, data, tail]);
  };
  const raw = Buffer.alloc((width * 3 + 1) * height);
  for (let y = 0; y < height; y++) {
    raw[y * (width * 3 + 1)] = 0;
    for (let x = 0; x < width; x++) {
      const water = Math.hypot(x - 200, (y - 150) * 2) < 60;
      const pipe = y > 120 && y < 132;
      const rgb = water ? [70, 130, 200] : pipe ? [90, 90, 95] : y < 110 ? [170, 205, 235] : [150, 140, 125];
      raw.set(rgb, y * (width * 3 + 1) + 1 + x * 3);
    }
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 2, 0, 0, 0], 8);
  return Buffer.concat([Buffer.from("89504e470d0a1a0a", "hex"), chunk("IHDR", ihdr), chunk("IDAT", deflateSync(raw)), chunk("IEND", Buffer.alloc(0))]);
}

const bearer = (token) => ({ headers: { authorization: `Bearer ${token}` } });

/** The citizen's inbox messages about case `n`, oldest first. */
async function inboxAbout(token, n) {
  const r = await call(rt.url, "/v1/me/messages", bearer(token));
  assert.equal(r.status, 200, r.text);
  return r.body.messages.filter((m) => m.kind === "complaint" && m.body.includes(n)).reverse();
}

/** Sends the open step dialog and confirms it; waits for the dialog to close. */
async function sendStep() {
  await page.click(".step-dialog .step-submit");
  await page.click(".el-message-box__btns button:has-text('确定')");
  await page.waitForSelector(".step-dialog", { state: "hidden" });
}

/** Waits for the toasts (welcome, step done) to go, so the screenshot shows the page. */
const quiet = () => page.waitForSelector(".el-message", { state: "detached", timeout: 6000 }).catch(() => {});

const timeline = () => page.locator(".timeline").textContent();

test("a complaint goes from submission to close, the citizen told at each step", async () => {
  dispatcher = await makeStaff(rt, "paidan", "赵派单", ["complaint_dispatcher"]);
  handler = await makeStaff(rt, "gongshui", "钱承办", ["complaint_handler"], { departments: [DEPT] });
  outsider = await makeStaff(rt, "chengguan", "孙城管", ["complaint_handler"], { departments: [OTHER] });

  // The citizen files a complaint with a photo, and a consultation besides.
  citizen = (await postJson(rt.url, "/v1/auth/wechat", { code: "ok-zhangsan-1" })).body.token;
  const up = await call(rt.url, "/v1/complaints/uploads", { method: "POST", headers: { authorization: `Bearer ${citizen}`, "content-type": "image/png" }, body: png() });
  assert.equal(up.status, 201, up.text);
  const filed = await postJson(rt.url, "/v1/complaints", { kind: "complaint", category: "供水", subject: "稠城街道北门街水管漏水", content: "北门街12号门前水管漏水三天，路面积水结冰，行人容易滑倒。", anonymous: false, photos: [up.body.id] }, citizen);
  assert.equal(filed.status, 201, filed.text);
  const n = filed.body.number;
  const asked = await postJson(rt.url, "/v1/complaints", { kind: "consultation", category: "供水", subject: "", content: "水表过户需要带哪些材料？", anonymous: true }, citizen);
  assert.equal(asked.status, 201, asked.text);
  assert.equal((await inboxAbout(citizen, n)).length, 1, "the receipt");
  // The consultation is left past its deadline (as if filed weeks ago).
  const past = new Date(Date.now() + 8 * 3600e3 - 3 * 864e5).toISOString().slice(0, 10);
  rt.sql(`UPDATE complaints SET deadline = '${past}' WHERE number = '${asked.body.number}'`);

  // 工单队列 as the dispatcher: both cases, filters narrow them.
  await signInAs(page, rt, dispatcher);
  await page.goto(`${rt.url}/console/#/complaints`);
  const row = (num) => page.locator(".queue .el-table__body tr", { hasText: num });
  await row(n).waitFor();
  assert.equal(await page.locator(".queue .el-table__body tr").count(), 2);
  assert.match(await row(n).textContent(), /投诉.*供水.*北门街水管漏水.*待派单.*未分派/);
  assert.match(await row(asked.body.number).textContent(), /咨询/);
  // Overdue first (earliest deadline), highlighted; 仅看超期 asks the API for it alone.
  assert.match(await page.locator(".queue .el-table__body tr").first().textContent(), new RegExp(`${asked.body.number}.*${past}.*已超期`));
  assert.match(await row(asked.body.number).getAttribute("class"), /deadline-overdue/);
  assert.doesNotMatch(await row(n).textContent(), /已超期/);
  await page.click(".filters .el-checkbox");
  await page.click(".filters button:has-text('查询')");
  await page.waitForFunction(() => document.querySelectorAll(".queue .el-table__body tr").length === 1);
  assert.equal(await row(asked.body.number).count(), 1);
  await page.click(".filters button:has-text('重置')");
  await page.waitForFunction(() => document.querySelectorAll(".queue .el-table__body tr").length === 2);
  // Type and keyword are asked of the API too, and kept in the address.
  await page.click(".el-form-item:has(#cq-kind) .el-select__wrapper");
  await page.click(".el-select-dropdown__item:visible:has-text('咨询')");
  await page.click(".filters button:has-text('查询')");
  await page.waitForFunction(() => document.querySelectorAll(".queue .el-table__body tr").length === 1);
  assert.equal(await row(asked.body.number).count(), 1);
  assert.match(page.url(), /kind=consultation/);
  await page.click(".filters button:has-text('重置')");
  await page.waitForFunction(() => document.querySelectorAll(".queue .el-table__body tr").length === 2);
  await page.fill("#cq-keyword", "漏水");
  await page.click(".filters button:has-text('查询')");
  await page.waitForFunction(() => document.querySelectorAll(".queue .el-table__body tr").length === 1);
  assert.equal(await row(n).count(), 1);
  assert.match(await page.locator(".foot").textContent(), /符合条件的 1 件/);
  await page.click(".filters button:has-text('重置')");
  await page.waitForFunction(() => document.querySelectorAll(".queue .el-table__body tr").length === 2);
  await quiet();
  await check(page, "complaints-queue");

  // 工单详情: the record, the photo (loaded, with its large preview), the timeline.
  await row(n).locator("button.number").click();
  await page.waitForSelector(".facts");
  assert.match(await page.locator(".facts").textContent(), /诉求人联系方式未绑定手机/, "the contact as the API gives it (a WeChat sign-in has no phone)");
  assert.match(await page.locator(".case-content").textContent(), /路面积水结冰/);
  await page.waitForFunction(() => { const i = document.querySelector(".photos img"); return i && i.complete && i.naturalWidth === 320; });
  await page.click(".photos .thumb");
  await page.waitForSelector(".el-image-viewer__wrapper img");
  assert.match(await page.locator(".el-image-viewer__wrapper img").first().getAttribute("src"), new RegExp(`/v1/admin/complaints/${n}/photos/${up.body.id}$`));
  await page.keyboard.press("Escape");
  await page.waitForSelector(".el-image-viewer__wrapper", { state: "detached" });
  assert.match(await timeline(), /已受理/);

  // 派单 (the dispatcher's step): a missing department is said before anything is sent.
  await page.click(".act-assign");
  await page.click(".step-dialog .step-submit");
  assert.match(await page.locator(".step-dialog .el-form-item__error").textContent(), /请填写承办部门/);
  await page.fill("#step-department", DEPT);
  await page.waitForSelector(".step-dialog .el-form-item__error", { state: "detached", timeout: 3000 }); // gone once typed
  await check(page, null);
  await sendStep();
  await page.waitForFunction((d) => document.querySelector(".timeline").textContent.includes(`已转交${d}办理`), DEPT);
  assert.match(await page.locator(".facts").textContent(), new RegExp(DEPT));
  assert.match((await inboxAbout(citizen, n)).at(-1).body, new RegExp(`已转交${DEPT}办理`));

  // Another department's handler neither lists nor opens it.
  other = await apiSignIn(rt, outsider.username, outsider.secret);
  const theirs = await call(rt.url, "/v1/admin/complaints", other);
  assert.equal(theirs.status, 200, theirs.text);
  assert.ok(!theirs.body.complaints.some((c) => c.number === n), "not in another department's queue");
  assert.equal((await call(rt.url, `/v1/admin/complaints/${n}`, other)).status, 403);
  assert.equal((await call(rt.url, `/v1/admin/complaints/${n}/photos/${up.body.id}`, other)).status, 403);

  // The department's handler replies and closes through the page.
  await page.context().clearCookies();
  await signInAs(page, rt, handler);
  await page.goto(`${rt.url}/console/#/complaints`);
  await row(n).waitFor();
  assert.equal(await page.locator(".queue .el-table__body tr").count(), 1, "only its department's case");
  assert.match(await row(n).textContent(), new RegExp(`办理中.*${DEPT}`));
  await row(n).locator("button.number").click();
  await page.waitForSelector(".act-reply");
  assert.equal(await page.locator(".act-assign").count(), 0, "assigning is the dispatchers'");
  await page.click(".act-reply");
  await page.fill("#step-text", "已安排抢修人员到场更换破损管段，路面积水已清理，联系电话13700001111。");
  await sendStep();
  await page.waitForFunction(() => document.querySelector(".timeline").textContent.includes("已安排抢修人员"));
  assert.ok(!(await timeline()).includes("13700001111"), "the phone number in the reply is masked");
  const replied = (await inboxAbout(citizen, n)).at(-1);
  assert.equal(replied.title, "已答复");
  assert.match(replied.body, /已安排抢修人员/);
  await quiet();
  await check(page, "complaints-record");

  await page.click(".act-close");
  await page.fill("#step-result", "漏点已修复，诉求人认可");
  await sendStep();
  await page.waitForFunction(() => document.querySelector(".timeline").textContent.includes("已办结：漏点已修复"));
  assert.equal(await page.locator(".actions").count(), 0, "nothing more to do once closed");
  assert.match(await page.locator(".actions-card").textContent(), /已办结/);
  const closed = await inboxAbout(citizen, n);
  assert.deepEqual(closed.map((m) => m.title), [closed[0].title, "办理进度", "已答复", "已办结"]);
  assert.match(closed.at(-1).body, /已办结：漏点已修复/);

  // 统计: this month's row and chart as the API reports them, with the 97 % line.
  const month = new Date(Date.now() + 8 * 3600e3).toISOString().slice(0, 7);
  const last = new Date(Date.UTC(Number(month.slice(0, 4)), Number(month.slice(5)), 0)).toISOString().slice(0, 10);
  const api = await call(rt.url, `/v1/admin/complaints/stats?from=${month}-01&to=${last}`, other);
  assert.equal(api.status, 200, api.text);
  assert.equal(api.body.closed, 1);
  await page.click("button:has-text('返回工单队列')");
  await page.click("button:has-text('统计分析')");
  const label = `${Number(month.slice(0, 4))}年${Number(month.slice(5))}月`;
  const monthRow = page.locator(".months .el-table__body tr", { hasText: label });
  await monthRow.waitFor();
  const cells = (await monthRow.locator("td").allTextContents()).map((s) => s.trim());
  assert.equal(api.body.on_time_rate, 1, "closed well before its deadline");
  assert.deepEqual(cells.slice(0, 5), [label, String(api.body.received), "1", "1", "100.0%"]);
  assert.match(await page.locator(".group-department").textContent(), new RegExp(DEPT));
  await page.waitForFunction(() => [...document.querySelectorAll(".chart svg text")].some((t) => t.textContent.includes("目标 97%")));
  await quiet();
  await check(page, "complaints-stats");
});

test("a handler extends a consultation, publishes its answer as a 常见问题 and refers it on", async () => {
  // The first test's overdue consultation, handed to the department over HTTP by the dispatcher.
  const asked = (await call(rt.url, "/v1/admin/complaints?status=received", await dispatcherHeaders())).body.complaints.find((c) => c.kind === "consultation");
  const n = asked.number;
  const assigned = await postJson(rt.url, `/v1/admin/complaints/${n}/steps`, { action: "assign", department: DEPT }, null, (await dispatcherHeaders()).headers);
  assert.equal(assigned.status, 200, assigned.text);

  // The handler (still signed in) extends it: a new deadline, told to the citizen, once only.
  await page.goto(`${rt.url}/console/#/complaints/${n}`);
  await page.waitForSelector(".act-extend");
  assert.match(await page.locator(".facts").textContent(), /已超期.*诉求人联系方式匿名/, "overdue; asked anonymously");
  await page.click(".act-extend");
  await page.fill("#step-reason", "需调取历史过户档案");
  await sendStep();
  await page.waitForFunction(() => document.querySelector(".timeline").textContent.includes("答复期限延长至"));
  const told = (await inboxAbout(citizen, n)).at(-1);
  assert.match(told.body, /答复期限延长至 \d{4}-\d{2}-\d{2}：需调取历史过户档案/);
  const newDeadline = told.body.match(/延长至 (\d{4}-\d{2}-\d{2})/)[1];
  assert.match(await page.locator(".facts").textContent(), new RegExp(`${newDeadline}.*已延期`));
  assert.equal(await page.locator(".act-extend").count(), 0, "extended once only");

  // Answered, it becomes a public 常见问题 (written anew, checked before sending).
  assert.equal(await page.locator(".act-faq").count(), 0, "not before it is answered");
  await page.click(".act-reply");
  await page.fill("#step-text", "水表过户请携带身份证、房产证和最近一期水费单据到营业厅办理。");
  await sendStep();
  await page.click(".act-faq");
  assert.match(await page.inputValue("#faq-answer"), /身份证、房产证/, "the reply is the starting answer");
  await page.fill("#faq-question", "过户");
  await page.click(".faq-dialog button:has-text('发布')");
  assert.match(await page.locator(".faq-dialog .el-form-item__error").textContent(), /5-100个字/);
  await page.fill("#faq-question", "水表过户需要带哪些材料？");
  await check(page, null);
  await page.click(".faq-dialog button:has-text('发布')");
  await page.click(".el-message-box__btns button:has-text('确定')");
  await page.waitForSelector(".faq-dialog", { state: "hidden" });
  const faq = await call(rt.url, `/v1/faq?q=${encodeURIComponent("水表过户")}`);
  assert.deepEqual(faq.body.faq.map((f) => f.question), ["水表过户需要带哪些材料？"]);
  // A second try is refused by the API, and the page says why.
  await page.click(".act-faq");
  await page.fill("#faq-question", "水表过户需要带哪些材料？");
  await page.click(".faq-dialog button:has-text('发布')");
  await page.click(".el-message-box__btns button:has-text('确定')");
  assert.match(await page.locator(".faq-dialog [role=alert]").textContent(), /已转为常见问题/);
  await page.click(".faq-dialog button:has-text('取消')");

  // Referred to 城管局: it leaves this department's queue and reaches that one's.
  await page.click(".act-refer");
  await page.fill("#step-unit", OTHER);
  await page.fill("#step-reason", "涉及占道施工，属城管局职责");
  await sendStep();
  await page.waitForFunction(() => location.hash === "#/complaints");
  await page.waitForSelector(".queue .el-table__body");
  await page.waitForFunction(() => !document.querySelector(".queue").getAttribute("aria-busy") && !document.querySelector(".queue .el-loading-mask"));
  assert.equal(await page.locator(".queue .el-table__body tr", { hasText: n }).count(), 0);
  assert.match((await inboxAbout(citizen, n)).at(-1).body, /已转城管局处理：涉及占道施工/);
  assert.ok((await call(rt.url, "/v1/admin/complaints", other)).body.complaints.some((c) => c.number === n && c.status === "referred"));
});
