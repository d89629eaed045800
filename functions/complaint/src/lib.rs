//! # complaint: 投诉/意见建议/咨询/举报 and Open311 GeoReport v2
//!
//! Routes:
//! - `POST   /v1/complaints`                   a logged-in citizen's submission (`Idempotency-Key` honoured)
//! - `GET    /v1/complaints/{number}`          public view (no content, no identity); the author's full record
//! - `POST   /v1/complaints/{number}/rating`   满意度评价 once closed (the author)
//!
//! Staff (complaint_handler; the list also auditor):
//! - `GET    /v1/admin/complaints?status=&overdue=`  open cases first by deadline
//! - `GET    /v1/admin/complaints/{number}`    the case; the complainant masked, or 匿名
//! - `POST   /v1/admin/complaints/{number}/steps`    `{"action": "assign"|"reply"|"refer"|"extend"|"close", ...}`
//! - `GET    /v1/admin/complaints/stats?from=&to=`   on-time rate (target 97 %), volume by kind,
//!   category and department, average handling days, satisfaction
//!
//! Cron: `7 * * * *` marks overdue cases and warns of those due within two days.
//!
//! Planned, answering 501 `not_implemented` (see [`ROUTES`]): Open311; not routed yet: anonymous
//! submission with an SMS-confirmed phone, the FAQ.
//!
//! Bindings: D1 `DB` (database `bianmin`), KV `CACHE`; vars `COMPLAINT_DAYS_<KIND>` (working days).
//!
//! Error codes: bad_request, invalid_json, validation_failed, payload_too_large,
//! unsupported_media_type, login_required, session_expired, session_revoked, not_found,
//! method_not_allowed, conflict, unauthorized, forbidden, not_implemented, storage_unavailable,
//! internal_error.

/// The routes this worker will serve but does not yet (method, path pattern).
pub const ROUTES: &[(&str, &str)] = &[
    ("GET", "/open311/v2/services.json"),
    ("GET", "/open311/v2/requests.json"),
    ("POST", "/open311/v2/requests.json"),
];

#[cfg(target_arch = "wasm32")]
mod edge;
