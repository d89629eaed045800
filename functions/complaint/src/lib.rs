//! # complaint: 投诉/意见建议/咨询/举报 and Open311 GeoReport v2
//!
//! Routes:
//! - `POST   /v1/complaints`                   a logged-in citizen's submission, or without a login with
//!   `phone` + `sms_code` (from `POST /v1/auth/sms-code`); `Idempotency-Key` honoured
//! - `GET    /v1/complaints/{number}[?phone_last4=]`  public view (no content, no identity); the
//!   author's full record with a session or the last four digits of the phone
//! - `POST   /v1/complaints/uploads`           a photo (JPEG/PNG ≤ 5 MB, raw body) for `photos`
//! - `POST   /v1/complaints/{number}/rating`   满意度评价 once closed (the author)
//!
//! Staff: the 12345 centre's complaint_dispatcher sees every case and assigns
//! it to a department; a complaint_handler sees and acts on the cases of the
//! departments its token serves (`scripts/admin-token create --department`);
//! auditors read the list (see `scope.rs`):
//! - `GET    /v1/admin/complaints?status=&overdue=&kind=&department=&q=`  open cases first by deadline
//! - `GET    /v1/admin/complaints/{number}`    the case; the complainant masked, or 匿名
//! - `GET    /v1/admin/complaints/{number}/photos/{id}`  a photo of the case
//! - `POST   /v1/admin/complaints/{number}/steps`    `{"action": "assign"|"reply"|"refer"|"extend"|"close", ...}`
//!   (assign: dispatchers only); each step is in the author's inbox and, when they accepted the
//!   `complaint_progress` template, one 订阅消息 (see `wechat_progress.rs`)
//! - `GET    /v1/admin/complaints/stats?from=&to=`   on-time rate (target 97 %), volume by kind,
//!   category and department, average handling days, satisfaction
//!
//! - `POST   /v1/admin/complaints/{number}/faq`  an answered consultation as a public FAQ entry
//! - `GET    /v1/faq?q=&category=`             常见问题, searched by words
//!
//! Cron: `7 * * * *` marks overdue cases and warns of those due within two days.
//!
//! Open311 GeoReport v2 (`/open311/v2/`): `discovery.json`, `services.json`,
//! `services/{code}.json`, `requests.json` (GET with the standard filters; POST form with `api_key`),
//! `requests/{id}.json`; errors as `[{"code", "description"}]`. No personal data in any GET.
//!
//! Bindings: D1 `DB` (database `bianmin`), KV `CACHE`; vars `COMPLAINT_DAYS_<KIND>` (working days),
//! `PUBLIC_BASE_URL`, `WECHAT_API_BASE`, `WECHAT_TEMPLATES` (订阅消息 of each step).
//! Secrets: `IDENTITY_PEPPER`, `OPEN311_API_KEYS` (`client:key,client:key`), `WECHAT_APPID`,
//! `WECHAT_SECRET`.
//!
//! Error codes: bad_request, invalid_json, validation_failed, payload_too_large,
//! unsupported_media_type, login_required, session_expired, session_revoked, not_found,
//! method_not_allowed, conflict, unauthorized, forbidden, rate_limited, sms_code_invalid,
//! sms_code_expired, sms_code_attempts_exceeded, upload_invalid, storage_unavailable, internal_error.

pub mod faq;
pub mod handling;
pub mod kind;
pub mod number;
pub mod open311;
pub mod open311_services;
pub mod queue;
pub mod record;
pub mod scope;
pub mod status;
pub mod step;
pub mod submission;
pub mod wechat_progress;

#[cfg(target_arch = "wasm32")]
mod config;
#[cfg(target_arch = "wasm32")]
mod edge;
#[cfg(target_arch = "wasm32")]
mod open311_routes;
