//! 搜索分析 over real SQLite: searches counted per day and query inside the
//! write, no personal data stored, a followed search is not a no-click, days
//! roll and expired search rows are purged a few at a time.

#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use futures_executor::block_on;
use item_search::analytics::{self, KEEP_DAYS, NoClick, NoResult, PURGE_PER_SEARCH, Range, Report, Searched};
use item_search::index::Index;
use item_search::query::{self, Params};
use shared::ErrorCode;
use shared::admin::{Principal, Role};
use shared::catalogue::import;
use shared::runtime::SeqIds;
use shared::store::{Db, MemoryKv, SqliteDb};
use shared::testing::{Interleaved, at, hall, item};
use shared::types::BeijingTime;

const UPSERT: &str = "INSERT INTO search_query_days (day, query, searches, zero_results) VALUES (?1, ?2, 1, ?3)
     ON CONFLICT (day, query) DO UPDATE SET searches = searches + 1, zero_results = zero_results + excluded.zero_results";

fn now() -> BeijingTime {
    at("2026-11-23T10:00:00+08:00")
}

fn search(db: &impl Db, ids: &SeqIds, searched: &str, total: usize, when: BeijingTime) -> Option<String> {
    block_on(analytics::record(db, ids, Searched { searched, total, page: 1 }, when)).unwrap()
}

/// What guide-detail's `followed::mark` runs when a guide is opened with
/// `?sid=` (the two workers together: tests/e2e/search-analytics.test.mjs).
fn open(db: &SqliteDb, sid: &str) {
    block_on(db.batch(&[
        shared::store::Stmt::new(
            "UPDATE search_query_days SET opened = opened + 1
              WHERE day = (SELECT day FROM search_outcomes WHERE id = ?1 AND opened = 0)
                AND query = (SELECT query FROM search_outcomes WHERE id = ?1 AND opened = 0)",
            vec![sid.into()],
        ),
        shared::store::Stmt::new(
            "UPDATE search_outcomes SET opened = 1 WHERE id = ?1 AND opened = 0",
            vec![sid.into()],
        ),
    ]))
    .unwrap();
}

fn report(db: &impl Db, from: &str, to: &str) -> Report {
    block_on(analytics::report(db, &Range { from: from.into(), to: to.into() }, 20)).unwrap()
}

fn count(db: &SqliteDb, table: &str) -> i64 {
    let rows = block_on(db.query(&format!("SELECT COUNT(*) AS n FROM {table}"), &[])).unwrap();
    rows[0]["n"].as_i64().unwrap()
}

fn all_text(db: &SqliteDb) -> String {
    let a = block_on(db.query("SELECT * FROM search_query_days", &[])).unwrap();
    let b = block_on(db.query("SELECT * FROM search_outcomes", &[])).unwrap();
    format!("{a:?}{b:?}")
}

#[test]
fn two_interleaved_searches_of_one_query_are_both_counted() {
    // Another isolate's search of the same query commits between this
    // search's answer and its write: the upsert adds to it, nothing is lost.
    let db = Interleaved::new(
        SqliteDb::migrated().unwrap(),
        UPSERT,
        vec!["2026-11-23".into(), "独生子女证".into(), 1_i64.into()],
    );
    let ids = SeqIds::default();
    assert_eq!(search(&db, &ids, "独生子女证", 0, now()), None, "nothing found: nothing to follow");
    let sid = search(&db, &ids, "水费", 3, now()).unwrap();
    assert_eq!(sid.len(), 24);
    let r = report(&db, "2026-11-23", "2026-11-23");
    assert_eq!(r.no_result, vec![NoResult { query: "独生子女证".into(), searches: 2 }]);
    assert_eq!(r.no_click, vec![NoClick { query: "水费".into(), searches: 1, opened: 0, rate: 1.0 }]);
}

#[test]
fn a_search_followed_by_a_guide_is_not_a_no_click_and_only_its_first_guide_counts() {
    let db = SqliteDb::migrated().unwrap();
    let ids = SeqIds::default();
    let followed = search(&db, &ids, "水费", 5, now()).unwrap();
    let unopened = search(&db, &ids, "水费", 5, now()).unwrap();
    let opened_alone = search(&db, &ids, "公积金", 2, now()).unwrap();
    assert_ne!(followed, unopened, "each search has its own id");
    open(&db, &followed);
    open(&db, &followed);
    open(&db, &opened_alone);
    open(&db, "ffffffffffffffffffffffff");
    let r = report(&db, "2026-11-23", "2026-11-23");
    assert_eq!(r.no_click, vec![NoClick { query: "水费".into(), searches: 2, opened: 1, rate: 0.5 }]);
    assert!(r.no_result.is_empty());
    assert!(!r.no_click.iter().any(|c| c.query == "公积金"), "every 公积金 search was followed");
}

#[test]
fn personal_looking_queries_are_never_stored_and_long_ones_are_cut() {
    let db = SqliteDb::migrated().unwrap();
    let ids = SeqIds::default();
    for q in ["我的手机 13812345678", "138 1234 5678", "330782199001011234 社保", "水费 户号 20261001"] {
        assert_eq!(search(&db, &ids, q, 0, now()), None, "{q}");
        assert_eq!(search(&db, &ids, q, 4, now()), None, "{q}");
    }
    assert_eq!(count(&db, "search_query_days"), 0);
    assert_eq!(count(&db, "search_outcomes"), 0);
    let long = "请问退休以后医保关系转移到外地需要准备哪些材料去哪里办";
    search(&db, &ids, long, 0, now());
    let r = report(&db, "2026-11-23", "2026-11-23");
    assert_eq!(r.no_result.len(), 1);
    assert_eq!(r.no_result[0].query, "请问退休以后医保关系转移到外地需要准备哪…");
    let stored = all_text(&db);
    assert!(!stored.contains("材料去哪里办"), "{stored}");
}

#[test]
fn later_pages_and_empty_queries_are_not_new_searches() {
    let db = SqliteDb::migrated().unwrap();
    let ids = SeqIds::default();
    let page2 = block_on(analytics::record(&db, &ids, Searched { searched: "证", total: 40, page: 2 }, now())).unwrap();
    assert_eq!(page2, None);
    assert_eq!(search(&db, &ids, "  ", 100, now()), None, "browsing the catalogue is not a search");
    assert_eq!(count(&db, "search_query_days"), 0);
}

#[test]
fn days_roll_at_beijing_midnight_and_expired_searches_are_purged_a_few_at_a_time() {
    let db = SqliteDb::migrated().unwrap();
    let ids = SeqIds::default();
    let late = search(&db, &ids, "护照", 2, at("2026-11-22T23:59:00+08:00")).unwrap();
    search(&db, &ids, "护照", 2, at("2026-11-23T00:01:00+08:00")).unwrap();
    // 23:59 and 00:01 are two days; a guide opened after midnight still
    // counts for the day of its search.
    open(&db, &late);
    assert_eq!(report(&db, "2026-11-22", "2026-11-22").no_click, vec![]);
    let today = report(&db, "2026-11-23", "2026-11-23");
    assert_eq!(today.no_click, vec![NoClick { query: "护照".into(), searches: 1, opened: 0, rate: 1.0 }]);
    let both = report(&db, "2026-11-22", "2026-11-23");
    assert_eq!(both.no_click, vec![NoClick { query: "护照".into(), searches: 2, opened: 1, rate: 0.5 }]);

    // Ten more searches on the 22nd; on the 24th all 12 rows are still
    // linkable, on the 25th those of the 22nd have expired: each new search
    // deletes at most PURGE_PER_SEARCH of them.
    for _ in 0..10 {
        search(&db, &ids, "社保", 1, at("2026-11-22T12:00:00+08:00"));
    }
    search(&db, &ids, "社保", 1, at("2026-11-24T09:00:00+08:00"));
    assert_eq!(count(&db, "search_outcomes"), 13);
    let expired_day = at("2026-11-22T12:00:00+08:00").plus_minutes(KEEP_DAYS * 24 * 60).unwrap();
    search(&db, &ids, "社保", 1, expired_day);
    assert_eq!(count(&db, "search_outcomes"), 14 - PURGE_PER_SEARCH);
    for _ in 0..3 {
        search(&db, &ids, "社保", 1, expired_day);
    }
    let old = block_on(db.query("SELECT id FROM search_outcomes WHERE day = '2026-11-22'", &[])).unwrap();
    assert!(old.is_empty(), "every row of the 22nd is gone");
    // The daily counts stay: only the linking rows expire.
    let r = report(&db, "2026-11-22", "2026-11-22");
    assert_eq!(r.no_click.iter().find(|c| c.query == "社保").map(|c| c.searches), Some(10));
}

#[test]
fn the_report_lists_the_most_frequent_first_within_the_limit() {
    let db = SqliteDb::migrated().unwrap();
    let ids = SeqIds::default();
    for (q, n) in [("甲", 1), ("乙", 3), ("丙", 2)] {
        for _ in 0..n {
            search(&db, &ids, q, 0, now());
        }
    }
    let r = block_on(analytics::report(&db, &Range { from: "2026-11-23".into(), to: "2026-11-23".into() }, 2)).unwrap();
    let top: Vec<_> = r.no_result.iter().map(|x| (x.query.as_str(), x.searches)).collect();
    assert_eq!(top, [("乙", 3), ("丙", 2)]);
}

#[test]
fn the_range_defaults_to_the_last_seven_days_and_refuses_reversed_or_long_ones() {
    let r = analytics::range(None, None, now()).unwrap();
    assert_eq!(r, Range { from: "2026-11-17".into(), to: "2026-11-23".into() });
    let r = analytics::range(Some("2026-11-01"), Some("2026-11-30"), now()).unwrap();
    assert_eq!((r.from.as_str(), r.to.as_str()), ("2026-11-01", "2026-11-30"));
    for (from, to) in [("2026-11-30", "2026-11-01"), ("2026-01-01", "2026-11-30"), ("2026-11-31", "2026-11-30")] {
        let err = analytics::range(Some(from), Some(to), now()).unwrap_err();
        assert_eq!(err.code, ErrorCode::BadRequest, "{from}..{to}");
    }
    assert!(analytics::range(Some("2026-11-1"), None, now()).is_err());
}

#[test]
fn a_broken_database_fails_the_count_not_silently_succeeds() {
    let db = SqliteDb::migrated().unwrap();
    db.break_storage(true);
    let r =
        block_on(analytics::record(&db, &SeqIds::default(), Searched { searched: "水费", total: 1, page: 1 }, now()));
    assert!(r.is_err(), "the edge then answers without a search id");
}

#[test]
fn what_is_counted_is_the_text_the_index_searched() {
    let db = SqliteDb::migrated().unwrap();
    let pay = item("91440300708461136T4000172009012", "水费缴费", &["H1"], &[]);
    let body =
        serde_json::from_value(serde_json::json!({"items": [pay], "halls": [hall("H1", 29.3, 120.07)]})).unwrap();
    let who = Principal { token_id: "t".into(), name: "n".into(), roles: vec![Role::CatalogueEditor] };
    block_on(import::apply(&db, &MemoryKv::default(), body, &who, now(), "r")).unwrap();
    let index = block_on(Index::load(&db)).unwrap();
    let ids = SeqIds::default();
    let ask =
        |q: &str| query::search(&index, &Params { q: q.into(), page: 1, size: 10, ..Default::default() }).unwrap();
    let (found, missed) = (ask("请问水费在哪里"), ask("完全无关"));
    assert!(found.total > 0 && missed.total == 0);
    assert_eq!(found.searched, "水费", "stop words are dropped before counting");
    for a in [&found, &missed] {
        search(&db, &ids, &a.searched, a.total, now());
    }
    let r = report(&db, "2026-11-23", "2026-11-23");
    assert_eq!(r.no_click.iter().map(|c| c.query.as_str()).collect::<Vec<_>>(), ["水费"]);
    assert_eq!(r.no_result.iter().map(|c| c.query.as_str()).collect::<Vec<_>>(), [missed.searched.as_str()]);
}
