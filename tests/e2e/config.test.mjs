// The wrangler files agree with each other and with the binding names the
// Rust code uses (shared/src/bindings.rs), so a rename fails here, not in production.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, existsSync } from "node:fs";
import { join, resolve, dirname } from "node:path";
import { parse } from "smol-toml";
import { ROOT, FUNCTIONS, wranglerConfig, localRoute } from "../../scripts/runtime.mjs";

const root = parse(readFileSync(join(ROOT, "wrangler.toml"), "utf8"));
const rust = readFileSync(join(ROOT, "shared", "src", "bindings.rs"), "utf8");
const rustConst = (name) => rust.match(new RegExp(`pub const ${name}: &str = "([^"]+)"`))[1];

test("every function shares the root's D1 database and KV namespace", () => {
  const [d1] = root.d1_databases;
  const [kv] = root.kv_namespaces;
  assert.equal(d1.binding, rustConst("DB"));
  assert.equal(d1.database_name, rustConst("DB_NAME"));
  assert.equal(kv.binding, rustConst("CACHE"));
  for (const name of FUNCTIONS) {
    const cfg = wranglerConfig(name);
    assert.deepEqual(
      cfg.d1_databases.map(({ binding, database_name, database_id }) => ({ binding, database_name, database_id })),
      [{ binding: d1.binding, database_name: d1.database_name, database_id: d1.database_id }], name);
    assert.deepEqual(cfg.kv_namespaces.map(({ binding, id }) => ({ binding, id })), [{ binding: kv.binding, id: kv.id }], name);
    const migrations = resolve(ROOT, "functions", name, cfg.d1_databases[0].migrations_dir);
    assert.equal(migrations, resolve(ROOT, root.d1_databases[0].migrations_dir), name);
    assert.equal(cfg.compatibility_date, root.compatibility_date, name);
    assert.equal(cfg.build.cwd, `functions/${name}`, name);
    assert.ok(existsSync(join(ROOT, "functions", name, "Cargo.toml")), name);
  }
});

test("route patterns are unique across workers and all under one host", () => {
  const seen = new Map();
  const hosts = new Set();
  for (const name of FUNCTIONS) {
    for (const r of wranglerConfig(name).routes) {
      assert.ok(!seen.has(r.pattern), `${r.pattern} in ${name} and ${seen.get(r.pattern)}`);
      seen.set(r.pattern, name);
      hosts.add(r.pattern.slice(0, r.pattern.indexOf("/")));
    }
  }
  assert.equal(hosts.size, 1);
  assert.equal(localRoute("api.x.cn/v1/guides*"), "*/v1/guides*");
});

test(".dev.vars.example names only variables a wrangler file or a worker's Secrets header knows", () => {
  const example = readFileSync(join(ROOT, ".dev.vars.example"), "utf8");
  const names = [...example.matchAll(/^#? ?([A-Z_][A-Z0-9_]*)=/gm)].map((m) => m[1]);
  assert.ok(names.length > 5);
  const secrets = FUNCTIONS.flatMap((n) => {
    const header = readFileSync(join(ROOT, "functions", n, "src", "lib.rs"), "utf8").match(/^\/\/! Secrets:([^]*?)^\/\/!$/m);
    return header ? [...header[1].matchAll(/`([A-Z_0-9]+)`/g)].map((m) => m[1]) : [];
  });
  assert.ok(secrets.includes("IDENTITY_PEPPER"));
  const known = new Set([...secrets, ...FUNCTIONS.flatMap((n) => Object.keys(wranglerConfig(n).vars ?? {}))]);
  for (const n of names) assert.ok(known.has(n), `${n} is not a var of any worker`);
});
