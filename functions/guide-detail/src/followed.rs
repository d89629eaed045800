//! 搜索分析 (issue 19): a guide opened from a search. The search answer
//! (item-search) carries a signed `search_id`
//! ([`shared::catalogue::search_id`]); the mini-program sends it as
//! `GET /v1/guides/{code}?sid=`, and the first guide opened with it adds one
//! to its day's and query's `opened` count, so it is not a "no guide opened"
//! search. An id that is not ours, too old, or seen before counts nothing.
//! Nothing here knows the citizen.

use chrono::Duration;
use shared::ApiResult;
use shared::catalogue::search_id::{KEEP_DAYS, PURGE_PER_FOLLOW, SearchId};
use shared::crypto::Pepper;
use shared::store::{Db, Stmt};
use shared::types::BeijingTime;

/// The search a request's `sid` names, when it is an id item-search issued
/// within [`KEEP_DAYS`] days of `now`; anything else is ignored, as a
/// missing one is.
pub fn search_id(pepper: &Pepper, raw: Option<&str>, now: BeijingTime) -> Option<SearchId> {
    let id = SearchId::verify(pepper, raw?)?;
    let today = now.date();
    (id.day <= today && id.day > today - Duration::days(KEEP_DAYS)).then_some(id)
}

/// Counts the search followed, once, in one batch: the id is recorded (a
/// second guide opened from the same search, or two isolates at once, find
/// it there) and only a new record adds to `opened`; a few expired records
/// go. Returns whether this counted it.
pub async fn mark(db: &impl Db, id: &SearchId, now: BeijingTime) -> ApiResult<bool> {
    let day = id.day.to_string();
    let key = format!("{}{}", id.day.format("%Y%m%d"), id.nonce);
    let oldest = (now.date() - Duration::days(KEEP_DAYS - 1)).to_string();
    let changed = db
        .batch(&[
            Stmt::new(
                "INSERT INTO search_follows (id, day) VALUES (?1, ?2) ON CONFLICT (id) DO NOTHING",
                vec![key.into(), day.as_str().into()],
            ),
            // changes(): whether the statement before this one recorded the id.
            Stmt::new(
                "INSERT INTO search_opened_days (day, query_hash, opened) SELECT ?1, ?2, 1 WHERE changes() = 1
                 ON CONFLICT (day, query_hash) DO UPDATE SET opened = opened + 1",
                vec![day.into(), id.query_hash.as_str().into()],
            ),
            Stmt::new(
                "DELETE FROM search_follows WHERE id IN
                   (SELECT id FROM search_follows WHERE day < ?1 ORDER BY day LIMIT ?2)",
                vec![oldest.into(), PURGE_PER_FOLLOW.into()],
            ),
        ])
        .await?;
    Ok(changed.first().is_some_and(|n| *n > 0))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(raw: &str) -> BeijingTime {
        BeijingTime::parse(raw).unwrap_or_else(|_| BeijingTime::from_utc(chrono::DateTime::UNIX_EPOCH))
    }

    #[test]
    fn only_our_ids_of_the_last_days_are_taken() {
        let pepper = Pepper::new("p");
        let day = |d: u32| chrono::NaiveDate::from_ymd_opt(2026, 12, d).unwrap_or_default();
        let now = at("2026-12-04T09:00:00+08:00");
        let id = |d: u32| SearchId::issue(&pepper, day(d), "水费", "0011223344556677");
        assert!(search_id(&pepper, Some(&id(4)), now).is_some());
        assert!(search_id(&pepper, Some(&id(2)), now).is_some(), "two days before");
        assert!(search_id(&pepper, Some(&id(1)), now).is_none(), "expired");
        assert!(search_id(&pepper, Some(&id(5)), now).is_none(), "tomorrow's");
        assert!(search_id(&Pepper::new("other"), Some(&id(4)), now).is_none());
        for bad in ["", "xyz", "1' OR '1'='1", &"a".repeat(65)] {
            assert!(search_id(&pepper, Some(bad), now).is_none(), "{bad}");
        }
        assert!(search_id(&pepper, None, now).is_none());
    }
}
