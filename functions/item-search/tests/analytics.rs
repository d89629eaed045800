//! 搜索分析 over real SQLite: searches buffered per isolate and counted per
//! day and query inside the write, no personal data stored, a followed
//! search is not a no-click, days roll, a failed write loses nothing.

#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use futures_executor::block_on;
use item_search::analytics::{self, NoClick, NoResult, Range, Report, Searched, Tally};
use item_search::index::Index;
use item_search::query::{self, Params};
use shared::ErrorCode;
use shared::admin::{Principal, Role};
use shared::catalogue::import;
use shared::catalogue::search_id::{SearchId, query_hash};
use shared::crypto::Pepper;
use shared::runtime::SeqIds;
use shared::store::{Db, MemoryKv, SqliteDb};
use shared::testing::{Interleaved, at, hall, item};
use shared::types::BeijingTime;

const UPSERT: &str = "INSERT INTO search_query_days (day, query, query_hash, searches, zero_results)
     VALUES (?1, ?2, ?3, ?4, ?5)
     ON CONFLICT (day, query) DO UPDATE SET searches = searches + excluded.searches,
       zero_results = zero_results + excluded.zero_results";

fn now() -> BeijingTime {
    at("2026-11-23T10:00:00+08:00")
}

fn pepper() -> Pepper {
    Pepper::new("test-pepper")
}

thread_local! {
    static IDS: SeqIds = SeqIds::default();
}

/// One search through an isolate's tally; its id.
fn search(t: &Tally, searched: &str, total: usize, when: BeijingTime) -> Option<String> {
    IDS.with(|ids| t.count(Some(&pepper()), ids, Searched { searched, total, page: 1 }, when)).unwrap()
}

/// Writes what the tally holds (a flush a second after the last one).
fn flush(t: &Tally, db: &impl Db, when: BeijingTime) {
    block_on(t.flush(db, when.plus_minutes(1).unwrap())).unwrap();
}

/// What guide-detail's `followed::mark` leaves when a guide is opened with
/// `?sid=` (its own tests check the once-per-id rule; the two workers
/// together: tests/e2e/search-analytics.test.mjs).
fn open(db: &SqliteDb, sid: &str) {
    let id = SearchId::verify(&pepper(), sid).unwrap();
    block_on(db.execute(
        "INSERT INTO search_opened_days (day, query_hash, opened) VALUES (?1, ?2, 1)
         ON CONFLICT (day, query_hash) DO UPDATE SET opened = opened + 1",
        &[id.day.to_string().into(), id.query_hash.into()],
    ))
    .unwrap();
}

fn report(db: &impl Db, from: &str, to: &str) -> Report {
    block_on(analytics::report(db, &Range { from: from.into(), to: to.into() }, 20)).unwrap()
}

fn count(db: &SqliteDb, table: &str) -> i64 {
    let rows = block_on(db.query(&format!("SELECT COUNT(*) AS n FROM {table}"), &[])).unwrap();
    rows[0]["n"].as_i64().unwrap()
}

#[test]
fn two_isolates_and_an_interleaved_write_of_one_query_are_all_counted() {
    // Another isolate's counts of the same query commit between this
    // isolate's buffering and its write: the upsert adds to them.
    let db = Interleaved::new(
        SqliteDb::migrated().unwrap(),
        UPSERT,
        vec!["2026-11-23".into(), "独生子女证".into(), query_hash("独生子女证").into(), 2_i64.into(), 2_i64.into()],
    );
    let (a, b) = (Tally::default(), Tally::default());
    assert_eq!(search(&a, "独生子女证", 0, now()), None, "nothing found: nothing to follow");
    assert_eq!(search(&b, "独生子女证", 0, now()), None);
    let sid = search(&a, "水费", 3, now()).unwrap();
    assert_eq!(sid.len(), 56);
    flush(&a, &db, now());
    flush(&b, &db, now());
    let r = report(&db, "2026-11-23", "2026-11-23");
    assert_eq!(r.no_result, vec![NoResult { query: "独生子女证".into(), searches: 4 }]);
    assert_eq!(r.no_click, vec![NoClick { query: "水费".into(), searches: 1, opened: 0, rate: 1.0 }]);
}

#[test]
fn counts_are_written_at_most_once_a_second_and_a_failed_write_keeps_them() {
    let db = SqliteDb::migrated().unwrap();
    let t = Tally::default();
    search(&t, "水费", 1, now());
    block_on(t.flush(&db, now())).unwrap();
    assert_eq!(count(&db, "search_query_days"), 1, "the first flush writes");
    search(&t, "水费", 1, now());
    block_on(t.flush(&db, now())).unwrap();
    assert_eq!(report(&db, "2026-11-23", "2026-11-23").no_click[0].searches, 1, "not yet: within the second");
    db.break_storage(true);
    assert!(block_on(t.flush(&db, now().plus_minutes(1).unwrap())).is_err());
    db.break_storage(false);
    search(&t, "水费", 1, now());
    flush(&t, &db, now().plus_minutes(1).unwrap());
    assert_eq!(report(&db, "2026-11-23", "2026-11-23").no_click[0].searches, 3, "nothing lost to the failed write");
}

#[test]
fn a_search_followed_by_a_guide_is_not_a_no_click() {
    let db = SqliteDb::migrated().unwrap();
    let t = Tally::default();
    let followed = search(&t, "水费", 5, now()).unwrap();
    let unopened = search(&t, "水费", 5, now()).unwrap();
    let opened_alone = search(&t, "公积金", 2, now()).unwrap();
    assert_ne!(followed, unopened, "each search has its own id");
    flush(&t, &db, now());
    open(&db, &followed);
    open(&db, &opened_alone);
    let r = report(&db, "2026-11-23", "2026-11-23");
    assert_eq!(r.no_click, vec![NoClick { query: "水费".into(), searches: 2, opened: 1, rate: 0.5 }]);
    assert!(r.no_result.is_empty());
    assert!(!r.no_click.iter().any(|c| c.query == "公积金"), "every 公积金 search was followed");
    // Opens counted before the searches are written never make more than the searches.
    open(&db, &opened_alone);
    assert!(!report(&db, "2026-11-23", "2026-11-23").no_click.iter().any(|c| c.query == "公积金"));
}

#[test]
fn without_the_pepper_searches_are_counted_but_carry_no_id() {
    let db = SqliteDb::migrated().unwrap();
    let t = Tally::default();
    let id = t.count(None, &SeqIds::default(), Searched { searched: "水费", total: 3, page: 1 }, now()).unwrap();
    assert_eq!(id, None);
    flush(&t, &db, now());
    assert_eq!(report(&db, "2026-11-23", "2026-11-23").no_click[0].searches, 1);
}

#[test]
fn personal_looking_queries_are_never_stored_and_long_ones_are_cut() {
    let db = SqliteDb::migrated().unwrap();
    let t = Tally::default();
    for q in ["我的手机 13812345678", "138 1234 5678", "330782199001011234 社保", "水费 户号 20261001"] {
        assert_eq!(search(&t, q, 0, now()), None, "{q}");
        assert_eq!(search(&t, q, 4, now()), None, "{q}");
    }
    flush(&t, &db, now());
    assert_eq!(count(&db, "search_query_days"), 0);
    let long = "请问退休以后医保关系转移到外地需要准备哪些材料去哪里办";
    search(&t, long, 0, now());
    flush(&t, &db, now().plus_minutes(2).unwrap());
    let r = report(&db, "2026-11-23", "2026-11-23");
    assert_eq!(r.no_result.len(), 1);
    assert_eq!(r.no_result[0].query, "请问退休以后医保关系转移到外地需要准备哪…");
    let stored = format!("{:?}", block_on(db.query("SELECT * FROM search_query_days", &[])).unwrap());
    assert!(!stored.contains("材料去哪里办"), "{stored}");
}

#[test]
fn later_pages_and_empty_queries_are_not_new_searches() {
    let db = SqliteDb::migrated().unwrap();
    let t = Tally::default();
    let page2 = t.count(Some(&pepper()), &SeqIds::default(), Searched { searched: "证", total: 40, page: 2 }, now());
    assert_eq!(page2.unwrap(), None);
    assert_eq!(search(&t, "  ", 100, now()), None, "browsing the catalogue is not a search");
    flush(&t, &db, now());
    assert_eq!(count(&db, "search_query_days"), 0);
}

#[test]
fn days_roll_at_beijing_midnight_and_a_follow_counts_for_the_day_of_its_search() {
    let db = SqliteDb::migrated().unwrap();
    let t = Tally::default();
    let late = search(&t, "护照", 2, at("2026-11-22T23:59:00+08:00")).unwrap();
    search(&t, "护照", 2, at("2026-11-23T00:01:00+08:00")).unwrap();
    flush(&t, &db, now());
    // 23:59 and 00:01 are two days; a guide opened after midnight still
    // counts for the day of its search.
    open(&db, &late);
    assert_eq!(report(&db, "2026-11-22", "2026-11-22").no_click, vec![]);
    let today = report(&db, "2026-11-23", "2026-11-23");
    assert_eq!(today.no_click, vec![NoClick { query: "护照".into(), searches: 1, opened: 0, rate: 1.0 }]);
    let both = report(&db, "2026-11-22", "2026-11-23");
    assert_eq!(both.no_click, vec![NoClick { query: "护照".into(), searches: 2, opened: 1, rate: 0.5 }]);
}

#[test]
fn the_report_lists_the_most_frequent_first_within_the_limit() {
    let db = SqliteDb::migrated().unwrap();
    let t = Tally::default();
    for (q, n) in [("甲", 1), ("乙", 3), ("丙", 2)] {
        for _ in 0..n {
            search(&t, q, 0, now());
        }
    }
    flush(&t, &db, now());
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
fn what_is_counted_is_the_text_the_index_searched() {
    let db = SqliteDb::migrated().unwrap();
    let pay = item("91440300708461136T4000172009012", "水费缴费", &["H1"], &[]);
    let body =
        serde_json::from_value(serde_json::json!({"items": [pay], "halls": [hall("H1", 29.3, 120.07)]})).unwrap();
    let who = Principal { token_id: "t".into(), name: "n".into(), roles: vec![Role::CatalogueEditor] };
    block_on(import::apply(&db, &MemoryKv::default(), body, &who, now(), "r")).unwrap();
    let index = block_on(Index::load(&db)).unwrap();
    let t = Tally::default();
    let ask =
        |q: &str| query::search(&index, &Params { q: q.into(), page: 1, size: 10, ..Default::default() }).unwrap();
    let (found, missed) = (ask("请问水费在哪里"), ask("完全无关"));
    assert!(found.total > 0 && missed.total == 0);
    assert_eq!(found.searched, "水费", "stop words are dropped before counting");
    for a in [&found, &missed] {
        search(&t, &a.searched, a.total, now());
    }
    flush(&t, &db, now());
    let r = report(&db, "2026-11-23", "2026-11-23");
    assert_eq!(r.no_click.iter().map(|c| c.query.as_str()).collect::<Vec<_>>(), ["水费"]);
    assert_eq!(r.no_result.iter().map(|c| c.query.as_str()).collect::<Vec<_>>(), [missed.searched.as_str()]);
}

#[test]
fn a_flood_of_distinct_queries_buffers_at_most_the_bound_until_the_next_flush() {
    use shared::catalogue::hot::MAX_PENDING_KEYS;
    let db = SqliteDb::migrated().unwrap();
    let t = Tally::default();
    search(&t, "水费", 0, now());
    for i in 0..MAX_PENDING_KEYS + 500 {
        search(&t, &format!("查询{i}"), 0, now());
    }
    search(&t, "水费", 0, now());
    flush(&t, &db, now());
    assert_eq!(count(&db, "search_query_days") as usize, MAX_PENDING_KEYS, "one batch of at most the bound");
    let r = report(&db, "2026-11-23", "2026-11-23");
    assert_eq!(
        r.no_result.iter().find(|x| x.query == "水费").map(|x| x.searches),
        Some(2),
        "a buffered key still counts"
    );
    search(&t, "查询2400", 0, now().plus_minutes(2).unwrap());
    flush(&t, &db, now().plus_minutes(2).unwrap());
    assert_eq!(count(&db, "search_query_days") as usize, MAX_PENDING_KEYS + 1, "counted again after the flush");
}
