// A synthetic catalogue of N items: names, materials and guides composed from
// realistic parts, codes valid (credit-code check characters included) and
// spread over 浙江省's regions (scripts/catalog/regions.mjs), each
// item at 1-3 demo halls, some related to their neighbours.
import { HALLS, uscc, itemCode, guideDefaults } from "./common.mjs";
import { regionOf } from "./regions.mjs";
import { themeItems } from "./themes.mjs";
import { fileURLToPath } from "node:url";

const ACTIONS = ["申请", "变更", "注销", "补领", "换领", "备案", "查询", "延续", "年检", "登记"];
const OBJECTS = ["营业执照", "居住证", "社会保障卡", "不动产权证书", "机动车行驶证", "出生医学证明", "残疾人证", "公积金账户", "燃气户", "水表", "供暖户", "排水许可证", "卫生许可证", "道路运输证", "养犬登记证"];
const CATEGORIES = [...new Set(themeItems().map((i) => i.category))];

/** Deterministic pseudo-random numbers (mulberry32), so runs are comparable. */
function rng(seed) {
  return () => { seed |= 0; seed = (seed + 0x6d2b79f5) | 0; let t = Math.imul(seed ^ (seed >>> 15), 1 | seed); t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t; return ((t ^ (t >>> 14)) >>> 0) / 4294967296; };
}

export function syntheticCatalog(n) {
  const rand = rng(20261123);
  const pick = (a) => a[Math.floor(rand() * a.length)];
  const template = themeItems()[0];
  const items = [];
  for (let k = 0; k < n; k++) {
    const { region, level } = regionOf(k);
    const org = uscc(`11${region}${String(5000000 + (k % 97)).padStart(9, "0")}`);
    const basic = String(100000000000 + k).slice(-12);
    const name = `${pick(OBJECTS)}${pick(ACTIONS)}（${String(k).padStart(6, "0")}）`;
    const dept = `义乌市第${(k % 97) + 1}政务服务部门`;
    const halls = [...new Set([pick(HALLS).id, pick(HALLS).id])];
    items.push({
      ...structuredClone(template),
      code: itemCode(org, level, basic),
      basic_code: basic,
      name,
      category: pick(CATEGORIES),
      tags: [pick(OBJECTS), pick(ACTIONS)],
      department: dept,
      halls,
      related: k > 0 && rand() < 0.3 ? [items[k - 1].code] : [],
      guide: { ...structuredClone(template.guide), ...guideDefaults(dept, "综合受理科"), scope: `办理${name}的自然人和法人。` },
    });
  }
  return { halls: HALLS, items: items.map(({ _related, ...i }) => i) };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  process.stdout.write(JSON.stringify(syntheticCatalog(Number(process.argv[2] ?? 100))));
}
