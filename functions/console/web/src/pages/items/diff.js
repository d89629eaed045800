// The field-by-field difference between the published item and its draft,
// for the reviewer: each field rendered as lines of text, the lines only one
// side has marked. Pure functions, no Vue.
import { FIELDS, FORMS } from "./labels.js";

const yesNo = (b) => (b ? "是" : "否");

/** The fields compared, in the guide's order, each with how it reads as lines. */
const ORDER = [
  ["name", (v) => [v]],
  ["code", (v) => [v]],
  ["basic_code", (v) => [v]],
  ["category", (v) => [v]],
  ["tags", (v) => [...v].sort()],
  ["department", (v) => [v]],
  ["service_object", (v) => [...v].sort()],
  ["online", (v) => [`可网上办理：${yesNo(v?.available)}`, ...(v?.url ? [`链接：${v.url}`] : [])]],
  ["appointment", (v) => [yesNo(v)]],
  ["guide.scope", (v) => [v]],
  ["guide.legal_basis", (v) => v],
  ["guide.accepting_department", (v) => [v]],
  ["guide.deciding_department", (v) => [v]],
  ["guide.handling_unit", (v) => [v]],
  ["guide.business_office", (v) => [v]],
  ["guide.conditions", (v) => v],
  ["guide.prohibitions", (v) => v],
  [
    "materials",
    (v) => v.map((m) => `${m.name}｜${FORMS[m.form] ?? m.form}${m.copies}份｜${m.required ? "必需" : "非必需"}${m.note ? `｜${m.note}` : ""}${m.sample_url ? "｜有示范文本" : ""}${m.blank_url ? "｜有空白表格" : ""}`),
  ],
  ["guide.process", (v) => v.map((s, i) => `${i + 1}. ${s.name}：${s.description}${s.duration ? `（${s.duration}）` : ""}`)],
  ["guide.time_limit", (v) => [`法定 ${v.legal_days} 个工作日`, `承诺 ${v.promised_days} 个工作日`, ...(v.note ? [`说明：${v.note}`] : [])]],
  ["guide.fees", (v) => (v.free ? ["不收费"] : v.items.map((x) => `${x.name}｜${x.standard}｜依据：${x.basis}`))],
  ["guide.delivery", (v) => v],
  ["guide.pickup_methods", (v) => v],
  ["guide.appointment_methods", (v) => v],
  ["guide.supervision", (v) => [`监督电话：${v.phone}`, ...v.channels]],
  ["halls", (v) => [...v].sort()],
  ["related", (v) => [...v].map((c) => c.toUpperCase()).sort()],
  ["guide.common_errors", (v) => v],
  ["guide.faq", (v) => v.flatMap((x) => [`问：${x.q}`, `答：${x.a}`])],
  ["guide.supplementary", (v) => (v ? [v] : [])],
  ["guide.other", (v) => (v ? [v] : [])],
  [
    "guide.situations",
    (v) =>
      v.flatMap((q) => [
        `${q.id}：${q.text}`,
        ...q.options.map((o) => `　${q.id} →「${o.label}」→ ${o.next ? `问题 ${o.next}` : `事项 ${o.item_code}${o.materials?.length ? `：${o.materials.join("、")}` : ""}`}`),
      ]),
  ],
];

const at = (obj, path) => path.split(".").reduce((o, k) => (o == null ? undefined : o[k]), obj);

/** A field's value as lines (missing values read as no lines). */
export function fieldLines(item, path) {
  const row = ORDER.find(([p]) => p === path);
  const v = at(item, path);
  if (!row || v == null) return [];
  return row[1](v).map((l) => String(l ?? ""));
}

/**
 * Every field of `before` (published, or null for a new item) and `after`
 * (the draft): `{ path, label, changed, before: [{ text, mark }], after: [...] }`,
 * `mark` true on a line the other side lacks.
 */
export function diffItems(before, after) {
  return ORDER.map(([path]) => {
    const b = before ? fieldLines(before, path) : [];
    const a = fieldLines(after, path);
    const bs = new Set(b);
    const as = new Set(a);
    const changed = b.length !== a.length || b.some((l, i) => l !== a[i]);
    return {
      path,
      label: FIELDS[path] ?? path,
      changed,
      before: b.map((text) => ({ text, mark: !as.has(text) })),
      after: a.map((text) => ({ text, mark: !bs.has(text) })),
    };
  });
}

/** Just the changed fields. */
export const changedFields = (before, after) => diffItems(before, after).filter((d) => d.changed);
