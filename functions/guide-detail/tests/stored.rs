//! The stored item in its input shape: what was imported comes back, also
//! once withdrawn, and a valid import row again.

#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use futures_executor::block_on;
use guide_detail::stored::stored_item;
use shared::admin::{Principal, Role};
use shared::catalogue::import;
use shared::store::{Db, MemoryKv, SqliteDb};
use shared::testing::{hall, item, now};

const CODE: &str = "91440300708461136T4000172009002";
const OTHER: &str = "91440300708461136T4000172009003";

fn seeded() -> (SqliteDb, serde_json::Value) {
    let db = SqliteDb::migrated().unwrap();
    let mine = item(CODE, "个人客户接水申请", &["H2", "H1"], &[OTHER]);
    let body = serde_json::from_value(serde_json::json!({
        "items": [mine.clone(), item(OTHER, "水表过户", &["H1"], &[])],
        "halls": [hall("H1", 29.3, 120.07), hall("H2", 29.31, 120.08)],
    }))
    .unwrap();
    let who = Principal { token_id: "t".into(), name: "n".into(), roles: vec![Role::CatalogueReviewer] };
    block_on(import::apply(&db, &MemoryKv::default(), body, &who, now(), "r")).unwrap();
    (db, mine)
}

#[test]
fn the_stored_item_reads_back_as_it_was_imported_with_halls_in_code_order() {
    let (db, sent) = seeded();
    let got = block_on(stored_item(&db, CODE)).unwrap().unwrap();
    assert_eq!(got["name"], "个人客户接水申请");
    assert_eq!(got["halls"], serde_json::json!(["H1", "H2"]));
    assert_eq!(got["related"], serde_json::json!([OTHER]));
    assert_eq!(got["materials"][1]["sample_url"], "https://x.cn/s.pdf");
    assert_eq!(got["materials"][0]["blank_url"], serde_json::Value::Null);
    assert_eq!(got["guide"]["scope"], sent["guide"]["scope"]);
    assert_eq!(got["online"], sent["online"]);
    // It is a valid import row again (what the editor saves back as a draft).
    let known = block_on(import::Known::load(&db)).unwrap();
    assert!(import::validate_item(got, &known).is_ok());
}

#[test]
fn a_withdrawn_item_still_reads_and_an_unknown_one_is_none() {
    let (db, _) = seeded();
    block_on(db.execute("UPDATE items SET status = 'withdrawn' WHERE code = ?1", &[CODE.into()])).unwrap();
    assert_eq!(block_on(stored_item(&db, CODE)).unwrap().unwrap()["code"], CODE);
    assert!(block_on(stored_item(&db, "91440300708461136T4000172009099")).unwrap().is_none());
}

#[test]
fn a_broken_store_is_an_error_not_an_empty_answer() {
    let (db, _) = seeded();
    db.break_storage(true);
    assert!(block_on(stored_item(&db, CODE)).is_err());
}
