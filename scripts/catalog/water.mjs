// The 17 water service items of seed 003 (appendix A.1 and A.3, and the
// information items of table B.1), with complete guides for the demo city.
import { ORG, LEVEL, itemCode, guideDefaults } from "./common.mjs";

const WATER_HALLS = ["H002", "H003", "H004", "H001"];
const BASIS = [
  "《城市供水条例》（国务院令第158号）",
  "《浙江省城市供水管理办法》",
  "GB/T 32063《城镇供水服务》",
];
const ID = { name: "居民身份证", form: "original", copies: 1, required: true, note: "代办的另需代办人身份证原件" };
const PROPERTY = { name: "不动产权证书或购房合同", form: "copy", copies: 1, required: true, note: "复印件需本人签字确认" };
const APPLY = (form) => ({ name: `${form}申请表`, form: "original", copies: 1, required: true, note: "可在营业厅领取或在线下载填写", sample_url: `https://water.example.cn/forms/${encodeURIComponent(form)}-sample.pdf`, blank_url: `https://water.example.cn/forms/${encodeURIComponent(form)}.docx` });
const CARD = { name: "水表卡（户号）信息", form: "electronic", copies: 0, required: true, note: "在本小程序“我的水表”中绑定后自动带出，无需提交纸质材料" };
const STD_ERRORS = ["申请表中户号（表卡编号）填写错误", "复印件未签字或不清晰", "代办未携带委托书"];
const FREE = { free: true, items: [] };

const step = (name, description, duration) => ({ name, description, ...(duration ? { duration } : {}) });
const PROCESS = [
  step("申请", "客户通过小程序、浙里办或营业厅提交申请及材料"),
  step("受理", "营业厅当场核验材料，齐全的当场受理并出具受理回执", "即时"),
  step("办理", "供水公司业务科室审核并安排现场作业"),
  step("办结", "办理结果通过短信和小程序消息通知客户"),
];

function water(n, name, spec) {
  const basic = `0001720090${String(n).padStart(2, "0")}`;
  const code = itemCode(ORG.water.code, LEVEL, basic);
  const g = guideDefaults(ORG.water.name, spec.office ?? "营业服务部");
  return {
    code,
    basic_code: basic,
    name,
    category: "供水服务",
    tags: spec.tags ?? ["供水", "最多跑一次"],
    department: ORG.water.name,
    service_object: spec.objects ?? ["自然人", "法人"],
    online: spec.online ? { available: true, url: `https://water.example.cn/online/${basic}` } : { available: false },
    appointment: spec.appointment ?? true,
    materials: spec.materials,
    halls: spec.halls ?? WATER_HALLS,
    related: [],
    guide: {
      ...g,
      scope: spec.scope,
      legal_basis: spec.basis ?? BASIS,
      conditions: spec.conditions,
      process: spec.process ?? PROCESS,
      time_limit: spec.time_limit ?? { legal_days: 5, promised_days: 3, note: "" },
      fees: spec.fees ?? FREE,
      appointment_methods: (spec.appointment ?? true) ? ["本小程序“网上预约”", "营业厅现场取号", "拨打供水服务热线0579-85510000"] : [],
      common_errors: spec.errors ?? STD_ERRORS,
      faq: spec.faq,
      situations: spec.situations ?? [],
      ...(spec.delivery ? { delivery: spec.delivery, pickup_methods: spec.delivery } : {}),
    },
    _related: spec.related ?? [],
    extraMaterials: spec.extraMaterials,
  };
}

export function waterItems() {
  const items = [
    water(1, "已建多层住宅“一户一表”申请", {
      scope: "已建成的多层住宅小区由业主委员会或物业统一申请，将原合表用户改造为“一户一表”抄表到户。",
      objects: ["法人", "其他组织"],
      conditions: ["小区已成立业主委员会或由物业服务企业统一申请", "改造方案经三分之二以上业主同意", "小区内部管网具备改造条件"],
      materials: [APPLY("一户一表改造"), { name: "业主委员会决议或业主同意书", form: "original", copies: 1, required: true }, { name: "小区总平面图及住户清单", form: "copy", copies: 1, required: true }, { name: "经办人身份证", form: "original", copies: 1, required: true }],
      time_limit: { legal_days: 30, promised_days: 20, note: "不含施工时间" },
      office: "工程管理部",
      faq: [{ q: "改造费用由谁承担？", a: "按《义乌市住宅“一户一表”改造实施办法》，户内部分由业主承担，户外公共管网部分由供水公司承担。" }, { q: "改造期间会停水吗？", a: "切换时会短时停水，供水公司将提前24小时通知住户。" }],
    }),
    water(2, "个人客户接水申请", {
      scope: "个人客户新建、改建住宅需要新装自来水表接入公共供水管网。",
      objects: ["自然人"],
      online: true,
      conditions: ["房屋位于公共供水管网覆盖范围内", "申请人为房屋所有权人或经其授权的使用人"],
      materials: [ID, PROPERTY, APPLY("个人接水")],
      time_limit: { legal_days: 15, promised_days: 7, note: "自受理之日起，不含客户自行施工时间" },
      fees: { free: false, items: [{ name: "水表及接水材料费", standard: "按实际用料据实收取，DN15水表每只180元", basis: "义发改价〔2020〕12号" }] },
      office: "新装业务部",
      faq: [{ q: "接水需要多久？", a: "材料齐全受理后7个工作日内完成装表通水。" }, { q: "可以网上申请吗？", a: "可以，在本小程序或浙里办提交申请并上传材料，现场踏勘一次即可。" }],
      situations: [
        { id: "q1", text: "房屋是否已取得不动产权证书？", options: [{ label: "已取得", next: "q2" }, { label: "尚未取得（新建自建房）", item_code: "SELF", materials: ["居民身份证", "个人接水申请表"] }] },
        { id: "q2", text: "是否由本人办理？", options: [{ label: "本人办理", item_code: "SELF", materials: ["居民身份证", "不动产权证书或购房合同", "个人接水申请表"] }, { label: "委托他人办理", item_code: "SELF", materials: ["居民身份证", "不动产权证书或购房合同", "个人接水申请表", "授权委托书"] }] },
      ],
      extraMaterials: [{ name: "授权委托书", form: "original", copies: 1, required: false, note: "委托他人办理时提供" }],
      related: [3, 15],
    }),
    water(3, "水表过户", {
      scope: "因房屋买卖、继承、赠与等原因，水表户名需变更为新的房屋所有权人。",
      online: true,
      conditions: ["原户已结清全部水费", "新户主已取得房屋所有权"],
      materials: [ID, { name: "新的不动产权证书", form: "copy", copies: 1, required: true }, APPLY("水表过户")],
      time_limit: { legal_days: 3, promised_days: 0, note: "材料齐全即办" },
      faq: [{ q: "过户时原户主需要到场吗？", a: "不需要，凭新的不动产权证书即可办理。" }, { q: "原户还有欠费怎么办？", a: "需先结清欠费，可在本小程序“水费缴纳”中在线缴清。" }],
      situations: [
        { id: "q1", text: "过户原因是什么？", options: [{ label: "房屋买卖", item_code: "SELF", materials: ["居民身份证", "新的不动产权证书", "水表过户申请表"] }, { label: "继承或赠与", item_code: "SELF", materials: ["居民身份证", "新的不动产权证书", "水表过户申请表", "继承或赠与公证书"] }] },
      ],
      extraMaterials: [{ name: "继承或赠与公证书", form: "copy", copies: 1, required: false, note: "因继承、赠与过户时提供" }],
      related: [4, 11],
    }),
    water(4, "客户信息变更", {
      scope: "客户联系电话、通讯地址、托收账户等登记信息发生变化。",
      online: true, appointment: false,
      conditions: ["申请人为该户号登记的户主或其授权人"],
      materials: [ID, CARD],
      time_limit: { legal_days: 1, promised_days: 0, note: "即办" },
      faq: [{ q: "手机号变了怎么改？", a: "在本小程序“我的水表”中修改，短信验证新号码后即时生效。" }],
      halls: ["H002", "H003", "H004"],
      related: [3],
    }),
    water(5, "用水人口变更", {
      scope: "居民户实际用水人口达到5人及以上，申请按人口核增阶梯水量（公民个人“一证通”事项）。",
      objects: ["自然人"], online: true, appointment: false,
      conditions: ["户籍或居住登记人口5人及以上", "一户一表居民用户"],
      materials: [ID, { name: "户口簿或居住证明", form: "copy", copies: 1, required: true }, CARD],
      time_limit: { legal_days: 5, promised_days: 2, note: "" },
      faq: [{ q: "核增后什么时候生效？", a: "自审核通过的下一个抄表周期起执行。" }],
    }),
    water(6, "用水性质变更", {
      scope: "用水用途发生变化（如居民生活用水改为经营用水），需变更用水性质及对应水价。",
      conditions: ["用水用途已实际发生变化", "已结清全部水费"],
      materials: [ID, PROPERTY, APPLY("用水性质变更"), { name: "营业执照", form: "copy", copies: 1, required: false, note: "改为经营用水时提供" }],
      time_limit: { legal_days: 10, promised_days: 5, note: "含现场核查" },
      faq: [{ q: "变更后水价怎么算？", a: "自现场核查确认之日起按新的用水性质计价，之前的用水量按原性质结算。" }],
    }),
    water(7, "合表价格申请", {
      scope: "多户共用一只水表的居民合表用户，申请执行居民合表水价。",
      objects: ["自然人", "其他组织"],
      conditions: ["确属多户居民共用一只总表", "共用户数经社区（村）确认"],
      materials: [ID, APPLY("合表价格"), { name: "社区（村）出具的共用户数证明", form: "original", copies: 1, required: true }],
      time_limit: { legal_days: 10, promised_days: 5, note: "" },
      faq: [{ q: "合表水价比阶梯水价便宜吗？", a: "合表水价按居民第一阶梯水价执行，具体见“现行水价查询”。" }],
      related: [17],
    }),
    water(8, "水表验表申请", {
      scope: "客户对水表计量准确性有异议，申请由法定计量检定机构检定。",
      online: true,
      conditions: ["对水表计量有异议", "水表铅封完好"],
      materials: [ID, CARD, APPLY("水表验表")],
      time_limit: { legal_days: 15, promised_days: 10, note: "含计量检定机构检定时间" },
      fees: { free: false, items: [{ name: "水表检定费", standard: "DN15-DN25水表每只50元；检定不合格的由供水公司承担并退还", basis: "浙价费〔2018〕88号" }] },
      office: "计量管理部",
      faq: [{ q: "验表不合格怎么办？", a: "免收检定费，供水公司免费更换水表，并按检定误差退补水费。" }],
    }),
    water(9, "水表暂停", {
      scope: "房屋长期空置或装修等原因，申请暂停供水并拆除（封存）水表。",
      online: true,
      conditions: ["已结清全部水费", "申请人为户主或其授权人"],
      materials: [ID, CARD, APPLY("水表暂停")],
      time_limit: { legal_days: 5, promised_days: 3, note: "" },
      faq: [{ q: "暂停期间要交费吗？", a: "暂停期间不产生水费。" }],
      related: [10],
    }),
    water(10, "水表复接", {
      scope: "已暂停用水的客户申请恢复供水。",
      online: true,
      conditions: ["该户号处于暂停状态", "无欠费"],
      materials: [ID, CARD, APPLY("水表复接")],
      time_limit: { legal_days: 5, promised_days: 2, note: "" },
      faq: [{ q: "复接要收费吗？", a: "暂停不满两年的免费复接；超过两年的按新装接水办理。" }],
      related: [9],
    }),
    water(11, "水表销户", {
      scope: "房屋拆迁或不再使用自来水，申请注销户号并拆除水表。",
      conditions: ["已结清全部水费", "申请人为户主"],
      materials: [ID, PROPERTY, CARD, APPLY("水表销户")],
      time_limit: { legal_days: 5, promised_days: 3, note: "" },
      faq: [{ q: "销户后预存水费怎么办？", a: "余额在销户后5个工作日内原路退回。" }],
    }),
    water(12, "水费缴费", {
      scope: "客户缴纳当期或欠缴的水费，支持微信支付、支付宝、银行托收及营业厅现金缴费。",
      online: true, appointment: false,
      conditions: ["已绑定户号（表卡编号）"],
      materials: [CARD],
      time_limit: { legal_days: 0, promised_days: 0, note: "即时到账" },
      process: [step("查询", "在本小程序“水费缴纳”中查询当期及欠费账单"), step("支付", "选择微信支付或支付宝完成支付", "即时"), step("到账", "支付成功即时销账，可申请电子发票")],
      delivery: ["电子缴费凭证（小程序内查看）"],
      tags: ["供水", "水费", "缴费", "最多跑零次"],
      faq: [{ q: "交错户号怎么办？", a: "请携带缴费凭证到营业厅办理退费，或拨打0579-85510000。" }, { q: "可以一次缴多期吗？", a: "可以，欠费账单可统一补缴。" }],
      halls: ["H002", "H003", "H004"],
      related: [13, 14, 16],
    }),
    water(13, "水费发票换票", {
      scope: "已缴纳水费的客户申请开具或换开增值税发票（普通发票或专用发票）。",
      online: true, appointment: false,
      conditions: ["对应水费已缴清", "开具专用发票的须为增值税一般纳税人"],
      materials: [CARD, { name: "开票信息（名称、纳税人识别号、地址电话、开户行及账号）", form: "electronic", copies: 0, required: true }, { name: "营业执照或一般纳税人登记证明", form: "copy", copies: 1, required: false, note: "开具增值税专用发票时提供" }],
      time_limit: { legal_days: 5, promised_days: 1, note: "电子发票即时开具" },
      tags: ["供水", "发票", "增值税发票"],
      faq: [{ q: "电子发票在哪里下载？", a: "开具后推送至小程序“我的发票”，也可发送到指定邮箱。" }],
      related: [12],
    }),
    water(14, "水费清单打印", {
      scope: "客户查询并打印历史用水量及水费清单。",
      online: true, appointment: false,
      conditions: ["已绑定户号（表卡编号）"],
      materials: [CARD],
      time_limit: { legal_days: 0, promised_days: 0, note: "即办" },
      delivery: ["小程序内查看并下载", "营业厅自助终端打印"],
      faq: [{ q: "能查多长时间的清单？", a: "可查询最近五年的月度清单。" }],
      related: [12],
    }),
    water(15, "银行托收", {
      scope: "客户签约银行代扣水费，每期账单自动从银行账户扣款。",
      online: true, appointment: false,
      conditions: ["银行账户户名与水费户名一致或经户主书面授权"],
      materials: [ID, { name: "银行卡或存折", form: "copy", copies: 1, required: true }, APPLY("银行托收")],
      time_limit: { legal_days: 10, promised_days: 5, note: "自下一期账单起生效" },
      faq: [{ q: "扣款失败会怎样？", a: "系统短信提醒，账单转为欠费，可在小程序内补缴，不收取违约金至次月末。" }],
      related: [12],
    }),
    water(16, "计划性停水公告查询", {
      scope: "查询因工程施工、设备维修等计划性停水或降压供水的公告（提前24小时发布）。",
      objects: ["自然人", "法人", "其他组织"],
      online: true, appointment: false,
      conditions: ["无"],
      materials: [{ name: "无需提交材料", form: "electronic", copies: 0, required: false }],
      time_limit: { legal_days: 0, promised_days: 0, note: "即时查询" },
      process: [step("查询", "在本小程序“停水公告”中按区域查询"), step("订阅", "可订阅户号或地址，停水前收到短信提醒")],
      delivery: ["小程序内查看", "短信提醒（订阅后）"],
      errors: ["未订阅户号导致未收到停水短信"],
      tags: ["供水", "停水", "公告"],
      faq: [{ q: "停水会提前多久通知？", a: "计划性停水至少提前24小时公告并短信通知；抢修停水同时通知并安排临时供水。" }],
      halls: [],
      related: [12],
    }),
    water(17, "现行水价查询", {
      scope: "查询居民生活、非居民、特种用水的现行水价及阶梯水价标准。",
      objects: ["自然人", "法人", "其他组织"],
      online: true, appointment: false,
      conditions: ["无"],
      materials: [{ name: "无需提交材料", form: "electronic", copies: 0, required: false }],
      time_limit: { legal_days: 0, promised_days: 0, note: "即时查询" },
      process: [step("查询", "在本小程序“现行水价”中查看")],
      delivery: ["小程序内查看"],
      errors: ["将污水处理费误认为水费单价"],
      tags: ["供水", "水价"],
      faq: [{ q: "居民阶梯水价是多少？", a: "第一阶梯（年用水0-216立方米）3.10元/立方米，第二阶梯3.85元，第三阶梯6.10元（含污水处理费）。" }],
      halls: [],
    }),
  ];
  return items;
}
