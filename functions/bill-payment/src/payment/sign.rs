//! The merchant's side: reading our RSA private key and signing with
//! SHA256withRSA (PKCS#1 v1.5), as both WeChat Pay APIv3 and Alipay RSA2
//! require of requests and of what the mini-program hands to the payment UI.
//! Signing is deterministic: no random source is needed on wasm32.

use super::keys::{PayError, pem_body};
use base64::Engine;
use rsa::RsaPrivateKey;
use rsa::pkcs1::DecodeRsaPrivateKey;
use rsa::pkcs8::DecodePrivateKey;

/// A private key from PEM `PRIVATE KEY` (PKCS#8, as WeChat Pay's
/// `apiclient_key.pem`), PEM `RSA PRIVATE KEY` (PKCS#1), or bare base64 of
/// either (the form Alipay's key tool prints).
pub fn private_key(text: &str) -> Result<RsaPrivateKey, PayError> {
    if let Some(der) = pem_body(text, "PRIVATE KEY") {
        return RsaPrivateKey::from_pkcs8_der(&der).map_err(|_| PayError::BadKey);
    }
    if let Some(der) = pem_body(text, "RSA PRIVATE KEY") {
        return RsaPrivateKey::from_pkcs1_der(&der).map_err(|_| PayError::BadKey);
    }
    let b64: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    let der = base64::engine::general_purpose::STANDARD.decode(b64).map_err(|_| PayError::BadKey)?;
    RsaPrivateKey::from_pkcs8_der(&der).or_else(|_| RsaPrivateKey::from_pkcs1_der(&der)).map_err(|_| PayError::BadKey)
}

/// Base64 of the SHA256withRSA signature of `message`.
pub fn sign_rsa_sha256(key: &RsaPrivateKey, message: &[u8]) -> Result<String, PayError> {
    use rsa::signature::{SignatureEncoding, Signer};
    let signer = rsa::pkcs1v15::SigningKey::<sha2::Sha256>::new(key.clone());
    let sig = signer.try_sign(message).map_err(|_| PayError::BadKey)?;
    Ok(base64::engine::general_purpose::STANDARD.encode(sig.to_bytes()))
}
