// Chinese labels for the API's codes.
export const ROLE_LABELS = {
  catalogue_editor: "事项编辑",
  catalogue_reviewer: "事项审核",
  hall_staff: "大厅窗口",
  calendar_admin: "节假日管理",
  outage_publisher: "停水停气发布",
  complaint_dispatcher: "12345派单",
  complaint_handler: "投诉承办",
  application_handler: "网上申报预审",
  billing_operator: "缴费业务",
  auditor: "审计员",
  staff_admin: "系统管理员",
};
export const roleLabel = (r) => ROLE_LABELS[r] ?? r;

export const COMPLAINT_STATUS = { received: "待派单", assigned: "办理中", replied: "已答复", referred: "已转办", closed: "已办结" };

export const REVIEW_REASONS = {
  amount_mismatch: "金额不符",
  merchant_mismatch: "商户号不符",
  unknown_order: "未知订单",
  double_payment: "重复支付",
  provider_mismatch: "支付渠道不符",
};

export const STATE_LABELS = { enrolling: "待开通", active: "正常", disabled: "已停用" };

export const OUTCOME_LABELS = {
  ok: "成功",
  bad_credentials: "密码或动态口令错误",
  locked: "账户锁定中",
  disabled: "账户已停用",
  not_enrolled: "未开通",
  unknown_user: "用户名不存在",
};

/** An RFC 3339 instant in Beijing time, "2026-08-01 09:30:00". */
export function beijing(iso) {
  if (!iso) return "";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return d.toLocaleString("zh-CN", {
    timeZone: "Asia/Shanghai",
    hour12: false,
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
  });
}

/** The password policy, as the server checks it (the server has the last word). */
export function passwordProblem(pw, username = "") {
  if (!pw) return "请输入密码";
  const n = [...pw].length;
  if (n < 12) return "密码至少12位";
  if (n > 128) return "密码不能超过128位";
  const classes = [/[a-z]/, /[A-Z]/, /[0-9]/, /[^a-zA-Z0-9]/].filter((re) => re.test(pw)).length;
  if (classes < 3) return "密码须包含大写字母、小写字母、数字、符号中的至少三类";
  if (username && pw.toLowerCase().includes(username.toLowerCase())) return "密码不能包含用户名";
  return "";
}

export const PASSWORD_POLICY = "至少12位，包含大写字母、小写字母、数字、符号中的至少三类，不能包含用户名";
