// Boots the runtime with the demo catalogue and an all-roles admin token, then
// runs schemathesis against it (asynchronously: this process hosts workerd).
import { spawn } from "node:child_process";
import { join } from "node:path";
import { ROOT } from "./runtime.mjs";
import { boot } from "../tests/e2e/helpers.mjs";
import { loadCatalog } from "./load-catalog.mjs";
import { demoCatalog } from "./catalog/demo.mjs";

const examples = process.argv[2] ?? "40";
const rt = await boot();
let code = 1;
try {
  const token = rt.token(["catalogue_editor", "auditor"], "schemathesis");
  await loadCatalog(rt.url, token, demoCatalog());
  const args = [
    "run", join(ROOT, "schemas", "openapi.json"), "--url", rt.url,
    "--checks", "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance",
    "--exclude-tag", "planned", "--max-examples", examples, "--seed", "20261123",
    "--header", `Authorization: Bearer ${token}`, "--suppress-health-check", "all", "--no-color",
  ];
  code = await new Promise((resolve) => {
    const p = spawn(process.env.SCHEMATHESIS_BIN, args, { stdio: "inherit" });
    p.on("exit", (c) => resolve(c ?? 1));
  });
} finally {
  await rt.stop();
}
process.exit(code);
