// Loads the official 法定节假日 and 调休上班 days (schemas/holidays/<year>.json,
// replaced by an operator each year; its JSON Schema is beside it) into the city
// calendar `appt_calendar`, which closes the halls' booking days and moves every
// working-day deadline (complaints, appointments).
//   node scripts/load-holidays.mjs --check                    validate only (exit 1 with the problems)
//   node scripts/load-holidays.mjs --local [--persist-to DIR] into the local D1 `bianmin` (scripts/dev)
//   node scripts/load-holidays.mjs --remote                   into the deployed D1 `bianmin`
//   node scripts/load-holidays.mjs --url http://127.0.0.1:8787 --token bma_...   through the admin API
//                                                             (a calendar_admin token; or BIANMIN_ADMIN_TOKEN)
//   --file schemas/holidays/2026.json (repeatable; default: every <year>.json in schemas/holidays/)
// Every mode validates first and writes nothing when a file is wrong. Writes are
// idempotent (INSERT ... ON CONFLICT DO UPDATE, or PUT per day) and audited;
// days missing from the file are left as they are (delete them in the console).
// --check and --url run on any Node >= 18. --local and --remote run wrangler,
// which needs Node >= 22.12: this script sources nothing itself, so in a new
// shell run `. scripts/setup` first (scripts/dev does), as for the other scripts.
import { readFileSync, readdirSync, writeFileSync, mkdtempSync, rmSync } from "node:fs";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { tmpdir, userInfo } from "node:os";
import { join, relative, dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import Ajv2020 from "ajv/dist/2020.js";
import addFormats from "ajv-formats";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const DIR = join(ROOT, "schemas", "holidays");
const KINDS = { holiday: "节假日", workday: "调休上班" };
const MAX_NAME = 30; // the admin API's limit on a calendar name

/** The <year>.json files of schemas/holidays/, in year order. */
export function defaultFiles() {
  return readdirSync(DIR).filter((f) => /^[0-9]{4}\.json$/.test(f)).sort().map((f) => join(DIR, f));
}

let validate;
function schemaProblems(data) {
  if (!validate) {
    const ajv = new Ajv2020({ allErrors: true, strict: false });
    addFormats(ajv);
    validate = ajv.compile(JSON.parse(readFileSync(join(DIR, "holidays.schema.json"), "utf8")));
  }
  if (validate(data)) return [];
  return validate.errors.map((e) => `不符合 holidays.schema.json：${e.instancePath || "（根）"} ${schemaMessage(e)}`);
}

/** ajv's error in Chinese. */
function schemaMessage(e) {
  const p = e.params ?? {};
  switch (e.keyword) {
    case "required": return `缺少字段 ${p.missingProperty}`;
    case "additionalProperties": return `不应有字段 ${p.additionalProperty}`;
    case "type": return `类型应为 ${p.type}`;
    case "enum": return `取值应为 ${(p.allowedValues ?? []).join(" 或 ")}`;
    case "format": case "pattern": return "格式不正确";
    case "minLength": return "不能为空";
    case "maxLength": return `不超过${p.limit}字`;
    case "minItems": return `至少${p.limit}项`;
    case "minimum": case "maximum": return "超出允许范围";
    default: return e.message;
  }
}

/** A real calendar date `YYYY-MM-DD`, or null. */
function parseDate(s) {
  if (typeof s !== "string" || !/^[0-9]{4}-[0-9]{2}-[0-9]{2}$/.test(s)) return null;
  const d = new Date(`${s}T12:00:00Z`);
  return Number.isNaN(d.getTime()) || d.toISOString().slice(0, 10) !== s ? null : d;
}

/** Every problem of one parsed file, in Chinese (empty when it can be loaded). */
export function problems(data, fileName = "") {
  const out = schemaProblems(data);
  if (!data || typeof data !== "object" || !Array.isArray(data.days)) return out.length ? out : ["文件应为一个对象，并含 days 数组"];
  const m = /^([0-9]{4})\.json$/.exec(fileName);
  if (m && Number(m[1]) !== data.year) out.push(`文件名年份 ${m[1]} 与 year ${data.year} 不一致`);
  const seen = new Set();
  data.days.forEach((day, i) => {
    const where = `days 第${i + 1}项（${day?.date ?? "无日期"}）`;
    const d = parseDate(day?.date);
    if (!d) { out.push(`${where}：日期应为真实存在的 YYYY-MM-DD`); return; }
    if (d.getUTCFullYear() !== data.year) out.push(`${where}：日期不在 ${data.year} 年内`);
    if (seen.has(day.date)) out.push(`${where}：日期重复`);
    seen.add(day.date);
    if (!(day.kind in KINDS)) out.push(`${where}：kind 应为 holiday（节假日）或 workday（调休上班）`);
    const weekend = [0, 6].includes(d.getUTCDay());
    if (day.kind === "workday" && !weekend) out.push(`${where}：调休上班日应为周六或周日（工作日本来就上班）`);
    const name = typeof day.name === "string" ? day.name.trim() : "";
    if (day.kind === "holiday" && !name) out.push(`${where}：节假日须写节日名称（如“春节”）`);
    if ([...name].length > MAX_NAME) out.push(`${where}：名称不超过${MAX_NAME}字`);
  });
  return out;
}

/** Reads and checks the files; exits 1 with every problem when one is wrong. */
function readAll(files) {
  const all = [];
  const bad = [];
  const owner = new Map();
  for (const file of files) {
    const rel = relative(ROOT, file);
    const shown = rel && !rel.startsWith("..") ? rel : file;
    let data;
    try {
      data = JSON.parse(readFileSync(file, "utf8"));
    } catch (e) {
      bad.push(`${shown}：无法读取或不是合法的 JSON（${e.message}）`);
      continue;
    }
    const found = problems(data, file.split(/[\\/]/).pop());
    for (const day of Array.isArray(data?.days) ? data.days : []) {
      if (typeof day?.date !== "string") continue;
      if (owner.has(day.date) && owner.get(day.date) !== shown) found.push(`${day.date} 同时出现在 ${owner.get(day.date)} 中`);
      owner.set(day.date, shown);
    }
    bad.push(...found.map((p) => `${shown}：${p}`));
    if (!found.length) all.push({ shown, data });
  }
  if (bad.length) {
    for (const p of bad) console.error(`load-holidays: ${p}`);
    console.error(`load-holidays: 校验未通过（${bad.length} 处），未写入任何数据`);
    process.exit(1);
  }
  return all;
}

const counts = (days) => `节假日 ${days.filter((d) => d.kind === "holiday").length} 天、调休上班 ${days.filter((d) => d.kind === "workday").length} 天`;
const q = (s) => `'${String(s).replace(/'/g, "''")}'`;

/** The idempotent SQL of the days, each with its audit row as the admin route writes. */
export function sqlFor(days, source) {
  const at = new Date(Date.now() + 8 * 3600e3).toISOString().slice(0, 19) + "+08:00";
  let who = "unknown";
  try { who = userInfo().username; } catch { /* no user name: keep "unknown" */ }
  return days.map((d) => [
    `INSERT INTO appt_calendar (day, kind, name) VALUES (${q(d.date)}, ${q(d.kind)}, ${q(d.name.trim())})`,
    ` ON CONFLICT (day) DO UPDATE SET kind = excluded.kind, name = excluded.name;\n`,
    `INSERT INTO audit_log (at, actor_id, actor_name, role, action, target, request_id, detail) VALUES (`,
    `${q(at)}, 'scripts/load-holidays', ${q(who)}, 'calendar_admin', 'appointment.calendar', ${q(d.date)}, 'cli', `,
    `${q(JSON.stringify({ kind: d.kind, name: d.name.trim(), source }))});\n`,
  ].join("")).join("");
}

async function viaWrangler(days, source, where) {
  const [major, minor] = process.versions.node.split(".").map(Number);
  if (major < 22 || (major === 22 && minor < 12)) {
    console.error(`load-holidays: wrangler 需要 Node >= 22.12（当前 ${process.versions.node}）：请先在本 shell 运行 . scripts/setup，或直接运行 scripts/dev`);
    process.exit(1);
  }
  const tmp = mkdtempSync(join(tmpdir(), "bianmin-holidays-"));
  const file = join(tmp, "holidays.sql");
  writeFileSync(file, sqlFor(days, source));
  try {
    await promisify(execFile)(join(ROOT, "node_modules", ".bin", "wrangler"), ["d1", "execute", "bianmin", ...where, "--file", file], {
      cwd: ROOT, maxBuffer: 16 << 20, env: { ...process.env, WRANGLER_SEND_METRICS: "false", CI: "true" },
    });
  } catch (e) {
    console.error(`${e.stdout ?? ""}${e.stderr ?? ""}`.trim());
    console.error(`load-holidays: wrangler d1 execute 失败（${e.code ?? e.message}），日历未更新`);
    process.exit(1);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

async function viaApi(days, url, token) {
  for (const d of days) {
    let res;
    try {
      res = await fetch(`${url.replace(/\/+$/, "")}/v1/admin/appointments/calendar/${d.date}`, {
        method: "PUT",
        headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
        body: JSON.stringify({ kind: d.kind, name: d.name.trim() }),
      });
    } catch (e) {
      console.error(`load-holidays: 无法连接 ${url}（${e.cause?.code ?? e.message}）`);
      process.exit(1);
    }
    if (res.status !== 204) {
      const text = await res.text();
      let msg = text.slice(0, 500);
      try { msg = JSON.parse(text).error?.message ?? msg; } catch { /* not JSON: show the text */ }
      console.error(`load-holidays: ${d.date} 写入失败（HTTP ${res.status}）：${msg}`);
      if (res.status === 401 || res.status === 403) console.error("load-holidays: 需要有效且含 calendar_admin 角色的管理令牌");
      process.exit(1);
    }
  }
}

function usage(msg) {
  if (msg) console.error(`load-holidays: ${msg}`);
  console.error("用法: node scripts/load-holidays.mjs [--file F ...] (--check | --local [--persist-to DIR] | --remote | --url U --token T)");
  process.exit(2);
}

async function main(argv) {
  const files = [];
  let mode = null;
  let url;
  let token = process.env.BIANMIN_ADMIN_TOKEN;
  let persist;
  const setMode = (m) => { if (mode && mode !== m) usage("--check、--local、--remote、--url 只能选一个"); mode = m; };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => { const v = argv[++i]; if (v === undefined || v.startsWith("--")) usage(`${a} 后面缺少值`); return v; };
    switch (a) {
      case "--file": files.push(resolve(value())); break;
      case "--check": setMode("check"); break;
      case "--local": setMode("local"); break;
      case "--remote": setMode("remote"); break;
      case "--persist-to": persist = value(); break;
      case "--url": setMode("url"); url = value(); break;
      case "--token": token = value(); break;
      case "--help": case "-h": usage(); break;
      default: usage(`未知参数 ${a}`);
    }
  }
  if (!mode) usage("请选择 --check、--local、--remote 或 --url");
  if (persist && mode !== "local") usage("--persist-to 只用于 --local");
  if (mode === "url" && !token) usage("--url 需要 --token（含 calendar_admin 角色的管理令牌）");
  const chosen = files.length ? files : defaultFiles();
  if (!chosen.length) usage(`${relative(ROOT, DIR)} 中没有 <年份>.json 文件`);
  const loaded = readAll(chosen);
  const days = loaded.flatMap((f) => f.data.days);
  if (mode === "check") {
    for (const f of loaded) console.log(`load-holidays: ${f.shown} 校验通过：${f.data.year}年 ${counts(f.data.days)}`);
    return;
  }
  const source = loaded.map((f) => f.shown).join(",");
  let target;
  if (mode === "url") {
    await viaApi(days, url, token);
    target = `${url}（管理接口）`;
  } else {
    const where = mode === "remote" ? ["--remote"] : ["--local", ...(persist ? ["--persist-to", persist] : [])];
    await viaWrangler(days, source, where);
    target = mode === "remote" ? "线上 D1 bianmin" : "本地 D1 bianmin";
  }
  console.log(`load-holidays: 已载入 ${days.length} 天到${target}（${counts(days)}；来自 ${source}）`);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await main(process.argv.slice(2));
