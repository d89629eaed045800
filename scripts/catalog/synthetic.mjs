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

// Full text (issue 19): each item's materials, conditions, steps and Q&A vary
// by its object and action, drawn from realistic pools, so the probe indexes
// text as a real catalogue has it.
const OBJECT_MATERIALS = {
  营业执照: ["营业执照正副本", "公司章程", "股东会决议", "住所使用证明", "法定代表人任职文件"],
  居住证: ["居住证", "房屋租赁合同", "居住证明", "近期一寸免冠照片", "劳动合同"],
  社会保障卡: ["社会保障卡", "社保卡申领登记表", "近期一寸免冠白底照片", "银行借记卡"],
  不动产权证书: ["不动产权证书", "不动产登记申请书", "购房合同", "契税完税凭证", "不动产权籍调查表"],
  机动车行驶证: ["机动车行驶证", "机动车登记证书", "机动车交通事故责任强制保险凭证", "车辆购置税完税证明", "机动车安全技术检验合格证明"],
  出生医学证明: ["出生医学证明", "父母双方结婚证", "新生儿父母居民户口簿", "医院出具的分娩证明"],
  残疾人证: ["残疾人证", "残疾评定表", "县级以上医院诊断证明", "近期二寸免冠彩色照片"],
  公积金账户: ["住房公积金缴存证明", "本人银行借记卡", "劳动合同", "单位缴存登记表"],
  燃气户: ["燃气用户证", "不动产权证书或租赁合同", "燃气具安全检验报告", "燃气开户申请表"],
  水表: ["用水户号", "不动产权证书或购房合同", "水表过户申请表", "最近一期水费缴费凭证"],
  供暖户: ["供暖缴费凭证", "不动产权证书", "供暖开通申请表", "物业服务证明"],
  排水许可证: ["排水许可申请表", "排水户内部排水管网图", "排水水质检测报告", "营业执照"],
  卫生许可证: ["卫生许可证", "从业人员健康证明", "经营场所平面布局图", "卫生管理制度", "营业执照"],
  道路运输证: ["道路运输证", "道路运输经营许可证", "车辆技术等级评定表", "机动车行驶证"],
  养犬登记证: ["养犬登记证", "犬只狂犬病免疫证明", "犬只照片", "养犬人居民户口簿或居住证"],
};
const ACTION_MATERIALS = {
  申请: ["申请表"], 变更: ["变更登记申请书", "变更事项证明材料"], 注销: ["注销申请书", "清税证明"],
  补领: ["遗失声明", "补领申请表"], 换领: ["原证件", "换领申请表"], 备案: ["备案登记表"],
  查询: ["查询申请表"], 延续: ["延续申请书", "原许可证件"], 年检: ["年度检验报告"], 登记: ["登记申请表"],
};
const COMMON_MATERIALS = ["居民身份证", "居民户口簿", "授权委托书", "代办人居民身份证", "结婚证", "统一社会信用代码证书", "近期一寸免冠照片", "银行开户许可证"];
const CONDITIONS = [
  "申请人为本市户籍居民或持有有效居住证", "申请人具有完全民事行为能力", "依法设立并取得营业执照的企业",
  "已按规定缴纳相关费用", "无未结清的欠费或违法记录", "材料真实、完整、有效", "原证件在有效期内或已遗失并登报声明",
  "经营场所符合安全和卫生要求", "连续缴纳社会保险费满6个月", "代办的须持有经公证的授权委托书",
];
const STEP_TEXTS = {
  申请: ["通过本小程序、浙里办或窗口提交申请", "在线填写申请表并上传材料", "到窗口取号后提交纸质材料"],
  受理: ["窗口核验材料，齐全的当场受理；不齐全的一次性告知需补正的全部材料", "工作人员核对原件并留存复印件", "符合条件的出具受理回执"],
  审核: ["承办科室审核并作出决定", "需要现场核查的，5个工作日内上门核查", "审核通过后系统自动生成证照"],
  办结: ["结果通过短信和小程序消息通知，并按选择的方式送达", "窗口领取或快递送达", "电子证照同步归集到个人证照库"],
};
const FAQ_POOL = [
  ["{o}{a}要带哪些材料？", "需携带居民身份证和{m}，材料齐全的当场受理。"],
  ["可以让别人代办{o}{a}吗？", "可以，代办人需携带授权委托书、代办人居民身份证和{m}。"],
  ["{o}{a}要多久？", "材料齐全的，承诺{d}个工作日内办结。"],
  ["{o}{a}收费吗？", "不收费，窗口不会收取办事指南以外的费用。"],
  ["{m}丢了怎么办？", "先登报声明遗失，再持居民身份证到窗口申请补办。"],
  ["网上能办{o}{a}吗？", "可以，通过本小程序或浙里办提交，上传{m}的照片即可。"],
];

/** Deterministic pseudo-random numbers (mulberry32), so runs are comparable. */
function rng(seed) {
  return () => { seed |= 0; seed = (seed + 0x6d2b79f5) | 0; let t = Math.imul(seed ^ (seed >>> 15), 1 | seed); t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t; return ((t ^ (t >>> 14)) >>> 0) / 4294967296; };
}

/** Materials, conditions, steps and Q&A of one item, by its object and action. */
function fullText(name, rand) {
  const pick = (a) => a[Math.floor(rand() * a.length)];
  const some = (a, n) => [...new Set(Array.from({ length: n }, () => pick(a)))];
  const obj = OBJECTS.find((o) => name.startsWith(o)) ?? OBJECTS[0];
  const act = ACTIONS.find((a) => name.startsWith(a, obj.length)) ?? ACTIONS[0];
  const names = [...new Set([...some(COMMON_MATERIALS, 1 + Math.floor(rand() * 2)), ...some(OBJECT_MATERIALS[obj], 1 + Math.floor(rand() * 3)), ...ACTION_MATERIALS[act]])];
  const materials = names.map((n) => ({ name: n, form: pick(["original", "copy", "original_and_copy"]), copies: 1, required: rand() < 0.8, note: "" }));
  const fill = (t) => t.replaceAll("{o}", obj).replaceAll("{a}", act).replaceAll("{m}", pick(names)).replaceAll("{d}", String(1 + Math.floor(rand() * 10)));
  return {
    materials,
    conditions: some(CONDITIONS, 1 + Math.floor(rand() * 3)),
    process: Object.entries(STEP_TEXTS).map(([step, texts]) => ({ name: step, description: pick(texts) })),
    faq: some(FAQ_POOL, 1 + Math.floor(rand() * 3)).map(([q, a]) => ({ q: fill(q), a: fill(a) })),
  };
}

export function syntheticCatalog(n) {
  const rand = rng(20261123);
  const pick = (a) => a[Math.floor(rand() * a.length)];
  const template = themeItems()[0];
  const textRand = rng(20261202);
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
      ...(({ materials, ...text }) => ({ materials, guide: { ...structuredClone(template.guide), ...guideDefaults(dept, "综合受理科"), ...text, scope: `办理${name}的自然人和法人。` } }))(fullText(name, textRand)),
    });
  }
  return { halls: HALLS, items: items.map(({ _related, ...i }) => i) };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  process.stdout.write(JSON.stringify(syntheticCatalog(Number(process.argv[2] ?? 100))));
}
