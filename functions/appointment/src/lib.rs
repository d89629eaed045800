//! # appointment: 网上预约: slots, bookings, holds, check-in, parking
//!
//! Routes (citizen session required):
//! - `POST   /v1/appointments`                 book a slot, or confirm a hold (`Idempotency-Key` honoured)
//! - `POST   /v1/appointments/holds`           hold a place while the form is filled (5 minutes)
//! - `GET    /v1/me/appointments`              my bookings
//! - `GET    /v1/appointments/{id}`            one booking (owner only)
//! - `POST   /v1/appointments/{id}/cancel`     until the working day before
//! - `POST   /v1/appointments/{id}/reschedule` atomic: a full new slot keeps the old booking
//! - `GET|POST /v1/me/plates`, `DELETE /v1/me/plates/{plate}`  the citizen's vehicles (停车有道)
//!
//! Staff (admin token; hall_staff act only on the halls their token serves):
//! - `POST /v1/admin/appointments/{id}/check-in`               hall_staff, by the citizen's code
//! - `GET  /v1/admin/appointments?hall=&day=`                  hall_staff: the desk's day view (access-logged)
//! - `POST /v1/admin/appointments/check-in`                    hall_staff: today's booking at a hall, by code
//! - `GET  /v1/admin/appointments/today`                       hall_staff: today's counts per own hall
//! - `GET  /v1/admin/appointments/stats?hall=&from=&to=`       hall_staff or auditor (统计分析)
//! - `GET  /v1/admin/appointments/resources?hall=`, `PUT .../resources/{id}`  windows and parking lots
//! - `GET  /v1/admin/appointments/calendar?from=&to=`, `PUT|DELETE .../calendar/{day}`  法定节假日与调休
//!   (changes: calendar_admin)
//!
//! `GET /v1/halls/{id}/slots` is served by guide-detail (its route owns `/v1/halls*`) with
//! `shared::slots::hall::hall_slots`: slot generation and the remaining count are kernel pieces
//! both workers use; booking, its rules and the staff routes live here.
//!
//! Cron: `*/10 * * * *`: no-shows, parking lapses, day-before reminders (exactly once).
//!
//! The day-before reminder goes by 订阅消息 (template `booking_reminder` of `WECHAT_TEMPLATES`)
//! to a citizen with an acceptance left, else by SMS (`shared::wechat_notify`).
//!
//! Bindings: D1 `DB`, KV `CACHE` (also the shared WeChat access token); vars `SMS_API_BASE`,
//! `SMS_SIGN_NAME`, `SMS_REGION`, `SMS_TEMPLATE_APPOINTMENT`, `SMS_TEMPLATE_REMINDER`,
//! `WECHAT_API_BASE`, `WECHAT_TEMPLATES`, the `APPT_*` and `PARKING_GRACE_MINUTES` policy vars;
//! secrets `ALIYUN_ACCESS_KEY_ID`, `ALIYUN_ACCESS_KEY_SECRET`, `IDENTITY_PEPPER`, `WECHAT_APPID`,
//! `WECHAT_SECRET`.
//!
//! Error codes: bad_request, invalid_json, validation_failed, payload_too_large,
//! unsupported_media_type, unauthorized, forbidden, login_required, session_expired,
//! session_revoked, not_found, method_not_allowed, conflict, slot_full, slot_unavailable,
//! booking_limit, booking_banned, hold_expired, cancel_too_late, appointment_not_found,
//! storage_unavailable, internal_error.

pub mod book;
pub mod code_tries;
pub mod desk;
pub mod jobs;
pub mod policy;
pub mod resources;

#[cfg(target_arch = "wasm32")]
mod edge;
