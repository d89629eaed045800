// The harness of the console's browser tests: a runtime, Debian's Chromium
// (playwright-core), axe-core on each page state and its screenshot for the
// README, and staff created by scripts/staff and enrolled with TOTP codes the
// test computes.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { chromium } from "playwright-core";
import { boot, postJson } from "./helpers.mjs";
import { ROOT } from "../../scripts/runtime.mjs";
import { totp } from "../../scripts/totp.mjs";

export const SHOTS = join(ROOT, "functions", "console", "web", "screenshots");
export const PASSWORD = "Shui-Dian-2026!ok";
const AXE = readFileSync(join(ROOT, "node_modules", "axe-core", "axe.min.js"), "utf8");

/** A runtime and a browser page on it; `close()` stops both. */
export async function openConsole() {
  const rt = await boot();
  mkdirSync(SHOTS, { recursive: true });
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_BIN || "/usr/bin/chromium" });
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 }, locale: "zh-CN", acceptDownloads: true });
  page.on("pageerror", (e) => { throw e; });
  return { rt, browser, page, close: async () => { await browser.close(); await rt.stop(); } };
}

/** axe-core on the page as it is (no serious or critical violation), then its screenshot as `name`. */
export async function check(page, name) {
  await page.mouse.move(0, 0); // not hovering the button just clicked (axe checks the resting colours)
  await page.waitForTimeout(400); // Element Plus transitions
  await page.evaluate(AXE); // evaluated by the test driver, not a <script>: the page's CSP stays on
  const r = await page.evaluate(() => globalThis.axe.run(document, { resultTypes: ["violations"] }));
  const bad = r.violations.filter((v) => ["serious", "critical"].includes(v.impact));
  assert.deepEqual(bad.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`), [], `axe on ${name}`);
  if (name) await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
}

/** Runs scripts/staff `command` (create-admin, create-auditor); returns the enrolment link. */
export function staffScript(rt, command, name, username) {
  const out = execFileSync(join(ROOT, "scripts", "staff"), [command, "--name", name, "--username", username, "--base-url", rt.url, "--persist-to", rt.state], { cwd: ROOT, encoding: "utf8" });
  return out.match(/enrol:\s+(\S+)/)[1];
}

/** Completes an enrolment link over HTTP with PASSWORD; returns the TOTP secret. */
export async function enrolByApi(rt, link) {
  const token = link.split("#/enrol/")[1];
  const shown = await postJson(rt.url, "/v1/staff/enrolment", { token });
  assert.equal(shown.status, 200, shown.text);
  const done = await postJson(rt.url, "/v1/staff/enrolment:complete", { token, password: PASSWORD, code: totp(shown.body.secret) });
  assert.equal(done.status, 204, done.text);
  return shown.body.secret;
}

/** Fills and sends the console's sign-in form. */
export async function signInPage(page, rt, username, password, code) {
  await page.goto(`${rt.url}/console/#/login`);
  await page.waitForSelector("#login-username");
  await page.fill("#login-username", username);
  await page.fill("#login-password", password);
  await page.fill("#login-code", code);
  await page.click("button:has-text('登录')");
}

// The last TOTP step each secret has used: the server refuses a step at or before it.
const usedSteps = new Map();

/** A code for `secret` the server has not seen yet (waits for the next step when it must). */
export async function freshCode(secret) {
  const now = () => Math.floor(Date.now() / 30000);
  let step = Math.max(now() - 1, (usedSteps.get(secret) ?? now() - 2) + 1);
  while (step > now() + 1) await new Promise((r) => setTimeout(r, 1000));
  // Keep two seconds off the step's end so the code is still valid when it arrives.
  if (step === now() - 1 && Date.now() % 30000 > 28000) step = now();
  usedSteps.set(secret, step);
  return totp(secret, step * 30 + 1);
}

/** Completes an enrolment link over HTTP and records the enrolment's step; returns the TOTP secret. */
async function enrol(rt, link) {
  const secret = await enrolByApi(rt, link);
  usedSteps.set(secret, Math.floor(Date.now() / 30000)); // the enrolment code's step (or, across a step's end, the one after)
  return secret;
}

const admins = new WeakMap();

/** The runtime's staff administrator (created once per runtime by scripts/staff), signed in over HTTP. */
async function adminOf(rt) {
  if (!admins.has(rt)) {
    const secret = await enrol(rt, staffScript(rt, "create-admin", "系统管理员", "sysadmin"));
    admins.set(rt, await apiSignIn(rt, "sysadmin", secret));
  }
  return admins.get(rt);
}

/** Signs in over HTTP; returns { cookie, csrf, headers } for later calls (`headers` carries both). */
export async function apiSignIn(rt, username, secret) {
  const res = await postJson(rt.url, "/v1/staff/login", { username, password: PASSWORD, code: await freshCode(secret) }, null, { "cf-connecting-ip": "203.0.113.9" });
  assert.equal(res.status, 200, res.text);
  const cookie = (res.headers.get("set-cookie") ?? "").split(";")[0];
  return { cookie, csrf: res.body.csrf_token, headers: { cookie, "x-csrf-token": res.body.csrf_token } };
}

/**
 * A staff member with `roles` and scope (`{ halls, departments }`), created over HTTP by the
 * runtime's administrator and enrolled; returns { username, secret }.
 */
export async function makeStaff(rt, username, displayName, roles, scope = {}) {
  const admin = await adminOf(rt);
  const made = await postJson(rt.url, "/v1/admin/staff", { username, display_name: displayName, roles, halls: scope.halls ?? [], departments: scope.departments ?? [] }, null, admin.headers);
  assert.equal(made.status, 201, made.text);
  return { username, secret: await enrol(rt, made.body.enrol_url) };
}

/** Signs `who` ({ username, secret }) in through the console's form and waits for 工作台. */
export async function signInAs(page, rt, who) {
  await signInPage(page, rt, who.username, PASSWORD, await freshCode(who.secret));
  await page.waitForSelector("nav.side");
}
