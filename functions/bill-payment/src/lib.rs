//! # bill-payment: 水费: accounts, bills, WeChat Pay and Alipay notifications
//!
//! Routes (citizen session required):
//! - `GET|POST /v1/me/water-accounts`, `DELETE /v1/me/water-accounts/{account}`  bind with the holder's phone
//! - `GET    /v1/bills?account=&from=&to=`     unpaid first, 欠费 flagged, history by month range
//! - `GET    /v1/bills/statement?account=&from=&to=`  水费清单
//! - `GET    /v1/bills/{id}`                   one bill (only through a binding)
//!
//! Staff: `POST /v1/admin/bills:import` (billing_operator), all or nothing.
//!
//! Planned, answering 501 `not_implemented` (see [`ROUTES`]): payment orders and the
//! provider notifications (their verification is built: `shared::payment`).
//!
//! Bindings: D1 `DB` (database `bianmin`), KV `CACHE`; secret `IDENTITY_PEPPER`.
//!
//! Error codes: bad_request, invalid_json, validation_failed, payload_too_large,
//! unsupported_media_type, unauthorized, forbidden, login_required, session_expired,
//! session_revoked, not_found, method_not_allowed, rate_limited, not_implemented,
//! storage_unavailable, internal_error.

/// The routes this worker will serve but does not yet (method, path pattern).
pub const ROUTES: &[(&str, &str)] = &[
    ("POST", "/v1/bills/{id}/pay"),
    ("POST", "/v1/payments/wechatpay/notify"),
    ("POST", "/v1/payments/alipay/notify"),
];

#[cfg(target_arch = "wasm32")]
mod edge;
