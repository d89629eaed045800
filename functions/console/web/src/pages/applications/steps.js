// The 预审 and 办结 steps an application may take (POST
// /v1/admin/applications/{number}/steps, each with the `version` read), when
// each is offered, its body and its checks, as functions/application/src/decide.rs
// decides them. The server decides all the same; these only spare a refused try.

/** Longest note, reason or carrier (decide.rs MAX_NOTE_CHARS). */
export const MAX_NOTE = 500;
/** Most items one notice lists (decide.rs MAX_CORRECTIONS). */
export const MAX_ITEMS = 30;
/** Longest form field name a notice may name. */
export const MAX_FIELD = 50;

export const STEPS = {
  accept: {
    label: "受理",
    title: "受理",
    help: "材料齐全、符合法定形式的，予以受理。受理后按承诺时限（工作日，节假日不计）计算办结期限，申请人会收到受理通知。",
    confirm: () => "确定受理此申请？受理后开始计算承诺办结时限。",
    done: "已受理",
  },
  notify: {
    label: "一次性告知",
    title: "一次性告知补正",
    help: "一次性告知申请人需要补正的全部材料和填报信息，每项写明要求。每件申请只能告知一次，告知后申请人只能修改所列各项。",
    confirm: (b) => `将一次性告知申请人补正以下${b.items.length}项，告知后不能再次告知。确定发送？`,
    done: "已一次性告知申请人",
  },
  accept_pending: {
    label: "容缺受理",
    title: "容缺受理",
    help: "主要材料齐全、次要材料暂缺的，可先受理，申请人在期限内补交所选材料。",
    confirm: (b) => `确定容缺受理？申请人须于${b.due}前补交：${b.materials.join("、")}。`,
    done: "已容缺受理",
  },
  reject: {
    label: "不予受理",
    title: "不予受理",
    help: "不符合受理条件的，写明不予受理的理由，理由会告知申请人。",
    confirm: () => "不予受理后此申请即告终结，确定不予受理？",
    done: "已不予受理",
    danger: true,
  },
  complete: {
    label: "办结",
    title: "办结",
    help: "办结后申请人会收到办结通知，并可对本次办理进行评价。请选择办理结果的送达方式。",
    confirm: () => "办结后此申请不能再办理，确定办结？",
    done: "已办结",
  },
};

/** The steps offered on an application in `status`; `notified`: a one-time notice was already given. */
export function offered(status, notified) {
  if (status === "submitted") return ["accept", ...(notified ? [] : ["notify"]), "accept_pending", "reject"];
  if (status === "accepted") return ["complete"];
  return [];
}

/** Whether a one-time notice was given (the timeline has it). */
export const wasNotified = (app) => (app?.timeline ?? []).some((e) => e.action === "notify");

/** A new, empty form for every step. */
export function emptyForm() {
  return {
    items: [], // [{ kind: "material"|"field", name, note }]
    materials: [],
    due: "",
    reason: "",
    method: "post",
    carrier: "",
    tracking: "",
    hall: "",
    note: "",
  };
}

const trim = (s) => String(s ?? "").trim();
const chars = (s) => [...s].length;

/** The body of `action` from its form, with the `version` read. */
export function body(action, form, version) {
  switch (action) {
    case "notify":
      return {
        action,
        version,
        items: form.items.map((i) => ({ [i.kind]: i.name, note: trim(i.note) })),
      };
    case "accept_pending":
      return { action, version, materials: [...form.materials], due: form.due };
    case "reject":
      return { action, version, reason: trim(form.reason) };
    case "complete": {
      const delivery =
        form.method === "post"
          ? { method: "post", carrier: trim(form.carrier), tracking: trim(form.tracking) }
          : form.method === "pickup"
            ? { method: "pickup", hall: trim(form.hall) }
            : { method: "electronic", note: trim(form.note) };
      return { action, version, delivery };
    }
    default:
      return { action, version };
  }
}

/** The field problems of a step's form (keys as the form's inputs), checked as the server would. */
export function problems(action, form, today) {
  const e = {};
  const text = (key, value, what) => {
    const t = trim(value);
    if (!t) e[key] = `请填写${what}`;
    else if (chars(t) > MAX_NOTE) e[key] = `${what}不能超过${MAX_NOTE}字`;
  };
  if (action === "notify") {
    if (!form.items.length) e.items = "请选择需要补正的材料或填报项";
    else if (form.items.length > MAX_ITEMS) e.items = `一次最多告知${MAX_ITEMS}项`;
    form.items.forEach((i, n) => text(`item-${n}`, i.note, `“${i.name}”的补正要求`));
  }
  if (action === "accept_pending") {
    if (!form.materials.length) e.materials = "请选择容缺的材料";
    if (!form.due) e.due = "请选择补交期限";
    else if (form.due <= today) e.due = "补交期限应晚于今天";
  }
  if (action === "reject") text("reason", form.reason, "不予受理的理由");
  if (action === "complete") {
    if (form.method === "post") {
      text("carrier", form.carrier, "快递公司");
      if (!/^[A-Za-z0-9]{6,30}$/.test(trim(form.tracking))) e.tracking = "快递单号应为6到30位字母或数字";
    } else if (form.method === "pickup") text("hall", form.hall, "领取大厅");
    else text("note", form.note, "电子结果说明");
  }
  return e;
}

/** The API's field names (items[0].note, delivery.tracking …) as the form's keys. */
export function formKey(field) {
  const m = /^items\[(\d+)\]/.exec(field);
  if (m) return `item-${m[1]}`;
  if (field.startsWith("delivery.")) return field.slice("delivery.".length);
  return field;
}
