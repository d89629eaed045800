//! Citizen identity: accounts, sessions, SMS-confirmed phones, WeChat
//! login, the inbox (消息提醒) and the personal center (个人中心).
//!
//! Everything here takes its storage, time and random source as arguments.
//! Personal data is kept minimal: phones are stored in clear only on the
//! citizen row (an SMS must reach them); elsewhere they appear as an HMAC
//! under the server's pepper or masked.

pub mod account;
pub mod erasure;
pub mod inbox;
pub mod session;
pub mod sms_code;
pub mod wechat;

// The pepper lives with the crypto helpers (the SMS client needs it too);
// re-exported here, where most callers look for it.
pub use crate::crypto::Pepper;

/// An authenticated citizen behind a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Citizen {
    pub id: String,
    pub session_id: String,
}
