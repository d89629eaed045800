// The 17 water service items of seed 003 (appendix A.1 and A.3, and the
// information items of table B.1), with complete guides for the demo city.
//
// Process steps: 003 A.2 names a flowchart for 13 of the items (appendix C to
// O, figures C.1-O.1), but the stored text of 003 carries only the figure
// captions, not the boxes. Each item's steps below therefore follow its own
// figure's item and 003's clauses on 受理 (当场登记受理, 一次性告知, 同步审核,
// 快递送达); the ones 003 gives no figure for at all say so beside them.
//
// Situations (情形引导): every option ends at an item with exactly the
// materials that situation needs, or leads to the next question. An item with
// none says why in WATER_SITUATIONS_NONE (a test checks the claim).
//
// Promises: only what the service has (search, guides, hall booking, bill
// payment by WeChat Pay/Alipay, invoices, outage notices with SMS
// subscription, complaints, 我的水表 binding, and 网上申报 with uploads for
// the items whose `online` is true).
import { ORG, LEVEL, itemCode, guideDefaults } from "./common.mjs";

const WATER_HALLS = ["H002", "H003", "H004", "H001"];
const BASIS = [
  "《城市供水条例》（国务院令第158号）",
  "《浙江省城市供水管理办法》",
  "GB/T 32063《城镇供水服务》",
];

const basicCode = (n) => `0001720090${String(n).padStart(2, "0")}`;
/** The implementation code of water item `n` (1-17), for situations that end at another item. */
const waterCode = (n) => itemCode(ORG.water.code, LEVEL, basicCode(n));

// Materials shared by several items (names must match the situations' lists).
const ID = { name: "居民身份证", form: "original", copies: 1, required: true, note: "申请人（户主或房屋所有权人）本人的身份证，用于核验申请人身份" };
const AGENT_ID = { name: "代办人身份证", form: "original", copies: 1, required: false, note: "委托他人办理时，代办人携带本人身份证原件，用于核验代办人身份" };
const PROXY = { name: "授权委托书", form: "original", copies: 1, required: false, note: "委托他人办理时提供，须由申请人签字并写明委托事项，证明代办人已获授权" };
const PROPERTY = { name: "不动产权证书或购房合同", form: "copy", copies: 1, required: true, note: "证明申请人对用水房屋的所有权；复印件需本人签字确认" };
const APPLY = (form) => ({ name: `${form}申请表`, form: "original", copies: 1, required: true, note: "可在营业厅领取或在线下载填写，写明户号、联系人和联系电话", sample_url: `https://water.example.cn/forms/${encodeURIComponent(form)}-sample.pdf`, blank_url: `https://water.example.cn/forms/${encodeURIComponent(form)}.docx` });
const CARD = { name: "水表卡（户号）信息", form: "electronic", copies: 0, required: true, note: "用于确定办理的户号：表卡编号印在水费账单上，在本小程序“我的水表”绑定后也可查看，无需提交纸质材料" };
const NONE_NEEDED = { name: "无需提交材料", form: "electronic", copies: 0, required: false };
const STD_ERRORS = ["申请表中户号（表卡编号）填写错误", "复印件未签字或不清晰", "代办未携带授权委托书或代办人身份证"];
const FREE = { free: true, items: [] };
const APPOINTMENT_METHODS = ["本小程序“网上预约”", "营业厅现场取号", "拨打供水服务热线0579-85510000"];
const ONLINE_SUPPLEMENTARY = "可在本小程序“网上申报”提交申请并上传材料，预审发现材料不全的一次性告知需补正的全部内容；也可预约后到营业厅办理，材料齐全的当场受理（最多跑一次）。";

const step = (name, description, duration) => ({ name, description, ...(duration ? { duration } : {}) });
const ACCEPT = (what) => step("受理", `营业厅窗口${what ? `核验${what}，` : ""}材料齐全的当场登记受理并出具受理回执；不齐全的一次性告知需补正的全部内容`, "即时");

// Situation building blocks. `self(...)` ends at the item itself with those
// materials; `to(n, ...)` ends at water item n (another item's guide).
const self = (label, materials) => ({ label, item_code: "SELF", materials });
const to = (n, label, materials) => ({ label, item_code: waterCode(n), materials });
const go = (label, next) => ({ label, next });
const q = (id, text, options) => ({ id, text, options });
/** 本人办理 / 委托他人办理: the second adds the proxy's two documents. */
const byWhom = (id, materials, text = "由谁办理？") =>
  q(id, text, [self("本人办理", materials), self("委托他人代办", [...materials, PROXY.name, AGENT_ID.name])]);
const ARREARS_TEXT = "原户是否已结清全部水费？";

/** Water items with no situations, and why (the guide alone answers). */
export const WATER_SITUATIONS_NONE = [
  { basic_code: basicCode(12), reason: "缴费只需户号，任何人缴费所需材料都相同" },
  { basic_code: basicCode(14), reason: "凭户号查询、打印清单，所需材料没有情形之分" },
  { basic_code: basicCode(16), reason: "公开信息查询，无需提交材料" },
  { basic_code: basicCode(17), reason: "公开信息查询，无需提交材料" },
];

function water(n, name, spec) {
  const basic = basicCode(n);
  const code = itemCode(ORG.water.code, LEVEL, basic);
  const g = guideDefaults(ORG.water.name, spec.office ?? "营业服务部");
  const appointment = spec.appointment ?? true;
  return {
    code,
    basic_code: basic,
    name,
    category: "供水服务",
    tags: spec.tags ?? ["供水", "最多跑一次"],
    department: ORG.water.name,
    service_object: spec.objects ?? ["自然人", "法人"],
    online: spec.online ? { available: true, url: `https://water.example.cn/online/${basic}` } : { available: false },
    appointment,
    materials: spec.materials,
    halls: spec.halls ?? WATER_HALLS,
    related: [],
    guide: {
      ...g,
      scope: spec.scope,
      legal_basis: spec.basis ?? BASIS,
      conditions: spec.conditions,
      process: spec.process,
      time_limit: spec.time_limit ?? { legal_days: 5, promised_days: 3, note: "" },
      fees: spec.fees ?? FREE,
      appointment_methods: appointment ? APPOINTMENT_METHODS : [],
      common_errors: spec.errors ?? STD_ERRORS,
      faq: spec.faq,
      situations: spec.situations,
      ...(spec.online && !spec.supplementary ? { supplementary: ONLINE_SUPPLEMENTARY } : {}),
      ...(spec.supplementary ? { supplementary: spec.supplementary } : {}),
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
      materials: [
        APPLY("一户一表改造"),
        { name: "业主委员会决议", form: "original", copies: 1, required: false, note: "已成立业主委员会的小区提供，证明改造经业主大会或业主委员会决定" },
        { name: "业主同意书", form: "original", copies: 1, required: false, note: "未成立业主委员会的小区提供，须有三分之二以上业主签字同意改造" },
        { name: "小区总平面图及住户清单", form: "copy", copies: 1, required: true, note: "用于现场踏勘、设计管网走向和逐户立户" },
        { name: "经办人身份证", form: "original", copies: 1, required: true, note: "核验前来办理的经办人身份" },
      ],
      extraMaterials: [{ ...PROXY, note: "业主委员会委托物业服务企业申请时提供，由业主委员会盖章" }],
      time_limit: { legal_days: 30, promised_days: 20, note: "不含施工时间" },
      office: "工程管理部",
      // 003 figure C.1.
      process: [
        step("申请", "业主委员会或受委托的物业服务企业提交改造申请及业主决议（或业主同意书）"),
        ACCEPT("业主决议和住户清单"),
        step("现场踏勘", "工程管理部到小区踏勘内部管网和表位，编制改造方案及费用预算", "5个工作日"),
        step("方案确认", "与业主委员会或物业确认改造方案、费用分担并签订改造协议"),
        step("施工改造", "按方案敷设管道、安装分户水表；切换供水前24小时通知住户储水", "按施工合同"),
        step("验收立户", "竣工验收合格后逐户建立户号（表卡编号）并抄录起始读数，原合表户销户", "5个工作日"),
        step("办结", "向业主委员会或物业交付分户户号清单，住户自下一抄表周期起按户计费"),
      ],
      faq: [{ q: "改造费用由谁承担？", a: "按《义乌市住宅“一户一表”改造实施办法》，户内部分由业主承担，户外公共管网部分由供水公司承担。" }, { q: "改造期间会停水吗？", a: "切换时会短时停水，供水公司将提前24小时通知住户。" }],
      situations: [
        q("q1", "小区是否已成立业主委员会？", [go("已成立", "q2"), self("未成立（由物业或社区组织申请）", ["一户一表改造申请表", "业主同意书", "小区总平面图及住户清单", "经办人身份证"])]),
        q("q2", "由谁提交申请？", [
          self("业主委员会", ["一户一表改造申请表", "业主委员会决议", "小区总平面图及住户清单", "经办人身份证"]),
          self("业主委员会委托的物业服务企业", ["一户一表改造申请表", "业主委员会决议", "小区总平面图及住户清单", "经办人身份证", "授权委托书"]),
        ]),
      ],
    }),
    water(2, "个人客户接水申请", {
      scope: "个人客户新建、改建住宅需要新装自来水表接入公共供水管网。",
      objects: ["自然人"],
      online: true,
      conditions: ["房屋位于公共供水管网覆盖范围内", "申请人为房屋所有权人或经其授权的使用人"],
      materials: [
        ID,
        { ...PROPERTY, required: false, note: "已取得产权证的房屋提供，证明申请人对用水房屋的所有权；复印件需本人签字确认" },
        APPLY("个人接水"),
      ],
      extraMaterials: [
        { name: "建房批准文件", form: "copy", copies: 1, required: false, note: "新建房屋尚未取得不动产权证书时提供（如农村宅基地批准书、建设工程规划许可证），证明房屋合法建造" },
        { name: "原水表户号（表卡编号）", form: "electronic", copies: 0, required: false, note: "改建房屋原已装表的提供，用于原表拆除结算和新表立户" },
        { name: "营业执照", form: "copy", copies: 1, required: false, note: "非住宅（个人经营用房）提供，用于按非居民用水性质立户计价" },
        PROXY,
        AGENT_ID,
      ],
      time_limit: { legal_days: 15, promised_days: 7, note: "自受理之日起，不含客户自行施工时间" },
      fees: { free: false, items: [{ name: "水表及接水材料费", standard: "按实际用料据实收取，DN15水表每只180元", basis: "义发改价〔2020〕12号" }] },
      office: "新装业务部",
      // 003 figure D.1.
      process: [
        step("申请", "客户在本小程序“网上申报”上传材料，或预约后到营业厅提交申请"),
        ACCEPT("产权证明和申请表"),
        step("现场踏勘", "新装业务部到现场确定表位、接水点和管径，出具接水方案", "2个工作日"),
        step("缴费", "客户确认接水方案，按费用清单缴纳水表及接水材料费"),
        step("装表通水", "缴费后安装水表并通水，抄录起始读数", "3个工作日"),
        step("立户办结", "建立户号（表卡编号）并告知客户，可在本小程序“我的水表”绑定后查询账单和缴费", "2个工作日"),
      ],
      faq: [{ q: "接水需要多久？", a: "材料齐全受理后7个工作日内完成装表通水（不含客户自行施工时间）。" }, { q: "可以网上申请吗？", a: "可以，在本小程序“网上申报”提交申请并上传材料，之后只需在现场踏勘时到场一次。" }],
      situations: [
        q("q1", "接水的原因是？", [go("新建房屋首次接水", "q2"), go("原有房屋改建（原已装表）", "q5")]),
        q("q2", "房屋是否已取得不动产权证书？", [go("已取得", "q3"), go("尚未取得（如新建自建房）", "q4")]),
        ...connectUse("q3", ["居民身份证", "不动产权证书或购房合同", "个人接水申请表"]),
        ...connectUse("q4", ["居民身份证", "建房批准文件", "个人接水申请表"]),
        ...connectUse("q5", ["居民身份证", "不动产权证书或购房合同", "个人接水申请表", "原水表户号（表卡编号）"]),
      ],
      related: [3, 15],
    }),
    water(3, "水表过户", {
      scope: "因房屋买卖、继承、赠与等原因，水表户名需变更为新的房屋所有权人。",
      online: true,
      conditions: ["原户已结清全部水费", "新户主已取得房屋所有权"],
      materials: [
        { ...ID, note: "新户主本人的身份证，用于核验新户主身份" },
        { name: "新的不动产权证书", form: "copy", copies: 1, required: false, note: "买卖、赠与过户时提供，证明新户主已取得房屋所有权" },
        APPLY("水表过户"),
      ],
      extraMaterials: [
        { name: "继承公证书", form: "copy", copies: 1, required: false, note: "因继承过户时提供，证明新户主为房屋的合法继承人；已办理继承登记取得新的不动产权证书的，可改交新证" },
        { name: "法院生效判决书或裁定书", form: "copy", copies: 1, required: false, note: "因法院判决、裁定过户时提供，证明房屋权属已由法院确定" },
        PROXY,
        AGENT_ID,
      ],
      time_limit: { legal_days: 3, promised_days: 0, note: "材料齐全即办" },
      // 003 figure E.1.
      process: [
        step("申请", "新户主在本小程序“网上申报”上传材料，或预约后到营业厅提交申请"),
        step("核验", "核对权属证明与新户主身份，查询原户欠费；有欠费的须先结清", "即时"),
        step("抄表结算", "抄录过户当日水表读数，此前水量由原户结算"),
        step("变更户名", "将户名变更为新户主，户号（表卡编号）不变，当场办结", "即时"),
      ],
      faq: [{ q: "过户时原户主需要到场吗？", a: "不需要，凭新户主的权属证明即可办理。" }, { q: "原户还有欠费怎么办？", a: "需先结清欠费：在本小程序“我的水表”绑定户号后可用微信支付或支付宝在线缴清，也可到营业厅缴纳。" }],
      situations: [
        q("q1", ARREARS_TEXT, [go("已结清", "q2"), to(12, "还有欠费（请先缴清）", ["水表卡（户号）信息"])]),
        q("q2", "过户原因是什么？", [go("房屋买卖", "q3"), go("继承", "q4"), go("赠与", "q5"), go("法院判决或裁定", "q6")]),
        byWhom("q3", ["居民身份证", "新的不动产权证书", "水表过户申请表"]),
        byWhom("q4", ["居民身份证", "继承公证书", "水表过户申请表"]),
        byWhom("q5", ["居民身份证", "新的不动产权证书", "水表过户申请表"]),
        byWhom("q6", ["居民身份证", "法院生效判决书或裁定书", "水表过户申请表"]),
      ],
      related: [4, 11],
    }),
    water(4, "客户信息变更", {
      scope: "客户联系电话、通讯地址、托收账户等登记信息发生变化。",
      online: true, appointment: false,
      conditions: ["申请人为该户号登记的户主或其授权人"],
      materials: [ID, CARD],
      extraMaterials: [PROXY, AGENT_ID],
      time_limit: { legal_days: 1, promised_days: 0, note: "即办" },
      // 003 figure F.1.
      process: [
        step("申请", "户主在本小程序“网上申报”提交变更内容，或到营业厅填写变更内容"),
        step("核验", "核验户主身份（代办的核验授权委托书和代办人身份）", "即时"),
        step("变更登记", "供水公司更新户号登记的联系电话或通讯地址", "即时"),
        step("办结", "告知客户变更结果"),
      ],
      faq: [{ q: "手机号变了怎么改？", a: "在本小程序“网上申报”提交客户信息变更，或带身份证到营业厅办理，窗口当场变更。注意：在“我的水表”绑定户号用的是供水公司登记的手机号，变更前请先办理本事项。" }, { q: "户名也能在这里改吗？", a: "不能。户名变更即房屋所有权人变更，请办理“水表过户”。" }],
      halls: ["H002", "H003", "H004"],
      situations: [
        q("q1", "要变更哪类信息？", [
          go("联系电话或通讯地址", "q2"),
          to(15, "银行托收账户（签约、变更或取消代扣）", ["居民身份证", "银行卡或存折", "银行托收申请表"]),
          to(3, "户名（房屋所有权人已变更）", ["居民身份证", "新的不动产权证书", "水表过户申请表"]),
        ]),
        byWhom("q2", ["居民身份证", "水表卡（户号）信息"], "由谁办理？（须为户主本人或其授权人）"),
      ],
      related: [3],
    }),
    water(5, "用水人口变更", {
      scope: "居民户实际用水人口达到5人及以上，申请按人口核增阶梯水量（公民个人“一证通”事项）。",
      objects: ["自然人"], online: true, appointment: false,
      conditions: ["户籍或居住登记人口5人及以上", "一户一表居民用户"],
      materials: [
        ID,
        { name: "户口簿", form: "copy", copies: 1, required: false, note: "证明本户的户籍人口数，用于核定阶梯水量" },
        CARD,
      ],
      extraMaterials: [
        { name: "居住证或居住登记证明", form: "copy", copies: 1, required: false, note: "人口中含非本户户籍的常住人员时提供（每人一份），证明其在本户居住" },
        PROXY,
        AGENT_ID,
      ],
      time_limit: { legal_days: 5, promised_days: 2, note: "" },
      // 003 gives no flowchart for this item (it is listed only in A.3, not A.1/A.2).
      process: [
        step("申请", "户主在本小程序“网上申报”上传户口簿等材料，或到营业厅提交"),
        step("核验", "核对户籍或居住登记人数是否达到5人及以上"),
        step("核增水量", "审核通过后按人口核增年度阶梯水量基数", "2个工作日"),
        step("办结", "告知核定结果，自下一个抄表周期起执行"),
      ],
      faq: [{ q: "核增后什么时候生效？", a: "自审核通过的下一个抄表周期起执行。" }],
      situations: [
        q("q1", "本户用水人口的登记情况？", [go("全部为本户户籍人口", "q2"), go("含非本户户籍的常住人员", "q3")]),
        byWhom("q2", ["居民身份证", "户口簿", "水表卡（户号）信息"]),
        byWhom("q3", ["居民身份证", "户口簿", "居住证或居住登记证明", "水表卡（户号）信息"]),
      ],
    }),
    water(6, "用水性质变更", {
      scope: "用水用途发生变化（如居民生活用水改为经营用水），需变更用水性质及对应水价。",
      conditions: ["用水用途已实际发生变化", "已结清全部水费"],
      materials: [
        ID, PROPERTY, APPLY("用水性质变更"),
        { name: "营业执照", form: "copy", copies: 1, required: false, note: "改为经营（非居民）用水时提供，用于核定非居民用水性质" },
      ],
      extraMaterials: [
        { ...PROXY, note: "承租人或他人代房屋所有权人办理时提供，须由房屋所有权人签字，证明其同意变更用水性质" },
        AGENT_ID,
      ],
      time_limit: { legal_days: 10, promised_days: 5, note: "含现场核查" },
      // 003 figure G.1.
      process: [
        step("申请", "预约后到营业厅提交申请（本事项暂不能网上申报）"),
        ACCEPT("产权证明和用途证明"),
        step("现场核查", "到现场核实房屋实际用途", "3个工作日"),
        step("抄表结算", "抄录核查当日读数，此前水量按原用水性质结算"),
        step("变更办结", "按新的用水性质和水价变更户号登记并告知客户", "2个工作日"),
      ],
      faq: [{ q: "变更后水价怎么算？", a: "自现场核查确认之日起按新的用水性质计价，之前的用水量按原性质结算。" }],
      situations: [
        q("q1", ARREARS_TEXT, [go("已结清", "q2"), to(12, "还有欠费（请先缴清）", ["水表卡（户号）信息"])]),
        q("q2", "用水性质怎么变？", [go("居民生活用水改为经营（非居民）用水", "q3"), go("经营（非居民）用水改回居民生活用水", "q4")]),
        byWhom("q3", ["居民身份证", "不动产权证书或购房合同", "用水性质变更申请表", "营业执照"], "申请人是？"),
        byWhom("q4", ["居民身份证", "不动产权证书或购房合同", "用水性质变更申请表"], "申请人是？"),
      ].map(relabelOwner),
    }),
    water(7, "合表价格申请", {
      scope: "多户共用一只水表的居民合表用户，申请执行居民合表水价。",
      objects: ["自然人", "其他组织"],
      conditions: ["确属多户居民共用一只总表", "共用户数经社区（村）确认"],
      materials: [
        { ...ID, required: false, note: "由共用总表的居民代表申请时提供，核验代表身份" },
        APPLY("合表价格"),
        { name: "社区（村）出具的共用户数证明", form: "original", copies: 1, required: true, note: "证明共用一只总表的居民户数，是核定合表水价的依据" },
      ],
      extraMaterials: [
        { name: "经办人身份证", form: "original", copies: 1, required: false, note: "由物业或村（居）民委员会申请时，核验经办人身份" },
        { name: "单位介绍信", form: "original", copies: 1, required: false, note: "由物业或村（居）民委员会申请时提供，加盖单位公章，证明经办人代表单位办理" },
      ],
      time_limit: { legal_days: 10, promised_days: 5, note: "" },
      // 003 figure H.1.
      process: [
        step("申请", "合表用户代表或物业、村（居）民委员会预约后到营业厅提交申请（本事项暂不能网上申报）"),
        ACCEPT("共用户数证明"),
        step("核查", "核对共用户数，必要时到现场核查总表供水范围", "3个工作日"),
        step("核定办结", "核定合表户数和合表水价并告知申请人，自下一个抄表周期起执行", "2个工作日"),
      ],
      faq: [{ q: "合表水价比阶梯水价便宜吗？", a: "合表水价按居民第一阶梯水价执行，具体见“现行水价查询”。" }],
      situations: [
        q("q1", "由谁申请？", [
          self("共用总表的居民代表", ["居民身份证", "合表价格申请表", "社区（村）出具的共用户数证明"]),
          self("物业服务企业或村（居）民委员会", ["经办人身份证", "单位介绍信", "合表价格申请表", "社区（村）出具的共用户数证明"]),
        ]),
      ],
      related: [17],
    }),
    water(8, "水表验表申请", {
      scope: "客户对水表计量准确性有异议，申请由法定计量检定机构检定。",
      online: true,
      conditions: ["对水表计量有异议", "水表铅封完好"],
      materials: [ID, CARD, APPLY("水表验表")],
      extraMaterials: [PROXY, AGENT_ID],
      time_limit: { legal_days: 15, promised_days: 10, note: "含计量检定机构检定时间" },
      fees: { free: false, items: [{ name: "水表检定费", standard: "DN15-DN25水表每只50元；检定不合格的由供水公司承担并退还", basis: "浙价费〔2018〕88号" }] },
      office: "计量管理部",
      // 003 figure I.1.
      process: [
        step("申请", "在本小程序“网上申报”提交验表申请，或预约后到营业厅提交"),
        ACCEPT(""),
        step("拆表送检", "与客户共同确认读数和铅封后拆回水表并装临时表，送法定计量检定机构", "3个工作日"),
        step("检定", "计量检定机构出具检定结果", "5个工作日"),
        step("结果处理", "告知检定结果：合格的收取检定费；不合格的免收检定费、免费换表并按误差退补水费", "2个工作日"),
      ],
      faq: [{ q: "验表不合格怎么办？", a: "免收检定费，供水公司免费更换水表，并按检定误差退补水费。" }],
      situations: [byWhom("q1", ["居民身份证", "水表卡（户号）信息", "水表验表申请表"])],
    }),
    water(9, "水表暂停", {
      scope: "房屋长期空置或装修等原因，申请暂停供水并拆除（封存）水表。",
      online: true,
      conditions: ["已结清全部水费", "申请人为户主或其授权人"],
      materials: [ID, CARD, APPLY("水表暂停")],
      extraMaterials: [PROXY, AGENT_ID],
      time_limit: { legal_days: 5, promised_days: 3, note: "" },
      // 003 figure J.1.
      process: [
        step("申请", "户主在本小程序“网上申报”提交申请，或预约后到营业厅提交"),
        step("核验结算", "核验户主身份，查询欠费并抄表结清水费", "即时"),
        step("现场停水", "关闭表前阀门，拆除或封存水表", "3个工作日"),
        step("办结", "户号转为暂停状态并告知客户；暂停期间不产生水费"),
      ],
      faq: [{ q: "暂停期间要交费吗？", a: "暂停期间不产生水费。" }, { q: "暂停后怎么恢复用水？", a: "办理“水表复接”，暂停不满两年的免费复接。" }],
      situations: [
        q("q1", ARREARS_TEXT.replace("原户", "本户"), [go("已结清", "q2"), to(12, "还有欠费（请先缴清）", ["水表卡（户号）信息"])]),
        byWhom("q2", ["居民身份证", "水表卡（户号）信息", "水表暂停申请表"]),
      ],
      related: [10],
    }),
    water(10, "水表复接", {
      scope: "已暂停用水的客户申请恢复供水。",
      online: true,
      conditions: ["该户号处于暂停状态", "无欠费"],
      materials: [ID, CARD, APPLY("水表复接")],
      extraMaterials: [PROXY, AGENT_ID],
      time_limit: { legal_days: 5, promised_days: 2, note: "" },
      // 003 figure K.1.
      process: [
        step("申请", "户主在本小程序“网上申报”提交申请，或预约后到营业厅提交"),
        step("核验", "核验户主身份，确认户号处于暂停状态且暂停不满两年", "即时"),
        step("复装通水", "到现场复装水表、开启阀门并抄录起始读数", "2个工作日"),
        step("办结", "户号恢复正常状态并告知客户"),
      ],
      faq: [{ q: "复接要收费吗？", a: "暂停不满两年的免费复接；超过两年的按新装接水办理。" }],
      situations: [
        q("q1", "水表暂停是否已超过两年？", [
          go("不满两年", "q2"),
          to(2, "已超过两年（按新装接水办理）", ["居民身份证", "不动产权证书或购房合同", "个人接水申请表"]),
        ]),
        byWhom("q2", ["居民身份证", "水表卡（户号）信息", "水表复接申请表"]),
      ],
      related: [9],
    }),
    water(11, "水表销户", {
      scope: "房屋拆迁或不再使用自来水，申请注销户号并拆除水表。",
      conditions: ["已结清全部水费", "申请人为户主"],
      materials: [ID, PROPERTY, CARD, APPLY("水表销户")],
      extraMaterials: [
        { name: "房屋征收（拆迁）补偿协议", form: "copy", copies: 1, required: false, note: "因房屋征收拆迁销户时提供，证明房屋将被拆除" },
        PROXY,
        AGENT_ID,
      ],
      time_limit: { legal_days: 5, promised_days: 3, note: "" },
      // 003 figure L.1.
      process: [
        step("申请", "户主预约后到营业厅提交申请（本事项暂不能网上申报）"),
        step("核验结算", "核验户主身份和产权证明，抄表结清水费", "即时"),
        step("拆表", "到现场拆除水表并封堵接水口", "3个工作日"),
        step("注销退款", "注销户号，预存水费余额原路退回", "5个工作日"),
      ],
      faq: [{ q: "销户后预存水费怎么办？", a: "余额在销户后5个工作日内原路退回。" }],
      situations: [
        q("q1", ARREARS_TEXT.replace("原户", "本户"), [go("已结清", "q2"), to(12, "还有欠费（请先缴清）", ["水表卡（户号）信息"])]),
        q("q2", "销户原因是？", [go("房屋征收（拆迁）", "q3"), go("其他原因不再用水", "q4")]),
        byWhom("q3", ["居民身份证", "不动产权证书或购房合同", "水表卡（户号）信息", "水表销户申请表", "房屋征收（拆迁）补偿协议"]),
        byWhom("q4", ["居民身份证", "不动产权证书或购房合同", "水表卡（户号）信息", "水表销户申请表"]),
      ],
    }),
    water(12, "水费缴费", {
      scope: "客户缴纳当期或欠缴的水费，支持微信支付、支付宝、银行托收及营业厅现金缴费。",
      online: true, appointment: false,
      conditions: ["已绑定户号（表卡编号）"],
      materials: [CARD],
      time_limit: { legal_days: 0, promised_days: 0, note: "即时到账" },
      // 003 figure M.1.
      process: [
        step("查询", "在本小程序“我的水表”绑定户号后查询当期账单和欠费账单"),
        step("支付", "选择微信支付或支付宝完成支付，欠费账单可一次补缴", "即时"),
        step("销账", "支付成功后账单销账，可申请开具发票"),
      ],
      delivery: ["缴费记录（本小程序内查看）"],
      supplementary: "在本小程序缴费无需到营业厅；也可到营业厅窗口缴纳。",
      tags: ["供水", "水费", "缴费", "最多跑零次"],
      faq: [{ q: "交错户号怎么办？", a: "请携带缴费凭证到营业厅办理退费，或拨打0579-85510000。" }, { q: "可以一次缴多期吗？", a: "可以，欠费账单可统一补缴。" }],
      // none: 缴费只需户号，没有情形之分 (WATER_SITUATIONS_NONE).
      situations: [],
      halls: ["H002", "H003", "H004"],
      related: [13, 14, 16],
    }),
    water(13, "水费发票换票", {
      scope: "已缴纳水费的客户申请开具或换开增值税发票（普通发票或专用发票）。",
      online: true, appointment: false,
      conditions: ["对应水费已缴清", "开具专用发票的须为增值税一般纳税人"],
      materials: [
        CARD,
        { name: "开票信息（名称、纳税人识别号、地址电话、开户行及账号）", form: "electronic", copies: 0, required: true, note: "发票上须打印的购买方信息，填写错误的发票需作废重开" },
        { name: "营业执照或一般纳税人登记证明", form: "copy", copies: 1, required: false, note: "开具增值税专用发票时提供，证明购买方为增值税一般纳税人" },
      ],
      time_limit: { legal_days: 5, promised_days: 1, note: "材料齐全的1个工作日内开具，邮寄时间另计" },
      // 003 figure N.1 (its caption in the stored text repeats “水费缴费流程图”).
      process: [
        step("申请", "在本小程序填写开票信息、上传证明材料并提交发票申请，或到营业厅申请"),
        step("受理审核", "核对开票信息与已缴水费；不符合的退回并说明原因", "1个工作日"),
        step("开票", "开具增值税发票，开票后通过本小程序消息告知发票号码"),
        step("邮寄", "发票邮寄给申请人，寄出后通过本小程序消息告知快递单号"),
      ],
      delivery: ["邮政快递送达（免费）", "营业厅窗口领取"],
      tags: ["供水", "发票", "增值税发票"],
      faq: [{ q: "发票开好了怎么拿到？", a: "开具后邮寄给您，开票和寄出时都会在本小程序消息中通知，可随时在小程序中查看申请进度。" }],
      situations: [
        q("q1", "需要开具哪种发票？", [
          self("增值税普通发票", ["水表卡（户号）信息", "开票信息（名称、纳税人识别号、地址电话、开户行及账号）"]),
          self("增值税专用发票（一般纳税人）", ["水表卡（户号）信息", "开票信息（名称、纳税人识别号、地址电话、开户行及账号）", "营业执照或一般纳税人登记证明"]),
        ]),
      ],
      related: [12],
    }),
    water(14, "水费清单打印", {
      scope: "客户查询并打印历史用水量及水费清单。",
      online: true, appointment: false,
      conditions: ["已绑定户号（表卡编号）"],
      materials: [CARD],
      time_limit: { legal_days: 0, promised_days: 0, note: "即办" },
      // 003 figure O.1.
      process: [
        step("查询", "在本小程序“我的水表”绑定户号后，按月份范围查询历史账单和水费清单", "即时"),
        step("打印", "需要纸质清单的，到营业厅窗口凭户号打印", "即时"),
      ],
      delivery: ["本小程序内查看", "营业厅窗口打印"],
      supplementary: "在本小程序查看清单无需到营业厅。",
      faq: [{ q: "能查多长时间的清单？", a: "本小程序可按月份范围查询已入账的账单；更早的清单请到营业厅窗口打印。" }],
      // none: 凭户号查询打印，没有情形之分 (WATER_SITUATIONS_NONE).
      situations: [],
      related: [12],
    }),
    water(15, "银行托收", {
      scope: "客户签约银行代扣水费，每期账单自动从银行账户扣款。",
      online: true, appointment: false,
      conditions: ["银行账户户名与水费户名一致或经户主书面授权"],
      materials: [
        ID,
        { name: "银行卡或存折", form: "copy", copies: 1, required: true, note: "用于登记代扣水费的银行账户" },
        APPLY("银行托收"),
        CARD,
      ],
      extraMaterials: [{ name: "户主书面授权书", form: "original", copies: 1, required: false, note: "银行账户户名与水费户名不一致时提供，由户主签字同意从该账户代扣水费" }],
      time_limit: { legal_days: 10, promised_days: 5, note: "自下一期账单起生效" },
      // 003 gives no flowchart for this item (A.1 lists it, A.2's appendices C-O do not cover it).
      process: [
        step("申请", "在本小程序“网上申报”上传材料，或到营业厅提交托收申请"),
        step("核验", "核对账户户名与水费户名（不一致的核验户主授权）", "1个工作日"),
        step("签约", "供水公司与银行办理代扣签约", "3个工作日"),
        step("生效", "自下一期账单起从银行账户自动扣款，并告知客户"),
      ],
      faq: [{ q: "扣款失败会怎样？", a: "扣款失败的账单仍为欠费，可在本小程序“我的水表”中用微信支付或支付宝补缴，也可到营业厅缴纳。" }],
      situations: [
        q("q1", "要办理什么？", [
          go("签约代扣", "q2"),
          self("变更代扣账户", ["居民身份证", "银行卡或存折", "银行托收申请表", "水表卡（户号）信息"]),
          self("取消代扣", ["居民身份证", "银行托收申请表", "水表卡（户号）信息"]),
        ]),
        q("q2", "银行账户户名与水费户名是否一致？", [
          self("一致", ["居民身份证", "银行卡或存折", "银行托收申请表", "水表卡（户号）信息"]),
          self("不一致", ["居民身份证", "银行卡或存折", "银行托收申请表", "水表卡（户号）信息", "户主书面授权书"]),
        ]),
      ],
      related: [12],
    }),
    water(16, "计划性停水公告查询", {
      scope: "查询因工程施工、设备维修等计划性停水或降压供水的公告（提前24小时发布）。",
      objects: ["自然人", "法人", "其他组织"],
      online: true, appointment: false,
      conditions: ["无"],
      materials: [NONE_NEEDED],
      time_limit: { legal_days: 0, promised_days: 0, note: "即时查询" },
      // 003 gives no flowchart (table B.1, 服务信息).
      process: [step("查询", "在本小程序“停水公告”中按区域查询"), step("订阅", "可订阅已绑定的户号或地址，停水前收到短信提醒")],
      delivery: ["本小程序内查看", "短信提醒（订阅后）"],
      supplementary: "公开信息，无需办理，可随时查询。",
      errors: ["未订阅户号导致未收到停水短信"],
      tags: ["供水", "停水", "公告"],
      faq: [{ q: "停水会提前多久通知？", a: "计划性停水至少提前24小时公告并短信通知；抢修停水同时通知并安排临时供水。" }],
      // none: 公开信息查询，无需材料 (WATER_SITUATIONS_NONE).
      situations: [],
      halls: [],
      related: [12],
    }),
    water(17, "现行水价查询", {
      scope: "查询居民生活、非居民、特种用水的现行水价及阶梯水价标准。",
      objects: ["自然人", "法人", "其他组织"],
      online: true, appointment: false,
      conditions: ["无"],
      materials: [NONE_NEEDED],
      time_limit: { legal_days: 0, promised_days: 0, note: "即时查询" },
      // 003 gives no flowchart (table B.1, 服务信息).
      process: [step("查询", "查看本指南“常见问题”中的现行水价，或到供水公司网站查询完整价目表")],
      delivery: ["本指南内查看", "供水公司网站查看"],
      supplementary: "公开信息，无需办理，可随时查询。",
      errors: ["将污水处理费误认为水费单价"],
      tags: ["供水", "水价"],
      faq: [{ q: "居民阶梯水价是多少？", a: "第一阶梯（年用水0-216立方米）3.10元/立方米，第二阶梯3.85元，第三阶梯6.10元（含污水处理费）。" }],
      // none: 公开信息查询，无需材料 (WATER_SITUATIONS_NONE).
      situations: [],
      halls: [],
    }),
  ];
  return items;
}

/** 接水's last question: the house's use and who applies, in one. */
function connectUse(id, base) {
  const proxy = [PROXY.name, AGENT_ID.name];
  return [q(id, "房屋用途和办理人？", [
    self("住宅，本人办理", base),
    self("住宅，委托他人代办", [...base, ...proxy]),
    self("非住宅（个人经营用房），本人办理", [...base, "营业执照"]),
    self("非住宅（个人经营用房），委托他人代办", [...base, "营业执照", ...proxy]),
  ])];
}

/** 用水性质变更: the one who applies is the owner or someone the owner authorises. */
function relabelOwner(question) {
  if (question.text !== "申请人是？") return question;
  const [own, other] = question.options;
  return { ...question, options: [{ ...own, label: "房屋所有权人本人" }, { ...other, label: "承租人或受托人（凭所有权人授权）" }] };
}
