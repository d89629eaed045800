//! 搜索分析's search ids (issue 19): what a search answer carries so that a
//! guide opened from it (`GET /v1/guides/{code}?sid=`) counts its query as
//! followed, without a row written per search.
//!
//! An id is 56 hex characters: the Beijing day (`YYYYMMDD`), a random nonce
//! (16), the first 16 hex characters of the SHA-256 of the counted query,
//! and a MAC over those three (16, keyed by the pepper), so nobody can make
//! up ids that hide a failing query from editors; the nonce lets a follow be
//! counted once per search.

use crate::crypto::{Pepper, constant_time_eq, sha256_hex};
use chrono::NaiveDate;

/// Days a search id counts a guide opened from it (the search's day and
/// the days after): a guide is opened within minutes; the margin covers
/// midnight. Older ids are ignored, so their follows need not be kept.
pub const KEEP_DAYS: i64 = 3;
/// Expired follows each new one deletes: more than the one it adds, so the
/// table never grows past a few days, and never a long delete on a request.
pub const PURGE_PER_FOLLOW: i64 = 4;
/// Hex characters of an id.
pub const SEARCH_ID_CHARS: usize = 56;
/// Hex characters of the nonce (8 random bytes).
pub const NONCE_CHARS: usize = 16;
const HASH_CHARS: usize = 16;
const MAC_CHARS: usize = 16;
const DAY_CHARS: usize = 8;

/// The hash a counted query is stored and followed under.
pub fn query_hash(query: &str) -> String {
    sha256_hex(query.as_bytes()).chars().take(HASH_CHARS).collect()
}

/// A checked search id: the day of the search, its nonce and its query's hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchId {
    pub day: NaiveDate,
    pub nonce: String,
    pub query_hash: String,
}

fn mac(pepper: &Pepper, body: &str) -> String {
    pepper.search_mac(body).chars().take(MAC_CHARS).collect()
}

impl SearchId {
    /// The id of a search of `query` on `day` (`nonce`: [`NONCE_CHARS`] hex
    /// characters from a random source).
    pub fn issue(pepper: &Pepper, day: NaiveDate, query: &str, nonce: &str) -> String {
        let body = format!("{}{nonce}{}", day.format("%Y%m%d"), query_hash(query));
        let m = mac(pepper, &body);
        format!("{body}{m}")
    }

    /// An id this service issued, or `None` (malformed, or not ours).
    pub fn verify(pepper: &Pepper, raw: &str) -> Option<Self> {
        if raw.len() != SEARCH_ID_CHARS || !raw.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()) {
            return None;
        }
        let (body, given) = raw.split_at(SEARCH_ID_CHARS - MAC_CHARS);
        if !constant_time_eq(&mac(pepper, body), given) {
            return None;
        }
        let day = NaiveDate::parse_from_str(body.get(..DAY_CHARS)?, "%Y%m%d").ok()?;
        let nonce = body.get(DAY_CHARS..DAY_CHARS + NONCE_CHARS)?.to_owned();
        let query_hash = body.get(DAY_CHARS + NONCE_CHARS..)?.to_owned();
        Some(Self { day, nonce, query_hash })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 12, 2).unwrap_or_default()
    }

    #[test]
    fn an_issued_id_verifies_and_names_its_day_nonce_and_query() {
        let pepper = Pepper::new("secret");
        let id = SearchId::issue(&pepper, day(), "水费", "0123456789abcdef");
        assert_eq!(id.len(), SEARCH_ID_CHARS);
        assert!(id.starts_with("20261202"));
        let got = SearchId::verify(&pepper, &id);
        assert_eq!(
            got,
            Some(SearchId { day: day(), nonce: "0123456789abcdef".into(), query_hash: query_hash("水费") })
        );
    }

    #[test]
    fn altered_foreign_and_malformed_ids_are_refused() {
        let pepper = Pepper::new("secret");
        let id = SearchId::issue(&pepper, day(), "水费", "0123456789abcdef");
        let other_query = format!("{}{}{}", &id[..24], query_hash("护照"), &id[40..]);
        let other_day = id.replacen("20261202", "20261203", 1);
        let foreign = SearchId::issue(&Pepper::new("another"), day(), "水费", "0123456789abcdef");
        for bad in
            [other_query, other_day, foreign, id.to_uppercase(), id[..55].to_owned(), "x".repeat(56), String::new()]
        {
            assert_eq!(SearchId::verify(&pepper, &bad), None, "{bad}");
        }
    }
}
