// The official 2026 holidays against workerd: scripts/load-holidays.mjs loads
// schemas/holidays/2026.json through the admin API (calendar_admin only, the
// same answer every time), every day reads back, and a complaint deadline
// extended by working days over 国庆 lands where the arrangement says.
// The routes take the date from the system clock (today is after October
// 2026, so booking slots for those days are closed as past, not as holidays):
// a case's deadline is set to the eve of the holiday and extended from there.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { boot, call, postJson } from "./helpers.mjs";
import { checkResponse } from "./contract.mjs";
import { ROOT } from "../../scripts/runtime.mjs";

const official = JSON.parse(readFileSync(join(ROOT, "schemas", "holidays", "2026.json"), "utf8"));
const QUARTERS = [["2026-01-01", "2026-03-31"], ["2026-04-01", "2026-06-30"], ["2026-07-01", "2026-09-30"], ["2026-10-01", "2026-12-31"]];
let rt, admin;
const auth = (t) => ({ headers: { authorization: `Bearer ${t}` } });
const loader = (...args) => promisify(execFile)(process.execPath, [join(ROOT, "scripts", "load-holidays.mjs"), ...args], { cwd: ROOT });

before(async () => {
  rt = await boot();
  admin = rt.token(["calendar_admin"], "日历管理员");
});
after(async () => { await rt?.stop(); });

test("the loader puts every official day into the calendar through the admin API, the same each time", async () => {
  const hall = rt.token(["hall_staff"], "窗口人员", ["H001"]);
  await assert.rejects(loader("--url", rt.url, "--token", hall), (e) => {
    assert.equal(e.code, 1);
    assert.match(e.stderr, /HTTP 403[\s\S]*calendar_admin/);
    return true;
  });
  for (let run = 0; run < 2; run++) {
    const { stdout } = await loader("--url", rt.url, "--token", admin, "--file", "schemas/holidays/2026.json");
    assert.match(stdout, /已载入 39 天.*节假日 33 天、调休上班 6 天/);
  }
  const days = [];
  for (const [from, to] of QUARTERS) {
    const r = await call(rt.url, `/v1/admin/appointments/calendar?from=${from}&to=${to}`, auth(admin));
    assert.equal(r.status, 200, r.text);
    checkResponse("/v1/admin/appointments/calendar", "get", r);
    days.push(...r.body.days);
  }
  assert.deepEqual(days, official.days.map((d) => ({ day: d.date, kind: d.kind, name: d.name })));
  const national = days.filter((d) => d.name === "国庆节");
  assert.deepEqual(national.filter((d) => d.kind === "holiday").map((d) => d.day), ["01", "02", "03", "04", "05", "06", "07"].map((n) => `2026-10-${n}`));
  assert.deepEqual(national.filter((d) => d.kind === "workday").map((d) => d.day), ["2026-09-20", "2026-10-10"]);
  // Each write is audited, as when staff set a day in the console.
  assert.equal(rt.sql("SELECT count(*) AS n FROM audit_log WHERE action = 'appointment.calendar'")[0].n, 2 * 39);
});

test("a complaint deadline extended by working days skips 中秋 and 国庆 and counts the 调休 days", async () => {
  const citizen = (await postJson(rt.url, "/v1/auth/wechat", { code: "ok-holiday-1" })).body.token;
  const dispatcher = rt.token(["complaint_dispatcher"], "热线");
  const cases = [
    // Wednesday 30 September + 3: 1-7 October off, Thursday 8, Friday 9, Saturday 10 (调休上班).
    { due: "2026-09-30", days: 3, expect: "2026-10-10" },
    { due: "2026-09-30", days: 1, expect: "2026-10-08" },
    // Friday 18 September + 1: Sunday 20 is worked (调休上班).
    { due: "2026-09-18", days: 1, expect: "2026-09-20" },
    // Thursday 24 September + 1: 中秋 25-27 off, so Monday 28.
    { due: "2026-09-24", days: 1, expect: "2026-09-28" },
  ];
  for (const { due, days, expect } of cases) {
    const made = await postJson(rt.url, "/v1/complaints", { kind: "complaint", category: "供水", subject: "北苑营业厅", content: "窗口办理时间与公示不符，节前多次白跑。", anonymous: true }, citizen);
    assert.equal(made.status, 201, made.text);
    const n = made.body.number;
    // A case filed before the holiday, due on `due` (the route dates it by the system clock).
    rt.sql(`UPDATE complaints SET deadline = '${due}' WHERE number = '${n}'`);
    const r = await postJson(rt.url, `/v1/admin/complaints/${n}/steps`, { action: "extend", days, reason: "需现场核实" }, dispatcher);
    assert.equal(r.status, 200, r.text);
    checkResponse("/v1/admin/complaints/{number}/steps", "post", r);
    assert.equal(r.body.extended, true);
    const pub = await call(rt.url, `/v1/complaints/${n}`);
    assert.equal(pub.body.deadline, expect, `${due} + ${days} working days`);
    assert.ok(pub.body.timeline.some((s) => s.note.includes(`答复期限延长至 ${expect}`)), pub.text);
  }
});
