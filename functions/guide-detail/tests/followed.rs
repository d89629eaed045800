//! A guide opened from a search marks that search followed, once, over real
//! SQLite (item-search writes the rows; its tests/analytics.rs and
//! tests/e2e/search-analytics.test.mjs cover the two workers together).

#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use futures_executor::block_on;
use guide_detail::followed;
use shared::store::{Db, SqliteDb};
use shared::testing::Interleaved;

const SID: &str = "0a0b0c0d0e0f101112131415";

/// One search of 水费 on 2026-11-23 with results, as item-search records it.
fn searched() -> SqliteDb {
    let db = SqliteDb::migrated().unwrap();
    block_on(db.execute(
        "INSERT INTO search_query_days (day, query, searches, zero_results) VALUES ('2026-11-23', '水费', 2, 0)",
        &[],
    ))
    .unwrap();
    block_on(
        db.execute("INSERT INTO search_outcomes (id, day, query) VALUES (?1, '2026-11-23', '水费')", &[SID.into()]),
    )
    .unwrap();
    db
}

fn opened(db: &impl Db) -> i64 {
    let rows = block_on(db.query("SELECT opened FROM search_query_days WHERE query = '水费'", &[])).unwrap();
    rows[0]["opened"].as_i64().unwrap()
}

#[test]
fn the_first_guide_opened_from_a_search_marks_it_and_later_ones_do_not() {
    let db = searched();
    assert!(block_on(followed::mark(&db, SID)).unwrap());
    assert!(!block_on(followed::mark(&db, SID)).unwrap(), "a second guide from the same search");
    assert_eq!(opened(&db), 1);
}

#[test]
fn an_unknown_or_expired_search_id_changes_nothing() {
    let db = searched();
    assert!(!block_on(followed::mark(&db, "ffffffffffffffffffffffff")).unwrap());
    block_on(db.execute("DELETE FROM search_outcomes", &[])).unwrap();
    assert!(!block_on(followed::mark(&db, SID)).unwrap());
    assert_eq!(opened(&db), 0);
}

#[test]
fn two_opens_of_one_search_at_once_count_it_once() {
    // Another isolate's open of the same search commits just before this
    // one's batch (its count first, then its mark): this one finds the search
    // already marked and adds nothing.
    let inner = searched();
    block_on(inner.execute("UPDATE search_query_days SET opened = opened + 1 WHERE query = '水费'", &[])).unwrap();
    let db = Interleaved::new(inner, "UPDATE search_outcomes SET opened = 1 WHERE id = ?1", vec![SID.into()]);
    assert!(!block_on(followed::mark(&db, SID)).unwrap());
    assert_eq!(opened(&db), 1);
}

#[test]
fn a_failed_mark_is_an_error_the_guide_ignores() {
    let db = searched();
    db.break_storage(true);
    assert!(block_on(followed::mark(&db, SID)).is_err());
    db.break_storage(false);
    assert_eq!(opened(&db), 0);
}
