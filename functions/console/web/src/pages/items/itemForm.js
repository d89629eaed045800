// The item as the form edits it and as the API takes it (schemas/json/item-input.json):
// a blank item, an API item with its optional parts filled in, the cleaning
// before a save, and the API's 422 field paths turned into the form's.

/** A blank new item (every required part present, empty). */
export function emptyItem() {
  return {
    code: "",
    basic_code: "",
    name: "",
    category: "",
    tags: [],
    department: "",
    service_object: ["自然人"],
    online: { available: false, url: null },
    appointment: false,
    materials: [emptyMaterial()],
    halls: [],
    related: [],
    guide: {
      scope: "",
      legal_basis: [],
      accepting_department: "",
      deciding_department: "",
      handling_unit: "",
      business_office: "",
      conditions: [],
      prohibitions: [],
      process: [emptyStep()],
      time_limit: { legal_days: 0, promised_days: 0, note: "" },
      fees: { free: true, items: [] },
      delivery: [],
      pickup_methods: [],
      appointment_methods: [],
      supervision: { phone: "12345", channels: [] },
      common_errors: [],
      faq: [emptyFaq()],
      supplementary: "",
      other: "",
      situations: [],
    },
  };
}

export const emptyMaterial = () => ({ name: "", form: "original", copies: 1, required: true, note: "", sample_url: null, blank_url: null });
export const emptyStep = () => ({ name: "", description: "", duration: null });
export const emptyFee = () => ({ name: "", standard: "", basis: "" });
export const emptyFaq = () => ({ q: "", a: "" });

/**
 * An item as the API gives it (a draft, or `GET /v1/admin/items/{code}/published`)
 * with every optional part present, so the form can bind to it.
 */
export function withDefaults(item) {
  const blank = emptyItem();
  const g = item.guide ?? {};
  return {
    ...blank,
    ...item,
    online: { available: !!item.online?.available, url: item.online?.url ?? null },
    materials: (item.materials ?? []).map((m) => ({ ...emptyMaterial(), ...m, note: m.note ?? "" })),
    related: item.related ?? [],
    tags: item.tags ?? [],
    guide: {
      ...blank.guide,
      ...g,
      process: (g.process ?? []).map((x) => ({ ...emptyStep(), ...x })),
      time_limit: { ...blank.guide.time_limit, ...g.time_limit, note: g.time_limit?.note ?? "" },
      fees: { free: !!g.fees?.free, items: g.fees?.items ?? [] },
      supervision: { ...blank.guide.supervision, ...g.supervision },
      situations: (g.situations ?? []).map((q) => ({ ...q, options: q.options.map((o) => ({ next: null, item_code: null, materials: [], ...o })) })),
    },
  };
}

const text = (s) => (typeof s === "string" ? s.trim() : s);
const orNull = (s) => (typeof s === "string" && s.trim() ? s.trim() : null);
const lines = (list) => (list ?? []).map(text).filter(Boolean);

/** The item as sent: trimmed text, empty optional links as null, blank list lines dropped. */
export function cleanItem(f) {
  const g = f.guide;
  return {
    code: text(f.code).toUpperCase(),
    basic_code: text(f.basic_code),
    name: text(f.name),
    category: f.category,
    tags: lines(f.tags),
    department: text(f.department),
    service_object: [...f.service_object],
    online: { available: f.online.available, url: orNull(f.online.url) },
    appointment: f.appointment,
    materials: f.materials.map((m) => ({
      name: text(m.name),
      form: m.form,
      copies: Number(m.copies) || 0,
      required: m.required,
      note: text(m.note ?? ""),
      sample_url: orNull(m.sample_url),
      blank_url: orNull(m.blank_url),
    })),
    halls: [...f.halls],
    related: lines(f.related),
    guide: {
      scope: text(g.scope),
      legal_basis: lines(g.legal_basis),
      accepting_department: text(g.accepting_department),
      deciding_department: text(g.deciding_department),
      handling_unit: text(g.handling_unit),
      business_office: text(g.business_office),
      conditions: lines(g.conditions),
      prohibitions: lines(g.prohibitions),
      process: g.process.map((s) => ({ name: text(s.name), description: text(s.description), duration: orNull(s.duration) })),
      time_limit: { legal_days: Number(g.time_limit.legal_days) || 0, promised_days: Number(g.time_limit.promised_days) || 0, note: text(g.time_limit.note ?? "") },
      fees: { free: g.fees.free, items: g.fees.free ? [] : g.fees.items.map((x) => ({ name: text(x.name), standard: text(x.standard), basis: text(x.basis) })) },
      delivery: lines(g.delivery),
      pickup_methods: lines(g.pickup_methods),
      appointment_methods: lines(g.appointment_methods),
      supervision: { phone: text(g.supervision.phone), channels: lines(g.supervision.channels) },
      common_errors: lines(g.common_errors),
      faq: g.faq.map((x) => ({ q: text(x.q), a: text(x.a) })),
      supplementary: text(g.supplementary ?? ""),
      other: text(g.other ?? ""),
      situations: g.situations.map((q) => ({
        id: text(q.id),
        text: text(q.text),
        options: q.options.map((o) => ({
          label: text(o.label),
          next: orNull(o.next),
          item_code: o.next ? null : orNull(o.item_code),
          materials: o.next ? [] : [...(o.materials ?? [])],
        })),
      })),
    },
  };
}

/** The API's field errors (`item.guide.scope`, `item`) keyed by the form's paths (`guide.scope`, `""`). */
export function formErrors(fields) {
  const out = {};
  for (const [k, v] of Object.entries(fields ?? {})) {
    const p = k.replace(/^item(\.|$)/, "");
    out[p] = out[p] ? `${out[p]}；${v}` : v;
  }
  return out;
}

/** How many errors fall under any of `prefixes` (a tab's badge). */
export function errorsUnder(errors, prefixes) {
  return Object.keys(errors).filter((k) => prefixes.some((p) => k === p || k.startsWith(`${p}.`) || k.startsWith(`${p}[`))).length;
}

/** Textarea text (one entry a line) to a list and back. */
export const toLines = (list) => (list ?? []).join("\n");
export const fromLines = (s) => s.split("\n").map((l) => l.trim()).filter(Boolean);
