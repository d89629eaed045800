// 网上申报: the area's labels for the application API's codes, and its dates.

/** Where an application stands (functions/application/src/status.rs), as the department says it. */
export const APPLICATION_STATUS = {
  submitted: "待预审",
  correction: "待补正",
  accepted: "已受理",
  accepted_pending: "容缺受理",
  rejected: "不予受理",
  completed: "已办结",
};
/** Also a draft (the timeline's first entry), which no queue lists. */
export const statusLabel = (s) => APPLICATION_STATUS[s] ?? (s === "draft" ? "草稿" : s);

/** Tag colours of the statuses (Element Plus tag types). */
export const STATUS_TYPE = {
  submitted: "warning",
  correction: "info",
  accepted: "primary",
  accepted_pending: "primary",
  rejected: "danger",
  completed: "success",
};

/** A timeline entry named by what happened. */
export const EVENT_LABELS = {
  draft: "保存草稿",
  submit: "提交申请",
  resubmit: "补正后重新提交",
  supply: "补交容缺材料",
  accept: "受理",
  notify: "一次性告知",
  accept_pending: "容缺受理",
  reject: "不予受理",
  result: "上传电子结果",
  complete: "办结",
  rate: "评价",
  rectified: "整改完成",
};
export const eventLabel = (a) => EVENT_LABELS[a] ?? a;

/** How the result reaches the citizen (003 §5.1: 邮寄, 自取, 电子). */
export const DELIVERY_LABELS = { post: "邮寄", pickup: "窗口自取", electronic: "电子结果" };

/** 好差评 grades. */
export const GRADE_LABELS = { 5: "非常满意", 4: "满意", 3: "基本满意", 2: "不满意", 1: "非常不满意" };

/** Today in Beijing, "2026-08-01". */
export const beijingToday = () => new Date().toLocaleDateString("sv-SE", { timeZone: "Asia/Shanghai" });

/** "2026-08-01" plus `n` days. */
export const addDays = (day, n) => new Date(Date.parse(`${day}T00:00:00Z`) + n * 864e5).toISOString().slice(0, 10);

/** How a deadline stands: overdue (the API's mark, or passed), soon (within two days), fine, or none. */
export function deadlineState(a, today = beijingToday()) {
  if (!a.deadline || ["completed", "rejected"].includes(a.status)) return "none";
  if (a.overdue || a.deadline < today) return "overdue";
  if (a.deadline <= addDays(today, 2)) return "soon";
  return "ok";
}

/** The delivery of a completed application in words. */
export function deliveryText(d) {
  if (!d) return "";
  if (d.method === "post") return `邮寄：${d.carrier}，单号 ${d.tracking}`;
  if (d.method === "pickup") return `窗口自取：${d.hall}`;
  if (d.method === "electronic") return `电子结果：${d.note}`;
  return "";
}

/** A rate (0-1) as a percentage with one decimal, "—" when there is none. */
export const percent = (x) => (x == null ? "—" : `${(Math.round(x * 1000) / 10).toFixed(1)}%`);
