//! Citizen identity: accounts, sessions, SMS-confirmed phones, WeChat
//! login, the inbox (消息提醒) and the personal center (个人中心).
//!
//! Everything here takes its storage, time and random source as arguments.
//! Personal data is kept minimal: phones are stored in clear only on the
//! citizen row (an SMS must reach them); elsewhere they appear as an HMAC
//! under the server's pepper or masked.

pub mod account;
pub mod inbox;
pub mod session;
pub mod sms_code;
pub mod wechat;

use crate::crypto::hmac_sha256_hex;
use crate::types::MobileNumber;

/// The server-side secret that keys every hash of personal data (phones,
/// SMS codes, client IPs), so a leaked table cannot be reversed by
/// enumerating the 10^10 possible mobile numbers.
pub struct Pepper(String);

impl Pepper {
    /// Wraps the secret (wrangler secret `IDENTITY_PEPPER`).
    pub fn new(secret: impl Into<String>) -> Self {
        Self(secret.into())
    }

    fn mac(&self, domain: &str, value: &str) -> String {
        hmac_sha256_hex(self.0.as_bytes(), format!("{domain}:{value}").as_bytes())
    }

    /// HMAC of a phone number.
    pub fn phone_hash(&self, phone: &MobileNumber) -> String {
        self.mac("phone", phone.expose())
    }

    /// HMAC of an SMS code bound to the number it was sent to.
    pub fn code_hash(&self, phone: &MobileNumber, code: &str) -> String {
        self.mac("code", &format!("{}:{code}", phone.expose()))
    }

    /// HMAC of a client IP (rate limits without storing addresses).
    pub fn ip_hash(&self, ip: &str) -> String {
        self.mac("ip", ip)
    }
}

/// An authenticated citizen behind a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Citizen {
    pub id: String,
    pub session_id: String,
}
