//! # appointment: 网上预约: slots, bookings, check-in, parking
//!
//! Planned routes, each answering 501 `not_implemented` until issue 5 lands:
//! - `POST   /v1/appointments`
//! - `POST   /v1/appointments/holds`
//! - `GET    /v1/appointments/{id}`
//! - `POST   /v1/appointments/{id}/cancel`
//! - `POST   /v1/appointments/{id}/reschedule`
//! - `GET    /v1/me/appointments`
//! - `POST   /v1/admin/appointments/{id}/check-in`
//!
//! Bindings: D1 `DB` (database `bianmin`), KV `CACHE`.
//!
//! Error codes: not_implemented, not_found, method_not_allowed.

pub mod slots;

/// The routes this worker will serve (method, path pattern).
pub const ROUTES: &[(&str, &str)] = &[
    ("POST", "/v1/appointments"),
    ("POST", "/v1/appointments/holds"),
    ("GET", "/v1/appointments/{id}"),
    ("POST", "/v1/appointments/{id}/cancel"),
    ("POST", "/v1/appointments/{id}/reschedule"),
    ("GET", "/v1/me/appointments"),
    ("POST", "/v1/admin/appointments/{id}/check-in"),
];

#[cfg(target_arch = "wasm32")]
shared::planned_worker!(ROUTES);
