// Chinese labels for the billing API's codes (缴费与发票).
export { REVIEW_REASONS } from "../../labels.js";

export const PROVIDERS = { wechatpay: "微信支付", alipay: "支付宝" };
export const providerLabel = (p) => PROVIDERS[p] ?? p;

export const reasonHelp = {
  amount_mismatch: "到账金额与订单（或调整后的账单）金额不一致，账单未缴清",
  merchant_mismatch: "通知中的商户号或应用号不是本单位的",
  unknown_order: "支付渠道通知的订单号在本系统中不存在",
  double_payment: "该订单所缴账单已由其他订单缴清",
  provider_mismatch: "到账渠道与下单时选择的渠道不一致",
};

// What the operator did about money held for review; the API keeps it as text (2-200 characters).
export const RESOLUTIONS = [
  { value: "已原路退款", hint: "款项已通过原支付渠道退还缴费人" },
  { value: "已人工核销账单", hint: "核实后已在营业系统中人工核销对应账单" },
  { value: "非本单位款项，已与支付渠道核实", hint: "商户号、应用号或渠道不属于本单位" },
  { value: "其他", hint: "请在处理说明中写明处理情况" },
];

export const INVOICE_STATUS = { accepted: "已受理", issued: "已开票", mailed: "已邮寄", rejected: "未通过" };
export const INVOICE_STATUS_TYPE = { accepted: "warning", issued: "primary", mailed: "success", rejected: "info" };

export const EVENT_OUTCOMES = { applied: "已入账", duplicate: "重复通知", ignored: "未支付", review: "转人工复核", rejected: "已拒绝" };

export const LEDGER_KINDS = { invoice: "发票", receipt: "收费凭证" };

export const CARRIERS = ["邮政EMS", "顺丰速运", "中通快递", "圆通速递", "京东物流"];

/** Fen as "12.34元" (null: 金额未知). */
export const yuan = (fen) => (fen == null ? "金额未知" : `${(fen / 100).toFixed(2)}元`);

/** Today in Beijing, "2026-08-01". */
export const beijingToday = () => new Date().toLocaleDateString("sv-SE", { timeZone: "Asia/Shanghai" });

export const fail = (err) => {
  if (err.status !== 401) ElMessage.error(err.message);
};
