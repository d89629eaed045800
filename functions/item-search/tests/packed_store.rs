//! The packed index in KV (issue 19): the cron's build stores every chunk
//! before the manifest, a reader moves to a newer manifest, damaged or
//! missing chunks are refused (the isolate then builds its own index), a
//! racing build is harmless, retired chunk sets go after a while, and both
//! kinds of index answer every route alike.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

use futures_executor::block_on;
use item_search::index::Index;
use item_search::packed::{CHUNK_BYTES, KV_VALUE_LIMIT, PackError};
use item_search::packed_store::{
    self as store, ChunkKv, Holding, LoadError, MANIFEST_KEY, Manifest, Plan, REFUSED_KEY, RETIRE_AFTER_SECS,
    RETIRED_KEY, Refreshed, Served, Stored,
};
use item_search::query::Params;
use shared::ApiResult;
use shared::admin::{Principal, Role};
use shared::catalogue::import;
use shared::store::{Kv, MemoryKv, SqliteDb};
use shared::testing::{at, hall, item, now};
use shared::types::BeijingTime;
use std::cell::{Cell, RefCell};
use std::time::Instant;

const CODES: [&str; 5] = [
    "91440300708461136T4000172009001",
    "91440300708461136T4000172009002",
    "91440300708461136T4000172009003",
    "91440300708461136T4000172009004",
    "91440300708461136T4000172009005",
];

fn row(i: usize, name: &str, category: &str, tags: &[&str]) -> serde_json::Value {
    let mut it = item(CODES[i], name, &["H1"], &[]);
    it["category"] = category.into();
    it["tags"] = serde_json::json!(tags);
    it
}

fn import_rows(db: &SqliteDb, rows: Vec<serde_json::Value>, when: BeijingTime) {
    let who = Principal { token_id: "t".into(), name: "n".into(), roles: vec![Role::CatalogueReviewer] };
    let body = serde_json::from_value(serde_json::json!({"items": rows, "halls": [hall("H1", 29.3, 120.07)]})).unwrap();
    block_on(import::apply(db, &MemoryKv::default(), body, &who, when, "r")).unwrap();
}

fn catalogue() -> SqliteDb {
    let db = SqliteDb::migrated().unwrap();
    import_rows(
        &db,
        vec![
            row(0, "水表报装", "供水服务", &["供水", "水表"]),
            row(1, "水费缴费", "生活缴费", &["水费"]),
            row(2, "社会保障卡申领", "社保", &["社保卡", "补办"]),
            row(3, "居住证申领", "户政（治安）", &["居住证"]),
            row(4, "公积金提取", "公积金", &["公积金", "提取"]),
        ],
        now(),
    );
    db
}

fn clock() -> impl Fn() -> f64 {
    let t0 = Instant::now();
    move || t0.elapsed().as_secs_f64() * 1e3
}

fn refresh(db: &SqliteDb, kv: &impl ChunkKv, when: BeijingTime) -> Refreshed {
    block_on(store::refresh(db, kv, when, clock())).unwrap()
}

fn manifest(kv: &impl Kv) -> Manifest {
    match block_on(store::read_manifest(kv)).unwrap() {
        Stored::Ready(m) => m,
        other => panic!("no manifest: {other:?}"),
    }
}

fn params(q: &str) -> Params {
    Params { q: q.into(), page: 1, size: 10, ..Default::default() }
}

fn names(s: &Served, q: &str) -> Vec<String> {
    s.search(&params(q)).unwrap().items.into_iter().map(|h| h.name).collect()
}

/// A [`MemoryKv`] that records writes in order, can fail every write
/// after some number, and can show a reader no manifest for its first
/// reads (a build that read the manifest before another build wrote it).
#[derive(Default)]
struct Recording {
    kv: MemoryKv,
    writes: RefCell<Vec<String>>,
    writes_left: Cell<Option<usize>>,
    hide_manifest: Cell<usize>,
}

impl Recording {
    fn write(&self, key: &str) -> ApiResult<()> {
        if let Some(n) = self.writes_left.get() {
            if n == 0 {
                return Err(shared::ErrorCode::StorageUnavailable.into());
            }
            self.writes_left.set(Some(n - 1));
        }
        self.writes.borrow_mut().push(key.to_owned());
        Ok(())
    }
}

impl Kv for Recording {
    async fn get(&self, key: &str) -> ApiResult<Option<String>> {
        if key == MANIFEST_KEY && self.hide_manifest.get() > 0 {
            self.hide_manifest.set(self.hide_manifest.get() - 1);
            return Ok(None);
        }
        self.kv.get(key).await
    }
    async fn put(&self, key: &str, value: &str, ttl: Option<u64>) -> ApiResult<()> {
        self.write(key)?;
        self.kv.put(key, value, ttl).await
    }
    async fn delete(&self, key: &str) -> ApiResult<()> {
        self.kv.delete(key).await
    }
}

impl ChunkKv for Recording {
    async fn get_bytes(&self, key: &str) -> ApiResult<Option<Vec<u8>>> {
        self.kv.get_bytes(key).await
    }
    async fn put_bytes(&self, key: &str, value: &[u8]) -> ApiResult<()> {
        self.write(key)?;
        self.kv.put_bytes(key, value).await
    }
}

#[test]
fn the_cron_stores_every_chunk_before_the_manifest_and_the_reader_answers_as_the_built_index() {
    let db = catalogue();
    let kv = Recording::default();
    let Refreshed::Built { built, swept: 0 } = refresh(&db, &kv, now()) else { panic!("nothing built") };
    let m = manifest(&kv);
    assert_eq!(built.manifest, m);
    assert_eq!((m.version, m.docs, m.format), (1, 5, item_search::packed::FORMAT));
    let writes = kv.writes.borrow().clone();
    let chunk_keys = m.set().keys();
    assert_eq!(writes[..chunk_keys.len()], chunk_keys[..], "the chunks first");
    assert_eq!(writes[chunk_keys.len()], MANIFEST_KEY, "then the manifest");
    assert!(chunk_keys.iter().all(|k| k.starts_with(&format!("search:packed:1:{}:", m.checksum))));
    for k in &chunk_keys {
        let len = block_on(kv.get_bytes(k)).unwrap().unwrap().len();
        assert!(len <= KV_VALUE_LIMIT.min(CHUNK_BYTES), "{k}: {len} bytes");
    }
    assert_eq!(refresh(&db, &kv, now()), Refreshed::Current { version: 1, swept: 0 }, "built once per version");

    let packed = Served::Packed(Box::new(block_on(store::load(&kv, &m)).unwrap()));
    let built = Served::Built(Box::new(block_on(Index::load(&db)).unwrap()));
    assert_eq!((packed.kind(), built.kind()), ("packed", "memory"));
    assert_eq!(packed.holding(), Holding { version: 1, packed: true });
    for q in ["水", "社保卡", "shuifei", "jzz", "公基金", "", "居住证 申领"] {
        let (a, b) = (packed.search(&params(q)).unwrap(), built.search(&params(q)).unwrap());
        assert_eq!(serde_json::to_value(a).unwrap(), serde_json::to_value(b).unwrap(), "search {q}");
        assert_eq!(packed.suggest(q, None).unwrap(), built.suggest(q, None).unwrap(), "suggest {q}");
    }
    let categories = packed.category_counts();
    assert_eq!(categories, built.category_counts());
    assert_eq!(categories.len(), 27, "every category, in display order");
    assert_eq!(categories[0], ("公积金".to_owned(), 1));
    assert!(categories.iter().any(|c| *c == ("护照通行证".to_owned(), 0)));
    let tags = packed.tag_counts();
    assert_eq!(tags, built.tag_counts());
    assert_eq!(tags.len(), 8);
    let found = packed.name_and_category(CODES[2]);
    assert_eq!(found, Some(("社会保障卡申领".to_owned(), "社保".to_owned())));
    assert_eq!(found, built.name_and_category(CODES[2]));
    assert_eq!(packed.name_and_category("no such code"), None);
}

#[test]
fn a_write_that_fails_midway_leaves_no_manifest_naming_missing_chunks() {
    let db = catalogue();
    let kv = Recording::default();
    kv.writes_left.set(Some(1)); // the chunk, not the manifest
    assert!(block_on(store::refresh(&db, &kv, now(), clock())).is_err());
    assert_eq!(block_on(store::read_manifest(&kv)).unwrap(), Stored::Missing);
    let cat = block_on(store::catalogue(&db)).unwrap();
    assert_eq!(store::plan(None, None, None, &cat, now()), Plan::Build, "the isolate builds its own");
    kv.writes_left.set(None);
    assert!(matches!(refresh(&db, &kv, now()), Refreshed::Built { .. }), "the next run stores it");
    assert_eq!(manifest(&kv).version, 1);
}

#[test]
fn a_reader_with_a_stale_manifest_moves_to_the_new_one_and_old_chunks_go_later() {
    let db = catalogue();
    let kv = MemoryKv::default();
    refresh(&db, &kv, now());
    let first = manifest(&kv);
    let held = Served::Packed(Box::new(block_on(store::load(&kv, &first)).unwrap()));
    assert!(names(&held, "水表").contains(&"水表报装".to_owned()));

    // A publish: the item is renamed.
    let later = at("2026-11-23T10:05:00+08:00");
    import_rows(&db, vec![row(0, "智能水表安装", "供水服务", &["供水", "水表"])], later);
    let cat = block_on(store::catalogue(&db)).unwrap();
    assert_eq!(cat.version, 2);
    // Before the cron, within the grace, the isolate keeps its index.
    assert_eq!(store::plan(Some(held.holding()), Some(&first), None, &cat, later), Plan::Keep);
    assert_eq!(
        store::plan(Some(held.holding()), Some(&first), None, &cat, at("2026-11-23T10:10:00+08:00")),
        Plan::Build
    );

    let Refreshed::Built { built, swept: 0 } = refresh(&db, &kv, later) else { panic!("not rebuilt") };
    let second = manifest(&kv);
    assert_eq!((built.manifest.version, second.version), (2, 2));
    assert_ne!(first.checksum, second.checksum);
    assert_eq!(store::plan(Some(held.holding()), Some(&second), None, &cat, later), Plan::LoadPacked);
    let next = Served::Packed(Box::new(block_on(store::load(&kv, &second)).unwrap()));
    assert_eq!(next.version(), 2);
    assert_eq!(names(&next, "智能水表"), ["智能水表安装"]);
    assert_eq!(store::plan(Some(next.holding()), Some(&second), None, &cat, later), Plan::Keep);

    // The first set stays for readers of the old manifest, then goes.
    assert!(block_on(store::load(&kv, &first)).is_ok(), "still readable right after");
    let soon = at("2026-11-23T10:06:00+08:00");
    assert_eq!(refresh(&db, &kv, soon), Refreshed::Current { version: 2, swept: 0 });
    assert!(block_on(store::load(&kv, &first)).is_ok());
    let after = later.plus_minutes(RETIRE_AFTER_SECS / 60).unwrap();
    assert_eq!(refresh(&db, &kv, after), Refreshed::Current { version: 2, swept: 1 });
    assert!(matches!(block_on(store::load(&kv, &first)), Err(LoadError::Missing(_))));
    assert!(block_on(store::load(&kv, &second)).is_ok(), "the current set is never deleted");
    assert_eq!(block_on(kv.get(RETIRED_KEY)).unwrap().as_deref(), Some("[]"));
    assert_eq!(kv.len(), second.chunks as usize + 2, "the manifest, its chunks, the empty retired list");
}

#[test]
fn a_damaged_or_missing_chunk_is_refused_and_the_isolate_builds_its_own() {
    let db = catalogue();
    let kv = MemoryKv::default();
    refresh(&db, &kv, now());
    let m = manifest(&kv);
    let key = m.set().keys().remove(0);
    let good = block_on(kv.get_bytes(&key)).unwrap().unwrap();

    let mut bad = good.clone();
    let mid = bad.len() / 2;
    bad[mid] ^= 0x5a;
    block_on(kv.put_bytes(&key, &bad)).unwrap();
    let err = block_on(store::load(&kv, &m)).unwrap_err();
    assert_eq!(err, LoadError::Refused(PackError::Checksum));
    assert!(!err.is_transient());
    let cat = block_on(store::catalogue(&db)).unwrap();
    assert_eq!(store::plan(None, Some(&m), Some(&m.checksum), &cat, now()), Plan::Build, "not tried again");
    // The isolate reports it; the next cron run stores the chunks again.
    assert_eq!(refresh(&db, &kv, now()), Refreshed::Current { version: 1, swept: 0 }, "unreported: left alone");
    block_on(store::report_refused(&kv, &m, &err)).unwrap();
    let Refreshed::Built { built, .. } = refresh(&db, &kv, now()) else { panic!("not rebuilt after a refusal") };
    assert_eq!(built.manifest, m, "the same names");
    assert!(block_on(store::load(&kv, &m)).is_ok(), "healed");
    assert_eq!(block_on(kv.get(REFUSED_KEY)).unwrap(), None, "the report is cleared");
    assert_eq!(refresh(&db, &kv, now()), Refreshed::Current { version: 1, swept: 0 });
    block_on(kv.put_bytes(&key, &bad)).unwrap();

    block_on(kv.put_bytes(&key, &good[..good.len() - 1])).unwrap();
    assert!(matches!(block_on(store::load(&kv, &m)), Err(LoadError::Refused(_))));
    block_on(kv.delete(&key)).unwrap();
    assert_eq!(block_on(store::load(&kv, &m)).unwrap_err(), LoadError::Missing(key.clone()));

    // A manifest that does not describe its chunks is refused too.
    block_on(kv.put_bytes(&key, &good)).unwrap();
    let wrong = Manifest { docs: m.docs + 1, ..m.clone() };
    assert!(matches!(block_on(store::load(&kv, &wrong)), Err(LoadError::Mismatch(_))));
    assert!(block_on(store::load(&kv, &m)).is_ok());

    // A broken KV is a transient failure: the same manifest is tried again.
    kv.break_storage(true);
    let err = block_on(store::load(&kv, &m)).unwrap_err();
    assert!(err.is_transient(), "{err}");
    kv.break_storage(false);

    // An unreadable manifest is no manifest: the cron writes a good one.
    block_on(kv.put(MANIFEST_KEY, "{\"version\": 1}", None)).unwrap();
    assert!(matches!(block_on(store::read_manifest(&kv)).unwrap(), Stored::Unreadable(_)));
    assert!(matches!(refresh(&db, &kv, now()), Refreshed::Built { .. }));
    assert_eq!(manifest(&kv), Manifest { built_at: manifest(&kv).built_at, ..m });
}

#[test]
fn a_racing_build_of_the_same_version_is_harmless() {
    let db = catalogue();
    let kv = Recording::default();
    refresh(&db, &kv, now());
    let first = manifest(&kv);
    let keys = kv.kv.len();
    // A second run that read the manifest before the first one wrote it.
    kv.hide_manifest.set(1);
    let Refreshed::Built { built, swept: 0 } = refresh(&db, &kv, now()) else { panic!("no second build") };
    assert_eq!(built.manifest, first, "the same bytes under the same names");
    assert_eq!(manifest(&kv), first);
    assert!(block_on(store::load(&kv, &first)).is_ok());
    assert_eq!(kv.kv.len(), keys, "nothing new stored, nothing retired");
    let retired = block_on(kv.get(RETIRED_KEY)).unwrap();
    assert!(retired.as_deref().is_none_or(|r| r == "[]"), "the live set is never retired: {retired:?}");
}

#[test]
fn a_build_of_an_older_version_finishing_last_leaves_the_newer_manifest() {
    let (old, new) = (catalogue(), catalogue());
    import_rows(&new, vec![row(0, "智能水表安装", "供水服务", &["水表"])], now());
    let kv = Recording::default();
    refresh(&new, &kv, now());
    let current = manifest(&kv);
    assert_eq!(current.version, 2);
    let keys = kv.kv.len();
    // The older build read the catalogue and manifest before the newer one finished.
    kv.hide_manifest.set(1);
    assert_eq!(refresh(&old, &kv, now()), Refreshed::Superseded { version: 1, by: 2 });
    assert_eq!(manifest(&kv), current);
    assert_eq!(kv.kv.len(), keys, "its chunks were deleted again");
    let served = Served::Packed(Box::new(block_on(store::load(&kv, &current)).unwrap()));
    assert_eq!(names(&served, "智能水表"), ["智能水表安装"]);
}
