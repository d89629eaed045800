//! # outage-sms: 停水停气提醒: outages, subscriptions, SMS fan-out
//!
//! Routes:
//! - `POST   /v1/admin/outages`                outage_publisher: lead times (water 24 h, gas 48 h,
//!   emergencies at once), the rendered message with its length and parts, the planned first
//!   send (quiet hours 22:00-07:00 for planned stops), optional reminder, `preview`;
//!   `Idempotency-Key` honoured. What is due goes out at once (outbox + queue).
//! - `POST   /v1/admin/outages:preview`        the same body: the message exactly as publishing would
//!   send it now, its length and parts, the planned sends, and what would refuse it; stores nothing
//! - `GET    /v1/admin/outages`                outage_publisher, auditor: newest first, paged, with delivery
//! - `GET    /v1/admin/outages/{id}`           outage_publisher, auditor: the full record
//! - `GET    /v1/admin/supply-areas`           outage_publisher, auditor: the hierarchy, for the area picker
//! - `POST   /v1/admin/outages/{id}:amend`     a new version: correction to the notified and the
//!   newly affected (a fresh notice when nobody was told yet)
//! - `POST   /v1/admin/outages/{id}:cancel`    cancellation to the notified
//! - `POST   /v1/admin/outages/{id}:republish` the current version again: only new subscribers
//! - `GET    /v1/admin/outages/{id}/delivery`  counts per version and state, failures by reason, progress
//! - `PUT    /v1/admin/supply-areas`           bulk load of the area hierarchy (≤ 2,000)
//! - `PUT    /v1/admin/supply-accounts`        bulk load of the account-to-area map (≤ 5,000)
//! - `GET    /v1/outages?area=&utility=`       the public notices, current and coming
//! - `GET    /v1/outages/{id}`                 one public notice (also when cancelled)
//! - `GET|POST /v1/me/outage-subscriptions`, `DELETE /v1/me/outage-subscriptions/{id}`
//! - `POST   /v1/sms/receipts?token=`          Aliyun SmsReport push (delivery receipts)
//! - `POST   /v1/sms/uplink?token=`            Aliyun SmsUp push (TD unsubscribes)
//!
//! Queue consumer of `bianmin-outage-sms` (per message: send one chunk, write the
//! next slice of a version's billing holders, or offer one page of its 订阅消息) and
//! of `bianmin-outage-sms-dlq` (mark what kept failing); cron `* * * * *` sweeps
//! (and resumes a slice whose message was lost).
//!
//! Bindings: D1 `DB` (database `bianmin`), KV `CACHE`, queue producer `OUTAGE_QUEUE`. Vars:
//! `SMS_SIGN_NAME`, `SMS_API_BASE`, `SMS_TEMPLATE_OUTAGE_{NOTICE,CORRECTION,CANCELLATION,REMINDER}`,
//! `SMS_RETRY_BASE_SECONDS`, `SMS_RETRY_MAX_SECONDS`, `OUTAGE_QUIET_HOURS`.
//! Secrets: `ALIYUN_ACCESS_KEY_ID`, `ALIYUN_ACCESS_KEY_SECRET`, `IDENTITY_PEPPER`, `SMS_CALLBACK_TOKEN`,
//! `PHONE_KEYS` (opens billing holders' sealed phones inside a send), `WECHAT_APPID`, `WECHAT_SECRET`
//! (订阅消息, with the vars `WECHAT_API_BASE` and `WECHAT_TEMPLATES`).
//!
//! Error codes: bad_request, invalid_json, validation_failed, payload_too_large,
//! unsupported_media_type, unauthorized, forbidden, not_found, method_not_allowed,
//! login_required, session_expired, session_revoked, phone_required, outage_state_invalid,
//! callback_token_invalid, conflict, storage_unavailable, internal_error.

pub mod areas;
pub mod changes;
pub mod delivery_report;
pub mod flags;
pub mod listing;
pub mod notices;
pub mod outbox;
pub mod publish;
pub mod receipts;
pub mod recipients;
pub mod retry;
pub mod rules;
pub mod send;
pub mod states;
pub mod subscriptions;
pub mod wechat_notices;

#[cfg(target_arch = "wasm32")]
mod callbacks;
#[cfg(target_arch = "wasm32")]
mod edge;
#[cfg(target_arch = "wasm32")]
mod fanout;
#[cfg(target_arch = "wasm32")]
mod subs;
