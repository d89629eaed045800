// The handling steps a case may take (POST /v1/admin/complaints/{number}/steps),
// each with its form fields, when it is offered and what is asked before it
// is sent. The server decides all the same; these only spare a refused try.

/** The statuses each step may start from (as functions/complaint/src/step.rs). */
const OPEN = ["received", "assigned", "replied", "referred"];

export const STEPS = [
  {
    action: "assign",
    label: "派单",
    title: "派单给承办部门",
    dispatcherOnly: true,
    from: ["received", "assigned", "referred"],
    fields: [{ key: "department", label: "承办部门", kind: "department", max: 50, placeholder: "输入或选择部门名称，如 供水公司客服部" }],
    help: "派单后，该部门的承办人员可以查看并办理此件；诉求人会收到办理进度通知。",
    confirm: (f) => `确定将此件派给“${f.department}”办理？`,
    done: "已派单",
  },
  {
    action: "reply",
    label: "答复",
    title: "答复诉求人",
    from: OPEN,
    fields: [{ key: "text", label: "答复内容", kind: "textarea", max: 2000, placeholder: "写明处理情况和结果" }],
    help: "答复会发送给诉求人，并显示在公开的办理进度中；其中的手机号、身份证号等个人信息会自动隐去。",
    confirm: () => "答复将发送给诉求人并公开显示在办理进度中，确定答复？",
    done: "已答复",
  },
  {
    action: "refer",
    label: "转办",
    title: "转有关单位办理",
    from: OPEN,
    fields: [
      { key: "unit", label: "转办单位", kind: "department", max: 50, placeholder: "如 城管局" },
      { key: "reason", label: "转办理由", kind: "textarea", max: 500, placeholder: "如 不属本部门职责，属城管局职责范围" },
    ],
    help: "非本部门职责范围的诉求，说明理由后转有关单位处理；转办后此件由该单位办理，诉求人会收到通知。",
    confirm: (f) => `确定将此件转“${f.unit}”办理？转办后本部门将不能再查看和办理此件。`,
    done: "已转办",
  },
  {
    action: "extend",
    label: "延期",
    title: "延长答复期限",
    from: OPEN,
    fields: [
      { key: "days", label: "延长工作日", kind: "days" },
      { key: "reason", label: "延期理由", kind: "textarea", max: 500, placeholder: "如 需现场核实，说明原因和预计解决时间" },
    ],
    help: "处理期限内不能解决的，应说明原因并确定解决时间。每件只能延期一次，最多延长15个工作日（节假日不计）。",
    confirm: (f) => `确定将答复期限延长${f.days}个工作日？每件只能延期一次。`,
    done: "已延期",
  },
  {
    action: "close",
    label: "办结",
    title: "办结",
    from: OPEN,
    fields: [{ key: "result", label: "办结结果", kind: "textarea", max: 2000, placeholder: "如 已整改，诉求人认可" }],
    help: "办结后不能再答复、转办或延期；诉求人会收到办结通知并可评价。",
    confirm: () => "办结后此件不能再办理，确定办结？",
    done: "已办结",
    danger: true,
  },
];

/** The steps `isDispatcher` may offer on a case in `status`, with `extended` deadline. */
export function offered(status, extended, isDispatcher) {
  return STEPS.filter(
    (s) => s.from.includes(status) && (!s.dispatcherOnly || isDispatcher) && !(s.action === "extend" && extended),
  );
}

/** The body of a step from its form. */
export function body(step, form) {
  const b = { action: step.action };
  for (const f of step.fields) b[f.key] = f.kind === "days" ? Number(form[f.key]) : String(form[f.key] ?? "").trim();
  return b;
}

/** The field problems of a form, checked as the server would. */
export function problems(step, form) {
  const e = {};
  for (const f of step.fields) {
    if (f.kind === "days") {
      const n = Number(form[f.key]);
      if (!Number.isInteger(n) || n < 1 || n > 15) e[f.key] = "延长1-15个工作日";
      continue;
    }
    const t = String(form[f.key] ?? "").trim();
    if (!t) e[f.key] = `请填写${f.label}`;
    else if ([...t].length > f.max) e[f.key] = `${f.label}不能超过${f.max}字`;
  }
  return e;
}
