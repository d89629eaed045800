// Staff accounts over HTTP against workerd (issue 16): the first administrator
// from scripts/staff, enrolment with a TOTP code the test computes (RFC 6238),
// sign-in to a session cookie, CSRF on writes, the lock under parallel
// guesses, 三员分立, and the cookie reaching another worker's admin routes.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { boot, call, postJson } from "./helpers.mjs";
import { checkResponse } from "./contract.mjs";
import { totp } from "../../scripts/totp.mjs";
import { ROOT } from "../../scripts/runtime.mjs";

let rt;
const PASSWORD = "Shui-Dian-2026!ok";
let ipSeq = 0;
const ip = () => ({ "cf-connecting-ip": `203.0.113.${(++ipSeq % 250) + 1}` });

/** Follows an enrolment link: returns the secret after setting the password. */
async function enrol(link, password = PASSWORD) {
  const token = link.split("#/enrol/")[1];
  const page = await postJson(rt.url, "/v1/staff/enrolment", { token });
  assert.equal(page.status, 200, page.text);
  checkResponse("/v1/staff/enrolment", "post", page);
  assert.match(page.body.qr_svg, /<svg/);
  const done = await postJson(rt.url, "/v1/staff/enrolment:complete", { token, password, code: totp(page.body.secret) });
  assert.equal(done.status, 204, done.text);
  return page.body.secret;
}

/** Signs in; returns { cookie, csrf, body, res }. The code is one step ahead, so a sign-in never reuses the enrolment's. */
async function signIn(username, secret, drift = 1) {
  const res = await postJson(rt.url, "/v1/staff/login", { username, password: PASSWORD, code: totp(secret, undefined, drift) }, null, ip());
  const cookie = (res.headers.get("set-cookie") ?? "").split(";")[0];
  return { res, cookie, csrf: res.body?.csrf_token, body: res.body };
}

const withCookie = (s, extra = {}) => ({ cookie: s.cookie, ...extra });

before(async () => { rt = await boot(); });
after(async () => { await rt?.stop(); });

let admin, adminSecret, editorLink;

test("the first administrator enrols from scripts/staff's link and signs in with password and TOTP", async () => {
  const out = execFileSync(join(ROOT, "scripts", "staff"), ["create-admin", "--name", "王五", "--username", "wangwu", "--base-url", rt.url, "--persist-to", rt.state], { cwd: ROOT, encoding: "utf8" });
  const link = out.match(/enrol:\s+(\S+)/)[1];
  assert.ok(link.startsWith(`${rt.url}/console/#/enrol/bme_`), link);
  adminSecret = await enrol(link);
  assert.equal((await postJson(rt.url, "/v1/staff/enrolment", { token: link.split("#/enrol/")[1] })).status, 404, "a link serves once");
  const wrong = await postJson(rt.url, "/v1/staff/login", { username: "wangwu", password: PASSWORD, code: "000000" }, null, ip());
  assert.equal(wrong.status, 401);
  assert.equal(wrong.body.error.code, "login_failed");
  admin = await signIn("WangWu", adminSecret);
  assert.equal(admin.res.status, 200, admin.res.text);
  const setCookie = admin.res.headers.get("set-cookie");
  for (const attr of ["HttpOnly", "Secure", "SameSite=Strict", "Path=/"]) assert.ok(setCookie.includes(attr), setCookie);
  assert.deepEqual(admin.body.roles, ["staff_admin"]);
  checkResponse("/v1/staff/login", "post", admin.res);
  const me = await call(rt.url, "/v1/staff/me", { headers: withCookie(admin) });
  assert.equal(me.status, 200, me.text);
  assert.equal(me.body.name, "王五");
  assert.equal(me.body.csrf_token, admin.csrf);
  checkResponse("/v1/staff/me", "get", me);
});

test("a write without the session's CSRF token is refused; with it the administrator creates an editor", async () => {
  const editor = { username: "zhaoliu", display_name: "赵六", roles: ["catalogue_editor"] };
  const bare = await postJson(rt.url, "/v1/admin/staff", editor, null, withCookie(admin));
  assert.equal(bare.status, 403);
  assert.equal(bare.body.error.code, "csrf_invalid");
  const forged = await postJson(rt.url, "/v1/admin/staff", editor, null, withCookie(admin, { "x-csrf-token": "0".repeat(64) }));
  assert.equal(forged.status, 403);
  const made = await postJson(rt.url, "/v1/admin/staff", editor, null, withCookie(admin, { "x-csrf-token": admin.csrf }));
  assert.equal(made.status, 201, made.text);
  assert.equal(made.body.staff.state, "enrolling");
  checkResponse("/v1/admin/staff", "post", made);
  editorLink = made.body.enrol_url;
  const again = await postJson(rt.url, "/v1/admin/staff", { ...editor, username: "ZhaoLiu" }, null, withCookie(admin, { "x-csrf-token": admin.csrf }));
  assert.equal(again.status, 409, "user names are one account whatever their case");
});

test("the session cookie reaches other workers' admin routes with the account's roles, and nothing more", async () => {
  const secret = await enrol(editorLink);
  const ed = await signIn("zhaoliu", secret);
  assert.equal(ed.res.status, 200, ed.res.text);
  const items = await call(rt.url, "/v1/admin/items", { headers: withCookie(ed) });
  assert.equal(items.status, 200, items.text);
  assert.equal((await call(rt.url, "/v1/admin/complaints", { headers: withCookie(ed) })).status, 403, "not a complaint role");
  assert.equal((await call(rt.url, "/v1/admin/staff", { headers: withCookie(ed) })).status, 403, "not a staff administrator");
  assert.equal((await call(rt.url, "/v1/admin/audit-log", { headers: withCookie(admin) })).status, 403, "三员分立: the administrator reads no audit log");
  const both = await call(rt.url, "/v1/admin/staff", { method: "POST", headers: withCookie(admin, { "x-csrf-token": admin.csrf, "content-type": "application/json" }),
    body: JSON.stringify({ username: "sunqi", display_name: "孙七", roles: ["staff_admin", "auditor"] }) });
  assert.equal(both.status, 422, "三员分立: never administrator and auditor at once");
  const out = await postJson(rt.url, "/v1/staff/logout", {}, null, withCookie(ed, { "x-csrf-token": ed.csrf }));
  assert.equal(out.status, 204, out.text);
  assert.equal((await call(rt.url, "/v1/admin/items", { headers: withCookie(ed) })).status, 401, "signed out");
});

test("twenty parallel guesses get at most four login_failed answers, the fifth locks, and then even the right password is refused", async () => {
  const made = await postJson(rt.url, "/v1/admin/staff", { username: "qianba", display_name: "钱八", roles: ["billing_operator"] }, null, withCookie(admin, { "x-csrf-token": admin.csrf }));
  assert.equal(made.status, 201, made.text);
  const secret = await enrol(made.body.enrol_url);
  const guesses = await Promise.all(Array.from({ length: 20 }, (_, i) =>
    postJson(rt.url, "/v1/staff/login", { username: "qianba", password: `Wrong-Guess-${i}!x`, code: totp(secret, undefined, 1) }, null, ip())));
  const codes = guesses.map((g) => g.body.error.code);
  assert.ok(codes.filter((c) => c === "login_failed").length <= 4, codes.join(","));
  assert.equal(codes.filter((c) => c === "login_failed" || c === "account_locked").length, 20, codes.join(","));
  const right = await signIn("qianba", secret);
  assert.equal(right.res.status, 429);
  assert.equal(right.res.body.error.code, "account_locked");
  const history = await call(rt.url, `/v1/admin/staff/${made.body.staff.id}/logins`, { headers: withCookie(admin) });
  assert.equal(history.status, 200, history.text);
  assert.equal(history.body.logins.length, 21);
  checkResponse("/v1/admin/staff/{id}/logins", "get", history);
  assert.ok(history.body.logins.some((l) => l.outcome === "locked"));
});
