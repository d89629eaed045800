// Development only (scripts/dev runs it): a demo staff member for every role,
// enrolled through the real API, so the console can be tried at once. Prints
// each user name, the shared demo password and each TOTP secret (add it to an
// authenticator app, or `node scripts/totp.mjs SECRET` prints the current
// code). The secrets are kept in .wrangler/state/demo-staff.json (ignored by
// git) so a second scripts/dev prints them again.
//   node scripts/demo-staff.mjs --url http://127.0.0.1:8787
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { ROOT } from "./runtime.mjs";
import { totp } from "./totp.mjs";

const arg = (f, d) => { const i = process.argv.indexOf(f); return i > 0 ? process.argv[i + 1] : d; };
const url = arg("--url", "http://127.0.0.1:8787");
const FILE = join(ROOT, ".wrangler", "state", "demo-staff.json");
const PASSWORD = "Demo-Bianmin-2026!";
const ROLES = [
  ["demo-editor", "事项编辑", { roles: ["catalogue_editor"] }],
  ["demo-reviewer", "事项审核", { roles: ["catalogue_reviewer"] }],
  ["demo-hall", "大厅窗口", { roles: ["hall_staff"], halls: ["H001", "H002"] }],
  ["demo-calendar", "节假日管理", { roles: ["calendar_admin"] }],
  ["demo-outage", "停水停气发布", { roles: ["outage_publisher"] }],
  ["demo-dispatch", "12345派单", { roles: ["complaint_dispatcher"] }],
  ["demo-water", "供水公司承办", { roles: ["complaint_handler"], departments: ["供水公司"] }],
  ["demo-billing", "缴费业务", { roles: ["billing_operator"] }],
];

const post = async (path, body, headers = {}) => {
  const r = await fetch(url + path, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body) });
  const text = await r.text();
  if (!r.ok) throw new Error(`${path}: ${r.status} ${text}`);
  return { res: r, body: text ? JSON.parse(text) : null };
};

/** Completes an enrolment link with the demo password; returns the secret. */
async function enrol(link) {
  const token = link.split("#/enrol/")[1];
  const { body } = await post("/v1/staff/enrolment", { token });
  await post("/v1/staff/enrolment:complete", { token, password: PASSWORD, code: totp(body.secret) });
  return body.secret;
}

function print(accounts) {
  console.log(`\nDemo staff (development only; password for all: ${PASSWORD}), sign in at ${url}/console/`);
  for (const a of accounts) console.log(`  ${a.username.padEnd(15)} ${a.label.padEnd(10)} TOTP secret ${a.secret}`);
  console.log("  current code: node scripts/totp.mjs <secret>   (or add the secret to an authenticator app)");
}

if (existsSync(FILE)) {
  print(JSON.parse(readFileSync(FILE, "utf8")));
  process.exit(0);
}
const script = (cmd, username, name) => execFileSync(join(ROOT, "scripts", "staff"), [cmd, "--name", name, "--username", username, "--base-url", url], { cwd: ROOT, encoding: "utf8" });
let adminOut, auditorOut;
try {
  adminOut = script("create-admin", "demo-admin", "演示管理员");
  auditorOut = script("create-auditor", "demo-auditor", "演示审计员");
} catch {
  console.log("demo staff: accounts exist but their secrets are not in .wrangler/state/demo-staff.json; remove .wrangler/state to start over");
  process.exit(0);
}
const link = (out) => out.match(/enrol:\s+(\S+)/)[1];
const accounts = [
  { username: "demo-admin", label: "系统管理员", secret: await enrol(link(adminOut)) },
  { username: "demo-auditor", label: "审计员", secret: await enrol(link(auditorOut)) },
];
const signIn = await post("/v1/staff/login", { username: "demo-admin", password: PASSWORD, code: totp(accounts[0].secret, undefined, 1) });
const cookie = signIn.res.headers.get("set-cookie").split(";")[0];
const headers = { cookie, "x-csrf-token": signIn.body.csrf_token };
for (const [username, label, grant] of ROLES) {
  const made = await post("/v1/admin/staff", { username, display_name: `演示${label}`, ...grant }, headers);
  accounts.push({ username, label, secret: await enrol(made.body.enrol_url) });
}
await post("/v1/staff/logout", {}, headers);
mkdirSync(join(ROOT, ".wrangler", "state"), { recursive: true });
writeFileSync(FILE, JSON.stringify(accounts, null, 2), { mode: 0o600 });
print(accounts);
