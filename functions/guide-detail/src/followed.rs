//! 搜索分析 (issue 19): a guide opened from a search. The search answer
//! (item-search) carries a random `search_id`; the mini-program sends it as
//! `GET /v1/guides/{code}?sid=`, and the first guide opened with it marks
//! that search followed and adds one to its day's `opened` count, so it is
//! not a "no guide opened" search. Nothing here knows the citizen.

use shared::ApiResult;
use shared::store::{Db, Stmt};

/// Longest search id taken (item-search's are 24 hex characters).
pub const MAX_SEARCH_ID_CHARS: usize = 64;

/// The `sid` of a request when it is shaped like a search id (hex, bounded);
/// anything else is ignored, as a missing one is.
pub fn search_id(raw: Option<&str>) -> Option<&str> {
    raw.filter(|s| !s.is_empty() && s.len() <= MAX_SEARCH_ID_CHARS && s.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// Marks the search `search_id` followed, once, in one batch: its day's
/// `opened` goes up only while the search is still unmarked, so two guides
/// opened from one search (or two isolates at once) count it once. An
/// unknown or expired id changes nothing. Returns whether this marked it.
pub async fn mark(db: &impl Db, search_id: &str) -> ApiResult<bool> {
    let changed = db
        .batch(&[
            Stmt::new(
                "UPDATE search_query_days SET opened = opened + 1
                  WHERE day = (SELECT day FROM search_outcomes WHERE id = ?1 AND opened = 0)
                    AND query = (SELECT query FROM search_outcomes WHERE id = ?1 AND opened = 0)",
                vec![search_id.into()],
            ),
            Stmt::new("UPDATE search_outcomes SET opened = 1 WHERE id = ?1 AND opened = 0", vec![search_id.into()]),
        ])
        .await?;
    Ok(changed.get(1).is_some_and(|n| *n > 0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_hex_ids_of_bounded_length_are_taken() {
        assert_eq!(search_id(Some("0a1b2c3d4e5f60718293a4b5")), Some("0a1b2c3d4e5f60718293a4b5"));
        for bad in ["", "xyz", "1' OR '1'='1", &"a".repeat(65)] {
            assert_eq!(search_id(Some(bad)), None, "{bad}");
        }
        assert_eq!(search_id(None), None);
    }
}
