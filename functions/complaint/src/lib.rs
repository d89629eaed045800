//! # complaint: 投诉/意见建议/咨询 and Open311 GeoReport v2
//!
//! Planned routes, each answering 501 `not_implemented` until issue 8 lands:
//! - `POST   /v1/complaints`
//! - `GET    /v1/complaints/{number}`
//! - `GET    /v1/admin/complaints`
//! - `GET    /v1/admin/complaints/stats`
//! - `GET    /open311/v2/services.json`
//! - `GET    /open311/v2/requests.json`
//! - `POST   /open311/v2/requests.json`
//!
//! Bindings: D1 `DB` (database `bianmin`), KV `CACHE`.
//!
//! Error codes: not_implemented, not_found, method_not_allowed.

/// The routes this worker will serve (method, path pattern).
pub const ROUTES: &[(&str, &str)] = &[
    ("POST", "/v1/complaints"),
    ("GET", "/v1/complaints/{number}"),
    ("GET", "/v1/admin/complaints"),
    ("GET", "/v1/admin/complaints/stats"),
    ("GET", "/open311/v2/services.json"),
    ("GET", "/open311/v2/requests.json"),
    ("POST", "/open311/v2/requests.json"),
];

#[cfg(target_arch = "wasm32")]
shared::planned_worker!(ROUTES);
