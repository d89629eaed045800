//! Alipay asynchronous notifications (异步通知): RSA2 (SHA256withRSA) over
//! the sorted `key=value` pairs without `sign` and `sign_type` and without
//! empty values, values raw (not URL-encoded).

use super::{PayError, verify_rsa_sha256};
use rsa::RsaPublicKey;

/// The exact string Alipay signs for a notification's parameters.
pub fn string_to_verify(params: &[(String, String)]) -> String {
    let mut kept: Vec<&(String, String)> =
        params.iter().filter(|(k, v)| k != "sign" && k != "sign_type" && !v.is_empty()).collect();
    kept.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    kept.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("&")
}

/// Verifies a notification's `sign` (RSA2 only: `sign_type` RSA is refused).
pub fn verify(key: &RsaPublicKey, params: &[(String, String)]) -> Result<(), PayError> {
    let get = |name: &str| params.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
    let sign = get("sign").filter(|s| !s.is_empty()).ok_or(PayError::Malformed("缺少 sign"))?;
    if get("sign_type").is_some_and(|t| t != "RSA2") {
        return Err(PayError::Malformed("只接受 RSA2 签名"));
    }
    verify_rsa_sha256(key, string_to_verify(params).as_bytes(), sign)
}
