//! Case numbers (受理编号 of complaints, 办件编号 of applications): a
//! two-letter prefix + the Beijing date + 10 random characters + 1 check
//! character, e.g. `TS20261123K7M2Q9XD4HF`. The random part (50 bits from
//! Crockford's base32 alphabet, no I/L/O/U) makes numbers impossible to
//! guess or enumerate; the check character (Luhn mod 32) catches any single
//! mistyped character and every swap of neighbours but 0/Z, before a lookup
//! reaches the database.

use crate::error::ApiResult;
use crate::runtime::IdSource;
use chrono::NaiveDate;

/// The 32 characters used (Crockford's base32).
pub const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
/// Random characters per number.
pub const RANDOM_CHARS: usize = 10;

fn value(c: u8) -> Option<usize> {
    ALPHABET.iter().position(|a| *a == c)
}

/// The Luhn mod 32 check character of `payload` (alphabet characters only).
fn check_char(payload: &[u8]) -> Option<u8> {
    let n = ALPHABET.len();
    let mut sum = 0;
    let mut factor = 2;
    for c in payload.iter().rev() {
        let mut addend = factor * value(*c)?;
        factor = if factor == 2 { 1 } else { 2 };
        addend = addend / n + addend % n;
        sum += addend;
    }
    ALPHABET.get((n - sum % n) % n).copied()
}

/// A new number with `prefix` for something filed on `date`.
pub fn generate(ids: &impl IdSource, prefix: &str, date: NaiveDate) -> ApiResult<String> {
    let mut raw = [0u8; RANDOM_CHARS];
    ids.fill(&mut raw)?;
    let random: Vec<u8> = raw.iter().filter_map(|b| ALPHABET.get(usize::from(b % 32)).copied()).collect();
    let check = check_char(&random).unwrap_or(b'0');
    let mut out = format!("{prefix}{}", date.format("%Y%m%d"));
    out.extend(random.iter().map(|b| char::from(*b)));
    out.push(char::from(check));
    Ok(out)
}

/// Whether `s` is a well-formed number with `prefix` and a correct check
/// character (case-insensitive; the canonical form is returned).
pub fn parse(s: &str, prefix: &str) -> Option<String> {
    let s = s.trim().to_ascii_uppercase();
    let rest = s.strip_prefix(prefix)?;
    let (date, tail) = (rest.get(..8)?, rest.get(8..)?);
    if !date.bytes().all(|b| b.is_ascii_digit()) || tail.len() != RANDOM_CHARS + 1 {
        return None;
    }
    let (payload, check) = tail.as_bytes().split_at(RANDOM_CHARS);
    (check_char(payload)? == *check.first()?).then_some(s)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;
    use crate::runtime::OsRandom;
    use std::collections::HashSet;

    fn day() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 23).unwrap()
    }

    #[test]
    fn numbers_carry_the_date_and_a_check_character_that_catches_typos() {
        let n = generate(&OsRandom, "TS", day()).unwrap();
        assert!(n.starts_with("TS20261123") && n.len() == 2 + 8 + RANDOM_CHARS + 1, "{n}");
        assert_eq!(parse(&n.to_ascii_lowercase(), "TS"), Some(n.clone()));
        let bytes = n.as_bytes();
        // Every single-character change of the random part or the check is caught.
        for i in 10..bytes.len() {
            for c in ALPHABET {
                if *c != bytes[i] {
                    let mut b = bytes.to_vec();
                    b[i] = *c;
                    assert_eq!(parse(std::str::from_utf8(&b).unwrap(), "TS"), None, "changed at {i}");
                }
            }
        }
        // So is swapping two different adjacent characters of the random part,
        // except the one pair Luhn mod N cannot see (0 and Z, values 0 and 31).
        for i in 10..bytes.len() - 2 {
            let pair = [bytes[i], bytes[i + 1]];
            if bytes[i] != bytes[i + 1] && pair != *b"0Z" && pair != *b"Z0" {
                let mut b = bytes.to_vec();
                b.swap(i, i + 1);
                assert_eq!(parse(std::str::from_utf8(&b).unwrap(), "TS"), None, "swapped at {i}");
            }
        }
        for bad in ["", "TS2026", "XX20261123ABCDEFGHJK0", "TS2026112AABCDEFGHJKM0"] {
            assert_eq!(parse(bad, "TS"), None, "{bad}");
        }
    }

    #[test]
    fn a_million_draws_never_collide() {
        let mut seen = HashSet::with_capacity(1_000_000);
        for _ in 0..1_000_000 {
            assert!(seen.insert(generate(&OsRandom, "TS", day()).unwrap()));
        }
    }

    #[test]
    fn a_number_of_one_prefix_is_not_a_number_of_another() {
        let n = generate(&OsRandom, "SB", day()).unwrap();
        assert_eq!(parse(&n, "SB"), Some(n.clone()));
        assert_eq!(parse(&n, "TS"), None);
    }
}
