//! The guide cache: plain Rust over real SQLite and an in-memory KV.

#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use futures_executor::block_on;
use guide_detail::service::{self, Caches, Rendered};
use shared::ErrorCode;
use shared::admin::{Principal, Role};
use shared::catalogue::{import, repo};
use shared::store::{HotCache, Kv, MemoryKv, SqliteDb};
use shared::testing::{hall, item};
use shared::types::BeijingTime;

const CODE: &str = "91440300708461136T4000172009002";

fn seeded() -> (SqliteDb, MemoryKv) {
    let (db, kv) = (SqliteDb::migrated().unwrap(), MemoryKv::default());
    load(&db, &kv, "个人客户接水申请");
    (db, kv)
}

fn caches<'a>(kv: &'a MemoryKv, hot: &'a HotCache<Rendered>, now_ms: i64) -> Caches<'a, MemoryKv> {
    Caches { kv, hot, now_ms }
}

fn load(db: &SqliteDb, kv: &MemoryKv, name: &str) {
    let body = serde_json::from_value(serde_json::json!({
        "items": [item(CODE, name, &["H1"], &[])], "halls": [hall("H1", 29.3, 120.07)]
    }))
    .unwrap();
    let who = Principal { token_id: "t".into(), name: "n".into(), roles: vec![Role::CatalogueEditor] };
    let now = BeijingTime::parse("2026-11-23T10:00:00+08:00").unwrap();
    block_on(import::apply(db, kv, body, &who, now, "r")).unwrap();
}

#[test]
fn the_first_read_fills_both_caches_and_later_reads_are_served_from_them() {
    let (db, kv) = seeded();
    let hot = HotCache::new(10, 1_000);
    let first = block_on(service::guide(&db, &caches(&kv, &hot, 0), CODE)).unwrap();
    assert!(block_on(kv.get(&repo::guide_cache_key(CODE))).unwrap().is_some());
    assert_eq!(hot.len(), 1);
    // With the database gone, memory and then KV still answer, byte for byte.
    db.break_storage(true);
    assert_eq!(block_on(service::guide(&db, &caches(&kv, &hot, 10), CODE)).unwrap(), first);
    let cold = HotCache::new(10, 1_000);
    assert_eq!(block_on(service::guide(&db, &caches(&kv, &cold, 10), CODE)).unwrap(), first);
}

#[test]
fn the_etag_changes_when_the_item_changes_once_caches_are_dropped() {
    let (db, kv) = seeded();
    let hot = HotCache::new(10, 1_000);
    let before = block_on(service::guide(&db, &caches(&kv, &hot, 0), CODE)).unwrap();
    load(&db, &kv, "个人客户接水申请（新版）");
    // This isolate still holds the old rendering until it forgets it or it expires.
    assert_eq!(block_on(service::guide(&db, &caches(&kv, &hot, 1), CODE)).unwrap(), before);
    let expired = block_on(service::guide(&db, &caches(&kv, &hot, 1_000), CODE)).unwrap();
    assert!(expired.body.contains("（新版）"));
    assert_ne!(before.etag, expired.etag);
    load(&db, &kv, "个人客户接水申请（第三版）");
    service::forget(&hot, CODE);
    let forgotten = block_on(service::guide(&db, &caches(&kv, &hot, 1_001), CODE)).unwrap();
    assert!(forgotten.body.contains("（第三版）"));
}

#[test]
fn a_broken_cache_falls_back_to_the_database() {
    let (db, kv) = seeded();
    kv.break_storage(true);
    let hot = HotCache::new(10, 1_000);
    let r: std::rc::Rc<Rendered> = block_on(service::guide(&db, &caches(&kv, &hot, 0), CODE)).unwrap();
    assert!(r.body.contains("个人客户接水申请"));
    let m = block_on(service::materials(&db, &caches(&kv, &hot, 0), CODE)).unwrap();
    assert!(m.body.contains("居民身份证"));
}

#[test]
fn an_unknown_item_is_item_not_found_and_is_not_cached() {
    let (db, kv) = seeded();
    let hot = HotCache::new(10, 1_000);
    let before = kv.len();
    let err = block_on(service::guide(&db, &caches(&kv, &hot, 0), "91440300708461136T4000172009999")).unwrap_err();
    assert_eq!(err.code, ErrorCode::ItemNotFound);
    assert_eq!(kv.len(), before);
    assert!(hot.is_empty());
}
