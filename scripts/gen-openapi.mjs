// Generates schemas/openapi.json (OpenAPI 3.1) from the JSON Schemas in
// schemas/json/ and the route tables below (one per worker), so the contract
// lists exactly what the code answers.
//   node scripts/gen-openapi.mjs          write schemas/openapi.json
//   node scripts/gen-openapi.mjs --check  fail if it is out of date
import { readFileSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT } from "./runtime.mjs";
import { demoCatalog } from "./catalog/demo.mjs";
import Ajv2020 from "ajv/dist/2020.js";
import addFormats from "ajv-formats";

const dir = join(ROOT, "schemas", "json");
const ref = (name) => ({ $ref: `#/components/schemas/${name}` });
const json = (name, description) => ({ description, content: { "application/json": { schema: ref(name) } } });
const ERR = (d) => json("error", d);

function loadSchemas() {
  const out = {};
  for (const f of readdirSync(dir).filter((f) => f.endsWith(".json")).sort()) {
    const s = JSON.parse(readFileSync(join(dir, f), "utf8"));
    delete s.$schema; delete s.$id;
    out[f.replace(/\.json$/, "")] = JSON.parse(JSON.stringify(s).replace(/"\$ref":"([a-z-]+)\.json"/g, '"$ref":"#/components/schemas/$1"'));
  }
  return out;
}

// An item of the demo catalogue (scripts/schemathesis loads it), so the fuzzer reaches real guides.
const codeParam = { name: "item_code", in: "path", required: true, description: "实施编码（31位）", example: "91330782MA2D4W8J3L4000172009001",
  schema: { type: "string", pattern: "^[0-9A-HJ-NPQRTUWXY]{18}[1-6][0-9]{12}$" } };
const idemKey = { name: "Idempotency-Key", in: "header", description: "1-64个可见 ASCII 字符", schema: { type: "string", pattern: "^[!-~]{1,64}$" } };
const q = (name, description, schema, required = false) => ({ name, in: "query", required, description, schema });
const common = { 400: ERR("请求参数有误"), 503: ERR("存储暂不可用，可重试") };
const admin = { 401: ERR("令牌缺失或无效"), 403: ERR("角色不符") };

// Request examples that succeed against the data scripts/schemathesis seeds (the demo catalogue,
// halls H001/H002, supply area 春晗小区, accounts 20261001-30261002): a fuzzer starts from them.
const DEMO = demoCatalog();
const demoItem = (n, changes = {}) => ({ ...DEMO.items[n], ...changes });
const rules = { weekly: [[{ start: "08:30:00", end: "12:00:00" }], [], [], [], [], [], []], slot_minutes: 30, capacity: 5, first_day: 1, last_day: 14, min_notice_minutes: 0 };
const EXAMPLES = {
  "appt-resource-request": { hall_id: "H002", kind: "window", name: "发票窗口", items: [DEMO.items[1].code], rules },
  "bills-import": { accounts: [{ account_no: "30261001", holder_name: "赵六", holder_phone: "13900003333", address: "义乌市稠江街道", category: "居民" }],
    bills: [{ account_no: "30261001", period: "2026-09", usage_m3: 12, amount_fen: 3840, due_date: "2099-10-20", items: [{ name: "水费", amount_fen: 3840 }] }] },
  "complaint-rating": { score: 5, comment: "答复及时，问题已解决。" },
  "complaint-step": { action: "assign", department: "供水公司客服部" },
  "complaint-submission": { kind: "suggestion", category: "供水", subject: "北苑营业厅", content: "建议营业厅周六下午也开放办理业务。", anonymous: false },
  "faq-input": { question: "水表过户需要带哪些材料？", answer: "带户主身份证与房产证明到营业厅办理，材料齐全的当场办结。" },
  "import-request": { halls: DEMO.halls.slice(0, 1), items: [] },
  "invoice-step": { action: "issue", invoice_no: "33002612345678" },
  "ledger-input": { kind: "receipt", number: "SF20261123002", issued_on: "2026-11-23", recipient: "王小明", account_no: "20261001" },
  "outage-amend-request": { areas: ["春晗小区"], reason: "管网改造（更正）" },
  "outage-cancel-request": { reason: "施工计划调整" },
  "outage-request": { utility: "water", kind: "planned", areas: ["春晗小区"], start: "2099-05-01T08:00:00+08:00", end: "2099-05-01T18:00:00+08:00",
    reason: "管网改造", issuer: "义乌市供水有限公司", contact_phone: "0579-85510011" },
  "outage-subscription-request": { utility: "gas", area: "春晗小区" },
  "pay-request": { provider: "alipay" },
  "plate-request": { plate: "浙G12345" },
  "reject-request": { reason: "办理材料清单不完整，请补充。" },
  "review-resolve": { resolution: "已核实，原路退款。" },
  "supply-accounts-request": { accounts: [{ utility: "water", account_no: "20261002", area: "bc-ch-1" }] },
  "supply-areas-request": { areas: [{ code: "bc-ch-2", name: "春晗小区2幢", level: "building", parent: "bc-ch" }] },
  "tag-rename": { from: "老年卡", to: "敬老卡" },
  "void-request": { reason: "填写错误，作废重开" },
  "water-bind": { account: "30261002", phone: "13900005555" },
  "wechat-login": { code: "ok-fuzz-2" },
  "word-request": { entries: [{ term: "您好" }] },
};
const body = (name, example = EXAMPLES[name]) => ({ required: true, content: { "application/json": { schema: ref(name), ...(example === undefined ? {} : { example }) } } });
// Staff routes take a bearer admin token (scripts, integrations) or the
// console's session cookie (writes then also need X-CSRF-Token).
const staff = [{ adminToken: [] }, { staffSession: [] }];
const adminCode = { name: "code", in: "path", required: true, description: "实施编码（31位）", schema: codeParam.schema };
const review = (op, summary, outcome, extra = {}) => ({ post: { operationId: op, summary, security: staff, parameters: [adminCode], ...extra,
  responses: { 200: outcome, 404: ERR("事项或草稿不存在"), 409: ERR("审核状态不允许（review_state_invalid）或已被他人处理（conflict）"), 422: ERR("内容校验未通过"),
    ...(extra.requestBody ? { 413: ERR("内容过大"), 415: ERR("不是 JSON") } : {}), ...admin, ...common } } });
// A tag as shared/src/catalogue/taxonomy.rs label() takes it: 1-20 characters, no control characters.
const LABEL = { type: "string", minLength: 1, maxLength: 20, pattern: "^[^\\x00-\\x1f\\x7f-\\x9f]*[^\\s\\x00-\\x1f\\x7f-\\x9f][^\\x00-\\x1f\\x7f-\\x9f]*$" };
const nameParam = (name, description) => ({ name, in: "path", required: true, description, schema: { type: "string", minLength: 1, maxLength: 60 } });
const MANAGE = {
  "/v1/admin/items": {
    get: { operationId: "adminListItems", summary: "事项管理列表（编辑、审核、审计）", security: staff,
      parameters: [q("status", "发布状态", { enum: ["published", "withdrawn", "unpublished"] }), q("review", "审核状态", { enum: ["draft", "submitted", "rejected", "none"] }),
        q("category", "分类", { type: "string" }), q("department", "部门", { type: "string" }), q("q", "名称包含（最多16字）", { type: "string", maxLength: 16 }),
        q("sort", "排序字段", { enum: ["code", "name", "updated_at"] }), q("order", "升序或降序", { enum: ["asc", "desc"] }),
        q("page", "页码", { type: "integer", minimum: 1, maximum: 10000 }), q("size", "每页条数", { type: "integer", minimum: 1, maximum: 100 })],
      responses: { 200: json("admin-item-page", "一页事项"), ...admin, ...common } },
    post: { operationId: "createItemDraft", summary: "新建事项草稿（catalogue_editor）", security: staff, requestBody: body("item-input", demoItem(0, { code: "91330782MA2D4W8J3L4000172009099", basic_code: "000172009099", name: "模糊测试新增事项" })),
      responses: { 201: json("item-draft", "草稿已保存"), 409: ERR("事项编码已存在"), 422: ERR("校验未通过，列出每一处错误"), 413: ERR("内容过大"), 415: ERR("不是 JSON"), ...admin, ...common } },
  },
  "/v1/admin/items/{code}": {
    get: { operationId: "adminItemDetail", summary: "事项管理详情：已发布版本与待审草稿", security: staff, parameters: [adminCode],
      responses: { 200: json("admin-item-detail", "详情"), 404: ERR("事项不存在"), ...admin, ...common } },
    put: { operationId: "updateItemDraft", summary: "修改事项（保存为草稿，catalogue_editor）", security: staff, parameters: [adminCode], requestBody: body("item-input", demoItem(2)),
      responses: { 200: json("item-draft", "草稿已保存"), 404: ERR("事项不存在"), 409: ERR("正在审核中"), 422: ERR("校验未通过"), 413: ERR("内容过大"), 415: ERR("不是 JSON"), ...admin, ...common } },
  },
  "/v1/admin/items/{code}/published": {
    get: { operationId: "adminItemPublished", summary: "事项的已发布内容（提交格式，含已下架的；编辑和审核对照用）", security: staff, parameters: [adminCode],
      responses: { 200: json("item-input", "已发布内容"), 404: ERR("事项从未发布"), ...admin, ...common } },
  },
  "/v1/admin/items/{code}:submit": review("submitItem", "提交审核（catalogue_editor）", json("item-draft", "已提交")),
  "/v1/admin/items/{code}:reject": review("rejectItem", "退回并说明原因（catalogue_reviewer，不能审核本人提交的）", json("item-draft", "已退回"), { requestBody: body("reject-request") }),
  "/v1/admin/items/{code}:publish": review("publishItem", "审核通过并发布（catalogue_reviewer，不能审核本人提交的）", json("review-outcome", "已发布")),
  "/v1/admin/items/{code}:archive": review("archiveItem", "下架（catalogue_reviewer）", json("review-outcome", "已下架")),
  "/v1/admin/items:sync": {
    post: { operationId: "syncItems", summary: "从外部事项库同步（catalogue_reviewer；定时任务每小时也会执行）", security: staff,
      responses: { 200: json("sync-report", "同步结果：新增、更新、未变、拒绝"), 502: ERR("同步源不可用或未配置（feed_unavailable）"), ...admin, ...common } },
    get: { operationId: "syncRuns", summary: "最近20次同步记录", security: staff, responses: { 200: json("sync-runs", "同步记录"), ...admin, ...common } },
  },
  "/v1/admin/categories": { get: { operationId: "adminCategories", summary: "事项分类及引用数", security: staff, responses: { 200: json("category-list", "分类"), ...admin, ...common } } },
  "/v1/admin/categories/{name}": {
    put: { operationId: "putCategory", summary: "新增或修改分类（catalogue_reviewer）", security: staff, parameters: [nameParam("name", "分类名称")], requestBody: body("category-request"),
      responses: { 200: json("category", "分类"), 422: ERR("校验未通过"), 413: ERR("内容过大"), 415: ERR("不是 JSON"), ...admin, ...common } },
    delete: { operationId: "deleteCategory", summary: "删除未被使用的分类（catalogue_reviewer）", security: staff, parameters: [nameParam("name", "分类名称")],
      responses: { 204: { description: "已删除" }, 404: ERR("分类不存在"), 409: ERR("仍有事项使用（category_in_use）"), ...admin, ...common } },
  },
  "/v1/admin/tags:rename": { post: { operationId: "renameTag", summary: "标签改名或合并（catalogue_reviewer）", security: staff, requestBody: body("tag-rename"),
    responses: { 200: json("tag-outcome", "已调整"), 404: ERR("没有事项使用该标签"), 413: ERR("内容过大"), 415: ERR("不是 JSON"), ...admin, ...common } } },
  "/v1/admin/tags/{tag}": { delete: { operationId: "deleteTag", summary: "从所有事项删除标签（catalogue_reviewer）", security: staff, parameters: [{ name: "tag", in: "path", required: true, description: "标签（1-20字，无控制字符）", schema: LABEL }],
    responses: { 200: json("tag-outcome", "已删除"), 404: ERR("没有事项使用该标签"), ...admin, ...common } } },
  "/v1/admin/search-words/{kind}": {
    get: { operationId: "listSearchWords", summary: "检索词表：主题词、停用词、违禁词、错别字", security: staff, parameters: [{ name: "kind", in: "path", required: true, schema: { enum: ["thesaurus", "stop", "banned", "corrections"] } }],
      responses: { 200: json("word-list", "词条"), 404: ERR("没有这个词表"), ...admin, ...common } },
    put: { operationId: "putSearchWords", summary: "新增或修改词条（catalogue_reviewer，几秒内生效）", security: staff, parameters: [{ name: "kind", in: "path", required: true, schema: { enum: ["thesaurus", "stop", "banned", "corrections"] } }],
      requestBody: body("word-request"), responses: { 200: json("word-outcome", "已保存"), 404: ERR("没有这个词表"), 422: ERR("校验未通过"), 413: ERR("内容过大"), 415: ERR("不是 JSON"), ...admin, ...common } },
  },
  "/v1/admin/search-words/{kind}/{term}": { delete: { operationId: "deleteSearchWord", summary: "删除词条（catalogue_reviewer）", security: staff,
    parameters: [{ name: "kind", in: "path", required: true, schema: { enum: ["thesaurus", "stop", "banned", "corrections"] } }, nameParam("term", "词条")],
    responses: { 204: { description: "已删除" }, 404: ERR("词条不存在"), ...admin, ...common } } },
};

const GUIDE_DETAIL = {
  "/v1/health": { get: { operationId: "health", summary: "静态基线（探活、压测基准）", responses: { 200: json("health", "正常") } } },
  "/v1/guides/{item_code}": { get: { operationId: "getGuide", summary: "办事指南全文", parameters: [codeParam, { name: "If-None-Match", in: "header", schema: { type: "string" } },
      q("sid", "从搜索结果打开时带上该次搜索的 search_id（搜索分析：计为搜索后打开了指南，每次搜索只计一次；签名不符或超过3天的忽略）", { type: "string" })],
    responses: { 200: json("guide", "指南全文，带强 ETag"), 304: { description: "未修改" }, 404: ERR("事项不存在"), ...common } } },
  "/v1/guides/{item_code}/materials": { get: { operationId: "getMaterials", summary: "申请材料目录", parameters: [codeParam],
    responses: { 200: json("materials", "材料目录，带强 ETag"), 304: { description: "未修改" }, 404: ERR("事项不存在"), ...common } } },
  "/v1/halls": { get: { operationId: "listHalls", summary: "全部办事大厅", responses: { 200: json("hall-list", "大厅列表"), ...common } } },
  "/v1/halls/nearby": { get: { operationId: "nearbyHalls", summary: "按距离排序的附近大厅",
    parameters: [q("lat", "纬度", { type: "number" }, true), q("lng", "经度", { type: "number" }, true), q("item", "只看能办理该事项的大厅", { type: "string" }), q("limit", "最多返回数", { type: "integer", minimum: 1, maximum: 50 })],
    responses: { 200: json("nearby-halls", "附近大厅"), ...common } } },
  "/v1/halls/{id}": { get: { operationId: "getHall", summary: "大厅详情", parameters: [{ name: "id", in: "path", required: true, schema: { type: "string", maxLength: 32 } }],
    responses: { 200: json("hall-detail", "大厅详情及可办事项"), 404: ERR("大厅不存在"), ...common } } },
  "/v1/admin/items:import": { post: { operationId: "importItems", summary: "事项目录批量导入并直接发布（catalogue_reviewer；全部成功或全部不导入）", security: [{ adminToken: [] }],
    requestBody: body("import-request"),
    responses: { 200: json("import-outcome", "已导入"), 413: ERR("内容过大"), 415: ERR("不是 JSON"), 422: ERR("校验未通过，列出每一处错误"), ...admin, ...common } } },
  "/v1/admin/audit-log": { get: { operationId: "auditLog", summary: "审计日志与个人信息查看日志（auditor；可按类型、操作人、操作、日期筛选）", security: staff,
    parameters: [q("before", "游标：只看 id 小于它的条目", { type: "integer" }), q("size", "每页条数", { type: "integer", minimum: 1, maximum: 100 }),
      q("kind", "change：变更；access：查看个人信息", { enum: ["change", "access"] }), q("actor", "操作人编号", { type: "string", maxLength: 64 }),
      q("action", "操作（前缀，如 complaint.）", { type: "string", maxLength: 64 }), q("from", "起始日期", { type: "string", format: "date" }), q("to", "截止日期", { type: "string", format: "date" })],
    responses: { 200: json("audit-page", "一页审计日志"), ...admin, ...common } } },
};


const session = { 401: ERR("未登录、登录已过期或已退出（login_required / session_expired / session_revoked）") };
const bodyErrors = { 413: ERR("内容过大"), 415: ERR("不是 JSON") };
const citizen = [{ citizenSession: [] }];
const noContent = { description: "完成，无内容" };
const IDENTITY = {
  "/v1/auth/wechat": { post: { operationId: "wechatLogin", summary: "微信小程序登录（jscode2session）", requestBody: body("wechat-login"),
    responses: { 200: json("login-answer", "已登录"), 403: ERR("微信判定高风险账号"), 429: ERR("wechat_rate_limited"), 503: ERR("wechat_unavailable 或存储不可用"), 400: ERR("code 无效或已使用"), ...bodyErrors } } },
  "/v1/auth/sms-code": { post: { operationId: "sendSmsCode", summary: "发送6位短信验证码（每号码每分钟1次、每小时5次、每天10次）", requestBody: body("sms-code-request"),
    responses: { 200: json("code-sent", "已发送"), 400: ERR("手机号格式不正确"), 429: ERR("发送过于频繁"), 503: ERR("短信服务不可用"), ...bodyErrors } } },
  "/v1/auth/phone": { post: { operationId: "phoneLoginOrBind", summary: "带会话时绑定手机号，否则以手机号登录", requestBody: body("phone-login"),
    security: [{}, { citizenSession: [] }],
    responses: { 200: { description: "登录结果（未带会话）或个人信息（已带会话、绑定成功）", content: { "application/json": { schema: { oneOf: [ref("login-answer"), ref("profile")] } } } },
      400: ERR("验证码不正确或已过期"), 409: ERR("手机号已绑定其他账号"), 429: ERR("错误次数过多"), ...session, ...bodyErrors, 503: ERR("存储不可用") } } },
  "/v1/auth/logout": { post: { operationId: "logout", summary: "退出登录（吊销当前会话）", security: citizen, responses: { 204: noContent, ...session, 503: ERR("存储不可用") } } },
  "/v1/me": {
    get: { operationId: "getMe", summary: "个人中心", security: citizen, responses: { 200: json("profile", "个人信息（手机号脱敏）"), ...session, 503: ERR("存储不可用") } },
    patch: { operationId: "patchMe", summary: "修改收件地址、电子邮箱", security: citizen, requestBody: body("profile-patch"),
      responses: { 200: json("profile", "修改后的个人信息"), 400: ERR("字段未知或 JSON 无效"), 422: ERR("字段校验未通过"), ...session, ...bodyErrors, 503: ERR("存储不可用") } },
    delete: { operationId: "deleteMe", summary: "注销账号（删除或匿名化个人信息）", security: citizen, responses: { 204: noContent, ...session, 503: ERR("存储不可用") } },
  },
  "/v1/me/cases": { get: { operationId: "myCases", summary: "我的办件：网上申报、预约、投诉、发票申请和缴费订单，按待处理、办理中、已办结分组，新的在前，各带下一步和详情链接", security: citizen,
    responses: { 200: json("me-cases", "分组的办件"), ...session, ...common } } },
  "/v1/me/messages": { get: { operationId: "listMessages", summary: "消息提醒", security: citizen,
    parameters: [q("unread", "只看未读", { type: "boolean" }), q("before", "游标", { type: "integer" }), q("size", "每页条数", { type: "integer", minimum: 1, maximum: 100 })],
    responses: { 200: json("inbox-page", "一页消息"), 400: ERR("参数有误"), ...session, 503: ERR("存储不可用") } } },
  "/v1/me/messages/{id}/read": { post: { operationId: "readMessage", summary: "标记已读", security: citizen,
    parameters: [{ name: "id", in: "path", required: true, schema: { type: "string", maxLength: 64 } }],
    responses: { 204: noContent, 404: ERR("消息不存在（或不属于本人）"), ...session, 503: ERR("存储不可用") } } },
  "/v1/me/wechat-subscriptions": {
    get: { operationId: "listWechatSubscriptions", summary: "订阅消息：本小程序配置的每个模板及本人剩余可接收条数", security: citizen,
      responses: { 200: json("wechat-subscriptions", "各模板剩余条数"), ...session, 503: ERR("存储不可用") } },
    post: { operationId: "reportWechatSubscriptions", summary: "提交 wx.requestSubscribeMessage 的结果：每个 accept 可发一条（每模板最多累计10条），ban 清零", security: citizen,
      requestBody: body("wechat-subscription-report", { TMPL_booking_reminder: "accept", errMsg: "requestSubscribeMessage:ok" }),
      responses: { 200: json("wechat-subscriptions", "各模板剩余条数"), 400: ERR("不是 JSON 对象或超过20个模板"), 422: ERR("模板 ID 未配置或结果不是 accept、reject、ban、filter"), ...session, ...bodyErrors, 503: ERR("存储不可用") } },
  },
};

const REGION_PARAM = "行政区划代码（GB/T 2260，6位）：只返回该地区市民可办的事项——本级、上级（所在市、省）及下辖地区的事项，不含同级其他地区的；未知代码答 400";

const SEARCH = {
  "/v1/items/search": { get: { operationId: "searchItems", summary: "事项查询：中文、拼音（全拼/首字母/混拼）、错别字、主题词、过滤、分面、高亮",
    parameters: [q("q", "搜索内容（空则浏览全部，最多50字）", { type: "string", maxLength: 50 }), q("category", "分类", { type: "string" }), q("tag", "标签", { type: "string" }),
      q("department", "部门", { type: "string" }), q("online", "可网上办理", { type: "boolean" }), q("appointment", "可预约", { type: "boolean" }),
      q("region", REGION_PARAM, { type: "string", pattern: "^[0-9]{6}$" }),
      q("lat", "纬度", { type: "number" }), q("lng", "经度", { type: "number" }), q("page", "页码", { type: "integer", minimum: 1, maximum: 1000 }),
      q("size", "每页条数", { type: "integer", minimum: 1, maximum: 50 })],
    responses: { 200: json("search-answer", "结果"), ...common } } },
  "/v1/items/suggest": { get: { operationId: "suggestItems", summary: "搜索联想（最多10条）", parameters: [q("q", "已输入内容（最多50字）", { type: "string", maxLength: 50 }),
      q("region", REGION_PARAM, { type: "string", pattern: "^[0-9]{6}$" })],
    responses: { 200: json("suggestions", "联想"), ...common } } },
  "/v1/items/hot": { get: { operationId: "hotItems", summary: "热门排行（指南浏览）与热门搜索，近7天", responses: { 200: json("hot-list", "热门"), ...common } } },
  "/v1/categories": { get: { operationId: "listCategories", summary: "事项分类及数量", responses: { 200: json("name-counts", "分类"), ...common } } },
  "/v1/tags": { get: { operationId: "listTags", summary: "事项标签及数量", responses: { 200: json("name-counts", "标签"), ...common } } },
  "/v1/admin/search/analytics": { get: { operationId: "searchAnalytics", summary: "搜索分析：无结果的搜索、有结果但未打开指南的搜索，按次数排列（catalogue_editor、catalogue_reviewer；不含个人信息）", security: staff,
    parameters: [q("from", "起始日期，默认截止日期前6天", { type: "string", format: "date" }), q("to", "截止日期，默认今天（北京时间）；最长92天", { type: "string", format: "date" }),
      q("limit", "每个列表最多条数", { type: "integer", minimum: 1, maximum: 100 })],
    responses: { 200: json("search-analytics", "搜索分析"), ...admin, ...common } } },
  "/v1/me/search-history": {
    get: { operationId: "searchHistory", summary: "搜索历史（最近20条，登录后记录）", security: citizen, responses: { 200: json("search-history", "历史"), ...session, 503: ERR("存储不可用") } },
    delete: { operationId: "clearSearchHistory", summary: "清空搜索历史", security: citizen, responses: { 204: noContent, ...session, 503: ERR("存储不可用") } },
  },
};

const idParam = { name: "id", in: "path", required: true, schema: { type: "string", maxLength: 64 } };
const APPOINTMENT = {
  "/v1/halls/{id}/slots": { get: { operationId: "hallSlots", summary: "大厅可预约时段及剩余名额（北京时间，带时区）", parameters: [idParam,
      q("item", "只看办理该事项的窗口（实施编码）", { type: "string" }), q("date", "日期 YYYY-MM-DD，默认明天", { type: "string" })],
    responses: { 200: json("hall-slots", "时段"), 404: ERR("大厅不存在"), ...common } } },
  "/v1/appointments": { post: { operationId: "book", summary: "预约（带 Idempotency-Key 时重试返回首次结果）", security: citizen, requestBody: body("book-request"),
    parameters: [idemKey],
    responses: { 201: json("appointment", "已预约"), 200: json("appointment", "重试：首次的预约"), 404: ERR("要确认的保留不存在（appointment_not_found）"), 409: ERR("已约满（slot_full）、超过个人预约上限（booking_limit）或保留已过期（hold_expired）"),
      403: ERR("多次未到，暂停预约（booking_banned）"),
      422: ERR("校验未通过"), ...session, ...bodyErrors, ...common } } },
  "/v1/appointments/holds": { post: { operationId: "holdSlot", summary: "保留名额（默认5分钟，计入容量）", security: citizen, requestBody: body("book-request"),
    responses: { 201: json("appointment", "已保留"), 409: ERR("已约满或超过个人上限"), 403: ERR("booking_banned"), 422: ERR("校验未通过"), ...session, ...bodyErrors, ...common } } },
  "/v1/appointments/{id}/reschedule": { post: { operationId: "rescheduleAppointment", summary: "改约（原子：新时段满则保留原预约）", security: citizen, parameters: [idParam],
    requestBody: body("reschedule-request"), responses: { 200: json("appointment", "新预约"), 404: ERR("appointment_not_found"), 409: ERR("新时段已满、已超过改约时间或个人上限"), 422: ERR("校验未通过"), ...session, ...bodyErrors, ...common } } },
  "/v1/me/plates": {
    get: { operationId: "myPlates", summary: "我的车辆", security: citizen, responses: { 200: json("plates", "车牌"), ...session, 503: ERR("存储不可用") } },
    post: { operationId: "addPlate", summary: "绑定车牌（最多5个）", security: citizen, requestBody: body("plate-request"), responses: { 200: json("plates", "车牌"), 422: ERR("车牌格式不正确"), ...session, ...bodyErrors, ...common } },
  },
  "/v1/me/plates/{plate}": { delete: { operationId: "removePlate", summary: "解绑车牌", security: citizen, parameters: [{ name: "plate", in: "path", required: true, schema: { type: "string", maxLength: 16, pattern: JSON.parse(readFileSync(join(dir, "plate-request.json"), "utf8")).properties.plate.pattern } }],
    responses: { 204: { description: "已解绑" }, 404: ERR("未绑定该车牌"), ...session, ...common } } },
  "/v1/admin/appointments/{id}/check-in": { post: { operationId: "checkIn", summary: "按签到码签到（hall_staff，仅预约当天）", security: staff, parameters: [idParam], requestBody: body("check-in-request"),
    responses: { 200: json("appointments-desk-row", "已签到（窗口视图，脱敏）"), 404: ERR("appointment_not_found"), 409: ERR("不在预约当天或已签到、已取消"), 429: ERR("今日在本大厅输错签到码过多（每人30次、每厅100次）"), ...admin, ...bodyErrors, ...common } } },
  "/v1/admin/appointments": { get: { operationId: "appointmentDay", summary: "大厅预约日视图：按时段列出当天预约及状态，手机号脱敏（hall_staff，仅本人负责的大厅；记入访问日志）", security: staff,
    parameters: [q("hall", "大厅编号", { type: "string" }, true), q("day", "日期 YYYY-MM-DD，默认今天", { type: "string", format: "date" })],
    responses: { 200: json("appointments-day", "日视图"), 404: ERR("大厅不存在（hall_not_found）"), ...admin, ...common } } },
  "/v1/admin/appointments/today": { get: { operationId: "appointmentsToday", summary: "今日各大厅预约概况（hall_staff，本人负责的大厅；仅计数）", security: staff,
    responses: { 200: json("appointments-today", "今日概况"), ...admin, ...common } } },
  "/v1/admin/appointments/check-in": { post: { operationId: "checkInByCode", summary: "按签到码为本大厅今天的预约签到（hall_staff，仅本人负责的大厅）", security: staff,
    requestBody: body("appointments-code-check-in-request", { hall_id: "H001", code: "123456" }),
    responses: { 200: json("appointments-desk-row", "已签到"), 404: ERR("本大厅今天没有该签到码的预约（appointment_not_found）"), 409: ERR("已签到、已取消或签到码重复"), 429: ERR("今日在本大厅输错签到码过多（每人30次、每厅100次）"), ...admin, ...bodyErrors, ...common } } },
  "/v1/admin/appointments/stats": { get: { operationId: "appointmentStats", summary: "大厅预约统计（hall_staff、auditor）", security: staff,
    parameters: [q("hall", "大厅编号", { type: "string" }, true), q("from", "开始日期", { type: "string", format: "date" }, true), q("to", "结束日期（最多92天）", { type: "string", format: "date" }, true)],
    responses: { 200: json("appointment-stats", "每日统计"), ...admin, ...common } } },
  "/v1/admin/appointments/resources": { get: { operationId: "listApptResources", summary: "大厅的预约资源", security: staff, parameters: [q("hall", "大厅编号", { type: "string" }, true)],
    responses: { 200: json("appt-resources", "资源"), ...admin, ...common } } },
  "/v1/admin/appointments/resources/{id}": { put: { operationId: "putApptResource", summary: "设置窗口或停车场的预约规则（hall_staff；改容量不取消已有预约）", security: staff,
    parameters: [{ name: "id", in: "path", required: true, schema: { type: "string", maxLength: 32 } }], requestBody: body("appt-resource-request"),
    responses: { 200: json("appt-resource", "资源"), 422: ERR("校验未通过"), ...admin, ...bodyErrors, ...common } } },
  "/v1/admin/appointments/calendar": { get: { operationId: "apptCalendar", summary: "法定节假日与调休", security: staff,
    parameters: [q("from", "开始日期", { type: "string", format: "date" }, true), q("to", "结束日期", { type: "string", format: "date" }, true)],
    responses: { 200: json("appt-calendar", "日历"), ...admin, ...common } } },
  "/v1/admin/appointments/calendar/{day}": {
    put: { operationId: "putCalendarDay", summary: "设为节假日或调休上班（hall_staff）", security: staff, parameters: [{ name: "day", in: "path", required: true, schema: { type: "string", format: "date" } }],
      requestBody: body("appt-calendar-request"), responses: { 204: { description: "已设置" }, ...admin, ...bodyErrors, ...common } },
    delete: { operationId: "deleteCalendarDay", summary: "删除日历设置（hall_staff）", security: staff, parameters: [{ name: "day", in: "path", required: true, schema: { type: "string", format: "date" } }],
      responses: { 204: { description: "已删除" }, ...admin, ...common } },
  },
  "/v1/me/appointments": { get: { operationId: "myAppointments", summary: "我的预约", security: citizen, responses: { 200: json("appointment-list", "预约"), ...session, 503: ERR("存储不可用") } } },
  "/v1/appointments/{id}": { get: { operationId: "getAppointment", summary: "预约详情（仅本人）", security: citizen, parameters: [idParam],
    responses: { 200: json("appointment", "预约"), 404: ERR("appointment_not_found"), ...session, 503: ERR("存储不可用") } } },
  "/v1/appointments/{id}/cancel": { post: { operationId: "cancelAppointment", summary: "取消预约（预约日前1个工作日内）", security: citizen, parameters: [idParam],
    responses: { 200: json("appointment", "已取消"), 404: ERR("appointment_not_found"), 409: ERR("cancel_too_late 或已取消"), ...session, 503: ERR("存储不可用") } } },
};

const acctParam = q("account", "表卡编号", { type: "string", maxLength: 20 }, true);
const months = [q("from", "开始账期 YYYY-MM", { type: "string" }), q("to", "结束账期 YYYY-MM", { type: "string" })];
const ledgerId = { name: "id", in: "path", required: true, description: "票据记录编号", schema: { type: "string", pattern: "^[0-9]{1,18}$" } };
const BILLING = {
  "/v1/me/water-accounts": {
    get: { operationId: "waterAccounts", summary: "已绑定的户号（户名、地址脱敏）及欠费", security: citizen, responses: { 200: json("water-accounts", "户号"), ...session, 503: ERR("存储不可用") } },
    post: { operationId: "bindWaterAccount", summary: "以表卡编号和户主手机号绑定户号（每小时最多失败5次）", security: citizen, requestBody: body("water-bind"),
      responses: { 200: json("water-accounts", "户号"), 422: ERR("表卡编号或户主手机号不正确"), 429: ERR("失败次数过多"), ...session, ...bodyErrors, ...common } },
  },
  "/v1/me/water-accounts/{account}": { delete: { operationId: "unbindWaterAccount", summary: "解绑户号", security: citizen,
    parameters: [{ name: "account", in: "path", required: true, schema: { type: "string", maxLength: 20, pattern: "^[0-9]{6,20}$" } }], responses: { 204: { description: "已解绑" }, 404: ERR("未绑定"), ...session, ...common } } },
  "/v1/bills": { get: { operationId: "listBills", summary: "账单：未缴在前，欠费标记，可按账期范围查历史", security: citizen, parameters: [acctParam, ...months],
    responses: { 200: json("bill-list", "账单"), 404: ERR("未绑定该户号"), ...session, ...common } } },
  "/v1/bills/statement": { get: { operationId: "billStatement", summary: "水费清单（打印用）", security: citizen, parameters: [acctParam, ...months],
    responses: { 200: json("bill-statement", "清单"), 404: ERR("未绑定该户号"), ...session, ...common } } },
  "/v1/bills/{id}": { get: { operationId: "getBill", summary: "账单详情（仅已绑定该户的本人）", security: citizen, parameters: [idParam],
    responses: { 200: json("bill", "账单"), 404: ERR("未找到该账单"), ...session, 503: ERR("存储不可用") } } },
  "/v1/bills/{id}/pay": { post: { operationId: "payBills", summary: "缴费下单：一张或多张账单（统一补缴）一个订单；微信支付返回调起参数，支付宝返回签名的订单串；重复下单返回同一未付订单", security: citizen,
    parameters: [idParam], requestBody: body("pay-request"),
    responses: { 200: json("pay-answer", "订单与调起支付的参数"), 404: ERR("未找到该账单（未绑定）"), 409: ERR("账单已缴清（bill_already_paid），或同一账单已有他人的未付订单（conflict）"), 422: ERR("支付方式不符，或微信支付需先在微信中登录"),
      ...session, ...bodyErrors, 400: ERR("请求参数有误"), 503: ERR("支付渠道或存储暂不可用（payment_unavailable）") } } },
  "/v1/payments/{out_trade_no}": { get: { operationId: "getPaymentOrder", summary: "支付订单及状态（仅本人）", security: citizen,
    parameters: [{ name: "out_trade_no", in: "path", required: true, schema: { type: "string", maxLength: 64 } }],
    responses: { 200: json("payment-order", "订单"), 404: ERR("未找到该支付订单"), ...session, 503: ERR("存储不可用") } } },
  "/v1/payments/wechatpay/notify": { post: { operationId: "wechatpayNotify", summary: "微信支付结果通知：原始报文验签（平台证书或微信支付公钥，5分钟时效，拒绝探测），AES-256-GCM 解密，恰好一次入账",
    parameters: ["Wechatpay-Timestamp", "Wechatpay-Nonce", "Wechatpay-Signature", "Wechatpay-Serial"].map((name) => ({ name, in: "header", schema: { type: "string" } })),
    requestBody: body("wechatpay-notification"),
    responses: { 204: { description: "已处理（入账、重复或已记录待核对）" }, 400: json("wechatpay-fail", "格式不正确或商户不匹配"), 401: json("wechatpay-fail", "验签失败、超时或探测"),
      413: ERR("内容过大"), 500: json("wechatpay-fail", "暂不能记录，请微信支付重试"), 503: json("wechatpay-fail", "未配置商户身份：不读取、不入账") } } },
  "/v1/payments/alipay/notify": { post: { operationId: "alipayNotify", summary: "支付宝异步通知：RSA2 验签，核对 app_id、seller_id、订单号与金额，恰好一次入账",
    requestBody: { required: true, content: { "application/x-www-form-urlencoded": { schema: { type: "object", additionalProperties: { type: "string" } } } } },
    responses: { 200: { description: "success", content: { "text/plain": { schema: { const: "success" } } } }, 400: { description: "fail：支付宝将重试（含重复的表单字段）", content: { "text/plain": { schema: { const: "fail" } } } },
      413: ERR("内容过大"), 503: { description: "fail：未配置商户身份，不读取、不入账", content: { "text/plain": { schema: { const: "fail" } } } } } } },
  "/v1/admin/payments:reconcile": { post: { operationId: "reconcilePayments", summary: "立即对账：向支付渠道查询超过15分钟未收到通知的订单（billing_operator；定时任务每10分钟执行）", security: staff,
    responses: { 200: json("reconcile-run", "查询结果"), ...admin, ...common } } },
  "/v1/admin/payments/reconciliation": { get: { operationId: "reconciliationReport", summary: "每日对账报告：按渠道的到账、对账查询补记、未付订单、回调结果与待核对（billing_operator、auditor）", security: staff,
    parameters: [q("date", "日期 YYYY-MM-DD（北京时间，默认今天）", { type: "string", format: "date" })], responses: { 200: json("payment-reconciliation", "报告"), ...admin, ...common } } },
  "/v1/admin/payments/reviews": { get: { operationId: "paymentReviews", summary: "待核对的到账（金额不符、商户不符、未知订单、重复缴费）", security: staff,
    parameters: [q("open", "0 为包括已处理", { enum: ["0", "1"] })], responses: { 200: json("payment-reviews", "列表"), ...admin, ...common } } },
  "/v1/admin/payments/reviews/{id}/resolve": { post: { operationId: "resolvePaymentReview", summary: "记录核对处理结果（billing_operator，留痕）", security: staff, parameters: [idParam],
    requestBody: body("review-resolve"), responses: { 200: json("payment-review", "已处理"), 404: ERR("未找到"), 409: ERR("已处理过"), 422: ERR("处理说明应为2-200字"), ...admin, ...bodyErrors, ...common } } },
  "/v1/invoices/uploads": { post: { operationId: "uploadInvoiceDocument", summary: "上传营业执照或税务事项通知书（JPG、PNG 或 PDF，不超过5 MB，类型须与内容一致；不公开）", security: citizen,
    requestBody: { required: true, content: Object.fromEntries(["image/jpeg", "image/png", "application/pdf"].map((t) => [t, { schema: { type: "string", format: "binary" } }])) },
    responses: { 201: json("upload", "已保存"), 413: ERR("超过5 MB"), 422: ERR("类型不符（upload_invalid）"), ...session, ...common } } },
  "/v1/invoices": {
    post: { operationId: "applyInvoice", summary: "增值税发票申请（表卡编号须已绑定；纳税人识别号按统一社会信用代码校验）", security: citizen, requestBody: body("invoice-application"),
      responses: { 201: json("invoice", "已受理"), 422: ERR("校验未通过，列出每一处错误"), ...session, ...bodyErrors, ...common } },
    get: { operationId: "myInvoices", summary: "我的发票申请", security: citizen, responses: { 200: json("invoice-list", "列表"), ...session, 503: ERR("存储不可用") } },
  },
  "/v1/invoices/{id}": { get: { operationId: "myInvoice", summary: "发票申请详情（仅本人）", security: citizen, parameters: [idParam],
    responses: { 200: json("invoice", "详情"), 404: ERR("未找到"), ...session, 503: ERR("存储不可用") } } },
  "/v1/admin/invoices": { get: { operationId: "invoiceQueue", summary: "发票办理列表（默认未邮寄的；billing_operator、auditor）", security: staff,
    parameters: [q("status", "状态", { enum: ["accepted", "issued", "mailed", "rejected"] })], responses: { 200: json("invoice-list", "列表"), ...admin, ...common } } },
  "/v1/admin/invoices/{id}/documents/{which}": { get: { operationId: "invoiceDocument", summary: "查看申请所附文件（billing_operator）", security: staff,
    parameters: [idParam, { name: "which", in: "path", required: true, schema: { enum: ["license", "tax-notice"] } }],
    responses: { 200: { description: "文件", content: Object.fromEntries(["image/jpeg", "image/png", "application/pdf"].map((t) => [t, { schema: { type: "string", format: "binary" } }])) },
      404: ERR("未找到"), ...admin, ...common } } },
  "/v1/admin/invoices/{id}/steps": { post: { operationId: "invoiceStep", summary: "开票（记入票据管理）、邮寄（运单号）或退回；每步通知申请人（billing_operator，留痕）", security: staff,
    parameters: [idParam], requestBody: body("invoice-step"),
    responses: { 200: json("invoice", "办理后"), 404: ERR("未找到"), 409: ERR("当前状态不允许（invoice_state_invalid）"), ...admin, ...bodyErrors, ...common } } },
  "/v1/admin/invoice-ledger": {
    get: { operationId: "invoiceLedger", summary: "票据管理：发放日期、编号、领用人、使用用户编号、作废（billing_operator、auditor）", security: staff,
      parameters: [q("from", "发放日期起", { type: "string", format: "date" }), q("to", "发放日期止", { type: "string", format: "date" })],
      responses: { 200: json("invoice-ledger", "记录"), ...admin, ...common } },
    post: { operationId: "recordLedgerEntry", summary: "登记柜台发放的发票或收费凭证（billing_operator，留痕）", security: staff, requestBody: body("ledger-input"),
      responses: { 201: json("ledger-entry", "已登记"), 409: ERR("编号已登记"), ...admin, ...bodyErrors, ...common } },
  },
  "/v1/admin/invoice-ledger/{id}/void": { post: { operationId: "voidLedgerEntry", summary: "作废（一次，须说明原因；billing_operator，留痕）", security: staff, parameters: [ledgerId],
    requestBody: body("void-request"), responses: { 200: json("ledger-entry", "已作废"), 404: ERR("未找到"), 409: ERR("已作废"), ...admin, ...bodyErrors, ...common } } },
  "/v1/admin/bills:import": { post: { operationId: "importBills", summary: "批量导入户号与账单（billing_operator；全部成功或全部不导入；已缴账单不被覆盖）", security: staff,
    requestBody: body("bills-import"), responses: { 200: json("bills-import-outcome", "已导入"), 422: ERR("校验未通过，列出每一处错误"), ...admin, ...bodyErrors, ...common } } },
  "/v1/admin/billing/phone-keys:rekey": { post: { operationId: "rekeyHolderPhones", summary: "换密钥：把旧密钥下加密的户主手机号按当前密钥重新加密，每次最多 limit 户（默认500；billing_operator，留痕；scripts/rekey-phones 反复调用至剩余为0）", security: staff,
    requestBody: { required: false, content: { "application/json": { schema: ref("billing-phone-rekey-request"), example: { limit: 500 } } } },
    responses: { 200: json("billing-phone-rekey", "本次结果与剩余户数"), 422: ERR("limit 应为 1 到 1000 之间的整数"), ...admin, 413: ERR("内容过大"), ...common, 500: ERR("未配置或无法读取 PHONE_KEYS") } } },
};

// TS + YYYYMMDD + 10 characters and a check character of functions/complaint/src/number.rs's alphabet.
const numSchema = { type: "string", pattern: "^TS[0-9]{8}[0-9A-HJKMNP-TV-Z]{11}$" };
const numParam = { name: "number", in: "path", required: true, description: "受理编号", schema: numSchema };
const OUTAGES = {
  "/v1/admin/outages:preview": { post: { operationId: "previewOutage", summary: "短信预览（outage_publisher；与发布相同的请求体；返回发布时将发送的短信、字数、条数、计划发送时间与不能发布的原因；不保存）", security: staff,
    requestBody: body("outage-request"),
    responses: { 200: json("outage-preview", "预览"), 422: ERR("字段不符或区域未知"), ...admin, ...bodyErrors, ...common } } },
  "/v1/admin/outages/{id}": { get: { operationId: "outageRecord", summary: "停水停气公告完整记录（outage_publisher、auditor；供更改）", security: staff, parameters: [idParam],
    responses: { 200: json("outage", "公告"), 404: ERR("未找到"), ...admin, ...common } } },
  "/v1/admin/outages": { get: { operationId: "adminOutages", summary: "停水停气列表：新的在前，分页，含短信发送概况（outage_publisher、auditor）", security: staff,
    parameters: [q("status", "状态", { enum: ["published", "cancelled"] }), q("utility", "water 或 gas", { enum: ["water", "gas"] }),
      q("sending", "true：只列出仍有短信排队、发送中或延后重试的（工作台）", { type: "boolean" }),
      q("page", "页码", { type: "integer", minimum: 1, maximum: 10000 }), q("per_page", "每页条数（默认20）", { type: "integer", minimum: 1, maximum: 100 })],
    responses: { 200: json("outage-admin-list", "列表"), ...admin, ...common } },
    post: { operationId: "publishOutage", summary: "发布停水停气（outage_publisher；计划停水提前24小时、停气48小时，紧急立即；preview 只预览短信）", security: staff,
    parameters: [idemKey], requestBody: body("outage-request"),
    responses: { 201: json("outage", "已发布"), 200: json("outage", "预览或重试的首次结果"), 422: ERR("提前量不足、字段不符或短信超过500字"), ...admin, ...bodyErrors, ...common } } },
  "/v1/outages": { get: { operationId: "listOutages", summary: "停水停气公告（当前及将来）", parameters: [q("area", "区域", { type: "string" }), q("utility", "water 或 gas", { enum: ["water", "gas"] })],
    responses: { 200: json("outage-list", "公告"), ...common } } },
  "/v1/outages/{id}": { get: { operationId: "getOutage", summary: "停水停气公告详情（已取消的也可查看）", parameters: [idParam], responses: { 200: json("outage", "公告"), 404: ERR("未找到"), ...common } } },
  "/v1/admin/outages/{id}:amend": { post: { operationId: "amendOutage", summary: "更改时间、区域、原因（新版本：向已通知者与新增受影响者发送更正；尚未通知则重新发布）", security: staff,
    parameters: [idParam], requestBody: body("outage-amend-request"),
    responses: { 200: json("outage", "已更改"), 404: ERR("未找到"), 409: ERR("已取消或已结束（outage_state_invalid），或同时被他人更改（conflict）"), 422: ERR("校验未通过"), ...admin, ...bodyErrors, ...common } } },
  "/v1/admin/outages/{id}:cancel": { post: { operationId: "cancelOutage", summary: "取消（向已通知者发送取消短信；公告显示已取消）", security: staff,
    parameters: [idParam], requestBody: body("outage-cancel-request"),
    responses: { 200: json("outage", "已取消"), 404: ERR("未找到"), 409: ERR("已取消或已结束"), 422: ERR("校验未通过"), ...admin, ...bodyErrors, ...common } } },
  "/v1/admin/outages/{id}:republish": { post: { operationId: "republishOutage", summary: "重新发送当前版本：只发给此后新增的订阅者", security: staff, parameters: [idParam],
    responses: { 200: json("outage-fan-out", "新增的收件人"), 404: ERR("未找到"), 409: ERR("尚未到发送时间或已取消"), ...admin, ...common } } },
  "/v1/admin/outages/{id}/delivery": { get: { operationId: "outageDelivery", summary: "短信发送情况与进度（outage_publisher、auditor）", security: staff, parameters: [idParam],
    responses: { 200: json("outage-delivery", "各版本计数"), 404: ERR("未找到"), ...admin, ...common } } },
  "/v1/admin/supply-areas": {
    get: { operationId: "supplyAreaTree", summary: "供区层级：区-街道-社区-楼栋（outage_publisher、auditor；供选择受影响区域）", security: staff,
      responses: { 200: json("outage-area-tree", "层级"), ...admin, ...common } },
    put: { operationId: "loadSupplyAreas", summary: "批量导入供区层级（outage_publisher，留痕）", security: staff, requestBody: body("supply-areas-request"),
    responses: { 200: json("supply-load", "已导入"), 422: ERR("校验未通过，列出每一处错误"), ...admin, ...bodyErrors, ...common } } },
  "/v1/admin/supply-accounts": { put: { operationId: "loadSupplyAccounts", summary: "批量导入户号与供区对应（outage_publisher、billing_operator，留痕）", security: staff, requestBody: body("supply-accounts-request"),
    responses: { 200: json("supply-load", "已导入"), 422: ERR("校验未通过，列出每一处错误"), ...admin, ...bodyErrors, ...common } } },
  "/v1/me/outage-subscriptions": {
    get: { operationId: "myOutageSubscriptions", summary: "我的停水停气提醒订阅", security: citizen, responses: { 200: json("outage-subscription-list", "订阅"), ...session, ...common } },
    post: { operationId: "subscribeOutages", summary: "订阅停水停气提醒（户号或地址；须已绑定手机号）", security: citizen, requestBody: body("outage-subscription-request"),
      responses: { 201: json("outage-subscription", "已订阅"), 200: json("outage-subscription", "已订阅过"), 404: ERR("户号无供区信息"), 422: ERR("校验未通过或未绑定手机号（phone_required）"), ...session, ...bodyErrors, ...common } },
  },
  "/v1/me/outage-subscriptions/{id}": { delete: { operationId: "unsubscribeOutages", summary: "取消订阅", security: citizen, parameters: [idParam],
    responses: { 204: { description: "已取消" }, 404: ERR("未找到"), ...session, ...common } } },
  "/v1/sms/receipts": { post: { operationId: "smsReceipts", summary: "短信回执（阿里云 SmsReport 推送；URL 带 token）", parameters: [q("token", "回调令牌", { type: "string" }, true)],
    requestBody: body("sms-receipts"), responses: { 200: json("sms-push-ack", "接收成功"), 401: ERR("令牌无效（callback_token_invalid）"), ...bodyErrors, ...common } } },
  "/v1/sms/uplink": { post: { operationId: "smsUplink", summary: "上行短信（阿里云 SmsUp 推送；回复 TD 退订）", parameters: [q("token", "回调令牌", { type: "string" }, true)],
    requestBody: body("sms-uplink"), responses: { 200: json("sms-push-ack", "接收成功"), 401: ERR("令牌无效（callback_token_invalid）"), ...bodyErrors, ...common } } },
};

const COMPLAINT = {
  "/v1/complaints/{number}/rating": { post: { operationId: "rateComplaint", summary: "满意度评价（办结后，本人，一次）", security: citizen, parameters: [numParam], requestBody: body("complaint-rating"),
    responses: { 204: { description: "已评价" }, 404: ERR("未找到"), 409: ERR("未办结或已评价"), 422: ERR("评分应为1-5"), ...session, ...bodyErrors, ...common } } },
  "/v1/admin/complaints": { get: { operationId: "complaintQueue", summary: "待办列表：未办结在前、按期限排序（complaint_dispatcher 与 auditor 看全部，complaint_handler 只看本部门的件）", security: staff,
    parameters: [q("status", "状态", { enum: ["received", "assigned", "replied", "referred", "closed"] }), q("overdue", "只看超期", { type: "boolean" }),
      q("kind", "类型", { enum: ["complaint", "report", "suggestion", "consultation"] }), q("department", "承办部门（完全一致）", { type: "string", maxLength: 50 }),
      q("q", "关键词：受理编号、标题或类别中包含", { type: "string", maxLength: 50 })],
    responses: { 200: json("complaint-list", "列表"), ...admin, ...common } } },
  "/v1/admin/complaints/stats": { get: { operationId: "complaintStats", summary: "统计：按期办结率（目标97%）、按类型/分类/部门的数量、平均办理天数、满意度", security: staff,
    parameters: [q("from", "受理日期起", { type: "string", format: "date" }, true), q("to", "受理日期止（一年以内）", { type: "string", format: "date" }, true)],
    responses: { 200: json("complaint-stats", "统计"), ...admin, ...common } } },
  "/v1/admin/complaints/{number}": { get: { operationId: "complaintCase", summary: "受理件详情（匿名件不显示投诉人；complaint_dispatcher，或本部门的 complaint_handler；查看记入审计）", security: staff, parameters: [numParam],
    responses: { 200: json("complaint-case", "详情"), 404: ERR("未找到"), ...admin, ...common } } },
  "/v1/admin/complaints/{number}/steps": { post: { operationId: "complaintStep", summary: "转交（仅 complaint_dispatcher）、答复、转办、延期（一次）、办结（本部门的 complaint_handler 亦可）；每步通知本人", security: staff, parameters: [numParam],
    requestBody: body("complaint-step"), responses: { 200: json("complaint-case", "办理后"), 404: ERR("未找到"), 409: ERR("当前状态不允许或已延期过"), 422: ERR("校验未通过"), ...admin, ...bodyErrors, ...common } } },
  "/v1/complaints": { post: { operationId: "submitComplaint", summary: "投诉、举报、建议、咨询（登录后提交，或不登录用短信验证码确认手机号；带 Idempotency-Key 时重试返回首次结果）", security: [{}, { citizenSession: [] }],
    parameters: [idemKey], requestBody: body("complaint-submission"),
    responses: { 201: json("complaint-record", "已受理：受理编号与答复期限"), 200: json("complaint-record", "重试：首次的受理记录"), 422: ERR("校验未通过"), ...session, ...bodyErrors, ...common } } },
  "/v1/complaints/{number}": { get: { operationId: "complaintStatus", summary: "按受理编号查询进度（公开视图无内容、无个人信息；本人登录或提供手机号后四位可见全文）", security: [{}, { citizenSession: [] }],
    parameters: [{ name: "number", in: "path", required: true, description: "受理编号", schema: numSchema }, q("phone_last4", "提交时手机号的后四位", { type: "string", pattern: "^[0-9]{4}$" })],
    responses: { 200: { description: "公开视图或本人视图", content: { "application/json": { schema: { oneOf: [ref("complaint-public"), ref("complaint-mine")] } } } },
      400: ERR("受理编号格式或校验位不正确"), 404: ERR("未找到"), 429: ERR("同一来源每分钟最多查询30次"), 503: ERR("存储不可用") } } },
};

const IMAGE = Object.fromEntries(["image/jpeg", "image/png"].map((t) => [t, { schema: { type: "string", format: "binary" } }]));
const FAQ = {
  "/v1/complaints/uploads": { post: { operationId: "uploadComplaintPhoto", summary: "上传照片（JPG 或 PNG，不超过5 MB，类型须与内容一致；不公开，仅办理人员可见）", security: citizen,
    requestBody: { required: true, content: IMAGE },
    responses: { 201: json("upload", "已保存"), 413: ERR("超过5 MB"), 422: ERR("类型不符（upload_invalid）"), ...session, ...common } } },
  "/v1/admin/complaints/{number}/photos/{id}": { get: { operationId: "complaintPhoto", summary: "查看受理件所附照片（complaint_dispatcher，或本部门的 complaint_handler；记入审计）", security: staff,
    parameters: [numParam, idParam], responses: { 200: { description: "照片", content: IMAGE }, 404: ERR("未找到"), ...admin, ...common } } },
  "/v1/admin/complaints/{number}/faq": { post: { operationId: "complaintToFaq", summary: "把已答复的咨询转为常见问题（complaint_dispatcher，或本部门的 complaint_handler；问题与答案重新撰写，手机号等自动遮蔽）", security: staff,
    parameters: [numParam], requestBody: body("faq-input"),
    responses: { 201: json("faq", "已发布"), 404: ERR("未找到"), 409: ERR("不是已答复的咨询，或已转过"), 422: ERR("校验未通过"), ...admin, ...bodyErrors, ...common } } },
  "/v1/faq": { get: { operationId: "searchFaq", summary: "常见问题：按词搜索（空格分隔，全部命中），可按分类",
    parameters: [q("q", "搜索词（最多30字）", { type: "string", maxLength: 30 }), q("category", "分类", { type: "string" })],
    responses: { 200: json("faq-list", "最多50条，新的在前"), ...common } } },
};
const O311_ERR = (d) => json("open311-errors", d);
const O311 = {
  "/open311/v2/discovery.json": { get: { operationId: "open311Discovery", summary: "Open311 GeoReport v2 discovery", responses: { 200: json("open311-discovery", "endpoints") } } },
  "/open311/v2/services.json": { get: { operationId: "open311Services", summary: "Open311 服务类型", responses: { 200: json("open311-services", "services") } } },
  "/open311/v2/services/{file}": { get: { operationId: "open311ServiceDefinition", summary: "Open311 服务定义（{service_code}.json）",
    parameters: [{ name: "file", in: "path", required: true, schema: { type: "string", maxLength: 70 } }],
    responses: { 200: json("open311-service-definition", "definition"), 404: O311_ERR("未知服务"), 405: O311_ERR("方法不允许") } } },
  "/open311/v2/requests.json": {
    get: { operationId: "open311Requests", summary: "Open311 请求列表（默认近90天，最多200条；无个人信息；举报不列出）",
      parameters: [q("service_request_id", "逗号分隔", { type: "string" }), q("service_code", "服务", { type: "string" }), q("start_date", "W3C 时间", { type: "string" }),
        q("end_date", "W3C 时间", { type: "string" }), q("status", "open 或 closed", { type: "string" }), q("jurisdiction_id", "不使用", { type: "string" })],
      responses: { 200: json("open311-requests", "requests"), 400: O311_ERR("参数有误"), 503: O311_ERR("存储不可用") } },
    post: { operationId: "open311CreateRequest", summary: "Open311 创建请求（api_key；成为同一编号、同一流程的投诉）",
      requestBody: { required: true, content: { "application/x-www-form-urlencoded": { schema: ref("open311-request-form"),
        example: { api_key: "dev-open311-key", service_code: "road", address_string: "义乌市北苑街道春晗路", description: "路灯损坏，夜间通行不便。" } } } },
      responses: { 201: json("open311-created", "已受理"), 400: O311_ERR("请求有误"), 403: O311_ERR("api_key 无效"), 413: O311_ERR("内容过大"), 422: O311_ERR("字段不符"), 503: O311_ERR("存储不可用") } },
  },
  "/open311/v2/requests/{file}": { get: { operationId: "open311Request", summary: "Open311 单个请求（{service_request_id}.json）",
    parameters: [{ name: "file", in: "path", required: true, schema: { type: "string", maxLength: 70 } }],
    responses: { 200: json("open311-requests", "request"), 400: O311_ERR("参数有误"), 404: O311_ERR("未找到"), 503: O311_ERR("存储不可用") } } },
};

// OpenAPI links from what creates a resource to what reads or changes it,
// so a stateful fuzzer (scripts/schemathesis) reaches the success paths.
const LINKS = [
  ["/v1/admin/outages", "post", "201", { getOutage: { id: "$response.body#/id" }, outageDelivery: { id: "$response.body#/id" },
    amendOutage: { id: "$response.body#/id" }, cancelOutage: { id: "$response.body#/id" } }],
  ["/v1/outages", "get", "200", { getOutage: { id: "$response.body#/outages/0/id" } }],
  ["/v1/complaints", "post", "201", { complaintStatus: { number: "$response.body#/number" }, rateComplaint: { number: "$response.body#/number" } }],
  ["/v1/admin/complaints", "get", "200", { complaintCase: { number: "$response.body#/complaints/0/number" }, complaintStep: { number: "$response.body#/complaints/0/number" },
    complaintToFaq: { number: "$response.body#/complaints/0/number" } }],
  ["/v1/invoices", "post", "201", { myInvoice: { id: "$response.body#/id" } }],
  ["/v1/invoices", "get", "200", { myInvoice: { id: "$response.body#/invoices/0/id" } }],
  ["/v1/admin/invoices", "get", "200", { invoiceStep: { id: "$response.body#/invoices/0/id" }, invoiceDocument: { id: "$response.body#/invoices/0/id", which: "license" } }],
  ["/v1/admin/invoices/{id}/steps", "post", "200", { invoiceDocument: { id: "$response.body#/id", which: "tax-notice" } }],
  ["/v1/admin/invoice-ledger", "post", "201", { voidLedgerEntry: { id: "$response.body#/id" } }],
  ["/v1/admin/invoice-ledger", "get", "200", { voidLedgerEntry: { id: "$response.body#/entries/0/id" } }],
  ["/v1/admin/payments/reviews", "get", "200", { resolvePaymentReview: { id: "$response.body#/reviews/0/id" } }],
  ["/v1/admin/items", "post", "201", { adminItemDetail: { code: "$response.body#/code" }, updateItemDraft: { code: "$response.body#/code" },
    submitItem: { code: "$response.body#/code" }, publishItem: { code: "$response.body#/code" }, rejectItem: { code: "$response.body#/code" } }],
  ["/v1/admin/items/{code}", "put", "200", { submitItem: { code: "$response.body#/code" } }],
  ["/v1/admin/items/{code}:submit", "post", "200", { publishItem: { code: "$response.body#/code" }, rejectItem: { code: "$response.body#/code" } }],
  ["/v1/admin/items", "get", "200", { adminItemDetail: { code: "$response.body#/items/0/code" }, updateItemDraft: { code: "$response.body#/items/0/code" } }],
  ["/v1/bills", "get", "200", { getBill: { id: "$response.body#/bills/0/id" }, payBills: { id: "$response.body#/bills/0/id" } }],
  ["/v1/bills/{id}/pay", "post", "200", { getPaymentOrder: { out_trade_no: "$response.body#/order/out_trade_no" } }],
  ["/v1/appointments", "post", "201", { getAppointment: { id: "$response.body#/id" }, cancelAppointment: { id: "$response.body#/id" },
    rescheduleAppointment: { id: "$response.body#/id" } }],
  ["/v1/me/appointments", "get", "200", { getAppointment: { id: "$response.body#/appointments/0/id" } }],
  ["/v1/me/outage-subscriptions", "post", "201", { unsubscribeOutages: { id: "$response.body#/id" } }],
  ["/v1/applications", "post", "201", { getApplication: { number: "$response.body#/number" }, updateApplicationForm: { number: "$response.body#/number" },
    attachApplicationMaterial: { number: "$response.body#/number" }, submitApplication: { number: "$response.body#/number" }, applicationProgress: { number: "$response.body#/number" } }],
  ["/v1/applications/bundles", "post", "201", { getApplication: { number: "$response.body#/numbers/0" }, submitApplication: { number: "$response.body#/numbers/1" } }],
  ["/v1/applications/mine", "get", "200", { getApplication: { number: "$response.body#/applications/0/number" }, applicationProgress: { number: "$response.body#/applications/0/number" } }],
  ["/v1/applications/{number}/submit", "post", "200", { applicationProgress: { number: "$response.body#/number" } }],
  ["/v1/admin/applications", "get", "200", { applicationCase: { number: "$response.body#/applications/0/number" }, applicationStep: { number: "$response.body#/applications/0/number" },
    applicationReceipt: { number: "$response.body#/applications/0/number" } }],
  ["/v1/admin/applications/{number}/steps", "post", "200", { applicationReceipt: { number: "$response.body#/number" }, applicationCase: { number: "$response.body#/number" } }],
  ["/v1/admin/applications/rectifications", "get", "200", { rectifyApplication: { number: "$response.body#/rectifications/0/number" } }],
];

function addLinks(paths) {
  for (const [path, method, status, targets] of LINKS) {
    const response = paths[path]?.[method]?.responses?.[status];
    if (!response) throw new Error(`no ${method} ${path} ${status} to link from`);
    response.links = Object.fromEntries(Object.entries(targets).map(([operationId, parameters]) => [operationId, { operationId, parameters }]));
  }
  return paths;
}

const staffIdParam = { name: "id", in: "path", required: true, description: "员工账户编号", schema: { type: "string", pattern: "^stf_[0-9a-f]{16}$" } };
const locked = { 429: ERR("连续失败5次，账户锁定15分钟（account_locked），或同一来源每分钟超过10次（rate_limited）") };
const STAFF = {
  "/v1/staff/login": { post: { operationId: "staffLogin", summary: "后台登录：用户名、密码与动态口令（TOTP）；会话以 Cookie __Host-bm_staff 返回（HttpOnly、Secure、SameSite=Strict）",
    requestBody: body("staff-login", { username: "wangwu", password: "Shui-Dian-2026!ok", code: "123456" }),
    responses: { 200: json("staff-me", "已登录：角色与 CSRF 令牌"), 401: ERR("用户名、密码或动态口令不正确（login_failed）"), 422: ERR("校验未通过"), ...locked, ...bodyErrors, ...common } } },
  "/v1/staff/logout": { post: { operationId: "staffLogout", summary: "退出后台登录（需 X-CSRF-Token）", security: [{ staffSession: [] }],
    responses: { 204: noContent, 401: ERR("未登录"), 403: ERR("缺少 CSRF 令牌（csrf_invalid）"), ...common } } },
  "/v1/staff/me": { get: { operationId: "staffMe", summary: "当前登录的员工、角色与 CSRF 令牌", security: [{ staffSession: [] }],
    responses: { 200: json("staff-me", "当前员工"), 401: ERR("未登录或已超时"), ...common } } },
  "/v1/staff/password": { post: { operationId: "staffPassword", summary: "修改本人密码（其他会话随即失效；原密码错误计入登录锁定）", security: [{ staffSession: [] }],
    requestBody: body("staff-password", { old_password: "Shui-Dian-2026!ok", new_password: "Gong-Shui-2027#ok" }),
    responses: { 204: noContent, 401: ERR("未登录"), 403: ERR("缺少 CSRF 令牌"), 422: ERR("原密码不正确或新密码不符合要求"), ...locked, ...bodyErrors, ...common } } },
  "/v1/staff/enrolment": { post: { operationId: "staffEnrolment", summary: "开通链接页面：动态口令密钥的二维码（SVG）与 otpauth 地址（链接不因查看而失效）",
    requestBody: body("staff-enrolment-request", { token: `bme_${"0".repeat(64)}` }),
    responses: { 200: json("staff-enrolment", "开通页面"), 404: ERR("链接无效、已使用或已过期（enrolment_invalid）"), 422: ERR("校验未通过"), ...bodyErrors, ...common } } },
  "/v1/staff/enrolment:complete": { post: { operationId: "staffEnrolmentComplete", summary: "完成开通：设置密码（重置动态口令时输入现有密码）并以验证器的动态口令确认",
    requestBody: body("staff-enrolment-complete", { token: `bme_${"0".repeat(64)}`, password: "Shui-Dian-2026!ok", code: "123456" }),
    responses: { 204: noContent, 404: ERR("链接无效、已使用或已过期"), 422: ERR("密码不符合要求或动态口令不正确"), ...locked, ...bodyErrors, ...common } } },
  "/v1/admin/staff": {
    get: { operationId: "listStaff", summary: "员工管理：全部账户（staff_admin）", security: staff, responses: { 200: json("staff-list", "账户"), ...admin, ...common } },
    post: { operationId: "createStaff", summary: "新增员工并生成一次性开通链接（staff_admin；三员分立：系统管理员与审计员只能由 scripts/staff 创建）", security: staff,
      requestBody: body("staff-new", { username: "zhaoliu", display_name: "赵六", roles: ["hall_staff"], halls: ["H001"], departments: [] }),
      responses: { 201: json("staff-with-link", "已创建"), 409: ERR("用户名已被使用"), 422: ERR("校验未通过"), ...admin, ...bodyErrors, ...common } } },
  "/v1/admin/staff/{id}/grant": { put: { operationId: "grantStaff", summary: "修改角色与范围（大厅、部门；staff_admin，不能改自己的）", security: staff, parameters: [staffIdParam],
    requestBody: body("staff-grant", { roles: ["complaint_handler"], departments: ["供水公司"] }),
    responses: { 200: json("staff-view", "修改后"), 404: ERR("未找到"), 422: ERR("校验未通过"), ...admin, ...bodyErrors, ...common } } },
  "/v1/admin/staff/{id}:disable": { post: { operationId: "disableStaff", summary: "停用账户，其会话立即失效（staff_admin）", security: staff, parameters: [staffIdParam],
    responses: { 200: json("staff-view", "已停用"), 404: ERR("未找到"), ...admin, ...common } } },
  "/v1/admin/staff/{id}:reset-second-factor": { post: { operationId: "resetStaffSecondFactor", summary: "重置动态口令：旧口令立即失效，生成新的开通链接（staff_admin）", security: staff, parameters: [staffIdParam],
    responses: { 200: json("staff-with-link", "新的开通链接"), 404: ERR("未找到"), 409: ERR("账户已停用"), ...admin, ...common } } },
  "/v1/admin/staff/{id}/logins": { get: { operationId: "staffLogins", summary: "登录记录：最近100次（staff_admin、auditor）", security: staff, parameters: [staffIdParam],
    responses: { 200: json("staff-logins", "登录记录"), 404: ERR("未找到"), ...admin, ...common } } },
};

// Online applications (functions/application). Examples succeed against what scripts/schemathesis
// seeds: 水表过户 of the demo catalogue (供水公司), resolved as 已结清 / 房屋买卖 / 本人办理.
const TRANSFER = DEMO.items.find((i) => i.name === "水表过户");
const CONNECT = DEMO.items.find((i) => i.name === "个人客户接水申请");
const TRANSFER_ANSWERS = ["已结清", "房屋买卖", "本人办理"];
const CONNECT_ANSWERS = ["新建房屋首次接水", "已取得", "住宅，本人办理"];
Object.assign(EXAMPLES, {
  "application-answers": { item_code: TRANSFER.code, answers: TRANSFER_ANSWERS, form: { 联系地址: "稠城街道1号3幢201室" } },
  "application-bundle": { parts: [{ item_code: CONNECT.code, answers: CONNECT_ANSWERS }, { item_code: TRANSFER.code, answers: TRANSFER_ANSWERS }], form: { 联系地址: "稠城街道2号" } },
  "application-form": { form: { 联系地址: "稠城街道1号3幢202室", 联系电话: "13900001111" } },
  "application-attach": { material: "居民身份证", upload_id: "up_000000000000000000000000" },
  // The version the application scripts/schemathesis seeds for this step has (drafted 1, three materials, submitted: 5).
  "application-step": { action: "accept", version: 5 },
  "application-rating": { grade: 5, reasons: "网上申报一次办好。" },
  "application-rectification-outcome": { outcome: "已对窗口人员进行培训，补正告知写明具体要求。" },
});
const appNumber = { name: "number", in: "path", required: true, description: "办件编号（不区分大小写；格式或校验位不对即 404）",
  schema: { type: "string", pattern: "^SB[0-9]{8}[0-9A-HJKMNP-TV-Z]{11}$" } };
const DOCUMENT = Object.fromEntries(["image/jpeg", "image/png", "application/pdf"].map((t) => [t, { schema: { type: "string", format: "binary" } }]));
const APPLICATION = {
  "/v1/applications/resolve": { post: { operationId: "resolveSituation", summary: "情形引导：按已选的选项给出下一个问题，或确定的情形及所需材料（逐项说明为何需要），或应改办的事项（无需登录）",
    requestBody: body("application-answers", { item_code: TRANSFER.code, answers: TRANSFER_ANSWERS.slice(0, 2) }),
    responses: { 200: json("application-resolution", "下一个问题、确定的情形或另一事项"), 404: ERR("事项不存在或未发布（item_not_found）"), 422: ERR("选项不存在、回答多于问题或超过20个"), ...bodyErrors, ...common } } },
  "/v1/applications/life-events": { get: { operationId: "lifeEvents", summary: "按人生事件进入的办事场景（我要用水、新房入住…；无需登录）",
    responses: { 200: json("application-life-events", "场景"), ...common } } },
  "/v1/applications/life-events/resolve": { post: { operationId: "resolveLifeEvent", summary: "办事场景引导：给出下一个问题，或要办理的事项（两个及以上：一件事一次办）",
    requestBody: body("application-life-event-request", { event: "new-home", answers: ["已有水表，要过户到我名下（二手房）"] }),
    responses: { 200: json("application-life-event-walk", "下一个问题或要办理的事项"), 404: ERR("没有这个场景，或场景涉及的事项未在本地发布"), 422: ERR("选项不存在或回答多于问题"), ...bodyErrors, ...common } } },
  "/v1/applications": { post: { operationId: "createApplication", summary: "按确定的情形保存申请草稿（仅可网上申报的事项；每人至多20件草稿）", security: citizen,
    requestBody: body("application-answers"),
    responses: { 201: json("application-record", "草稿已保存"), 404: ERR("事项不存在或未发布"), 409: ERR("该事项不支持网上申报，或草稿已达20件"),
      422: ERR("情形未确定、填报信息不符"), ...session, ...bodyErrors, ...common } } },
  "/v1/applications/bundles": { post: { operationId: "createApplicationBundle", summary: "一件事一次办：2-6个事项一起保存草稿，各成一件、共用一个 bundle（全部成功或全部不保存）", security: citizen,
    requestBody: body("application-bundle"),
    responses: { 201: json("application-numbers", "各件的办件编号"), 404: ERR("某个事项不存在或未发布"), 409: ERR("某个事项不支持网上申报，或草稿已达20件"),
      422: ERR("事项数不在2-6之间、情形未确定或填报信息不符"), ...session, ...bodyErrors, ...common } } },
  "/v1/applications/uploads": { post: { operationId: "uploadApplicationMaterial", summary: "上传一份材料文件（JPG、PNG 或 PDF，不超过5 MB，类型须与内容一致；不公开）", security: citizen,
    requestBody: { required: true, content: DOCUMENT },
    responses: { 201: json("upload", "已保存"), 413: ERR("超过5 MB"), 422: ERR("类型不符（upload_invalid）"), ...session, ...common } } },
  "/v1/applications/mine": { get: { operationId: "myApplications", summary: "我的办件（新的在前）", security: citizen,
    responses: { 200: json("application-mine", "本人的申请"), ...session, ...common } } },
  "/v1/applications/prefill": { get: { operationId: "prefillApplication", summary: "自动填充：按个人资料、已绑定的户号（仅一个时）和最近一次申请（同一事项优先）预先填好申请表，并说明每项来源", security: citizen,
    parameters: [q("item_code", "实施编码（31位）", { type: "string", pattern: "^[0-9A-HJ-NPQRTUWXY]{18}[1-6][0-9]{12}$" }, true)],
    responses: { 200: json("application-prefill", "预填的申请表"), ...session, ...common } } },
  "/v1/applications/reusable": { get: { operationId: "reusableMaterials", summary: "材料复用：本人其他申请中同名材料的文件（复用不会从原申请取走）", security: citizen,
    parameters: [q("material", "材料名称", { type: "string", minLength: 1 }, true)],
    responses: { 200: json("application-reusable", "可复用的文件"), ...session, ...common } } },
  "/v1/applications/{number}": { get: { operationId: "getApplication", summary: "本人的一件申请及其办理记录（他人的办件编号答 404）", security: citizen, parameters: [appNumber],
    responses: { 200: json("application-record", "申请"), 404: ERR("未找到"), ...session, ...common } } },
  "/v1/applications/{number}/form": { put: { operationId: "updateApplicationForm", summary: "修改填报信息（草稿；补正时只能改告知中列出的填报项）", security: citizen, parameters: [appNumber],
    requestBody: body("application-form"),
    responses: { 200: json("application-record", "修改后"), 404: ERR("未找到"), 409: ERR("已提交，或期间已被改动"), 422: ERR("填报信息不符，或改了告知以外的填报项"), ...session, ...bodyErrors, ...common } } },
  "/v1/applications/{number}/materials": { put: { operationId: "attachApplicationMaterial", summary: "为一项材料附上新上传的文件或本人其他申请用过的文件（补正、容缺时只能换告知中列出的材料）", security: citizen, parameters: [appNumber],
    requestBody: body("application-attach"),
    responses: { 200: json("application-record", "附上后"), 404: ERR("未找到"), 409: ERR("已提交不能更换、不是要求补正的材料，或期间已被改动"),
      422: ERR("本申请不需要这项材料，或没有找到本人上传的这个文件"), ...session, ...bodyErrors, ...common } } },
  "/v1/applications/{number}/submit": { post: { operationId: "submitApplication", summary: "提交申请（必需材料齐全）、补正后重新提交，或报告容缺材料已补齐；每步通知本人", security: citizen, parameters: [appNumber],
    responses: { 200: json("application-record", "提交后"), 404: ERR("未找到"), 409: ERR("已提交，无需重复提交"), 422: ERR("还缺少材料"), ...session, ...common } } },
  "/v1/applications/{number}/progress": { get: { operationId: "applicationProgress", summary: "凭办件编号查询进度：状态、承诺办结日期与带日期的步骤（无内容、无备注；草稿不可查）", parameters: [appNumber],
    responses: { 200: json("application-progress", "进度"), 404: ERR("未找到"), 429: ERR("同一来源每分钟最多查询30次"), 503: ERR("存储不可用") } } },
  "/v1/applications/{number}/result": { get: { operationId: "downloadApplicationResult", summary: "下载电子办理结果（本人、办结后；文件名含办件编号）", security: citizen, parameters: [appNumber],
    responses: { 200: { description: "办理结果文件（附件）", content: DOCUMENT }, 404: ERR("未找到、尚未办结，或没有电子结果文件"), ...session, ...common } } },
  "/v1/applications/{number}/rating": { post: { operationId: "rateApplication", summary: "好差评（办结后，本人，一次；不满意、非常不满意须写理由，并转部门整改）", security: citizen, parameters: [appNumber],
    requestBody: body("application-rating"),
    responses: { 204: { description: "已评价" }, 404: ERR("未找到"), 409: ERR("未办结或已评价"), 422: ERR("等级应为1-5，低评须写理由"), ...session, ...bodyErrors, ...common } } },
  "/v1/admin/applications": { get: { operationId: "applicationQueue", summary: "预审队列：本部门的件（application_handler；auditor 看全部），待预审在前、按期限排序；查看记入审计", security: staff,
    parameters: [q("status", "只看该状态（缺省：待预审、已受理、容缺受理；草稿不在其中，答 400）", { enum: ["submitted", "correction", "accepted", "accepted_pending", "rejected", "completed"] })],
    responses: { 200: json("application-queue", "队列"), ...admin, ...common } } },
  "/v1/admin/applications/stats": { get: { operationId: "applicationStats", summary: "网上申报统计：按期办结率、需一次性告知的比例、受理到办结的平均工作日，按部门和事项（本部门的 application_handler；auditor 看全部）", security: staff,
    parameters: [q("from", "起（YYYY-MM-DD，按提交日）", { type: "string", format: "date" }, true), q("to", "止（YYYY-MM-DD，至多一年）", { type: "string", format: "date" }, true)],
    responses: { 200: json("application-stats", "统计"), ...admin, ...common } } },
  "/v1/admin/applications/rectifications": { get: { operationId: "applicationRectifications", summary: "整改任务及结果（本部门的 application_handler；auditor 看全部）", security: staff,
    responses: { 200: json("application-rectifications", "整改任务"), ...admin, ...common } } },
  "/v1/admin/applications/{number}": { get: { operationId: "applicationCase", summary: "办件详情（本部门的 application_handler，或 auditor；查看记入审计）", security: staff, parameters: [appNumber],
    responses: { 200: json("application-record", "申请"), 403: ERR("角色不符，或不在本部门的办理范围内"), 404: ERR("未找到"), 401: admin[401], ...common } } },
  "/v1/admin/applications/{number}/material": { get: { operationId: "applicationMaterial", summary: "查看一项材料的文件（本部门的 application_handler；记入审计）", security: staff, parameters: [appNumber,
    q("name", "材料名称", { type: "string", minLength: 1 }, true)],
    responses: { 200: { description: "材料文件", content: DOCUMENT }, 403: ERR("角色不符，或不在本部门的办理范围内"), 404: ERR("未找到，或该材料尚未上传"), 401: admin[401], ...common } } },
  "/v1/admin/applications/{number}/receipt": { get: { operationId: "applicationReceipt", summary: "可打印的受理通知书（本部门的 application_handler；受理后）", security: staff, parameters: [appNumber],
    responses: { 200: { description: "受理通知书（HTML）", content: { "text/html": { schema: { type: "string" } } } }, 403: ERR("角色不符，或不在本部门的办理范围内"), 404: ERR("未找到"),
      409: ERR("尚未受理，没有受理通知书"), 401: admin[401], ...common } } },
  "/v1/admin/applications/{number}/steps": { post: { operationId: "applicationStep", summary: "受理、一次性告知（仅一次）、容缺受理、不予受理、办结（本部门的 application_handler；带读到的 version，两人同时操作时一人成功、另一人 409）；每步通知本人并记入审计", security: staff,
    parameters: [appNumber], requestBody: body("application-step"),
    responses: { 200: json("application-record", "操作后"), 403: ERR("角色不符，或不在本部门的办理范围内"), 404: ERR("未找到"), 409: ERR("当前状态不允许、已告知过，或已被他人处理"),
      422: ERR("校验未通过"), 401: admin[401], ...bodyErrors, ...common } } },
  "/v1/admin/applications/{number}/result": {
    put: { operationId: "attachApplicationResult", summary: "上传（或更换）电子办理结果文件（JPG、PNG 或 PDF，不超过5 MB，类型须与内容一致；已受理、未办结时；以电子方式办结前须上传；本部门的 application_handler；记入审计）", security: staff, parameters: [appNumber],
      requestBody: { required: true, content: DOCUMENT },
      responses: { 200: json("application-record", "上传后（version 已更新）"), 403: ERR("角色不符，或不在本部门的办理范围内"), 404: ERR("未找到"), 409: ERR("未受理或已办结，或期间已被改动"),
        413: ERR("超过5 MB"), 422: ERR("类型不符（upload_invalid）"), 401: admin[401], ...common } },
    get: { operationId: "applicationResult", summary: "查看已上传的电子办理结果（本部门的 application_handler；记入审计）", security: staff, parameters: [appNumber],
      responses: { 200: { description: "办理结果文件（附件）", content: DOCUMENT }, 403: ERR("角色不符，或不在本部门的办理范围内"), 404: ERR("未找到，或尚未上传"), 401: admin[401], ...common } } },
  "/v1/admin/applications/{number}/rectification": { post: { operationId: "rectifyApplication", summary: "记录整改结果并告知评价人（本部门的 application_handler）", security: staff, parameters: [appNumber],
    requestBody: body("application-rectification-outcome"),
    responses: { 204: { description: "已整改" }, 403: ERR("角色不符，或不在本部门的办理范围内"), 404: ERR("未找到"), 409: ERR("没有待整改的任务"), 422: ERR("请写明整改结果（不超过500字）"),
      401: admin[401], ...bodyErrors, ...common } } },
};

export function buildOpenApi() {
  const paths = { ...structuredClone(GUIDE_DETAIL), ...structuredClone(MANAGE), ...structuredClone(IDENTITY), ...structuredClone(SEARCH) };
  Object.assign(paths, structuredClone(APPOINTMENT), structuredClone(BILLING), structuredClone(COMPLAINT), structuredClone(OUTAGES), structuredClone(O311), structuredClone(FAQ), structuredClone(STAFF), structuredClone(APPLICATION));
  addLinks(paths);
  return {
    openapi: "3.1.0",
    info: { title: "bianmin 便民 API", version: "0.1.0", description: "城市便民服务边缘函数。所有错误均为统一的 JSON 信封，见 components.schemas.error 与 schemas/error-codes.json。" },
    servers: [{ url: "https://api.bianmin.example.cn" }, { url: "http://127.0.0.1:8787", description: "scripts/dev" }],
    paths: Object.fromEntries(Object.entries(paths).sort(([a], [b]) => a.localeCompare(b))),
    components: {
      schemas: loadSchemas(),
      securitySchemes: {
        adminToken: { type: "http", scheme: "bearer", description: "scripts/admin-token 生成的管理令牌（bma_...）" },
        citizenSession: { type: "http", scheme: "bearer", description: "登录接口返回的会话令牌（bms_...），默认7天有效，可退出吊销" },
        staffSession: { type: "apiKey", in: "cookie", name: "__Host-bm_staff", description: "后台登录返回的会话 Cookie：闲置30分钟或登录12小时后失效；写操作须在 X-CSRF-Token 头中带回登录返回的 csrf_token" },
      },
    },
  };
}

/** Every request example must satisfy its own schema (a fuzzer drops one that does not). */
function checkExamples(spec) {
  const ajv = new Ajv2020({ allErrors: true, strict: false });
  addFormats(ajv);
  ajv.addSchema({ $id: "openapi", components: spec.components });
  for (const [path, ops] of Object.entries(spec.paths)) {
    for (const [method, op] of Object.entries(ops)) {
      for (const [type, media] of Object.entries(op.requestBody?.content ?? {})) {
        if (media.example === undefined) continue;
        const validate = ajv.compile({ $ref: `openapi${media.schema.$ref}` });
        if (!validate(media.example)) throw new Error(`${method} ${path} (${type}): example does not match its schema: ${ajv.errorsText(validate.errors)}`);
      }
    }
  }
  return spec;
}

const text = JSON.stringify(checkExamples(buildOpenApi()), null, 2) + "\n";
const target = join(ROOT, "schemas", "openapi.json");
if (process.argv.includes("--check")) {
  if (readFileSync(target, "utf8") !== text) { console.error("schemas/openapi.json is out of date: run node scripts/gen-openapi.mjs"); process.exit(1); }
} else {
  writeFileSync(target, text);
}
