//! WeChat Pay APIv3 notifications (支付结果通知): the signature over
//! `timestamp\nnonce\nbody\n` (RSA-SHA256 with the platform certificate's or
//! the 微信支付公钥's key, chosen by `Wechatpay-Serial`), the 5-minute replay
//! window, and the AEAD_AES_256_GCM `resource` decrypted with the APIv3 key.

use super::keys::{PayError, verify_rsa_sha256};
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

/// The keys a notification or an API answer may be signed with: platform
/// certificates (by their serial) and the 微信支付公钥 (by its `PUB_KEY_ID_…`).
/// Both are accepted at once, since during WeChat Pay's migration callbacks
/// arrive signed by either.
#[derive(Debug, Clone, Default)]
pub struct Keyring {
    keys: Vec<(String, RsaPublicKey)>,
}

impl Keyring {
    /// From configuration: zero or more concatenated PEM certificates, and an
    /// optional public key with its id. At least one key is required.
    pub fn new(certificates_pem: Option<&str>, public_key: Option<(&str, &str)>) -> Result<Self, PayError> {
        let mut keys = Vec::new();
        for block in certificates_pem.unwrap_or_default().split_inclusive("-----END CERTIFICATE-----") {
            let Some(der) = super::keys::pem_body(block, "CERTIFICATE") else { continue };
            let serial = super::der::certificate_serial(&der).ok_or(PayError::BadKey)?;
            let spki = super::der::certificate_spki(&der).ok_or(PayError::BadKey)?;
            let key = <RsaPublicKey as rsa::pkcs8::DecodePublicKey>::from_public_key_der(spki)
                .map_err(|_| PayError::BadKey)?;
            keys.push((serial, key));
        }
        if let Some((id, pem)) = public_key {
            keys.push((id.trim().to_owned(), super::keys::public_key(pem)?));
        }
        if keys.is_empty() { Err(PayError::BadKey) } else { Ok(Self { keys }) }
    }

    /// The key for a `Wechatpay-Serial` (certificate serials compare case-insensitively).
    pub fn key(&self, serial: &str) -> Option<RsaPublicKey> {
        self.keys.iter().find(|(s, _)| s.eq_ignore_ascii_case(serial.trim())).map(|(_, k)| k.clone())
    }

    /// The serials and ids known, for diagnostics.
    pub fn serials(&self) -> Vec<&str> {
        self.keys.iter().map(|(s, _)| s.as_str()).collect()
    }
}

/// The merchant's APIv3 identity.
#[derive(Debug, Clone)]
pub struct Merchant {
    /// 商户号.
    pub mchid: String,
    /// The mini-program's AppID the payments belong to.
    pub appid: String,
    /// The serial of the merchant API certificate (`apiclient_cert.pem`).
    pub serial: String,
    /// The merchant API private key (`apiclient_key.pem`).
    pub key: rsa::RsaPrivateKey,
    /// The 32-byte APIv3 key.
    pub apiv3_key: Vec<u8>,
}

impl Merchant {
    /// The `Authorization` header of an APIv3 request: SHA256withRSA over
    /// `METHOD\nPATH?QUERY\ntimestamp\nnonce\nbody\n`.
    pub fn authorization(
        &self,
        method: &str,
        path: &str,
        ts: i64,
        nonce: &str,
        body: &str,
    ) -> Result<String, PayError> {
        let message = format!("{method}\n{path}\n{ts}\n{nonce}\n{body}\n");
        let signature = super::sign::sign_rsa_sha256(&self.key, message.as_bytes())?;
        Ok(format!(
            "WECHATPAY2-SHA256-RSA2048 mchid=\"{}\",nonce_str=\"{nonce}\",signature=\"{signature}\",timestamp=\"{ts}\",serial_no=\"{}\"",
            self.mchid, self.serial
        ))
    }

    /// What `wx.requestPayment` needs for a prepay id (JSAPI/小程序调起支付):
    /// paySign is SHA256withRSA over `appId\ntimeStamp\nnonceStr\npackage\n`.
    pub fn jsapi_params(&self, prepay_id: &str, ts: i64, nonce: &str) -> Result<JsapiParams, PayError> {
        let package = format!("prepay_id={prepay_id}");
        let message = format!("{}\n{ts}\n{nonce}\n{package}\n", self.appid);
        Ok(JsapiParams {
            app_id: self.appid.clone(),
            time_stamp: ts.to_string(),
            nonce_str: nonce.to_owned(),
            pay_sign: super::sign::sign_rsa_sha256(&self.key, message.as_bytes())?,
            package,
            sign_type: "RSA".into(),
        })
    }
}

/// The parameters of `wx.requestPayment`.
#[derive(Debug, Clone, PartialEq, serde::Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JsapiParams {
    pub app_id: String,
    pub time_stamp: String,
    pub nonce_str: String,
    pub package: String,
    pub sign_type: String,
    pub pay_sign: String,
}

/// A transaction as the decrypted notification resource and the order query
/// give it (the fields we use).
#[derive(Debug, Clone, Deserialize)]
pub struct Transaction {
    pub appid: String,
    pub mchid: String,
    pub out_trade_no: String,
    #[serde(default)]
    pub transaction_id: Option<String>,
    pub trade_state: String,
    #[serde(default)]
    pub success_time: Option<String>,
    #[serde(default)]
    pub amount: Option<TransactionAmount>,
}

/// The amount block of a transaction, in fen.
#[derive(Debug, Clone, Deserialize)]
pub struct TransactionAmount {
    pub total: i64,
    #[serde(default)]
    pub currency: Option<String>,
}
