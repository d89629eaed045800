//! WeChat Pay APIv3 notifications (支付结果通知): the signature over
//! `timestamp\nnonce\nbody\n` (RSA-SHA256 with the platform certificate's or
//! the 微信支付公钥's key, chosen by `Wechatpay-Serial`), the 5-minute replay
//! window, and the AEAD_AES_256_GCM `resource` decrypted with the APIv3 key.

use super::{PayError, verify_rsa_sha256};
use aes_gcm::aead::{Aead, Payload};
use aes_gcm::{Aes128Gcm, Aes256Gcm, KeyInit, Nonce};
use base64::Engine;
use rsa::RsaPublicKey;
use serde::Deserialize;

/// Largest clock difference accepted, in seconds (WeChat Pay's SDKs use 5 minutes).
pub const MAX_SKEW_SECS: i64 = 300;

/// The signature headers of a notification.
#[derive(Debug, Clone)]
pub struct SignatureHeaders {
    pub timestamp: String,
    pub nonce: String,
    pub signature: String,
    pub serial: String,
}

/// The exact bytes WeChat Pay signs.
pub fn signed_message(timestamp: &str, nonce: &str, body: &str) -> String {
    format!("{timestamp}\n{nonce}\n{body}\n")
}

/// Signatures of WeChat Pay's probe requests start with this; a probe checks
/// that the merchant rejects a bad signature, so it must never verify.
pub const PROBE_PREFIX: &str = "WECHATPAY/SIGNTEST/";

/// Refuses probes, then checks the replay window, then the signature. `key_for` maps the
/// `Wechatpay-Serial` to the configured key (an unknown serial is refused).
pub fn verify(
    h: &SignatureHeaders,
    body: &str,
    now_unix: i64,
    key_for: impl Fn(&str) -> Option<RsaPublicKey>,
) -> Result<(), PayError> {
    if h.signature.trim_start().starts_with(PROBE_PREFIX) {
        return Err(PayError::BadSignature);
    }
    let ts: i64 = h.timestamp.trim().parse().map_err(|_| PayError::Malformed("Wechatpay-Timestamp 不是整数"))?;
    if (now_unix - ts).abs() >= MAX_SKEW_SECS {
        return Err(PayError::Stale);
    }
    let key = key_for(h.serial.trim()).ok_or(PayError::BadSignature)?;
    verify_rsa_sha256(&key, signed_message(&h.timestamp, &h.nonce, body).as_bytes(), &h.signature)
}

/// The encrypted `resource` of a notification.
#[derive(Debug, Clone, Deserialize)]
pub struct Resource {
    pub algorithm: String,
    pub ciphertext: String,
    #[serde(default)]
    pub associated_data: String,
    pub nonce: String,
    #[serde(default)]
    pub original_type: String,
}

/// The notification envelope.
#[derive(Debug, Clone, Deserialize)]
pub struct Notification {
    pub id: String,
    pub create_time: String,
    pub event_type: String,
    #[serde(default)]
    pub resource_type: String,
    #[serde(default)]
    pub summary: String,
    pub resource: Resource,
}

/// AEAD_AES_256_GCM decryption: key = the APIv3 key's bytes (32 in
/// production; a 16-byte key selects AES-128, as the providers' own SDKs do),
/// nonce and AAD as UTF-8, input = base64(ciphertext || 16-byte tag).
pub fn decrypt(apiv3_key: &[u8], r: &Resource) -> Result<String, PayError> {
    if r.algorithm != "AEAD_AES_256_GCM" {
        return Err(PayError::Malformed("不支持的加密算法"));
    }
    let data = base64::engine::general_purpose::STANDARD
        .decode(r.ciphertext.trim())
        .map_err(|_| PayError::Malformed("ciphertext 不是有效的 base64"))?;
    if r.nonce.len() != 12 {
        return Err(PayError::Undecryptable);
    }
    let nonce = Nonce::from_slice(r.nonce.as_bytes());
    let payload = Payload { msg: &data, aad: r.associated_data.as_bytes() };
    let plain = match apiv3_key.len() {
        32 => Aes256Gcm::new_from_slice(apiv3_key).map_err(|_| PayError::BadKey)?.decrypt(nonce, payload),
        16 => Aes128Gcm::new_from_slice(apiv3_key).map_err(|_| PayError::BadKey)?.decrypt(nonce, payload),
        _ => return Err(PayError::BadKey),
    }
    .map_err(|_| PayError::Undecryptable)?;
    String::from_utf8(plain).map_err(|_| PayError::Undecryptable)
}
