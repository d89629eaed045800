//! Staff passwords: the policy a new password must meet, and its slow,
//! salted hash.
//!
//! The hash is Argon2id at OWASP's minimum (19 MiB, 2 passes, 1 lane) in a
//! PHC string, computed in Rust inside the Worker: Workers' WebCrypto caps
//! PBKDF2 at 100,000 iterations (a sixth of OWASP's 600,000 for
//! PBKDF2-HMAC-SHA256) and offers no memory-hard function. The salt comes
//! from an [`IdSource`] so tests are deterministic and production uses
//! `crypto.getRandomValues`.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use shared::error::{ApiError, ApiResult, FieldError};
use shared::runtime::IdSource;

/// Shortest password accepted: 等保 level 3 asks for complex passwords, and
/// twelve characters of three classes resist offline guessing for years.
pub const MIN_PASSWORD_CHARS: usize = 12;
/// Longest password accepted: long enough for any passphrase, short enough
/// that a login body cannot make hashing expensive.
pub const MAX_PASSWORD_CHARS: usize = 128;
/// Character classes (lower, upper, digit, symbol) a password must mix.
pub const MIN_PASSWORD_CLASSES: usize = 3;

/// Argon2id memory in KiB (OWASP minimum: 19 MiB).
pub const ARGON2_M_KIB: u32 = 19_456;
/// Argon2id passes (OWASP minimum with 19 MiB).
pub const ARGON2_T: u32 = 2;
/// Argon2id lanes: Wasm is single-threaded, so more lanes only cost time.
pub const ARGON2_P: u32 = 1;
/// Salt length in bytes (the PHC format's recommendation).
pub const SALT_BYTES: usize = 16;

/// The largest stored parameters `verify` will run. A Worker isolate has
/// 128 MB, so a corrupt or planted hash must not ask for more memory or an
/// unbounded number of passes.
const MAX_M_KIB: u32 = 64 * 1024;

/// A hash of no one's password, with the current parameters: checked when a
/// sign-in fails before a real check (unknown, disabled or locked account),
/// so the answer takes as long as a real check and its timing tells nothing.
pub const DUMMY_PHC: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$ff897wvqAgj/wP+hAw2e6A$4eh4tM+Lu/40Qto5VyVO7wRQRQnhwzIfPjhITesKZ4M";
const MAX_T: u32 = 10;
const MAX_P: u32 = 4;

/// The field every policy message is reported on.
const FIELD: &str = "password";

/// Checks a new password against the policy; each problem is one Chinese
/// message on the `password` field, all reported together.
pub fn check_policy(password: &str, username: &str) -> Result<(), Vec<FieldError>> {
    let problems: Vec<FieldError> = [
        length_problem(password),
        classes_problem(password),
        username_problem(password, username),
        repeated_problem(password),
    ]
    .into_iter()
    .flatten()
    .map(|message| FieldError::new(FIELD, message))
    .collect();
    if problems.is_empty() { Ok(()) } else { Err(problems) }
}

fn length_problem(password: &str) -> Option<String> {
    let n = password.chars().count();
    if n < MIN_PASSWORD_CHARS {
        Some(format!("密码至少{MIN_PASSWORD_CHARS}位"))
    } else if n > MAX_PASSWORD_CHARS {
        Some(format!("密码不能超过{MAX_PASSWORD_CHARS}位"))
    } else {
        None
    }
}

/// Lower, upper and digit are ASCII; every other character (punctuation,
/// spaces, Chinese) counts as a symbol.
fn classes_problem(password: &str) -> Option<String> {
    let has = |f: fn(&char) -> bool| password.chars().any(|c| f(&c));
    let symbol = |c: &char| !c.is_ascii_alphanumeric();
    let classes =
        [has(char::is_ascii_lowercase), has(char::is_ascii_uppercase), has(char::is_ascii_digit), has(symbol)];
    let count = classes.iter().filter(|&&present| present).count();
    (count < MIN_PASSWORD_CLASSES).then(|| "密码须包含小写字母、大写字母、数字、符号中的至少三类".to_owned())
}

fn username_problem(password: &str, username: &str) -> Option<String> {
    let name = username.trim().to_lowercase();
    (!name.is_empty() && password.to_lowercase().contains(&name)).then(|| "密码不能包含用户名".to_owned())
}

fn repeated_problem(password: &str) -> Option<String> {
    let mut chars = password.chars();
    let first = chars.next()?;
    chars.all(|c| c == first).then(|| "密码不能由同一个字符重复组成".to_owned())
}

/// The Argon2id hasher at the current parameters.
fn hasher() -> ApiResult<Argon2<'static>> {
    let params = Params::new(ARGON2_M_KIB, ARGON2_T, ARGON2_P, None)
        .map_err(|e| ApiError::internal(format!("argon2 params: {e}")))?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

/// Hashes a password with a fresh 16-byte salt from `ids`, as a PHC string
/// (`$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>`).
pub fn hash(password: &str, ids: &impl IdSource) -> ApiResult<String> {
    let mut salt = [0u8; SALT_BYTES];
    ids.fill(&mut salt)?;
    let salt = SaltString::encode_b64(&salt).map_err(|e| ApiError::internal(format!("argon2 salt: {e}")))?;
    let phc = hasher()?
        .hash_password(password.as_bytes(), &salt)
        .map_err(|e| ApiError::internal(format!("argon2 hash: {e}")))?;
    Ok(phc.to_string())
}

/// The Argon2id parameters of a stored PHC string, if it is one.
fn stored_params(phc: &PasswordHash<'_>) -> Option<Params> {
    (phc.algorithm == Algorithm::Argon2id.ident()).then(|| Params::try_from(phc).ok()).flatten()
}

/// Whether `password` matches the stored PHC string. The comparison is
/// constant-time; the stored parameters are used (so they can be raised
/// later) within a cap; anything malformed or not Argon2id is `false`.
pub fn verify(password: &str, phc: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(phc) else { return false };
    let Some(params) = stored_params(&parsed) else { return false };
    if params.m_cost() > MAX_M_KIB || params.t_cost() > MAX_T || params.p_cost() > MAX_P {
        return false;
    }
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params).verify_password(password.as_bytes(), &parsed).is_ok()
}

/// Whether a stored hash should be replaced at the next successful login:
/// another algorithm or version, costs, salt or output below the current
/// ones, or a string that cannot be read at all.
pub fn needs_rehash(phc: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(phc) else { return true };
    let Some(params) = stored_params(&parsed) else { return true };
    let mut salt = [0u8; 64];
    let salt_len = parsed.salt.and_then(|s| s.decode_b64(&mut salt).ok()).map_or(0, <[u8]>::len);
    parsed.version != Some(Version::V0x13.into())
        || salt_len < SALT_BYTES
        || parsed.hash.is_none_or(|h| h.len() < Params::DEFAULT_OUTPUT_LEN)
        || params.m_cost() < ARGON2_M_KIB
        || params.t_cost() < ARGON2_T
        || params.p_cost() < ARGON2_P
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;
    use shared::runtime::SeqIds;

    fn messages(password: &str, username: &str) -> Vec<String> {
        match check_policy(password, username) {
            Ok(()) => Vec::new(),
            Err(errors) => errors.into_iter().map(|e| e.message).collect(),
        }
    }

    #[test]
    fn a_long_mixed_password_passes_the_policy() {
        assert_eq!(check_policy("Correct-Horse-9", "zhangsan"), Ok(()));
        assert_eq!(check_policy("correcthorse9!", "zhangsan"), Ok(()));
        assert_eq!(check_policy("义乌便民服务Abc123", "zhangsan"), Ok(()));
    }

    #[test]
    fn every_policy_problem_has_a_chinese_message_on_the_password_field() {
        let errors = check_policy("aaa", "wang").unwrap_err();
        assert!(errors.iter().all(|e| e.field == "password"));
        let messages: Vec<_> = errors.into_iter().map(|e| e.message).collect();
        assert_eq!(
            messages,
            ["密码至少12位", "密码须包含小写字母、大写字母、数字、符号中的至少三类", "密码不能由同一个字符重复组成"]
        );
    }

    #[test]
    fn length_is_counted_in_characters_between_12_and_128() {
        assert_eq!(messages("Abcdefghij1", "u"), ["密码至少12位"]);
        assert!(messages("Abcdefghijk1", "u").is_empty());
        let longest = format!("Ab1{}", "x".repeat(125));
        assert!(messages(&longest, "u").is_empty());
        assert_eq!(messages(&format!("{longest}y"), "u"), ["密码不能超过128位"]);
        // Twelve Chinese characters are twelve characters, not 36 bytes.
        assert_eq!(messages("便民服务中心A1便民服务", "u"), Vec::<String>::new());
    }

    #[test]
    fn two_classes_are_not_enough() {
        let expected = ["密码须包含小写字母、大写字母、数字、符号中的至少三类"];
        assert_eq!(messages("abcdefgh1234", "u"), expected);
        assert_eq!(messages("ABCDEFGHijkl", "u"), expected);
        assert_eq!(messages("!!!!????####a", "u"), expected);
    }

    #[test]
    fn the_user_name_in_any_case_is_refused() {
        assert_eq!(messages("xx-ZhangSan-2024", "zhangsan"), ["密码不能包含用户名"]);
        assert_eq!(messages("Xx-zhangsan-2024", " ZHANGSAN "), ["密码不能包含用户名"]);
        assert!(messages("Xx-zhangsan-2024", "").is_empty());
    }

    #[test]
    fn one_repeated_character_is_refused() {
        let found = messages("############", "u");
        assert!(found.contains(&"密码不能由同一个字符重复组成".to_owned()));
    }

    #[test]
    fn a_hash_is_an_argon2id_phc_string_that_verifies() {
        let phc = hash("Correct-Horse-9", &SeqIds::default()).unwrap();
        // Salt bytes 1..=16 from SeqIds, unpadded standard base64.
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$AQIDBAUGBwgJCgsMDQ4PEA$"), "{phc}");
        assert!(verify("Correct-Horse-9", &phc));
        assert!(!verify("Correct-Horse-8", &phc));
        assert!(!verify("", &phc));
        assert!(!needs_rehash(&phc));
    }

    #[test]
    fn the_same_password_with_another_salt_hashes_differently() {
        let ids = SeqIds::default();
        let (a, b) = (hash("Correct-Horse-9", &ids).unwrap(), hash("Correct-Horse-9", &ids).unwrap());
        assert_ne!(a, b);
        assert!(verify("Correct-Horse-9", &a) && verify("Correct-Horse-9", &b));
    }

    #[test]
    fn a_hash_with_weaker_parameters_still_verifies_but_needs_rehash() {
        let params = Params::new(8, 1, 1, None).unwrap();
        let salt = SaltString::encode_b64(&[7u8; 16]).unwrap();
        let weak = Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
            .hash_password(b"Correct-Horse-9", &salt)
            .unwrap()
            .to_string();
        assert!(weak.starts_with("$argon2id$v=19$m=8,t=1,p=1$"));
        assert!(verify("Correct-Horse-9", &weak));
        assert!(needs_rehash(&weak));
    }

    #[test]
    fn a_known_argon2id_vector_verifies() {
        // From the argon2 reference implementation: password "password",
        // salt "somesalt", m=65536, t=2, p=1, 32-byte output.
        let phc = "$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc";
        assert!(verify("password", phc));
        assert!(!verify("Password", phc));
        // Stronger costs, but an 8-byte salt: replaced at the next login.
        assert!(needs_rehash(phc));
    }

    #[test]
    fn malformed_or_foreign_hashes_never_verify_and_need_rehash() {
        let good = hash("Correct-Horse-9", &SeqIds::default()).unwrap();
        let huge = good.replace("m=19456", "m=4194304");
        let argon2i = good.replace("$argon2id$", "$argon2i$");
        let cases = [
            "",
            "plain",
            "$argon2id$",
            "$argon2id$v=19$m=19456,t=2,p=1$",
            "$argon2id$v=19$m=19456,t=2,p=1$!!!$###",
            "$argon2id$v=19$m=0,t=0,p=0$AQIDBAUGBwgJCgsMDQ4PEA$AAAA",
            "$pbkdf2-sha256$i=600000$AQIDBAUGBwgJCgsMDQ4PEA$AAAA",
            &good[..good.len() - 4],
            &argon2i,
        ];
        for phc in cases {
            assert!(!verify("Correct-Horse-9", phc), "{phc}");
            assert!(needs_rehash(phc), "{phc}");
        }
        // Too costly to run, though well formed: refused before allocating.
        assert!(!verify("Correct-Horse-9", &huge));
    }

    /// `cargo test --release -p console -- --ignored --nocapture`
    #[test]
    #[ignore = "timing probe, run in release"]
    fn probe_time_of_one_hash() {
        let ids = SeqIds::default();
        let start = std::time::Instant::now();
        let phc = hash("Correct-Horse-9", &ids).unwrap();
        let hashed = start.elapsed();
        let start = std::time::Instant::now();
        assert!(verify("Correct-Horse-9", &phc));
        println!("argon2id m={ARGON2_M_KIB} t={ARGON2_T} p={ARGON2_P}: hash {hashed:?}, verify {:?}", start.elapsed());
    }
}

#[cfg(test)]
mod dummy_tests {
    use super::*;

    #[test]
    fn the_dummy_hash_has_the_current_parameters_so_checking_it_costs_what_a_real_check_costs() {
        assert!(!needs_rehash(DUMMY_PHC), "{DUMMY_PHC}");
        assert!(!verify("", DUMMY_PHC));
    }
}
