//! # identity: citizen login, sessions, phone binding and the personal center
//!
//! Routes:
//! - `POST   /v1/auth/wechat`            `{code}`: wx.login code -> session (jscode2session)
//! - `POST   /v1/auth/sms-code`          `{phone}`: send a 6-digit code (limits per number and IP)
//! - `POST   /v1/auth/phone`             `{phone, code}`: with a session, bind the phone; without, log in by phone
//! - `POST   /v1/auth/logout`            revoke the current session
//! - `GET    /v1/me`                     personal center (phone masked)
//! - `PATCH  /v1/me`                     `{email?, mailing_address?}`
//! - `DELETE /v1/me`                     delete the account (personal data erased)
//! - `GET    /v1/me/messages?unread=&before=&size=`  inbox
//! - `POST   /v1/me/messages/{id}/read`  mark read
//! - `GET|POST /v1/me/wechat-subscriptions`  订阅消息: report `wx.requestSubscribeMessage` results, list what is left
//!
//! Bindings: D1 `DB`. Vars: `WECHAT_API_BASE`, `WECHAT_TEMPLATES`, `SMS_API_BASE`, `SMS_SIGN_NAME`,
//! `SMS_TEMPLATE_LOGIN`, `SMS_REGION`, `SESSION_TTL_SECS`.
//! Secrets: `WECHAT_APPID`, `WECHAT_SECRET`, `ALIYUN_ACCESS_KEY_ID`,
//! `ALIYUN_ACCESS_KEY_SECRET`, `IDENTITY_PEPPER`.
//!
//! Error codes: bad_request, invalid_json, validation_failed, payload_too_large,
//! unsupported_media_type, login_required, session_expired, session_revoked,
//! forbidden, wechat_code_invalid, wechat_code_used, wechat_rate_limited,
//! wechat_unavailable, sms_code_invalid, sms_code_expired,
//! sms_code_attempts_exceeded, sms_send_limited, sms_unavailable,
//! phone_already_bound, message_not_found, not_found, method_not_allowed,
//! storage_unavailable, internal_error.

pub mod cases;
pub mod login;
pub mod wechat_subscriptions;

#[cfg(target_arch = "wasm32")]
mod edge;
