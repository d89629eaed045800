// 事项管理: Chinese labels for the catalogue's codes and the item's fields
// (the 18 guide fields of seed 003 and those 004 adds).
export const STATUS = { published: "已发布", withdrawn: "已下架", unpublished: "未发布" };
export const STATUS_TYPE = { published: "success", withdrawn: "info", unpublished: "warning" };
export const REVIEW = { draft: "草稿", submitted: "待审核", rejected: "已退回", none: "无待审草稿" };
export const REVIEW_TYPE = { draft: "info", submitted: "warning", rejected: "danger" };
export const FORMS = { original: "原件", copy: "复印件", original_and_copy: "原件和复印件", electronic: "电子材料" };
export const SERVICE_OBJECTS = ["自然人", "法人", "其他组织"];
export const TRIGGERS = { manual: "手动", cron: "定时" };
export const SYNC_STATUS = { ok: "成功", partial: "部分成功", failed: "失败" };

/** Field paths (as the API names them, without the leading `item.`) and their labels. */
export const FIELDS = {
  code: "实施编码",
  basic_code: "基本编码",
  name: "事项名称",
  category: "事项分类",
  tags: "标签",
  department: "实施部门",
  service_object: "服务对象",
  online: "网上办理",
  "online.url": "线上办理链接",
  appointment: "可预约",
  materials: "申请材料",
  halls: "办理大厅",
  related: "关联事项",
  "guide.scope": "适用范围",
  "guide.legal_basis": "办理依据",
  "guide.accepting_department": "受理部门",
  "guide.deciding_department": "决定部门",
  "guide.handling_unit": "承办单位",
  "guide.business_office": "业务科室",
  "guide.conditions": "申请条件",
  "guide.prohibitions": "禁止性要求",
  "guide.process": "办理基本流程",
  "guide.time_limit": "办结时限",
  "guide.time_limit.legal_days": "法定时限",
  "guide.time_limit.promised_days": "承诺时限",
  "guide.time_limit.note": "时限说明",
  "guide.fees": "收费依据及标准",
  "guide.delivery": "结果送达方式",
  "guide.pickup_methods": "取件方式",
  "guide.appointment_methods": "预约方式",
  "guide.supervision": "监督投诉渠道",
  "guide.supervision.phone": "监督电话",
  "guide.supervision.channels": "监督投诉渠道",
  "guide.common_errors": "常见错误示例",
  "guide.faq": "常见问题解答",
  "guide.supplementary": "补充说明",
  "guide.other": "其他",
  "guide.situations": "情形引导",
};

/** The label of an API field path such as `guide.process[1].name`: the nearest labelled parent, with the row. */
export function fieldLabel(path) {
  const p = path.replace(/^item\.?/, "");
  if (FIELDS[p]) return FIELDS[p];
  const m = p.match(/^(.*?)\[(\d+)\](?:\.(.*))?$/);
  if (m && FIELDS[m[1]]) return `${FIELDS[m[1]]}第${Number(m[2]) + 1}项${m[3] ? `（${SUB[m[3]] ?? m[3]}）` : ""}`;
  const parent = p.split(".").slice(0, -1).join(".");
  return parent ? fieldLabel(parent) : p || "事项";
}

const SUB = {
  name: "名称",
  form: "形式",
  copies: "份数",
  note: "说明",
  sample_url: "示范文本",
  blank_url: "空白表格",
  description: "说明",
  duration: "时限",
  standard: "标准",
  basis: "依据",
  q: "问题",
  a: "回答",
  text: "问题",
};
