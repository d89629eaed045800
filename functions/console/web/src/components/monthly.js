// Month-by-month statistics for the console's 统计 pages: the API answers one
// date range, so each chosen month is one call (at most MAX_MONTHS) and the
// whole range one more, all at once, with progress (`done` of `monthsOf`).
import { ref } from "vue";
import { api } from "../api.js";

export const MAX_MONTHS = 12;

/** `ym` (YYYY-MM) moved by `n` months. */
export function shiftMonth(ym, n) {
  const [y, m] = ym.split("-").map(Number);
  return new Date(Date.UTC(y, m - 1 + n, 1)).toISOString().slice(0, 7);
}
/** The last day (YYYY-MM-DD) of month `ym`. */
export const lastDay = (ym) => new Date(Date.parse(`${shiftMonth(ym, 1)}-01T00:00:00Z`) - 864e5).toISOString().slice(0, 10);
/** 2026年12月. */
export const monthLabel = (ym) => `${Number(ym.slice(0, 4))}年${Number(ym.slice(5))}月`;
/** The months from a to b (one past MAX_MONTHS at most, so a range too long shows). */
export function monthsOf(r) {
  if (!r?.[0] || !r?.[1]) return [];
  const out = [];
  for (let m = r[0]; m <= r[1] && out.length <= MAX_MONTHS; m = shiftMonth(m, 1)) out.push(m);
  return out;
}

/**
 * The state and loader of a monthly statistics page over `path` (…/stats);
 * `pick` takes what a month's row shows out of one month's answer.
 * Starts with the last six months up to `thisMonth`.
 */
export function useMonthly(path, thisMonth, pick = (r) => r) {
  const range = ref([shiftMonth(thisMonth, -5), thisMonth]);
  const months = ref([]); // [{ month, stats }]
  const total = ref(null); // the whole range's answer
  const loading = ref(false);
  const error = ref("");
  const done = ref(0);

  async function load() {
    error.value = "";
    const list = monthsOf(range.value);
    if (!list.length) {
      error.value = "请选择起止月份";
      return;
    }
    if (list.length > MAX_MONTHS) {
      error.value = `一次最多统计${MAX_MONTHS}个月，请缩小月份范围`;
      return;
    }
    loading.value = true;
    done.value = 0;
    const ask = async (from, to) => {
      const r = await api("GET", `${path}?from=${from}&to=${to}`);
      done.value++;
      return r;
    };
    try {
      const [whole, ...each] = await Promise.all([
        ask(`${list[0]}-01`, lastDay(list.at(-1))),
        ...list.map((m) => ask(`${m}-01`, lastDay(m))),
      ]);
      total.value = whole;
      months.value = list.map((month, i) => ({ month, stats: pick(each[i]) }));
    } catch (err) {
      if (err.status !== 401) error.value = err.message;
    } finally {
      loading.value = false;
    }
  }
  return { range, months, total, loading, error, done, load };
}
