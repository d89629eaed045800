// Posts a catalogue ({items, halls}) to /v1/admin/items:import in batches
// that respect the import limits (halls first, then items 2,000 at a time).
//   node scripts/load-catalog.mjs --url http://127.0.0.1:8787 --token bma_... [FILE | --demo]
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { demoCatalog } from "./catalog/demo.mjs";

const BATCH = 2000; // shared::limits::MAX_IMPORT_ITEMS

export async function loadCatalog(url, token, catalog, log = () => {}) {
  const post = async (body) => {
    const res = await fetch(`${url}/v1/admin/items:import`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
      body: JSON.stringify(body),
    });
    const text = await res.text();
    if (res.status !== 200) throw new Error(`import failed (${res.status}): ${text.slice(0, 2000)}`);
    return JSON.parse(text);
  };
  let last = null;
  if (catalog.halls?.length) last = await post({ halls: catalog.halls });
  for (let i = 0; i < (catalog.items ?? []).length; i += BATCH) {
    last = await post({ items: catalog.items.slice(i, i + BATCH) });
    log(`imported items ${i + 1}-${Math.min(i + BATCH, catalog.items.length)} of ${catalog.items.length}`);
  }
  return last;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const arg = (f) => { const i = process.argv.indexOf(f); return i > 0 ? process.argv[i + 1] : undefined; };
  const url = arg("--url") ?? "http://127.0.0.1:8787";
  const token = arg("--token") ?? process.env.BIANMIN_ADMIN_TOKEN;
  const file = process.argv.slice(2).find((a, i, all) => !a.startsWith("--") && !["--url", "--token"].includes(all[i - 1]));
  if (!token) { console.error("load-catalog: --token (catalogue_reviewer: an import publishes) is required"); process.exit(2); }
  const catalog = file ? JSON.parse(readFileSync(file, "utf8")) : demoCatalog();
  const out = await loadCatalog(url, token, catalog, (m) => console.log(`load-catalog: ${m}`));
  console.log(`load-catalog: catalogue version ${out?.catalog_version}`);
}
