//! The phone vault: account holders' phones from the billing imports, kept
//! encrypted (AES-256-GCM) beside the HMAC used for lookups, so an outage
//! notice can reach a household that never used the mini-program while no
//! table, API or log holds the number in the clear. Decryption happens only
//! inside a send.
//!
//! Keys come from the secret `PHONE_KEYS`: `id:base64(32 bytes)` entries,
//! comma-separated, the first the current one (new phones are sealed under
//! it), the others still opened. To rotate, put a new key first, run
//! `scripts/rekey-phones` until nothing remains under the old ones, then drop
//! them. A sealed phone is `id.base64(nonce || ciphertext || tag)`, bound to
//! its row (the account number is the associated data), so a sealed value
//! copied to another row does not open.

use aes_gcm::aead::{Aead, Payload};
use aes_gcm::{Aes256Gcm, KeyInit, Nonce};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use crate::error::{ApiError, ApiResult};
use crate::runtime::IdSource;
use crate::types::MobileNumber;

/// Bytes of a key (AES-256).
pub const KEY_BYTES: usize = 32;
const NONCE_BYTES: usize = 12;
/// Longest key id: short, printable, without the separators.
const MAX_KID: usize = 16;

/// The keys, current first. Its `Debug` shows only the key ids.
pub struct PhoneVault {
    keys: Vec<(String, Aes256Gcm)>,
}

impl std::fmt::Debug for PhoneVault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PhoneVault").field("kids", &self.keys.iter().map(|(k, _)| k).collect::<Vec<_>>()).finish()
    }
}

fn kid_ok(kid: &str) -> bool {
    !kid.is_empty() && kid.len() <= MAX_KID && kid.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

impl PhoneVault {
    /// Reads `PHONE_KEYS`; says what is wrong without echoing key material.
    pub fn parse(config: &str) -> Result<Self, String> {
        let mut keys: Vec<(String, Aes256Gcm)> = Vec::new();
        for (i, entry) in config.split(',').map(str::trim).filter(|e| !e.is_empty()).enumerate() {
            let (kid, b64) =
                entry.split_once(':').ok_or_else(|| format!("PHONE_KEYS entry {} is not id:base64", i + 1))?;
            if !kid_ok(kid) {
                return Err(format!(
                    "PHONE_KEYS entry {}: the id should be 1-{MAX_KID} letters, digits, - or _",
                    i + 1
                ));
            }
            if keys.iter().any(|(k, _)| k == kid) {
                return Err(format!("PHONE_KEYS: the id {kid} appears twice"));
            }
            let bytes = STANDARD.decode(b64.trim()).map_err(|_| format!("PHONE_KEYS {kid}: not base64"))?;
            if bytes.len() != KEY_BYTES {
                return Err(format!("PHONE_KEYS {kid}: a key is {KEY_BYTES} bytes, this one {}", bytes.len()));
            }
            let cipher = Aes256Gcm::new_from_slice(&bytes).map_err(|_| format!("PHONE_KEYS {kid}: bad key"))?;
            keys.push((kid.to_owned(), cipher));
        }
        if keys.is_empty() {
            return Err("PHONE_KEYS holds no key".into());
        }
        Ok(Self { keys })
    }

    /// The id new phones are sealed under.
    pub fn current_kid(&self) -> &str {
        self.keys.first().map_or("", |(k, _)| k.as_str())
    }

    /// `phone` sealed under the current key for the row `aad` (the account).
    pub fn seal(&self, ids: &impl IdSource, phone: &MobileNumber, aad: &str) -> ApiResult<String> {
        let (kid, cipher) = self.keys.first().ok_or_else(|| ApiError::internal("phone vault: no key"))?;
        let mut nonce = [0u8; NONCE_BYTES];
        ids.fill(&mut nonce)?;
        let ct = cipher
            .encrypt(Nonce::from_slice(&nonce), Payload { msg: phone.expose().as_bytes(), aad: aad.as_bytes() })
            .map_err(|_| ApiError::internal("phone vault: seal failed"))?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&ct);
        Ok(format!("{kid}.{}", STANDARD.encode(out)))
    }

    /// The phone sealed for the row `aad`; fails when the key is gone, the
    /// value was changed or belongs to another row.
    pub fn open(&self, sealed: &str, aad: &str) -> ApiResult<MobileNumber> {
        let (kid, b64) = sealed.split_once('.').ok_or_else(|| ApiError::internal("phone vault: malformed"))?;
        let (_, cipher) = self
            .keys
            .iter()
            .find(|(k, _)| k == kid)
            .ok_or_else(|| ApiError::internal(format!("phone vault: no key {kid}")))?;
        let bytes = STANDARD.decode(b64).map_err(|_| ApiError::internal("phone vault: malformed"))?;
        if bytes.len() <= NONCE_BYTES {
            return Err(ApiError::internal("phone vault: malformed"));
        }
        let (nonce, ct) = bytes.split_at(NONCE_BYTES);
        let plain = cipher
            .decrypt(Nonce::from_slice(nonce), Payload { msg: ct, aad: aad.as_bytes() })
            .map_err(|_| ApiError::internal(format!("phone vault: {kid} does not open this value")))?;
        let text = String::from_utf8(plain).map_err(|_| ApiError::internal("phone vault: not text"))?;
        MobileNumber::parse(&text).map_err(|_| ApiError::internal("phone vault: not a phone"))
    }

    /// `sealed` under the current key (as it is when it already is).
    pub fn reseal(&self, ids: &impl IdSource, sealed: &str, aad: &str) -> ApiResult<String> {
        if kid_of(sealed) == Some(self.current_kid()) {
            return Ok(sealed.to_owned());
        }
        self.seal(ids, &self.open(sealed, aad)?, aad)
    }
}

/// The key id a sealed value names.
pub fn kid_of(sealed: &str) -> Option<&str> {
    sealed.split_once('.').map(|(k, _)| k)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::runtime::OsRandom;

    fn key(b: u8) -> String {
        STANDARD.encode([b; KEY_BYTES])
    }

    #[test]
    fn a_phone_sealed_opens_only_for_its_row_and_never_shows_in_the_sealed_text() {
        let v = PhoneVault::parse(&format!("k1:{}", key(7))).unwrap();
        let phone = MobileNumber::parse("13800138000").unwrap();
        let s = v.seal(&OsRandom, &phone, "88000001").unwrap();
        assert!(s.starts_with("k1.") && !s.contains("13800138000"));
        assert_ne!(s, v.seal(&OsRandom, &phone, "88000001").unwrap(), "a fresh nonce each time");
        assert_eq!(v.open(&s, "88000001").unwrap().expose(), "13800138000");
        assert!(v.open(&s, "88000002").is_err(), "bound to its account");
        let mut tampered = s.clone();
        tampered.pop();
        tampered.push(if s.ends_with('A') { 'B' } else { 'A' });
        assert!(v.open(&tampered, "88000001").is_err());
    }

    #[test]
    fn rotation_seals_under_the_first_key_opens_under_any_and_reseals_old_values() {
        let old = PhoneVault::parse(&format!("k1:{}", key(1))).unwrap();
        let phone = MobileNumber::parse("13900139000").unwrap();
        let s1 = old.seal(&OsRandom, &phone, "a").unwrap();
        let both = PhoneVault::parse(&format!("k2:{}, k1:{}", key(2), key(1))).unwrap();
        assert_eq!(both.current_kid(), "k2");
        assert_eq!(both.open(&s1, "a").unwrap().expose(), "13900139000");
        let s2 = both.reseal(&OsRandom, &s1, "a").unwrap();
        assert_eq!(kid_of(&s2), Some("k2"));
        assert_eq!(both.reseal(&OsRandom, &s2, "a").unwrap(), s2, "already current");
        let new_only = PhoneVault::parse(&format!("k2:{}", key(2))).unwrap();
        assert!(new_only.open(&s1, "a").is_err(), "the old key is gone");
        assert_eq!(new_only.open(&s2, "a").unwrap().expose(), "13900139000");
    }

    #[test]
    fn bad_configuration_is_named_without_the_key() {
        for (cfg, says) in [
            ("", "no key"),
            ("k1", "id:base64"),
            ("k 1:AAAA", "the id"),
            ("k1:!!!", "not base64"),
            ("k1:AAAA", "32 bytes"),
        ] {
            let e = PhoneVault::parse(cfg).unwrap_err();
            assert!(e.contains(says), "{cfg}: {e}");
        }
        let dup = format!("k1:{},k1:{}", key(1), key(2));
        assert!(PhoneVault::parse(&dup).unwrap_err().contains("twice"));
        let v = PhoneVault::parse(&format!("k1:{}", key(9))).unwrap();
        assert_eq!(format!("{v:?}"), "PhoneVault { kids: [\"k1\"] }");
    }
}
