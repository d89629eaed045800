//! Popularity counts for 热门排行 (guide views) and 热门搜索 (queries).
//!
//! Each isolate buffers its counts in memory and writes them at most once a
//! second ([`FLUSH_EVERY_MS`]) as atomic D1 upserts (`n = n + ?`): no count
//! is lost to a concurrent writer, and a burst of requests costs one write.
//! What an isolate holds when it is evicted (under a second of counts) is
//! the accepted loss.

use crate::error::ApiResult;
use crate::store::{Db, Stmt};
use crate::types::BeijingTime;
use chrono::Duration;
use serde::{Deserialize, Serialize};
use std::cell::{Cell, RefCell};
use std::collections::HashMap;

/// Longest interval between flushes while requests keep coming.
pub const FLUSH_EVERY_MS: i64 = 1_000;
/// The rolling window of the hot lists.
pub const WINDOW_DAYS: i64 = 7;
/// Most distinct keys an isolate buffers between flushes: a flood of
/// distinct queries (or a run of failed writes) must not grow the buffer,
/// or the batch that writes it, without bound. A new key past it is not
/// counted until the next flush; keys already buffered still are.
pub const MAX_PENDING_KEYS: usize = 2_000;
/// Longest query text counted (longer ones are sentences, not searches to show).
pub const MAX_COUNTED_QUERY_CHARS: usize = 20;

/// An isolate's unflushed counts.
#[derive(Debug, Default)]
pub struct Counter {
    pending: RefCell<HashMap<(&'static str, String), i64>>,
    last_flush_ms: Cell<i64>,
}

impl Counter {
    /// Counts one view of an item's guide.
    pub fn view(&self, code: &str) {
        self.bump("view", code);
    }

    /// Counts one search (normalised text; empty and over-long ones are not shown as hot).
    pub fn search(&self, query: &str) {
        let q = query.trim();
        if !q.is_empty() && q.chars().count() <= MAX_COUNTED_QUERY_CHARS {
            self.bump("search", q);
        }
    }

    fn bump(&self, kind: &'static str, key: &str) {
        self.add(kind, key.to_owned(), 1);
    }

    fn add(&self, kind: &'static str, key: String, n: i64) {
        let mut pending = self.pending.borrow_mut();
        let full = pending.len() >= MAX_PENDING_KEYS;
        match pending.get_mut(&(kind, key.clone())) {
            Some(count) => *count += n,
            None if !full => {
                pending.insert((kind, key), n);
            }
            None => {}
        }
    }

    /// The upserts to write now, if a flush is due; the buffer is emptied.
    pub fn due(&self, now: BeijingTime) -> Vec<Stmt> {
        let now_ms = now.to_utc().timestamp_millis();
        if now_ms - self.last_flush_ms.get() < FLUSH_EVERY_MS || self.pending.borrow().is_empty() {
            return Vec::new();
        }
        self.last_flush_ms.set(now_ms);
        let day = now.date().to_string();
        self.pending
            .borrow_mut()
            .drain()
            .map(|((kind, key), n)| {
                Stmt::new(
                    "INSERT INTO hot_counts (day, kind, key, n) VALUES (?1, ?2, ?3, ?4)
                     ON CONFLICT (day, kind, key) DO UPDATE SET n = n + excluded.n",
                    vec![day.as_str().into(), kind.into(), key.into(), n.into()],
                )
            })
            .collect()
    }

    /// Writes due counts; on failure they go back in the buffer for the next try.
    pub async fn flush(&self, db: &impl Db, now: BeijingTime) -> ApiResult<()> {
        let stmts = self.due(now);
        if stmts.is_empty() {
            return Ok(());
        }
        if let Err(e) = db.batch(&stmts).await {
            for s in stmts {
                if let (
                    Some(crate::store::Value::Text(kind)),
                    Some(crate::store::Value::Text(key)),
                    Some(crate::store::Value::Int(n)),
                ) = (s.params.get(1), s.params.get(2), s.params.get(3))
                {
                    let kind: &'static str = if kind == "view" { "view" } else { "search" };
                    self.add(kind, key.clone(), *n);
                }
            }
            return Err(e);
        }
        Ok(())
    }
}

/// One ranked key with its count over the window.
#[derive(Debug, Serialize, Deserialize, PartialEq, Clone)]
pub struct Ranked {
    pub key: String,
    pub n: i64,
}

/// The top `limit` keys of `kind` over the last [`WINDOW_DAYS`] days.
pub async fn top(db: &impl Db, kind: &str, now: BeijingTime, limit: u32) -> ApiResult<Vec<Ranked>> {
    let since = (now.date() - Duration::days(WINDOW_DAYS - 1)).to_string();
    db.query_as(
        "SELECT key, SUM(n) AS n FROM hot_counts WHERE kind = ?1 AND day >= ?2 GROUP BY key ORDER BY n DESC, key LIMIT ?3",
        &[kind.into(), since.into(), i64::from(limit).into()],
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::SqliteDb;
    use futures_executor::block_on;

    fn at(s: &str) -> BeijingTime {
        BeijingTime::parse(s).unwrap_or_else(|_| BeijingTime::from_utc(chrono::DateTime::UNIX_EPOCH))
    }

    #[test]
    fn counts_are_buffered_flushed_once_a_second_and_summed_over_seven_days() {
        let db = SqliteDb::migrated().unwrap_or_else(|e| panic!("{e}"));
        let c = Counter::default();
        for _ in 0..3 {
            c.view("A");
        }
        c.search("水费");
        c.search(&"长".repeat(30));
        block_on(c.flush(&db, at("2026-11-20T10:00:00+08:00"))).unwrap_or_else(|e| panic!("{e}"));
        c.view("A");
        // Within the second: buffered, not written.
        block_on(c.flush(&db, at("2026-11-20T10:00:00.500+08:00"))).unwrap_or_else(|e| panic!("{e}"));
        c.view("B");
        block_on(c.flush(&db, at("2026-11-20T10:00:02+08:00"))).unwrap_or_else(|e| panic!("{e}"));
        let views = block_on(top(&db, "view", at("2026-11-23T10:00:00+08:00"), 10)).unwrap_or_default();
        assert_eq!(views, vec![Ranked { key: "A".into(), n: 4 }, Ranked { key: "B".into(), n: 1 }]);
        let searches = block_on(top(&db, "search", at("2026-11-23T10:00:00+08:00"), 10)).unwrap_or_default();
        assert_eq!(searches, vec![Ranked { key: "水费".into(), n: 1 }]);
        // Eight days later the window has moved on.
        assert!(block_on(top(&db, "view", at("2026-11-28T10:00:00+08:00"), 10)).unwrap_or_default().is_empty());
    }

    #[test]
    fn a_failed_flush_keeps_the_counts() {
        let db = SqliteDb::migrated().unwrap_or_else(|e| panic!("{e}"));
        let c = Counter::default();
        c.view("A");
        db.break_storage(true);
        assert!(block_on(c.flush(&db, at("2026-11-20T10:00:00+08:00"))).is_err());
        db.break_storage(false);
        c.view("A");
        block_on(c.flush(&db, at("2026-11-20T10:00:05+08:00"))).unwrap_or_else(|e| panic!("{e}"));
        let views = block_on(top(&db, "view", at("2026-11-20T10:00:00+08:00"), 10)).unwrap_or_default();
        assert_eq!(views, vec![Ranked { key: "A".into(), n: 2 }]);
    }

    #[test]
    fn a_flood_of_distinct_keys_buffers_at_most_the_bound() {
        let c = Counter::default();
        c.view("A");
        for i in 0..MAX_PENDING_KEYS + 100 {
            c.search(&format!("词{i}"));
        }
        c.view("A");
        let stmts = c.due(at("2026-11-20T10:00:00+08:00"));
        assert_eq!(stmts.len(), MAX_PENDING_KEYS, "one batch of at most the bound");
        let a = stmts.iter().find(|s| s.params.get(2) == Some(&crate::store::Value::Text("A".into())));
        assert_eq!(a.and_then(|s| s.params.get(3)), Some(&crate::store::Value::Int(2)), "a buffered key still counts");
        c.search("词0");
        assert_eq!(c.due(at("2026-11-20T10:00:02+08:00")).len(), 1, "counted again after the flush");
    }
}
