// The demo catalogue: the 17 water items of seed 003, one item for each theme
// of seed 002 table 1, and the demo city's halls, as one import body.
//   node scripts/catalog/demo.mjs > demo.json
import { HALLS } from "./common.mjs";
import { waterItems } from "./water.mjs";
import { themeItems } from "./themes.mjs";
import { fileURLToPath } from "node:url";

/** Turns the authoring shape into the import shape: SELF and related numbers become codes. */
export function finalize(items) {
  const water = new Map(items.filter((i) => i.category === "供水服务").map((i, n) => [n + 1, i.code]));
  return items.map(({ _related, extraMaterials, ...item }) => {
    const situations = item.guide.situations.map((q) => ({
      ...q,
      options: q.options.map((o) => (o.item_code === "SELF" ? { ...o, item_code: item.code } : o)),
    }));
    return {
      ...item,
      materials: [...item.materials, ...(extraMaterials ?? [])],
      related: (_related ?? []).map((n) => water.get(n)),
      guide: { ...item.guide, situations },
    };
  });
}

export function demoCatalog() {
  const raw = [...waterItems(), ...themeItems()];
  // water.mjs keeps extra materials beside the spec; carry them through.
  return { halls: HALLS, items: finalize(raw) };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  process.stdout.write(JSON.stringify(demoCatalog(), null, 1));
}
