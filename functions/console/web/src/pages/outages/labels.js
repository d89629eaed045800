// 停水停气: Chinese labels for the outage-sms API's codes, and the Beijing
// wall-clock times the forms use ("2026-08-01T09:30:00", sent with +08:00).
export const UTILITY = { water: "停水", gas: "停气" };
/** 停水, 停气 or 降压供水 (a water notice with `effect: "reduced_pressure"`). */
export const serviceLabel = (o) => (o?.effect === "reduced_pressure" ? "降压供水" : UTILITY[o?.utility] ?? "");
export const KIND = { planned: "计划", emergency: "紧急" };
export const STATUS = { published: "已发布", cancelled: "已取消" };
export const STATUS_TYPE = { published: "success", cancelled: "info" };
export const LEVEL = { district: "区（县、市）", street: "街道（镇）", community: "社区（小区）", building: "楼栋" };
export const VERSION_KIND = { notice: "停供通知", correction: "更正通知", cancellation: "取消通知", reminder: "开始前提醒" };
export const VERSION_STATE = { planned: "待发送", fanned_out: "已发出", superseded: "已作废" };
// The outbox states, in the order a message passes through them.
export const COUNTS = [
  { key: "queued", label: "排队中" },
  { key: "sending", label: "发送中" },
  { key: "deferred", label: "延后重试" },
  { key: "sent", label: "已提交运营商" },
  { key: "delivered", label: "已送达" },
  { key: "failed", label: "发送失败" },
  { key: "superseded", label: "已作废" },
];
export const FAILURES = {
  dead_letter: "多次重试仍失败",
  MOBILE_IN_BLACK: "号码在黑名单中",
  MOBILE_NUMBER_ILLEGAL: "号码无效",
  unsubscribed: "用户已退订",
  flagged: "号码异常，暂停发送",
  no_phone: "未绑定手机号",
};
export const failureLabel = (code) => FAILURES[code] ?? code;

/** "2026-08-01T09:30:00" in Beijing time, `minutes` from now, rounded up to 5 minutes. */
export function beijingLocal(minutes = 0) {
  const ms = Math.ceil((Date.now() + minutes * 60e3) / 300e3) * 300e3;
  return new Date(ms + 8 * 3600e3).toISOString().slice(0, 19);
}

/** An RFC 3339 instant as a Beijing wall-clock string for the date pickers. */
export function toLocal(iso) {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? "" : new Date(d.getTime() + 8 * 3600e3).toISOString().slice(0, 19);
}

/** A Beijing wall-clock string as the API takes it. */
export const toApi = (local) => (local ? `${local}+08:00` : "");

/** "2026-08-01 09:30" from an RFC 3339 instant, in Beijing time. */
export function short(iso) {
  const l = iso ? toLocal(iso) : "";
  return l ? `${l.slice(0, 10)} ${l.slice(11, 16)}` : "";
}

/** A progress fraction (0-1) as a whole percentage. */
export const percent = (p) => Math.round((p ?? 0) * 100);
