//! Runtime-independent HTTP helpers: query parsing, ETags, paging.

use crate::error::{ApiError, ApiResult};
use crate::limits::MAX_QUERY_BYTES;
use sha2::{Digest, Sha256};

/// Parsed query parameters (percent-decoded, `+` as space).
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Query(Vec<(String, String)>);

impl Query {
    /// Parses a raw query string (without `?`), refusing over-long ones.
    pub fn parse(raw: &str) -> ApiResult<Self> {
        if raw.len() > MAX_QUERY_BYTES {
            return Err(ApiError::bad_field("query", format!("查询参数过长（最多 {MAX_QUERY_BYTES} 字节）")));
        }
        let mut out = Vec::new();
        for pair in raw.split('&').filter(|p| !p.is_empty()) {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            let (k, v) = (decode(k, true), decode(v, true));
            match (k, v) {
                (Some(k), Some(v)) => out.push((k, v)),
                _ => return Err(ApiError::bad_field("query", "查询参数编码不正确")),
            }
        }
        Ok(Self(out))
    }

    /// The first value of `key`, if present and not empty.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str()).filter(|v| !v.is_empty())
    }

    /// An optional `YYYY-MM-DD` date, with a Chinese error naming the field.
    pub fn date(&self, key: &str) -> ApiResult<Option<chrono::NaiveDate>> {
        self.get(key)
            .map(|d| chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d"))
            .transpose()
            .map_err(|_| ApiError::bad_field(key, format!("{key} 的格式应为 YYYY-MM-DD")))
    }

    /// An optional unsigned number in `range`, with a Chinese error naming the field.
    pub fn u32_in(&self, key: &str, min: u32, max: u32) -> ApiResult<Option<u32>> {
        match self.get(key) {
            None => Ok(None),
            Some(v) => match v.parse::<u32>() {
                Ok(n) if (min..=max).contains(&n) => Ok(Some(n)),
                _ => Err(ApiError::bad_field(key, format!("{key} 应为 {min} 到 {max} 之间的整数"))),
            },
        }
    }
}

/// `application/x-www-form-urlencoded` pairs in order (`+` as space), or
/// `None` when the encoding is broken. For provider callbacks (Alipay posts
/// its notifications as a form), whose size the caller has already capped.
pub fn parse_form(raw: &str) -> Option<Vec<(String, String)>> {
    raw.split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            Some((decode(k, true)?, decode(v, true)?))
        })
        .collect()
}

/// A percent-decoded path segment (`+` stays `+` in paths), e.g. a category
/// name in `/v1/admin/categories/{name}`.
pub fn path_segment(raw: &str) -> ApiResult<String> {
    decode(raw, false).ok_or_else(|| ApiError::bad_field("path", "地址编码不正确"))
}

fn decode(s: &str, plus_is_space: bool) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        match b {
            b'+' if plus_is_space => out.push(b' '),
            b'%' => {
                let hex = bytes.get(i + 1..i + 3)?;
                let hex = std::str::from_utf8(hex).ok()?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 2;
            }
            _ => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).ok()
}

/// A strong ETag for a body: quoted, 32 hex characters of its SHA-256.
pub fn strong_etag(body: &[u8]) -> String {
    let digest = Sha256::digest(body);
    let hex: String = digest.iter().take(16).map(|b| format!("{b:02x}")).collect();
    format!("\"{hex}\"")
}

/// Whether an `If-None-Match` header matches `etag` (a list, `*`, or `W/` forms).
pub fn if_none_match(header: Option<&str>, etag: &str) -> bool {
    header.is_some_and(|h| {
        h.split(',').map(str::trim).any(|t| t == "*" || t == etag || t.strip_prefix("W/") == Some(etag))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_decodes_chinese_and_plus() {
        let q = Query::parse("q=%E6%B0%B4%E8%B4%B9&a=b+c&empty=").unwrap_or_default();
        assert_eq!(q.get("q"), Some("水费"));
        assert_eq!(q.get("a"), Some("b c"));
        assert_eq!(q.get("empty"), None);
    }

    #[test]
    fn query_rejects_bad_encoding_and_length() {
        assert!(Query::parse("q=%E6%B0").is_err());
        assert!(Query::parse("q=%zz").is_err());
        assert!(Query::parse("q=%").is_err());
        assert!(Query::parse(&"a".repeat(MAX_QUERY_BYTES + 1)).is_err());
    }

    #[test]
    fn u32_in_checks_range() {
        let q = Query::parse("size=500&page=2&bad=x").unwrap_or_default();
        assert_eq!(q.u32_in("page", 1, 100), Ok(Some(2)));
        assert!(q.u32_in("size", 1, 100).is_err());
        assert!(q.u32_in("bad", 1, 100).is_err());
        assert_eq!(q.u32_in("none", 1, 100), Ok(None));
    }

    #[test]
    fn etag_is_strong_stable_and_matches_lists() {
        let e = strong_etag(b"hello");
        assert_eq!(e, strong_etag(b"hello"));
        assert_ne!(e, strong_etag(b"hello!"));
        assert!(e.starts_with('"') && e.len() == 34);
        assert!(if_none_match(Some(&format!("\"x\", {e}")), &e));
        assert!(if_none_match(Some("*"), &e));
        assert!(if_none_match(Some(&format!("W/{e}")), &e));
        assert!(!if_none_match(Some("\"other\""), &e));
        assert!(!if_none_match(None, &e));
    }
}
