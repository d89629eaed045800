// 情形引导: the question tree of a guide (guide.situations, schemas/json/item-input.json).
// The first question is the start; each option leads to another question
// (`next`) or ends at an item (`item_code`) with the materials that situation
// needs (none listed: every material of the item). Pure functions, no Vue.

/** A walk at its start: the first question, nothing answered. */
export function startWalk(qs) {
  return { at: qs[0]?.id ?? null, answers: [], end: null, error: qs.length ? null : "尚未设置情形引导问题" };
}

/** The walk after choosing option `i` of the current question. */
export function choose(qs, walk, i, item) {
  const q = qs.find((x) => x.id === walk.at);
  const o = q?.options?.[i];
  if (!q || !o) return { ...walk, error: "该选项不存在" };
  const answers = [...walk.answers, { question: q.text, answer: o.label }];
  if (o.next) {
    if (answers.length > qs.length) return { ...walk, answers, error: "情形引导存在循环，无法继续" };
    if (!qs.some((x) => x.id === o.next)) return { ...walk, answers, error: `下一问题 ${o.next} 不存在` };
    return { at: o.next, answers, end: null, error: null };
  }
  if (!o.item_code) return { ...walk, answers, error: "该选项没有指向下一问题或办理事项" };
  return { at: null, answers, end: outcome(o, item), error: null };
}

/** Where an option ends: this item's materials (those named, or all), or another item. */
export function outcome(o, item) {
  const own = !!item && o.item_code?.toUpperCase() === String(item.code ?? "").toUpperCase();
  if (!own) return { item_code: o.item_code, own: false, materials: [], missing: [] };
  const all = item.materials ?? [];
  const named = o.materials ?? [];
  const materials = named.length ? all.filter((m) => named.includes(m.name)) : all;
  const missing = named.filter((n) => !all.some((m) => m.name === n));
  return { item_code: o.item_code, own: true, materials, missing };
}

/** The current question of a walk. */
export const current = (qs, walk) => qs.find((x) => x.id === walk.at) ?? null;

/** An id not used yet: q1, q2, ... */
export function newId(qs) {
  const used = new Set(qs.map((q) => q.id));
  let n = qs.length + 1;
  while (used.has(`q${n}`)) n += 1;
  return `q${n}`;
}

export const newOption = (label = "") => ({ label, next: null, item_code: null, materials: [] });

/** A new question with two blank options. */
export const newQuestion = (qs) => ({ id: newId(qs), text: "", options: [newOption(), newOption()] });

/** Removes question `id` and clears options that pointed at it. */
export function removeQuestion(qs, id) {
  return qs
    .filter((q) => q.id !== id)
    .map((q) => ({ ...q, options: q.options.map((o) => (o.next === id ? { ...o, next: null } : o)) }));
}

/**
 * What the server will refuse (import.rs check_situations), checked early:
 * duplicate ids, options leading nowhere or to two places, unknown
 * materials of this item, cycles; and questions the start never reaches.
 */
export function problems(qs, item) {
  const out = [];
  const ids = new Set(qs.map((q) => q.id));
  if (ids.size !== qs.length) out.push("情形引导的问题编号重复");
  const own = String(item?.code ?? "").toUpperCase();
  const names = new Set((item?.materials ?? []).map((m) => m.name));
  for (const q of qs) {
    if (!q.text?.trim()) out.push(`问题 ${q.id} 的问题文字不能为空`);
    if (q.options.length < 2 || q.options.length > 10) out.push(`问题 ${q.id} 应有 2 到 10 个选项`);
    for (const o of q.options) {
      const label = o.label?.trim() || "（未填写）";
      if (!o.label?.trim()) out.push(`问题 ${q.id} 有选项文字为空`);
      if (o.next ? !ids.has(o.next) : !o.item_code) out.push(`问题 ${q.id} 的选项「${label}」必须指向一个存在的问题或事项`);
      if (!o.next && o.item_code?.toUpperCase() === own) {
        for (const m of o.materials ?? []) if (!names.has(m)) out.push(`问题 ${q.id} 的选项「${label}」引用了不存在的材料：${m}`);
      }
    }
  }
  if (hasCycle(qs)) out.push("情形引导存在循环，问题之间不能互相指回");
  const seen = reachable(qs);
  for (const q of qs) if (!seen.has(q.id)) out.push(`问题 ${q.id} 从第一个问题出发无法到达`);
  return out;
}

/** Ids reachable from the first question. */
export function reachable(qs) {
  const seen = new Set();
  const stack = qs.length ? [qs[0].id] : [];
  while (stack.length) {
    const id = stack.pop();
    if (seen.has(id)) continue;
    seen.add(id);
    const q = qs.find((x) => x.id === id);
    for (const o of q?.options ?? []) if (o.next) stack.push(o.next);
  }
  return seen;
}

function hasCycle(qs) {
  const next = new Map(qs.map((q) => [q.id, q.options.map((o) => o.next).filter(Boolean)]));
  const on = new Set();
  const done = new Set();
  const visit = (n) => {
    if (done.has(n)) return false;
    if (on.has(n)) return true;
    on.add(n);
    const cyclic = (next.get(n) ?? []).some(visit);
    on.delete(n);
    done.add(n);
    return cyclic;
  };
  return [...next.keys()].some(visit);
}

/**
 * The tree for display: from the first question, each option with its
 * subtree; a question met again (or missing) is a leaf marked as such.
 */
export function toTree(qs, ownCode = "") {
  const byId = new Map(qs.map((q) => [q.id, q]));
  const build = (id, path) => {
    const q = byId.get(id);
    if (!q) return { key: `${path}/${id}`, kind: "missing", label: `问题 ${id}（不存在）` };
    if (path.split("/").includes(id)) return { key: `${path}/${id}`, kind: "loop", label: `问题 ${id}（循环）` };
    const here = `${path}/${id}`;
    return {
      key: here,
      kind: "question",
      id,
      label: `${id}：${q.text || "（未填写问题）"}`,
      children: q.options.map((o, i) => ({
        key: `${here}#${i}`,
        kind: "option",
        label: `「${o.label || "（未填写）"}」`,
        children: o.next
          ? [build(o.next, here)]
          : [{ key: `${here}#${i}/end`, kind: "end", label: o.item_code ? `办理${o.item_code.toUpperCase() === ownCode.toUpperCase() ? "本事项" : `事项 ${o.item_code}`}${o.materials?.length ? `，材料：${o.materials.join("、")}` : "，全部材料"}` : "（未指向问题或事项）" }],
      })),
    };
  };
  return qs.length ? [build(qs[0].id, "")] : [];
}
