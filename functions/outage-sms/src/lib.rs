//! # outage-sms: 停水停气提醒: outages, subscriptions, SMS fan-out
//!
//! Planned routes, each answering 501 `not_implemented` until issue 7 lands:
//! - `GET    /v1/outages`
//! - `GET    /v1/outages/{id}`
//! - `POST   /v1/admin/outages`
//! - `GET    /v1/me/outage-subscriptions`
//! - `POST   /v1/me/outage-subscriptions`
//! - `DELETE /v1/me/outage-subscriptions/{id}`
//!
//! Bindings: D1 `DB` (database `bianmin`), KV `CACHE`.
//!
//! Error codes: not_implemented, not_found, method_not_allowed.

/// The routes this worker will serve (method, path pattern).
pub const ROUTES: &[(&str, &str)] = &[
    ("GET", "/v1/outages"),
    ("GET", "/v1/outages/{id}"),
    ("POST", "/v1/admin/outages"),
    ("GET", "/v1/me/outage-subscriptions"),
    ("POST", "/v1/me/outage-subscriptions"),
    ("DELETE", "/v1/me/outage-subscriptions/{id}"),
];

#[cfg(target_arch = "wasm32")]
shared::planned_worker!(ROUTES);
