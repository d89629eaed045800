//! # outage-sms: 停水停气提醒: outages, subscriptions, SMS fan-out
//!
//! Routes:
//! - `POST   /v1/admin/outages`                outage_publisher: lead times (water 24 h, gas 48 h,
//!   emergencies at once), the rendered message with its length and parts, the planned first
//!   send (quiet hours 22:00-07:00 for planned stops), `preview`; `Idempotency-Key` honoured
//! - `GET    /v1/outages?area=&utility=`       the public notices, current and coming
//! - `GET    /v1/outages/{id}`                 one public notice
//!
//! Planned, answering 501 `not_implemented` (see [`ROUTES`]): subscriptions; the queue fan-out,
//! amendments, cancellations and delivery reports are not routed yet.
//!
//! Bindings: D1 `DB` (database `bianmin`), KV `CACHE`; var `SMS_SIGN_NAME`.
//!
//! Error codes: bad_request, invalid_json, validation_failed, payload_too_large,
//! unsupported_media_type, unauthorized, forbidden, not_found, method_not_allowed,
//! not_implemented, storage_unavailable, internal_error.

/// The routes this worker will serve but does not yet (method, path pattern).
pub const ROUTES: &[(&str, &str)] = &[
    ("GET", "/v1/me/outage-subscriptions"),
    ("POST", "/v1/me/outage-subscriptions"),
    ("DELETE", "/v1/me/outage-subscriptions/{id}"),
];

#[cfg(target_arch = "wasm32")]
mod edge;
