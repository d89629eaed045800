//! # bill-payment: 水费: accounts, bills, WeChat Pay and Alipay notifications
//!
//! Planned routes, each answering 501 `not_implemented` until issue 6 lands:
//! - `GET    /v1/me/water-accounts`
//! - `POST   /v1/me/water-accounts`
//! - `GET    /v1/bills`
//! - `GET    /v1/bills/{id}`
//! - `POST   /v1/bills/{id}/pay`
//! - `POST   /v1/payments/wechatpay/notify`
//! - `POST   /v1/payments/alipay/notify`
//! - `POST   /v1/admin/bills:import`
//!
//! Bindings: D1 `DB` (database `bianmin`), KV `CACHE`.
//!
//! Error codes: not_implemented, not_found, method_not_allowed.

/// The routes this worker will serve (method, path pattern).
pub const ROUTES: &[(&str, &str)] = &[
    ("GET", "/v1/me/water-accounts"),
    ("POST", "/v1/me/water-accounts"),
    ("GET", "/v1/bills"),
    ("GET", "/v1/bills/{id}"),
    ("POST", "/v1/bills/{id}/pay"),
    ("POST", "/v1/payments/wechatpay/notify"),
    ("POST", "/v1/payments/alipay/notify"),
    ("POST", "/v1/admin/bills:import"),
];

#[cfg(target_arch = "wasm32")]
shared::planned_worker!(ROUTES);
