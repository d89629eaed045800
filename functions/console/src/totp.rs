//! The staff second factor: RFC 6238 TOTP (HMAC-SHA1, 30-second steps,
//! 6 digits), the `otpauth://` enrolment URI and its QR code.
//!
//! These are the parameters every authenticator app reads without asking
//! (Google Authenticator, 腾讯身份验证器, Microsoft Authenticator), so they
//! are fixed, not configurable. A verified code returns its time step; the
//! caller stores it so the same code (or an older one) cannot be replayed.

use hmac::{Hmac, Mac};
use qrcode::render::svg;
use qrcode::{EcLevel, QrCode};
use sha1::Sha1;
use shared::error::ApiResult;
use shared::runtime::IdSource;

/// Secret length in bytes: RFC 4226 recommends 160 bits, HMAC-SHA1's block.
pub const SECRET_BYTES: usize = 20;
/// Seconds per time step (RFC 6238's default, the only one apps agree on).
pub const STEP_SECS: u64 = 30;
/// Digits in a code.
pub const DIGITS: usize = 6;
/// Steps accepted either side of now: one step of clock drift on the phone.
const DRIFT_STEPS: u64 = 1;
/// Smallest side of the QR code in SVG units, so it is legible unscaled.
const QR_MIN_SIDE: u32 = 240;

/// A shared TOTP secret. Its `Debug` never shows the bytes; the Base32 text
/// leaves only through [`Secret::to_base32`], for storage and enrolment.
#[derive(Clone)]
pub struct Secret([u8; SECRET_BYTES]);

impl Secret {
    /// A fresh random secret.
    pub fn generate(ids: &impl IdSource) -> ApiResult<Self> {
        let mut bytes = [0u8; SECRET_BYTES];
        ids.fill(&mut bytes)?;
        Ok(Self(bytes))
    }

    /// Reads a stored secret: Base32 (either case, padding optional) of
    /// exactly 20 bytes.
    pub fn from_base32(text: &str) -> Option<Self> {
        base32_decode(text)?.try_into().ok().map(Self)
    }

    /// Base32, uppercase, unpadded: what authenticator apps accept typed in.
    pub fn to_base32(&self) -> String {
        base32_encode(&self.0)
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(..)")
    }
}

/// RFC 4648 Base32 alphabet.
const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/// RFC 4648 Base32, uppercase, without padding.
fn base32_encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(5) * 8);
    let (mut buffer, mut bits) = (0u32, 0u32);
    for &byte in bytes {
        buffer = (buffer << 8) | u32::from(byte);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(symbol(buffer >> bits));
        }
    }
    if bits > 0 {
        out.push(symbol(buffer << (5 - bits)));
    }
    out
}

fn symbol(index: u32) -> char {
    ALPHABET.get((index & 31) as usize).map_or('A', |&b| char::from(b))
}

/// RFC 4648 Base32 in either case, trailing `=` optional. Refuses other
/// characters, impossible lengths and non-zero leftover bits, so each
/// secret has one spelling.
fn base32_decode(text: &str) -> Option<Vec<u8>> {
    let text = text.trim_end_matches('=');
    if !matches!(text.len() % 8, 0 | 2 | 4 | 5 | 7) {
        return None;
    }
    let mut out = Vec::with_capacity(text.len() * 5 / 8);
    let (mut buffer, mut bits) = (0u32, 0u32);
    for c in text.bytes() {
        let value = ALPHABET.iter().position(|&a| a == c.to_ascii_uppercase())?;
        buffer = (buffer << 5) | u32::try_from(value).ok()?;
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push(u8::try_from((buffer >> bits) & 0xff).ok()?);
        }
        buffer &= (1 << bits) - 1;
    }
    (buffer == 0).then_some(out)
}

/// RFC 4226 HOTP with dynamic truncation, as `DIGITS` decimal digits.
fn hotp(secret: &Secret, counter: u64) -> String {
    let Ok(mut mac) = Hmac::<Sha1>::new_from_slice(&secret.0) else {
        // Unreachable: HMAC accepts every key length.
        return String::new();
    };
    mac.update(&counter.to_be_bytes());
    let digest = mac.finalize().into_bytes();
    let offset = usize::from(digest.last().map_or(0, |b| b & 0x0f));
    let word: Option<[u8; 4]> = digest.get(offset..offset + 4).and_then(|w| w.try_into().ok());
    let binary = word.map_or(0, u32::from_be_bytes) & 0x7fff_ffff;
    format!("{:06}", binary % 1_000_000)
}

/// The code an authenticator shows at `unix_secs`.
pub fn code_at(secret: &Secret, unix_secs: u64) -> String {
    hotp(secret, unix_secs / STEP_SECS)
}

/// Checks a typed code against the current step and one step either side.
/// Returns the matched step, to be stored as the new `last_used_step`;
/// steps at or before `last_used_step` are refused (a replayed or older
/// code), as is anything but exactly six ASCII digits. Each candidate is
/// compared in constant time and all are compared.
pub fn verify(secret: &Secret, code: &str, unix_secs: u64, last_used_step: Option<u64>) -> Option<u64> {
    if code.len() != DIGITS || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let now = unix_secs / STEP_SECS;
    let earliest = now.saturating_sub(DRIFT_STEPS);
    let mut matched = None;
    for step in earliest..=now.saturating_add(DRIFT_STEPS) {
        let fresh = last_used_step.is_none_or(|last| step > last);
        let equal = constant_time_eq(hotp(secret, step).as_bytes(), code.as_bytes());
        if fresh && equal && matched.is_none() {
            matched = Some(step);
        }
    }
    matched
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The enrolment URI in Google Authenticator's Key Uri Format, labelled
/// `issuer:account` with both parts UTF-8 percent-encoded.
pub fn otpauth_uri(secret: &Secret, issuer: &str, account: &str) -> String {
    let issuer = percent_encode(issuer);
    format!(
        "otpauth://totp/{issuer}:{account}?secret={secret}&issuer={issuer}&algorithm=SHA1&digits={DIGITS}&period={STEP_SECS}",
        account = percent_encode(account),
        secret = secret.to_base32(),
    )
}

/// RFC 3986 percent-encoding of everything but the unreserved characters.
fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len() * 3);
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The URI as a black-on-white SVG QR code (error correction M, 4-module
/// quiet zone). The `viewBox` spans the whole code, so a page scales it
/// with CSS. A URI too long for any QR version (thousands of bytes; never
/// one of ours) yields an SVG that says so, and the page's typed-in secret
/// still works.
pub fn qr_svg(uri: &str) -> String {
    match QrCode::with_error_correction_level(uri.as_bytes(), EcLevel::M) {
        Ok(code) => code
            .render::<svg::Color<'_>>()
            .quiet_zone(true)
            .min_dimensions(QR_MIN_SIDE, QR_MIN_SIDE)
            .dark_color(svg::Color("#000000"))
            .light_color(svg::Color("#ffffff"))
            .build(),
        Err(_) => format!(
            concat!(
                r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {s} {s}">"#,
                r##"<rect width="{s}" height="{s}" fill="#ffffff"/>"##,
                r#"<text x="50%" y="50%" text-anchor="middle" font-size="14">无法生成二维码，请手动输入密钥</text></svg>"#
            ),
            s = QR_MIN_SIDE
        ),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;
    use shared::runtime::SeqIds;

    /// RFC 6238 Appendix B's SHA1 key: the ASCII digits "1234567890" twice.
    fn rfc_secret() -> Secret {
        Secret(*b"12345678901234567890")
    }

    #[test]
    fn codes_match_the_rfc_6238_sha1_vectors() {
        // Appendix B gives 8 digits; a 6-digit code is the same number mod 10^6.
        let vectors = [
            (59, "94287082"),
            (1_111_111_109, "07081804"),
            (1_111_111_111, "14050471"),
            (1_234_567_890, "89005924"),
            (2_000_000_000, "69279037"),
            (20_000_000_000, "65353130"),
        ];
        for (t, eight) in vectors {
            assert_eq!(code_at(&rfc_secret(), t), eight[2..], "T = {t}");
        }
    }

    #[test]
    fn base32_matches_the_rfc_4648_vectors() {
        let vectors = [
            ("", ""),
            ("f", "MY"),
            ("fo", "MZXQ"),
            ("foo", "MZXW6"),
            ("foob", "MZXW6YQ"),
            ("fooba", "MZXW6YTB"),
            ("foobar", "MZXW6YTBOI"),
        ];
        for (plain, encoded) in vectors {
            assert_eq!(base32_encode(plain.as_bytes()), encoded);
            assert_eq!(base32_decode(encoded).unwrap(), plain.as_bytes());
            let padded = format!("{encoded}{}", "=".repeat((8 - encoded.len() % 8) % 8));
            assert_eq!(base32_decode(&padded).unwrap(), plain.as_bytes(), "{padded}");
        }
    }

    #[test]
    fn base32_round_trips_every_length_and_refuses_bad_text() {
        let bytes: Vec<u8> = (0..=255).collect();
        for n in 0..40 {
            assert_eq!(base32_decode(&base32_encode(&bytes[..n])).unwrap(), &bytes[..n]);
        }
        assert_eq!(base32_decode("mzxw6ytboi").unwrap(), b"foobar");
        // Impossible lengths, characters outside the alphabet, leftover bits set ("MZ").
        for bad in ["M", "MZX", "MZXW6Y", "MZ1W", "MZ W", "MZ", "中文"] {
            assert_eq!(base32_decode(bad), None, "{bad}");
        }
    }

    #[test]
    fn a_secret_is_twenty_random_bytes_in_base32_and_never_debug_printed() {
        let secret = Secret::generate(&SeqIds::default()).unwrap();
        assert_eq!(secret.to_base32(), "AEBAGBAFAYDQQCIKBMGA2DQPCAIREEYU");
        assert_eq!(Secret::from_base32(&secret.to_base32()).unwrap().0, secret.0);
        assert_eq!(rfc_secret().to_base32(), "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
        assert_eq!(format!("{secret:?}"), "Secret(..)");
        assert!(Secret::from_base32("MZXW6YTBOI").is_none(), "6 bytes is not a secret");
    }

    #[test]
    fn the_current_step_and_one_either_side_are_accepted() {
        let s = rfc_secret();
        let t = 1_111_111_111;
        let step = t / STEP_SECS;
        assert_eq!(verify(&s, &code_at(&s, t), t, None), Some(step));
        assert_eq!(verify(&s, &code_at(&s, t - 30), t, None), Some(step - 1));
        assert_eq!(verify(&s, &code_at(&s, t + 30), t, None), Some(step + 1));
        assert_eq!(verify(&s, &code_at(&s, t - 60), t, None), None);
        assert_eq!(verify(&s, &code_at(&s, t + 60), t, None), None);
    }

    #[test]
    fn a_used_step_or_an_older_one_is_refused() {
        let s = rfc_secret();
        let t = 1_111_111_111;
        let step = verify(&s, &code_at(&s, t), t, None).unwrap();
        assert_eq!(verify(&s, &code_at(&s, t), t, Some(step)), None, "replay");
        assert_eq!(verify(&s, &code_at(&s, t - 30), t, Some(step)), None, "older");
        assert_eq!(verify(&s, &code_at(&s, t + 30), t + 30, Some(step)), Some(step + 1));
    }

    #[test]
    fn only_exactly_six_ascii_digits_are_considered() {
        let s = rfc_secret();
        let t = 59;
        let code = code_at(&s, t);
        assert_eq!(code, "287082");
        for bad in ["", "28708", "2870821", " 287082", "287082 ", "28708２", "+87082", "２８７０８２", "94287082"]
        {
            assert_eq!(verify(&s, bad, t, None), None, "{bad:?}");
        }
    }

    #[test]
    fn the_first_steps_of_the_epoch_do_not_underflow() {
        let s = rfc_secret();
        assert_eq!(verify(&s, &code_at(&s, 0), 0, None), Some(0));
        assert_eq!(verify(&s, &code_at(&s, 30), 0, None), Some(1));
    }

    #[test]
    fn the_otpauth_uri_percent_encodes_a_chinese_issuer() {
        let secret = Secret::generate(&SeqIds::default()).unwrap();
        assert_eq!(
            otpauth_uri(&secret, "义乌便民", "zhang san@yw"),
            "otpauth://totp/%E4%B9%89%E4%B9%8C%E4%BE%BF%E6%B0%91:zhang%20san%40yw\
             ?secret=AEBAGBAFAYDQQCIKBMGA2DQPCAIREEYU&issuer=%E4%B9%89%E4%B9%8C%E4%BE%BF%E6%B0%91\
             &algorithm=SHA1&digits=6&period=30"
        );
        assert!(otpauth_uri(&secret, "a:b", "c").starts_with("otpauth://totp/a%3Ab:c?"));
    }

    #[test]
    fn the_qr_code_is_a_scalable_black_on_white_svg() {
        let secret = Secret::generate(&SeqIds::default()).unwrap();
        let svg = qr_svg(&otpauth_uri(&secret, "义乌便民", "zhangsan"));
        assert!(svg.starts_with("<?xml") || svg.starts_with("<svg"), "{svg}");
        assert!(svg.contains("<rect") && svg.contains("<path"), "{svg}");
        assert!(svg.contains("viewBox=\"0 0 ") && svg.contains("#000000") && svg.contains("#ffffff"));
        assert!(svg.ends_with("</svg>"));
    }

    #[test]
    fn a_uri_too_long_for_a_qr_code_still_yields_an_svg() {
        let svg = qr_svg(&"x".repeat(5_000));
        assert!(svg.starts_with("<svg") && svg.contains("请手动输入密钥"));
    }
}
