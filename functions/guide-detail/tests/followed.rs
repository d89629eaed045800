//! A guide opened from a search counts that search followed, once per search
//! id, over real SQLite (item-search writes the day's counts and signs the
//! ids; its tests/analytics.rs and tests/e2e/search-analytics.test.mjs cover
//! the two workers together).

#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use chrono::NaiveDate;
use futures_executor::block_on;
use guide_detail::followed;
use shared::catalogue::search_id::{KEEP_DAYS, PURGE_PER_FOLLOW, SearchId, query_hash};
use shared::crypto::Pepper;
use shared::store::{Db, SqliteDb};
use shared::testing::{Interleaved, at};
use shared::types::BeijingTime;

fn now() -> BeijingTime {
    at("2026-11-23T10:00:00+08:00")
}

fn day() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 23).unwrap()
}

/// A search of 水费 today with the given nonce, as a guide request carries it.
fn sid(nonce: &str) -> SearchId {
    let pepper = Pepper::new("p");
    followed::search_id(&pepper, Some(&SearchId::issue(&pepper, day(), "水费", nonce)), now()).unwrap()
}

fn opened(db: &impl Db) -> i64 {
    let rows = block_on(db.query(
        "SELECT opened FROM search_opened_days WHERE day = '2026-11-23' AND query_hash = ?1",
        &[query_hash("水费").into()],
    ))
    .unwrap();
    rows.first().map_or(0, |r| r["opened"].as_i64().unwrap())
}

#[test]
fn the_first_guide_opened_from_a_search_counts_and_later_ones_do_not() {
    let db = SqliteDb::migrated().unwrap();
    let (a, b) = (sid("00000000000000aa"), sid("00000000000000bb"));
    assert!(block_on(followed::mark(&db, &a, now())).unwrap());
    assert!(!block_on(followed::mark(&db, &a, now())).unwrap(), "a second guide from the same search");
    assert!(block_on(followed::mark(&db, &b, now())).unwrap(), "another search of the same query");
    assert_eq!(opened(&db), 2);
}

#[test]
fn two_opens_of_one_search_at_once_count_it_once() {
    // Another isolate's open of the same search commits just before this
    // one's batch: this one finds the id recorded and adds nothing.
    let inner = SqliteDb::migrated().unwrap();
    block_on(inner.execute(
        "INSERT INTO search_opened_days (day, query_hash, opened) VALUES ('2026-11-23', ?1, 1)",
        &[query_hash("水费").into()],
    ))
    .unwrap();
    let db = Interleaved::new(
        inner,
        "INSERT INTO search_follows (id, day) VALUES (?1, ?2)",
        vec!["2026112300000000000000aa".into(), "2026-11-23".into()],
    );
    assert!(!block_on(followed::mark(&db, &sid("00000000000000aa"), now())).unwrap());
    assert_eq!(opened(&db), 1);
}

#[test]
fn expired_follows_are_purged_a_few_at_a_time() {
    let db = SqliteDb::migrated().unwrap();
    for i in 0..10 {
        block_on(
            db.execute("INSERT INTO search_follows (id, day) VALUES (?1, '2026-11-19')", &[format!("old{i}").into()]),
        )
        .unwrap();
    }
    block_on(followed::mark(&db, &sid("00000000000000cc"), now())).unwrap();
    let left = block_on(db.query("SELECT COUNT(*) AS n FROM search_follows WHERE day = '2026-11-19'", &[])).unwrap();
    assert_eq!(left[0]["n"].as_i64().unwrap(), 10 - PURGE_PER_FOLLOW);
    const { assert!(KEEP_DAYS < 4, "the 19th is past keeping on the 23rd") };
}

#[test]
fn a_failed_mark_is_an_error_the_guide_ignores() {
    let db = SqliteDb::migrated().unwrap();
    db.break_storage(true);
    assert!(block_on(followed::mark(&db, &sid("00000000000000dd"), now())).is_err());
    db.break_storage(false);
    assert_eq!(opened(&db), 0);
}
