//! Search analytics for editors (issue 19): queries without a result and
//! queries after which no guide was opened, counted by day.
//!
//! Each isolate buffers the first pages of its searches ([`Tally`]) and
//! writes them at most once a second as atomic upserts into
//! `search_query_days` (`searches = searches + n`): concurrent isolates never
//! lose each other's counts, and a burst of searches costs one write (what an
//! evicted isolate held, under a second of counts, is the accepted loss, as
//! for the hot lists). A search with results also gets a signed `search_id`
//! ([`shared::catalogue::search_id`]: day, nonce, query hash, MAC), nothing
//! stored; a guide opened with it (guide-detail, `GET /v1/guides/{code}?sid=`)
//! adds one to `search_opened_days` once per id. The report ([`report`]) lists
//! the queries that found nothing and those whose results were not opened,
//! most frequent first.
//!
//! What is stored is the text the index searched (after corrections,
//! thesaurus and stop words; a banned query never gets here), capped at
//! [`MAX_KEY_CHARS`]; a query that looks like a phone, ID or account number
//! is not recorded at all.

use serde::{Deserialize, Serialize};
use shared::catalogue::hot::{FLUSH_EVERY_MS, MAX_COUNTED_QUERY_CHARS, MAX_PENDING_KEYS};
use shared::catalogue::search_id::{NONCE_CHARS, SearchId, query_hash};
use shared::crypto::Pepper;
use shared::runtime::IdSource;
use shared::store::{Db, Stmt, Value};
use shared::types::BeijingTime;
use shared::{ApiError, ApiResult};
use std::cell::{Cell, RefCell};
use std::collections::HashMap;

/// Longest query kept, in characters (the hot list's bound): longer ones are
/// cut there and end in "…", so a sentence cannot carry a whole address.
pub const MAX_KEY_CHARS: usize = MAX_COUNTED_QUERY_CHARS;
/// The longest run of digits a recorded query may hold: six or more is a
/// phone, ID, account, bill or case number, never something to show editors.
pub const MAX_DIGIT_RUN: usize = 5;
/// Days a report covers when `from` is not given (today and the six before).
pub const DEFAULT_DAYS: i64 = 7;
/// Longest report, in days (a quarter).
pub const MAX_DAYS: i64 = 92;
/// Queries per list by default, and at most.
pub const DEFAULT_LIMIT: u32 = 20;
pub const MAX_LIMIT: u32 = 100;

const MINUTES_PER_DAY: i64 = 24 * 60;

/// Whether a query looks like personal data: a phone or ID number as
/// [`shared::pii::redact_text`] finds them (grouped, full-width, `+86`...),
/// or any run of more than [`MAX_DIGIT_RUN`] digits.
pub fn looks_personal(text: &str) -> bool {
    if shared::pii::redact_text(text) != text {
        return true;
    }
    let mut run = 0;
    for c in text.chars() {
        run = if c.is_ascii_digit() || ('０'..='９').contains(&c) { run + 1 } else { 0 };
        if run > MAX_DIGIT_RUN {
            return true;
        }
    }
    false
}

/// The key a searched text is counted under, or `None` when it is not
/// counted (empty, or personal-looking). Over-long text is cut to
/// [`MAX_KEY_CHARS`] and ends in "…".
pub fn query_key(searched: &str) -> Option<String> {
    let q = searched.trim();
    if q.is_empty() || looks_personal(q) {
        return None;
    }
    if q.chars().count() <= MAX_KEY_CHARS {
        return Some(q.to_owned());
    }
    let cut: String = q.chars().take(MAX_KEY_CHARS).collect();
    Some(format!("{}…", cut.trim_end()))
}

/// A search as answered: what the index searched, how many items it found,
/// and which page was asked for (only the first counts: paging is the same
/// search).
#[derive(Debug, Clone, Copy)]
pub struct Searched<'a> {
    pub searched: &'a str,
    pub total: usize,
    pub page: u32,
}

/// An isolate's unflushed counts: per (day, query) the searches and those
/// that found nothing.
#[derive(Debug, Default)]
pub struct Tally {
    pending: RefCell<HashMap<(String, String), (i64, i64)>>,
    last_flush_ms: Cell<i64>,
}

const UPSERT: &str = "INSERT INTO search_query_days (day, query, query_hash, searches, zero_results)
     VALUES (?1, ?2, ?3, ?4, ?5)
     ON CONFLICT (day, query) DO UPDATE SET searches = searches + excluded.searches,
       zero_results = zero_results + excluded.zero_results";

impl Tally {
    /// Counts a search (its first page only). Returns the search id its
    /// answer carries: `None` when it is not counted or found nothing (or
    /// without the pepper that signs ids).
    pub fn count(
        &self,
        pepper: Option<&Pepper>,
        ids: &impl IdSource,
        s: Searched<'_>,
        now: BeijingTime,
    ) -> ApiResult<Option<String>> {
        if s.page != 1 {
            return Ok(None);
        }
        let Some(key) = query_key(s.searched) else {
            return Ok(None);
        };
        let found = s.total > 0;
        let id = match pepper {
            Some(pepper) if found => Some(SearchId::issue(pepper, now.date(), &key, &ids.hex(NONCE_CHARS / 2)?)),
            _ => None,
        };
        self.add(now.date().to_string(), key, 1, i64::from(!found));
        Ok(id)
    }

    /// Adds to a buffered key; a new key past [`MAX_PENDING_KEYS`] is not
    /// counted until the next flush (a flood of distinct queries).
    fn add(&self, day: String, key: String, searches: i64, zero: i64) {
        let mut pending = self.pending.borrow_mut();
        let full = pending.len() >= MAX_PENDING_KEYS;
        let k = (day, key);
        match pending.get_mut(&k) {
            Some(e) => *e = (e.0 + searches, e.1 + zero),
            None if !full => {
                pending.insert(k, (searches, zero));
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
        self.pending
            .borrow_mut()
            .drain()
            .map(|((day, key), (n, zero))| {
                let hash = query_hash(&key);
                Stmt::new(UPSERT, vec![day.into(), key.into(), hash.into(), n.into(), zero.into()])
            })
            .collect()
    }

    /// Writes due counts; on failure they go back in the buffer for the next try.
    pub async fn flush(&self, db: &impl Db, now: BeijingTime) -> ApiResult<()> {
        let stmts = self.due(now);
        if stmts.is_empty() {
            return Ok(());
        }
        let Err(e) = db.batch(&stmts).await else { return Ok(()) };
        for s in stmts {
            if let [Value::Text(day), Value::Text(key), _, Value::Int(n), Value::Int(zero)] = s.params.as_slice() {
                self.add(day.clone(), key.clone(), *n, *zero);
            }
        }
        Err(e)
    }
}

/// The answer body with `"search_id"` as its first field (`null` when
/// there is none). The body is a JSON object rendered once and cached for
/// many citizens; the id is each request's own.
pub fn with_search_id(body: &str, search_id: Option<&str>) -> String {
    let value = serde_json::to_string(&search_id).unwrap_or_else(|_| "null".into());
    match body.strip_prefix('{') {
        Some(rest) if rest.trim_start().starts_with('}') => format!("{{\"search_id\":{value}}}"),
        Some(rest) => format!("{{\"search_id\":{value},{rest}"),
        None => body.to_owned(),
    }
}

/// The days a report covers, `YYYY-MM-DD`, both included.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Range {
    pub from: String,
    pub to: String,
}

/// A `YYYY-MM-DD` date as the Beijing midnight it starts with.
fn parse_day(field: &str, raw: &str) -> ApiResult<BeijingTime> {
    let bad = || ApiError::bad_field(field, format!("{field} 的格式应为 YYYY-MM-DD"));
    if raw.len() != 10 {
        return Err(bad());
    }
    BeijingTime::parse(&format!("{raw}T00:00:00+08:00")).map_err(|_| bad())
}

/// `from..=to` from the query: `to` defaults to today (Beijing), `from` to
/// [`DEFAULT_DAYS`] days ending with `to`; at most [`MAX_DAYS`] days.
pub fn range(from: Option<&str>, to: Option<&str>, now: BeijingTime) -> ApiResult<Range> {
    let to = match to {
        Some(raw) => parse_day("to", raw)?,
        None => parse_day("to", &now.date().to_string())?,
    };
    let from = match from {
        Some(raw) => parse_day("from", raw)?,
        None => to.plus_minutes(-(DEFAULT_DAYS - 1) * MINUTES_PER_DAY).unwrap_or(to),
    };
    let days = (to.to_utc() - from.to_utc()).num_days();
    if !(0..MAX_DAYS).contains(&days) {
        return Err(ApiError::bad_field("from,to", format!("日期范围应为1-{MAX_DAYS}天，且 from 不晚于 to")));
    }
    Ok(Range { from: from.date().to_string(), to: to.date().to_string() })
}

/// A query that found nothing, and how often.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct NoResult {
    pub query: String,
    pub searches: i64,
}

/// A query whose results were not opened: its searches with results, those
/// after which a guide was opened, and the share after which none was.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct NoClick {
    pub query: String,
    pub searches: i64,
    pub opened: i64,
    pub rate: f64,
}

/// `GET /v1/admin/search/analytics`.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Report {
    pub from: String,
    pub to: String,
    pub no_result: Vec<NoResult>,
    pub no_click: Vec<NoClick>,
}

#[derive(Deserialize)]
struct ClickRow {
    query: String,
    searches: i64,
    opened: i64,
}

/// The share of `searches` after which no guide was opened, to 3 decimals.
fn no_click_rate(searches: i64, opened: i64) -> f64 {
    if searches <= 0 {
        return 0.0;
    }
    let share = (searches - opened).max(0) as f64 / searches as f64;
    (share * 1000.0).round() / 1000.0
}

/// The top `limit` queries without a result, and the top `limit` by searches
/// after which no guide was opened, over `range`.
pub async fn report(db: &impl Db, range: &Range, limit: u32) -> ApiResult<Report> {
    let args = [range.from.as_str().into(), range.to.as_str().into(), i64::from(limit).into()];
    let no_result: Vec<NoResult> = db
        .query_as(
            "SELECT query, SUM(zero_results) AS searches FROM search_query_days
              WHERE day >= ?1 AND day <= ?2 GROUP BY query HAVING SUM(zero_results) > 0
              ORDER BY searches DESC, query LIMIT ?3",
            &args,
        )
        .await?;
    // A guide opened from a search is counted under the search's day and
    // the query's hash; never more than the searches with results.
    let rows: Vec<ClickRow> = db
        .query_as(
            "SELECT query, SUM(searches) AS searches, SUM(opened) AS opened FROM (
               SELECT q.query, q.searches - q.zero_results AS searches,
                      MIN(COALESCE(o.opened, 0), q.searches - q.zero_results) AS opened
                 FROM search_query_days q
                 LEFT JOIN search_opened_days o ON o.day = q.day AND o.query_hash = q.query_hash
                WHERE q.day >= ?1 AND q.day <= ?2)
             GROUP BY query HAVING SUM(searches) > SUM(opened)
             ORDER BY SUM(searches) - SUM(opened) DESC, SUM(searches) DESC, query LIMIT ?3",
            &args,
        )
        .await?;
    let no_click = rows
        .into_iter()
        .map(|r| NoClick {
            rate: no_click_rate(r.searches, r.opened),
            query: r.query,
            searches: r.searches,
            opened: r.opened,
        })
        .collect();
    Ok(Report { from: range.from.clone(), to: range.to.clone(), no_result, no_click })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phone_id_and_long_numbers_look_personal_words_and_short_numbers_do_not() {
        for q in
            ["13812345678", "138 1234 5678", "86 13812345678", "330782199001011234", "33078219900101123x", "20261001"]
        {
            assert!(looks_personal(q), "{q}");
        }
        for q in ["水费", "2026年 社保", "12345 热线", "shuifei", "第3代 社保卡"] {
            assert!(!looks_personal(q), "{q}");
        }
    }

    #[test]
    fn keys_are_trimmed_capped_and_never_personal() {
        assert_eq!(query_key("  水费 ").as_deref(), Some("水费"));
        assert_eq!(query_key(""), None);
        assert_eq!(query_key("我的手机 13812345678"), None);
        let long = "我想问一下在哪里可以办理退休以后的医保转移手续呢";
        let key = query_key(long).unwrap_or_default();
        assert_eq!(key.chars().count(), MAX_KEY_CHARS + 1);
        assert!(key.ends_with('…') && long.starts_with(key.trim_end_matches('…')));
    }

    #[test]
    fn the_search_id_is_the_first_field_of_the_cached_body() {
        let body = r#"{"query":"水费","total":1}"#;
        let with = with_search_id(body, Some("ab12"));
        assert_eq!(with, r#"{"search_id":"ab12","query":"水费","total":1}"#);
        let parsed: serde_json::Value = serde_json::from_str(&with_search_id(body, None)).unwrap_or_default();
        assert_eq!(parsed["search_id"], serde_json::Value::Null);
        assert_eq!(parsed["total"], 1);
        assert_eq!(with_search_id("{}", None), r#"{"search_id":null}"#);
    }

    #[test]
    fn the_rate_is_the_share_not_opened() {
        assert!((no_click_rate(3, 1) - 0.667).abs() < 1e-9);
        assert!((no_click_rate(4, 0) - 1.0).abs() < 1e-9);
        assert!(no_click_rate(0, 0).abs() < 1e-9);
    }
}
