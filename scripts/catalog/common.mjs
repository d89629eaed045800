// Building blocks of the demo and synthetic catalogues: codes with valid
// check characters, the demo city's halls, and guide defaults.

const USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY";
const USCC_WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28];

/** Completes 17 characters into a unified social credit code (GB 32100 check character). */
export function uscc(body17) {
  let sum = 0;
  for (let i = 0; i < 17; i++) sum += USCC_ALPHABET.indexOf(body17[i]) * USCC_WEIGHTS[i];
  return body17 + USCC_ALPHABET[(31 - (sum % 31)) % 31];
}

/** Implementation code: implementing body's credit code + level digit + 12-digit basic code. */
export function itemCode(org, level, basic) {
  return `${org}${level}${basic}`;
}

// The demo city is Yiwu (义乌市, Zhejiang), the city of seed 000. County-level
// city: level digit 4. The organisations and their codes are invented.
export const CITY = "义乌市";
export const LEVEL = "4";
export const ORG = {
  water: { name: "义乌市供水有限公司", code: uscc("91330782MA2D4W8J3") },
  gov: (n) => uscc(`11330782${String(2000000 + n).padStart(9, "0")}`),
};

export const HALLS = [
  { id: "H001", name: "义乌市民服务中心", district: "稠城街道", address: "义乌市稠城街道宾王路158号", hours: "周一至周五 08:30-12:00，13:30-17:00；周六 09:00-12:00（综合窗口）", phone: "0579-85550001", lat: 29.30685, lng: 120.07512, extra: { parking: "地下停车场，前1小时免费", transit: "公交1路、3路市民服务中心站", windows: "1-60号窗口" } },
  { id: "H002", name: "义乌市供水有限公司城中营业厅", district: "稠城街道", address: "义乌市稠城街道江滨中路218号", hours: "周一至周日 08:30-17:00（法定节假日除外）", phone: "0579-85510011", lat: 29.31203, lng: 120.06952, extra: { windows: "1-6号窗口", self_service: "自助缴费终端2台" } },
  { id: "H003", name: "义乌市供水有限公司北苑营业厅", district: "北苑街道", address: "义乌市北苑街道雪峰西路88号", hours: "周一至周五 08:30-17:00", phone: "0579-85510022", lat: 29.34112, lng: 120.08841, extra: { windows: "1-3号窗口" } },
  { id: "H004", name: "义乌市供水有限公司佛堂营业厅", district: "佛堂镇", address: "义乌市佛堂镇佛堂大道366号", hours: "周一至周五 08:30-16:30", phone: "0579-85510033", lat: 29.19533, lng: 120.04982, extra: { windows: "1-2号窗口" } },
  { id: "H005", name: "江东街道便民服务中心", district: "江东街道", address: "义乌市江东街道江东中路95号", hours: "周一至周五 08:30-12:00，13:30-17:00", phone: "0579-85520005", lat: 29.29604, lng: 120.11052, extra: {} },
  { id: "H006", name: "稠江街道便民服务中心", district: "稠江街道", address: "义乌市稠江街道杨村路276号", hours: "周一至周五 08:30-12:00，13:30-17:00", phone: "0579-85520006", lat: 29.28207, lng: 120.03304, extra: {} },
  { id: "H007", name: "义乌市公安局出入境接待大厅", district: "稠城街道", address: "义乌市稠城街道工人北路1号", hours: "周一至周六 08:30-17:00", phone: "0579-85560007", lat: 29.31402, lng: 120.08206, extra: { note: "办理护照、港澳台通行证需本人到场采集指纹" } },
  { id: "H008", name: "义乌市不动产登记中心", district: "福田街道", address: "义乌市福田街道商城大道L33号", hours: "周一至周五 08:30-12:00，13:30-17:00", phone: "0579-85560008", lat: 29.33058, lng: 120.10021, extra: {} },
  { id: "H009", name: "义乌市人力社保服务大厅", district: "稠城街道", address: "义乌市稠城街道丹溪北路201号", hours: "周一至周五 08:30-12:00，13:30-17:00", phone: "0579-85560009", lat: 29.30111, lng: 120.07603, extra: {} },
  { id: "H010", name: "金华市住房公积金管理中心义乌分中心", district: "稠城街道", address: "义乌市稠城街道新马路99号", hours: "周一至周五 08:30-12:00，13:30-17:00", phone: "0579-85560010", lat: 29.30902, lng: 120.07104, extra: {} },
];

/** Fields every guide of the demo city shares unless an item says otherwise. */
export function guideDefaults(dept, office) {
  return {
    accepting_department: dept,
    deciding_department: dept,
    handling_unit: dept,
    business_office: office,
    prohibitions: [
      "不得要求申请人提供办事指南以外的材料",
      "不得以任何形式收取指南以外的费用",
      "不得要求申请人到多个窗口重复提交材料",
    ],
    delivery: ["窗口领取", "邮政快递送达（免费）"],
    pickup_methods: ["窗口领取", "快递送达"],
    supervision: { phone: "12345", channels: ["12345政务服务热线", "本小程序“投诉建议”", `${CITY}人民政府网站“我要投诉”栏目`] },
    // Only what every item has; an item that can be applied for online says so itself.
    supplementary: "材料齐全的当场受理；材料不全的，窗口一次性告知需补正的全部内容（最多跑一次）。",
    other: "",
  };
}
