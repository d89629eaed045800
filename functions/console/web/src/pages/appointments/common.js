// What the 预约管理 pages share: labels, Beijing dates, and the halls the
// signed-in hall staff serve (from GET /v1/admin/appointments/today, loaded
// once and kept while the console is open, with the hall last chosen).
import { reactive } from "vue";
import { api } from "../../api.js";

export const STATUS = {
  booked: { label: "待签到", type: "primary" },
  checked_in: { label: "已签到", type: "success" },
  no_show: { label: "未到", type: "danger" },
  lapsed: { label: "车位已过期", type: "danger" },
  cancelled: { label: "已取消", type: "info" },
};
export const statusLabel = (s) => STATUS[s]?.label ?? s;
export const KIND = { window: "窗口", parking: "停车场" };
export const WEEKDAYS = ["周一", "周二", "周三", "周四", "周五", "周六", "周日"];

/** Today in Beijing, "2026-12-01". */
export const todayBj = () => new Date().toLocaleDateString("sv-SE", { timeZone: "Asia/Shanghai" });

/** "2026-12-01" plus `n` days. */
export function addDays(day, n) {
  const d = new Date(`${day}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + n);
  return d.toISOString().slice(0, 10);
}

/** "08:30" of an RFC 3339 slot time (already +08:00). */
export const hhmm = (iso) => (iso ?? "").slice(11, 16);

export const halls = reactive({ list: [], loaded: false, loading: false, error: "", current: "" });

/** Loads the staff member's halls once (again with `force`). */
export async function loadHalls(force = false) {
  if ((halls.loaded && !force) || halls.loading) return;
  halls.loading = true;
  halls.error = "";
  try {
    const t = await api("GET", "/v1/admin/appointments/today");
    halls.list = t.halls;
    halls.loaded = true;
    if (!halls.list.some((h) => h.hall_id === halls.current)) halls.current = halls.list[0]?.hall_id ?? "";
  } catch (err) {
    if (err.status !== 401) halls.error = err.message;
  } finally {
    halls.loading = false;
  }
}

export const hallName = (id) => halls.list.find((h) => h.hall_id === id)?.hall_name ?? id;
