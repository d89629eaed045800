//! What every provider scheme shares: why a notification is refused, reading
//! RSA public keys (PEM, certificate or bare base64), and RSA-SHA256
//! verification.

use base64::Engine;
use rsa::RsaPublicKey;
use rsa::pkcs8::DecodePublicKey;
use shared::error::{ApiError, ErrorCode};

/// Why a notification was refused. Each maps to one answer to the provider
/// (who retries on any non-2xx) and one log line; none leaks key material.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PayError {
    /// A header or field the scheme requires is missing or malformed.
    Malformed(&'static str),
    /// The timestamp is more than 5 minutes from now (replay window).
    Stale,
    /// The signature does not verify with the configured key.
    BadSignature,
    /// The encrypted resource does not decrypt (wrong key, nonce, AAD or data).
    Undecryptable,
    /// The configured key cannot be read.
    BadKey,
}

impl PayError {
    /// The API error answered to the provider.
    pub fn to_api(&self) -> ApiError {
        let msg = match self {
            Self::Malformed(what) => format!("通知格式不正确：{what}"),
            Self::Stale => "通知时间戳超出5分钟有效期".to_owned(),
            Self::BadSignature => "通知签名验证失败".to_owned(),
            Self::Undecryptable => "通知内容解密失败".to_owned(),
            Self::BadKey => return ApiError::internal("payment public key unreadable"),
        };
        ApiError::with_message(ErrorCode::BadRequest, msg)
    }
}

/// The base64 body of a PEM block labelled `label`.
pub fn pem_body(pem: &str, label: &str) -> Option<Vec<u8>> {
    let begin = format!("-----BEGIN {label}-----");
    let end = format!("-----END {label}-----");
    let start = pem.find(&begin)? + begin.len();
    let stop = start + pem.get(start..)?.find(&end)?;
    let b64: String = pem.get(start..stop)?.chars().filter(|c| !c.is_whitespace()).collect();
    base64::engine::general_purpose::STANDARD.decode(b64).ok()
}

/// An RSA public key from a PEM `PUBLIC KEY` (SubjectPublicKeyInfo, as the
/// Alipay console and WeChat Pay's 微信支付公钥 give it), a PEM `CERTIFICATE`
/// (WeChat Pay platform certificate), or bare base64 SPKI (Alipay's text form).
pub fn public_key(text: &str) -> Result<RsaPublicKey, PayError> {
    let spki = if let Some(der) = pem_body(text, "PUBLIC KEY") {
        der
    } else if let Some(cert) = pem_body(text, "CERTIFICATE") {
        super::der::certificate_spki(&cert).ok_or(PayError::BadKey)?.to_vec()
    } else {
        let b64: String = text.chars().filter(|c| !c.is_whitespace()).collect();
        base64::engine::general_purpose::STANDARD.decode(b64).map_err(|_| PayError::BadKey)?
    };
    RsaPublicKey::from_public_key_der(&spki).map_err(|_| PayError::BadKey)
}

/// RSA PKCS#1 v1.5 with SHA-256 (WeChat Pay's SHA256-RSA2048, Alipay's RSA2).
pub fn verify_rsa_sha256(key: &RsaPublicKey, message: &[u8], signature_b64: &str) -> Result<(), PayError> {
    use rsa::signature::Verifier;
    let raw = base64::engine::general_purpose::STANDARD
        .decode(signature_b64.trim())
        .map_err(|_| PayError::Malformed("签名不是有效的 base64"))?;
    let sig = rsa::pkcs1v15::Signature::try_from(raw.as_slice()).map_err(|_| PayError::BadSignature)?;
    rsa::pkcs1v15::VerifyingKey::<sha2::Sha256>::new(key.clone())
        .verify(message, &sig)
        .map_err(|_| PayError::BadSignature)
}
