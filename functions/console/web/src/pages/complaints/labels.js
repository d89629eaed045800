// 投诉与建议: the area's labels for the complaint API's codes.
export { COMPLAINT_STATUS } from "../../labels.js";

export const KIND_LABELS = { complaint: "投诉", report: "举报", suggestion: "建议", consultation: "咨询" };
export const kindLabel = (k) => KIND_LABELS[k] ?? k;

/** Tag colours of the statuses (Element Plus tag types). */
export const STATUS_TYPE = { received: "warning", assigned: "primary", replied: "success", referred: "info", closed: "info" };

/** 003 (城镇供水“最多跑一次”服务规范): 服务及时率不应低于97%. */
export const ON_TIME_TARGET = 0.97;

/** Today in Beijing, "2026-08-01". */
export const beijingToday = () => new Date().toLocaleDateString("sv-SE", { timeZone: "Asia/Shanghai" });

/** "2026-08-01" plus `n` days. */
export const addDays = (day, n) => new Date(Date.parse(`${day}T00:00:00Z`) + n * 864e5).toISOString().slice(0, 10);

/** How a deadline stands: overdue (passed, not closed), soon (within two days) or fine. */
export function deadlineState(c, today = beijingToday()) {
  if (c.status === "closed") return "done";
  if (c.overdue || c.deadline < today) return "overdue";
  if (c.deadline <= addDays(today, 2)) return "soon";
  return "ok";
}

/** A rate 0-1 as "97.5%". */
export const percent = (x) => (x == null ? "—" : `${(Math.round(x * 1000) / 10).toFixed(1)}%`);
