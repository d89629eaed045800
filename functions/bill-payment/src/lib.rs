//! # bill-payment: 水费: accounts, bills, WeChat Pay and Alipay notifications
//!
//! Routes (citizen session required):
//! - `GET|POST /v1/me/water-accounts`, `DELETE /v1/me/water-accounts/{account}`  bind with the holder's phone
//! - `GET    /v1/bills?account=&from=&to=`     unpaid first, 欠费 flagged, history by month range
//! - `GET    /v1/bills/statement?account=&from=&to=`  水费清单
//! - `GET    /v1/bills/{id}`                   one bill (only through a binding)
//!
//! - `POST   /v1/bills/{id}/pay {provider, with_bills}`  one order for one or more bills (统一补缴):
//!   WeChat Pay JSAPI parameters (prepay at `WECHATPAY_API_BASE`) or Alipay's signed order string
//! - `GET    /v1/payments/{out_trade_no}`      the owner's order and its state
//!
//! Providers (no session; verified on the raw body, applied exactly once, every call logged):
//! - `POST /v1/payments/wechatpay/notify`      204 empty, or 4xx/5xx `{"code":"FAIL","message":...}`
//! - `POST /v1/payments/alipay/notify`         `success`, or `fail` so Alipay retries
//!
//! - `POST   /v1/invoices/uploads`             营业执照 / 税务事项通知书 (JPEG, PNG, PDF; 5 MB; KV, never public)
//! - `POST   /v1/invoices`, `GET /v1/invoices`, `GET /v1/invoices/{id}`  增值税发票 applications
//!
//! Staff: `GET /v1/admin/invoices`, `GET .../invoices/{id}/documents/{license|tax-notice}`,
//! `POST .../invoices/{id}/steps` (issue, mail, reject), `GET|POST /v1/admin/invoice-ledger`,
//! `POST .../invoice-ledger/{id}/void` (票据管理) (billing_operator; lists also auditor);
//! `POST /v1/admin/bills:import` (billing_operator), all or nothing, holders' phones sealed;
//! `POST /v1/admin/billing/phone-keys:rekey {limit}` (billing_operator): phones re-sealed under the current key;
//! `POST /v1/admin/payments:reconcile` (billing_operator); `GET /v1/admin/payments/reconciliation?date=`
//! and `GET /v1/admin/payments/reviews` (billing_operator, auditor);
//! `POST /v1/admin/payments/reviews/{id}/resolve` (billing_operator, audited).
//!
//! Cron: `*/10 * * * *`: pending orders queried from their provider (lost notifications); bill
//! reminders (出账通知, 即将到期, 已逾期 with an SMS) swept, each once per bill, kind and bound citizen,
//! never in the quiet hours (`BILL_QUIET_HOURS`). 出账通知 and 已逾期 also go by 订阅消息 (templates
//! `bill_issued`, `bill_overdue` of `WECHAT_TEMPLATES`, reference `<bill id>:<kind>`) to citizens who
//! accepted them; the overdue SMS only where the 订阅消息 did not go (`reminder_delivery`).
//!
//! Bindings: D1 `DB` (database `bianmin`), KV `CACHE`, rate limit `NOTIFY_LIMITER` (refused
//! callbacks stored per client IP); vars `PUBLIC_BASE_URL`, `WECHAT_APPID`,
//! `WECHATPAY_API_BASE`, `WECHATPAY_MCHID`, `WECHATPAY_MERCHANT_SERIAL`, `WECHATPAY_PLATFORM_CERTS`,
//! `WECHATPAY_PUBLIC_KEY_ID`, `WECHATPAY_PUBLIC_KEY`, `ALIPAY_GATEWAY`, `ALIPAY_APP_ID`,
//! `ALIPAY_SELLER_ID` (required unless `ENVIRONMENT=development`), `ALIPAY_PUBLIC_KEY`,
//! `BILL_QUIET_HOURS`, `SMS_TEMPLATE_BILL_OVERDUE` (and identity's SMS vars and secrets), `WECHAT_API_BASE`,
//! `WECHAT_TEMPLATES`; secrets `IDENTITY_PEPPER`, `PHONE_KEYS` (seals holders' phones), `WECHATPAY_MERCHANT_KEY`,
//! `WECHATPAY_APIV3_KEY`, `ALIPAY_APP_PRIVATE_KEY`, `WECHAT_SECRET` (订阅消息).
//!
//! Error codes: bad_request, invalid_json, validation_failed, payload_too_large,
//! unsupported_media_type, unauthorized, forbidden, login_required, session_expired,
//! session_revoked, not_found, method_not_allowed, conflict, rate_limited, bill_already_paid,
//! payment_not_found, payment_unavailable, invoice_state_invalid, upload_invalid,
//! storage_unavailable, internal_error.

pub mod account;
pub mod bill_import;
pub mod bills;
pub mod checkout;
pub mod invoices;
pub mod notify;
pub mod orders;
pub mod payment;
pub mod phone_keys;
pub mod reconcile;
pub mod reminder_delivery;
pub mod reminders;
pub mod settlement;
pub mod states;

#[cfg(target_arch = "wasm32")]
mod edge;
#[cfg(target_arch = "wasm32")]
mod invoice;
#[cfg(target_arch = "wasm32")]
mod pay;
#[cfg(target_arch = "wasm32")]
mod providers;
#[cfg(target_arch = "wasm32")]
mod reconcile_routes;
#[cfg(target_arch = "wasm32")]
mod reminder_cron;
