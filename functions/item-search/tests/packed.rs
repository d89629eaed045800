//! The packed index (issue 19) answers exactly as the in-memory index does:
//! round trip, the relevance queries over the demo catalogue, chunking at its
//! limits, damaged bytes refused. A probe (ignored) reports size, build and
//! load time, resident memory and query times at 100,000 items.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

use futures_executor::block_on;
use item_search::index::{DocView, Index, SearchIndex};
use item_search::packed::{self, CHUNK_BYTES, CHUNK_HEADER, KV_VALUE_LIMIT, PackError, Packed};
use item_search::paged;
use item_search::query::{self, Params};
use shared::admin::{Principal, Role};
use shared::catalogue::import;
use shared::store::{Db, MemoryKv, SqliteDb, Stmt};
use shared::types::{BeijingTime, Region};
use std::collections::HashMap;
use std::path::PathBuf;
use std::rc::Rc;
use std::time::Instant;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn import_body(db: &SqliteDb, body: serde_json::Value) {
    let who = Principal {
        token_id: "t".into(),
        name: "n".into(),
        roles: vec![Role::CatalogueEditor, Role::CatalogueReviewer],
    };
    let now = BeijingTime::parse("2026-11-23T10:00:00+08:00").unwrap();
    let halls = serde_json::json!({ "halls": body["halls"] });
    block_on(import::apply(db, &MemoryKv::default(), serde_json::from_value(halls).unwrap(), &who, now, "r")).unwrap();
    for chunk in body["items"].as_array().unwrap().chunks(2_000) {
        let items = serde_json::from_value(serde_json::json!({ "items": chunk })).unwrap();
        block_on(import::apply(db, &MemoryKv::default(), items, &who, now, "r")).unwrap();
    }
}

/// The demo catalogue of the relevance suite (scripts/catalog/demo.mjs).
fn demo_db() -> SqliteDb {
    let db = SqliteDb::migrated().unwrap();
    import_body(&db, shared::testing::demo_catalogue().unwrap());
    db
}

fn demo() -> Index {
    block_on(Index::load(&demo_db())).unwrap()
}

const OBJECTS: [&str; 15] = [
    "营业执照",
    "居住证",
    "社会保障卡",
    "不动产权证书",
    "机动车行驶证",
    "出生医学证明",
    "残疾人证",
    "公积金账户",
    "燃气户",
    "水表",
    "供暖户",
    "排水许可证",
    "卫生许可证",
    "道路运输证",
    "养犬登记证",
];
const ACTIONS: [&str; 10] = ["申请", "变更", "注销", "补领", "换领", "备案", "查询", "延续", "年检", "登记"];
const CATEGORIES: [&str; 12] = [
    "公积金",
    "社保",
    "护照通行证",
    "行驶驾驶",
    "税务",
    "户政（治安）",
    "医保",
    "教育",
    "婚育",
    "住房",
    "民政",
    "供水服务",
];

/// A catalogue shaped like scripts/gen-catalog's (names object+action+number,
/// two tags, 97 departments, a scope naming the item, 1-2 of 10 halls),
/// written straight into SQLite.
fn synthetic(n: usize) -> SqliteDb {
    let db = SqliteDb::migrated().unwrap();
    let mut seed: u64 = 20_261_123;
    let mut rand = move |m: usize| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed % m as u64) as usize
    };
    let mut stmts = Vec::new();
    for h in 0..10 {
        stmts.push(Stmt::new(
            "INSERT INTO halls (id, name, district, address, hours, phone, lat, lng, version, updated_at)
             VALUES (?1, ?2, 'd', 'a', 'h', 'p', ?3, ?4, 1, 'x')",
            vec![
                format!("H{h:03}").into(),
                format!("第{h}便民服务中心").into(),
                (29.2 + h as f64 * 0.02).into(),
                (120.0 + h as f64 * 0.01).into(),
            ],
        ));
    }
    for k in 0..n {
        let name = format!("{}{}（{k:06}）", OBJECTS[rand(15)], ACTIONS[rand(10)]);
        let code = format!("11330782{:09}{}4{:012}", 5_000_000 + k % 97, k % 10, 100_000_000_000u64 + k as u64);
        let tags = serde_json::json!([OBJECTS[rand(15)], ACTIONS[rand(10)]]).to_string();
        let guide = serde_json::json!({ "scope": format!("办理{name}的自然人和法人。") }).to_string();
        stmts.push(Stmt::new(
            "INSERT INTO items (code, basic_code, name, category, tags, department, service_object, online, appointment, guide, version, updated_at)
             VALUES (?1, '000000000000', ?2, ?3, ?4, ?5, '[]', ?6, ?7, ?8, 1, 'x')",
            vec![
                code.clone().into(),
                name.into(),
                CATEGORIES[rand(12)].into(),
                tags.into(),
                format!("义乌市第{}政务服务部门", k % 97 + 1).into(),
                (rand(2) as i64).into(),
                (rand(2) as i64).into(),
                guide.into(),
            ],
        ));
        for h in [rand(10), rand(10)] {
            stmts.push(Stmt::new(
                "INSERT OR IGNORE INTO item_halls (item_code, hall_id) VALUES (?1, ?2)",
                vec![code.clone().into(), format!("H{h:03}").into()],
            ));
        }
    }
    for part in stmts.chunks(20_000) {
        block_on(db.batch(part)).unwrap();
    }
    db
}

fn params(q: &str) -> Params {
    Params { q: q.into(), page: 1, size: 10, ..Default::default() }
}

/// Both answers (or both errors) as JSON, for exact comparison.
fn same(index: &Index, packed: &Packed<'_>, p: &Params) {
    let a = query::search(index, p).map(|a| serde_json::to_value(a).unwrap()).map_err(|e| e.code);
    let b = packed.search(p).map(|a| serde_json::to_value(a).unwrap()).map_err(|e| e.code);
    assert_eq!(a, b, "search {p:?}");
}

fn same_suggest(index: &Index, packed: &Packed<'_>, q: &str) {
    let a = query::suggest(index, q).map(|s| serde_json::to_value(s).unwrap()).map_err(|e| e.code);
    let b = packed.suggest(q).map(|s| serde_json::to_value(s).unwrap()).map_err(|e| e.code);
    assert_eq!(a, b, "suggest {q}");
}

#[test]
fn a_packed_index_holds_every_document_term_and_key_of_the_built_one() {
    let index = block_on(Index::load(&synthetic(600))).unwrap();
    let blob = packed::build(&index).unwrap();
    let p = Packed::load(&blob).unwrap();
    assert_eq!((p.version(), p.doc_count()), (index.version, index.docs.len()));
    assert_eq!((&p.cats, &p.categories, p.halls.len()), (&index.cats, &index.categories, index.halls.len()));
    for (id, d) in index.docs.iter().enumerate() {
        let id = id as u32;
        let q = p.doc(id).unwrap();
        assert_eq!(q.code(), d.code.as_str());
        assert_eq!(
            (q.name().as_ref(), q.name_norm().as_ref(), q.name_compact()),
            (&*d.name, &*d.name_norm, &*d.name_compact)
        );
        assert_eq!(q.name_chars(), d.name.chars().count());
        assert_eq!((q.name_pinyin(), q.name_initials()), (&*d.name_pinyin, &*d.name_initials));
        assert_eq!((q.category(), q.cat(), q.department()), (&*d.category, d.cat, &*d.department));
        assert_eq!((q.online(), q.appointment()), (d.online, d.appointment));
        assert_eq!(q.tags().collect::<Vec<_>>(), d.tags);
        assert_eq!(q.tags_norm().collect::<Vec<_>>(), d.tags_norm);
        assert_eq!(q.tag_pinyin().collect::<Vec<_>>(), d.tag_pinyin);
        assert_eq!(q.halls().collect::<Vec<_>>(), d.halls);
        assert_eq!(p.doc_id(&d.code), Some(id));
    }
    assert_eq!(p.doc(index.docs.len() as u32).map(|d| d.id()), None);
    assert_eq!(p.doc_id("no such code"), None);
    for (term, list) in &index.postings {
        assert_eq!(&p.postings(term).collect::<Vec<_>>(), list, "{term}");
        assert_eq!(p.posting_count(term), Some(list.len()));
    }
    for (key, list) in &index.pinyin_keys {
        assert_eq!(p.pinyin_candidates(key).as_deref(), Some(list.as_slice()), "{key}");
    }
    assert_eq!(p.postings("不存在").count() + p.posting_count("不存在").unwrap_or(0), 0);
    assert!(p.pinyin_candidates("qqqq").is_none());
    // Loading from owned bytes and from chunks gives the same index.
    let owned = Packed::load_owned(blob.clone()).unwrap();
    let joined = Packed::from_chunks(&packed::chunks(&blob, 4_096)).unwrap();
    for q in ["证", "居住证换领", "shuibiao"] {
        same(&index, &owned, &params(q));
        same(&index, &joined, &params(q));
    }
}

#[test]
fn the_relevance_queries_rank_the_same_on_packed_and_built_indexes() {
    let index = demo();
    let blob = packed::build(&index).unwrap();
    let p = Packed::load(&blob).unwrap();
    // The demo's codes mix letters and digits (credit codes): each reads back and is found.
    for (id, d) in index.docs.iter().enumerate() {
        let q = p.doc(id as u32).unwrap();
        assert_eq!((q.code().as_ref(), q.name().as_ref()), (d.code.as_str(), d.name.as_str()));
        assert_eq!(p.doc_id(&d.code), Some(id as u32), "{}", d.code);
    }
    assert!(index.docs.iter().any(|d| d.code.bytes().any(|b| b.is_ascii_alphabetic())));
    let cases: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(root().join("tests/relevance/queries.json")).unwrap()).unwrap();
    let cases = cases["queries"].as_array().unwrap();
    assert!(cases.len() >= 60);
    let (mut at3, mut packed_at3) = (0, 0);
    for c in cases {
        let (q, expect) = (c["q"].as_str().unwrap(), c["expect"].as_str().unwrap());
        let top3 = |names: Vec<String>| names.iter().any(|n| n == expect);
        let p3 = Params { q: q.into(), page: 1, size: 3, ..Default::default() };
        at3 += usize::from(top3(query::search(&index, &p3).unwrap().items.into_iter().map(|h| h.name).collect()));
        packed_at3 += usize::from(top3(p.search(&p3).unwrap().items.into_iter().map(|h| h.name).collect()));
        same(&index, &p, &p3);
        same(&index, &p, &Params { size: 50, ..p3.clone() });
        same_suggest(&index, &p, q);
    }
    assert_eq!(at3, packed_at3);
    assert!(at3 as f64 >= 0.95 * cases.len() as f64, "recall@3 {at3}/{}", cases.len());
    // Filters, facets, paging, the nearest hall, popularity, corrections, errors.
    let views: HashMap<String, i64> =
        index.docs.iter().enumerate().map(|(i, d)| (d.code.clone(), i as i64 * 7)).collect();
    let popularity = Some(Rc::new(views));
    for q in ["", "证", "水费", "公基金", "身份正", "gjj", "sfz", "办假证", "shui", "x"] {
        for page in [1, 2] {
            let base = Params { q: q.into(), page, size: 5, ..Default::default() };
            same(&index, &p, &base);
            same(&index, &p, &Params { online: Some(true), appointment: Some(false), ..base.clone() });
            same(&index, &p, &Params { category: Some("供水服务".into()), near: Some((29.3, 120.07)), ..base.clone() });
            same(&index, &p, &Params { department: Some(index.docs[0].department.clone()), ..base.clone() });
            same(&index, &p, &Params { tag: Some("水费".into()), popularity: popularity.clone(), ..base.clone() });
            same(&index, &p, &Params { category: Some("没有的分类".into()), ..base.clone() });
        }
        same_suggest(&index, &p, q);
    }
    same(&index, &p, &params(&"长".repeat(60)));
}

#[test]
fn broad_pinyin_typo_and_filtered_queries_agree_over_a_larger_catalogue() {
    let index = block_on(Index::load(&synthetic(3_000))).unwrap();
    let blob = packed::build(&index).unwrap();
    let p = Packed::load(&blob).unwrap();
    let views: HashMap<String, i64> =
        index.docs.iter().step_by(3).enumerate().map(|(i, d)| (d.code.clone(), (i % 50) as i64)).collect();
    let popularity = Some(Rc::new(views));
    let few = Some(Rc::new(index.docs.iter().step_by(97).map(|d| (d.code.clone(), 9)).collect::<HashMap<_, _>>()));
    let queries = [
        "证",
        "社保",
        "居住证换领",
        "shuibiao",
        "sbk",
        "jzz",
        "juzhu",
        "营业执照变更",
        "水表过户",
        "公基金",
        "卫生许可正",
        "年检",
        "shui表",
        "办理",
        "自然人",
        "000123",
        "第12政务",
        "残疾人证补领怎么办",
        "y",
        "zz",
    ];
    for q in queries {
        same(&index, &p, &params(q));
        same(&index, &p, &Params { online: Some(true), category: Some("户政（治安）".into()), ..params(q) });
        same(&index, &p, &Params { page: 3, near: Some((29.25, 120.03)), popularity: popularity.clone(), ..params(q) });
        same(&index, &p, &Params { tag: Some("变更".into()), ..params(q) });
        // Paging at the edges (deep, whole, empty) and ties at the page's end:
        // the packed index ranks by bounds and the postings, the built one
        // reads every candidate.
        for (page, size) in [(0, 10), (1, 0), (7, 50), (1, 1), (40, 50)] {
            same(&index, &p, &Params { page, size, ..params(q) });
        }
        same(&index, &p, &Params { online: Some(false), appointment: Some(true), page: 2, size: 50, ..params(q) });
        same(&index, &p, &Params { near: Some((29.3, 120.05)), page: 2, ..params(q) });
        same(&index, &p, &Params { popularity: few.clone(), page: 2, size: 50, ..params(q) });
    }
}

#[test]
fn view_counts_resolved_once_rank_exactly_as_counts_looked_up_per_search() {
    let index = block_on(Index::load(&synthetic(2_000))).unwrap();
    let blob = packed::build(&index).unwrap();
    let p = Packed::load(&blob).unwrap();
    // Counted codes the index does not hold (an item unpublished since) and
    // zero counts are left out; a bigger count must move an item up.
    let mut views: HashMap<String, i64> =
        index.docs.iter().step_by(5).enumerate().map(|(i, d)| (d.code.clone(), (i % 40) as i64)).collect();
    views.insert("NOT-AN-ITEM".into(), 1_000_000);
    let last = index.docs.last().unwrap().code.clone();
    views.insert(last.clone(), 5_000);
    let ids = query::IdViews::resolve(&p, &views);
    assert_eq!(ids.get(p.doc_id(&last).unwrap()), 5_000);
    assert_eq!(ids.get(1), 0);
    assert!(ids.fits(p.doc_count()) && !ids.fits(p.doc_count() + 64));
    let (by_code, by_id) = (Rc::new(views), Rc::new(ids));
    for q in ["", "证", "社保", "sbk", "居住证换领", "办理", "y"] {
        for (page, size) in [(1, 10), (3, 20), (0, 5)] {
            let looked_up = Params { q: q.into(), page, size, popularity: Some(by_code.clone()), ..Default::default() };
            let resolved = Params { views_by_id: Some(by_id.clone()), ..looked_up.clone() };
            let a = serde_json::to_value(p.search(&looked_up).unwrap()).unwrap();
            let b = serde_json::to_value(p.search(&resolved).unwrap()).unwrap();
            assert_eq!(a, b, "{q} {page} {size}");
            same(&index, &p, &resolved);
        }
    }
    // The empty query ranks by views: the most viewed first.
    let top = p.search(&Params { page: 1, size: 1, views_by_id: Some(by_id.clone()), ..Default::default() }).unwrap();
    assert_eq!(top.items[0].code, last);
    // Ids resolved for another index (other document count) are not used.
    let small_blob = packed::build(&block_on(Index::load(&synthetic(50))).unwrap()).unwrap();
    let small = Packed::load(&small_blob).unwrap();
    let stale = Rc::new(query::IdViews::resolve(&small, &by_code));
    let wrong =
        Params { page: 1, size: 1, views_by_id: Some(stale), popularity: Some(by_code.clone()), ..Default::default() };
    assert_eq!(p.search(&wrong).unwrap().items[0].code, last);
}

#[test]
fn chunks_join_back_at_every_size_limit() {
    let index = block_on(Index::load(&synthetic(50))).unwrap();
    let blob = packed::build(&index).unwrap();
    for max in [0, CHUNK_HEADER + 1, CHUNK_HEADER + 7, 1_000, blob.len() + CHUNK_HEADER - 1, blob.len() + CHUNK_HEADER]
    {
        let parts = packed::chunks(&blob, max);
        let limit = max.max(CHUNK_HEADER + 1);
        assert!(parts.iter().all(|c| c.len() <= limit), "{max}");
        assert_eq!(parts.len(), blob.len().div_ceil(limit - CHUNK_HEADER), "{max}");
        assert_eq!(packed::join(&parts).unwrap(), blob, "{max}");
    }
    assert_eq!(packed::chunks(&blob, blob.len() + CHUNK_HEADER).len(), 1);
    assert_eq!(packed::chunks(&blob, blob.len() + CHUNK_HEADER - 1).len(), 2);
    // Never above what KV takes, whatever is asked.
    let big = vec![7u8; KV_VALUE_LIMIT + 10];
    let parts = packed::chunks(&big, usize::MAX);
    assert!(parts.len() == 2 && parts.iter().all(|c| c.len() <= KV_VALUE_LIMIT));
    assert_eq!(packed::join(&parts).unwrap(), big);
    const { assert!(CHUNK_BYTES <= KV_VALUE_LIMIT) };
}

#[test]
fn damaged_missing_or_foreign_chunks_are_refused_with_an_error() {
    let index = block_on(Index::load(&synthetic(200))).unwrap();
    let blob = packed::build(&index).unwrap();
    let parts = packed::chunks(&blob, blob.len() / 3);
    assert!(parts.len() >= 3);
    let mut flipped = parts.clone();
    flipped[1][CHUNK_HEADER + 5] ^= 0x10;
    // Joined (the payload checksums are not read twice), then refused by the blob's checksum.
    assert_eq!(Packed::from_chunks(&flipped).unwrap_err(), PackError::Checksum);
    assert!(matches!(packed::join(&parts[..2]), Err(PackError::Chunks(_))));
    let mut swapped = parts.clone();
    swapped.swap(0, 1);
    assert!(matches!(packed::join(&swapped), Err(PackError::Chunks(_))));
    let mut cut = parts.clone();
    cut[2].pop();
    assert_eq!(packed::join(&cut).unwrap_err(), PackError::Truncated);
    let other = packed::build(&block_on(Index::load(&synthetic(201))).unwrap()).unwrap();
    let mut mixed = parts.clone();
    mixed[1] = packed::chunks(&other, blob.len() / 3)[1].clone();
    assert!(matches!(packed::join(&mixed), Err(PackError::Chunks(_))));
    let mut magic = parts.clone();
    magic[0][0] = b'X';
    assert_eq!(packed::join(&magic).unwrap_err(), PackError::BadMagic);
    assert!(packed::join(&Vec::<Vec<u8>>::new()).is_err());
    assert!(Packed::from_chunks(&flipped).is_err());
}

#[test]
fn a_bad_or_partial_blob_is_refused_and_never_panics() {
    let index = block_on(Index::load(&synthetic(300))).unwrap();
    let blob = packed::build(&index).unwrap();
    for len in (0..blob.len()).step_by(97).chain([39, 40, 41, blob.len() - 1]) {
        assert!(Packed::load(&blob[..len]).is_err(), "{len}");
        assert!(Packed::load_owned(blob[..len].to_vec()).is_err(), "{len}");
    }
    let mut flipped = blob.clone();
    flipped[blob.len() / 2] ^= 1;
    assert_eq!(Packed::load(&flipped).unwrap_err(), PackError::Checksum);
    let mut format = blob.clone();
    format[4] = 9;
    assert_eq!(Packed::load(&format).unwrap_err(), PackError::Format(9));
    assert_eq!(Packed::load(b"not an index at all, just some bytes....").unwrap_err(), PackError::BadMagic);
    let mut longer = blob.clone();
    longer.push(0);
    assert!(Packed::load(&longer).is_err());
    // Damage behind a recomputed checksum (a buggy writer): loading or
    // answering may fail, but never panics.
    for k in 0..300usize {
        let mut bad = blob.clone();
        let at = 40 + (k * 7_919) % (blob.len() - 40);
        bad[at] = bad[at].wrapping_add(1 + (k % 255) as u8);
        packed::reseal(&mut bad);
        if let Ok(p) = Packed::load(&bad) {
            for q in ["证", "shuibiao", "公基金", "sbk", ""] {
                let _ = p.search(&Params { near: Some((29.3, 120.0)), ..params(q) });
                let _ = p.suggest(q);
            }
        }
    }
}

/// Resident memory of this process, in bytes (Linux: /proc/self/statm).
#[test]
fn the_cron_s_page_by_page_build_writes_the_bytes_of_the_in_memory_index() {
    // The demo (full text, credit codes with letters) and a larger synthetic
    // catalogue; pages of one item, a few, and more than there are.
    for db in [demo_db(), synthetic(300)] {
        let index = block_on(Index::load(&db)).unwrap();
        let whole = packed::build(&index).unwrap();
        for page in [1, 7, 1_000] {
            let built = block_on(paged::build(&db, page, || 0.0)).unwrap();
            assert_eq!((built.version, built.docs), (index.version, index.docs.len()));
            assert_eq!(built.pages, 2 * (index.docs.len() / page + 1), "page {page}");
            assert!(built.blob == whole, "page {page}: the bytes differ");
        }
    }
}

#[test]
fn a_publish_during_the_page_by_page_build_fails_it() {
    /// Publishes (bumps the catalogue version) once its third page is read.
    struct Publishing {
        db: SqliteDb,
        pages: std::cell::Cell<usize>,
    }
    impl Db for Publishing {
        async fn query(
            &self,
            sql: &str,
            params: &[shared::store::Value],
        ) -> shared::ApiResult<Vec<shared::store::Row>> {
            if sql.contains("LIMIT ?2") {
                self.pages.set(self.pages.get() + 1);
                if self.pages.get() == 3 {
                    self.db.execute("UPDATE catalog_meta SET version = version + 1 WHERE id = 1", &[]).await?;
                }
            }
            self.db.query(sql, params).await
        }
        async fn batch(&self, stmts: &[Stmt]) -> shared::ApiResult<Vec<u64>> {
            self.db.batch(stmts).await
        }
    }
    let db = Publishing { db: synthetic(40), pages: std::cell::Cell::new(0) };
    let err = block_on(paged::build(&db, 10, || 0.0)).unwrap_err();
    assert!(err.internal.unwrap_or_default().contains("published again"));
    // The next run (nothing published meanwhile) builds.
    assert!(block_on(paged::build(&db, 10, || 0.0)).is_ok());
}

fn rss() -> usize {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    statm.split_whitespace().nth(1).and_then(|p| p.parse::<usize>().ok()).unwrap_or(0) * 4096
}

/// The process's peak resident memory (VmHWM), in bytes.
fn peak_rss() -> usize {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let line = status.lines().find(|l| l.starts_with("VmHWM:")).unwrap_or_default();
    line.split_whitespace().nth(1).and_then(|k| k.parse::<usize>().ok()).unwrap_or(0) * 1024
}

fn mib(b: usize) -> f64 {
    b as f64 / 1_048_576.0
}

/// The bench's queries (scripts/bench.mjs) and the scale probe's.
fn probe_cases() -> Vec<(&'static str, Params)> {
    vec![
        ("社保", params("社保")),
        ("shuifei", params("shuifei")),
        ("证", params("证")),
        ("证+online+category", Params { online: Some(true), category: Some("户政（治安）".into()), ..params("证") }),
        ("shuibiao", params("shuibiao")),
        ("居住证换领", params("居住证换领")),
        ("sbk", params("sbk")),
        ("卫生许可正 (typo)", params("卫生许可正")),
        // Every synthetic item is in 义乌市 (330782): its region passes all,
        // its sibling 东阳市 (330783) none.
        ("社保 in 330782", Params { region: Region::parse("330782").ok(), ..params("社保") }),
        ("证 in 330783", Params { region: Region::parse("330783").ok(), ..params("证") }),
    ]
}

fn time_queries(name: &str, run: impl Fn(&Params) -> usize) {
    let mut all = Vec::new();
    let mut bench = Vec::new();
    let only = std::env::var("BIANMIN_PROBE_ONLY").ok();
    for (i, (q, p)) in probe_cases().into_iter().enumerate() {
        if only.as_deref().is_some_and(|o| o != q) {
            continue;
        }
        let mut per = Vec::new();
        for _ in 0..200 {
            let t = Instant::now();
            std::hint::black_box(run(&p));
            per.push(t.elapsed().as_secs_f64() * 1000.0);
        }
        per.sort_by(f64::total_cmp);
        println!("{name}: {q}: p50 {:.3} ms, p99 {:.3} ms", per[per.len() / 2], per[per.len() * 99 / 100]);
        if i < 4 {
            bench.extend(per.iter().copied());
        }
        all.extend(per);
    }
    for (label, mut v) in [("bench queries", bench), ("all probe queries", all)] {
        if v.is_empty() {
            continue;
        }
        v.sort_by(f64::total_cmp);
        println!("{name}: {label}: p50 {:.3} ms, p99 {:.3} ms", v[v.len() / 2], v[v.len() * 99 / 100]);
    }
}

/// `cargo test -p item-search --release --test packed -- --ignored --nocapture packed_probe`
/// (BIANMIN_PROBE_CATALOG=file from scripts/gen-catalog to use that catalogue instead;
/// BIANMIN_PROBE_ONLY=<case> times one case; BIANMIN_PROBE_KEEP=1 keeps the chunks, so
/// `packed_probe_isolate` can be rerun alone with BIANMIN_PACKED_CHUNKS=<dir>, e.g. under perf).
#[test]
#[ignore = "probe: run by hand, reports figures"]
fn packed_probe() {
    let n: usize = std::env::var("BIANMIN_PROBE_ITEMS").ok().and_then(|v| v.parse().ok()).unwrap_or(100_000);
    let db = match std::env::var("BIANMIN_PROBE_CATALOG") {
        Ok(path) => {
            let db = SqliteDb::migrated().unwrap();
            import_body(&db, serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap());
            db
        }
        Err(_) => synthetic(n),
    };
    let before = rss();
    let t = Instant::now();
    let index = block_on(Index::load(&db)).unwrap();
    println!(
        "built index: {} items, build {:.0} ms, RSS +{:.1} MiB",
        index.docs.len(),
        t.elapsed().as_secs_f64() * 1000.0,
        mib(rss().saturating_sub(before))
    );
    let t = Instant::now();
    let (blob, layout) = packed::build_with_layout(&index).unwrap();
    for (name, bytes) in &layout.sections {
        println!("section {name}: {:.2} MiB", mib(*bytes));
    }
    println!("text part: {:.2} MiB", mib(layout.text));
    let ((dn, dense), (sn, sparse)) = (layout.dense, layout.sparse);
    println!("term lists: {dn} dense {:.2} MiB, {sn} sparse {:.2} MiB", mib(dense), mib(sparse));
    let parts = packed::chunks(&blob, CHUNK_BYTES);
    println!(
        "packed: {:.2} MiB, build {:.0} ms (from the built index), {} chunks of <= {} MiB",
        mib(blob.len()),
        t.elapsed().as_secs_f64() * 1000.0,
        parts.len(),
        CHUNK_BYTES >> 20
    );
    // The cron's build, page by page: the same bytes; its memory is
    // measured in a fresh process reading the catalogue from a file.
    let t = Instant::now();
    let built = block_on(paged::build(&db, paged::PAGE, || 0.0)).unwrap();
    println!(
        "paged build: {} reads of {} items, {:.0} ms",
        built.pages,
        paged::PAGE,
        t.elapsed().as_secs_f64() * 1000.0
    );
    assert!(built.blob == blob, "the page-by-page build wrote other bytes");
    drop(built);
    let dir = std::env::temp_dir().join(format!("packed-probe-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("catalogue.sqlite");
    db.save_to(&file).unwrap();
    let status = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--ignored", "--exact", "paged_probe_process", "--nocapture", "--test-threads=1"])
        .env("BIANMIN_PAGED_DB", &file)
        .status()
        .unwrap();
    assert!(status.success());
    std::fs::remove_file(&file).unwrap();
    let p = Packed::load(&blob).unwrap();
    for (_, params) in probe_cases() {
        same(&index, &p, &params);
    }
    same_suggest(&index, &p, "gjj");
    time_queries("built", |p| query::search(&index, p).unwrap().total);
    // A fresh process loads the chunks, as an isolate would from KV.
    for (i, c) in parts.iter().enumerate() {
        std::fs::write(dir.join(format!("{i:03}")), c).unwrap();
    }
    let status = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--ignored", "--exact", "packed_probe_isolate", "--nocapture", "--test-threads=1"])
        .env("BIANMIN_PACKED_CHUNKS", &dir)
        .status()
        .unwrap();
    if std::env::var_os("BIANMIN_PROBE_KEEP").is_none() {
        std::fs::remove_dir_all(&dir).unwrap();
    } else {
        println!("chunks kept in {}", dir.display());
    }
    assert!(status.success());
}

/// The isolate half of the probe (run by `packed_probe` in its own process).
#[test]
#[ignore = "run by packed_probe"]
fn paged_probe_process() {
    let Ok(file) = std::env::var("BIANMIN_PAGED_DB") else { return };
    let db = SqliteDb::open(std::path::Path::new(&file)).unwrap();
    // Reset the peak to now (Linux: 5 to clear_refs), so it is the build's.
    std::fs::write("/proc/self/clear_refs", "5").unwrap();
    let (before, t) = (rss(), Instant::now());
    let built = block_on(paged::build(&db, paged::PAGE, || 0.0)).unwrap();
    let ms = t.elapsed().as_secs_f64() * 1000.0;
    println!(
        "paged build, fresh process: {} items, {:.0} ms, peak RSS +{:.1} MiB over {:.1} MiB before (blob {:.2} MiB)",
        built.docs,
        ms,
        mib(peak_rss().saturating_sub(before)),
        mib(before),
        mib(built.blob.len())
    );
}

#[test]
#[ignore = "run by packed_probe"]
fn packed_probe_isolate() {
    let Ok(dir) = std::env::var("BIANMIN_PACKED_CHUNKS") else { return };
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    let before = rss();
    let chunks: Vec<Vec<u8>> = files.iter().map(|f| std::fs::read(f).unwrap()).collect();
    let t = Instant::now();
    let p = Packed::from_chunks(&chunks).unwrap();
    let load = t.elapsed();
    drop(chunks);
    let after = rss();
    println!(
        "isolate: load from {} chunks {:.1} ms (join, checksum, tables), holds {:.2} MiB, RSS +{:.2} MiB after load",
        files.len(),
        load.as_secs_f64() * 1000.0,
        mib(p.byte_len()),
        mib(after.saturating_sub(before))
    );
    time_queries("packed", |q| p.search(q).unwrap().total);
    let mut per = Vec::new();
    for _ in 0..200 {
        let t = Instant::now();
        assert!(!p.suggest("gjj").unwrap().is_empty());
        per.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    per.sort_by(f64::total_cmp);
    println!("packed: suggest gjj: p50 {:.3} ms, p99 {:.3} ms", per[per.len() / 2], per[per.len() * 99 / 100]);
    println!("isolate: RSS +{:.2} MiB after the queries", mib(rss().saturating_sub(before)));
}

/// For `scripts/bench --province`: the cron's page-by-page build of
/// BIANMIN_PROBE_CATALOG, written as the chunks and the manifest the cron
/// would store, into BIANMIN_CHUNKS_OUT.
#[test]
#[ignore = "run by scripts/bench --province"]
fn province_chunks() {
    let (Ok(catalogue), Ok(out)) = (std::env::var("BIANMIN_PROBE_CATALOG"), std::env::var("BIANMIN_CHUNKS_OUT")) else {
        return;
    };
    let db = SqliteDb::migrated().unwrap();
    import_body(&db, serde_json::from_str(&std::fs::read_to_string(catalogue).unwrap()).unwrap());
    // The catalogue as D1 holds it, for the cron's build in workerd (scripts/bench --province).
    if let Ok(file) = std::env::var("BIANMIN_DB_OUT") {
        let _ = std::fs::remove_file(&file);
        db.save_to(std::path::Path::new(&file)).unwrap();
    }
    let built = block_on(paged::build(&db, paged::PAGE, || 0.0)).unwrap();
    let parts = packed::chunks(&built.blob, CHUNK_BYTES);
    let out = PathBuf::from(out);
    std::fs::create_dir_all(&out).unwrap();
    for (i, c) in parts.iter().enumerate() {
        std::fs::write(out.join(format!("{i:03}")), c).unwrap();
    }
    let manifest = item_search::packed_store::Manifest {
        version: built.version,
        format: packed::FORMAT,
        chunks: parts.len() as u32,
        bytes: built.blob.len() as u64,
        checksum: item_search::packed_store::fingerprint(&built.blob),
        docs: built.docs as u64,
        built_at: "2026-12-02T00:00:00+08:00".into(),
    };
    std::fs::write(out.join("manifest.json"), serde_json::to_string(&manifest).unwrap()).unwrap();
    println!("province chunks: {} items, {} chunks, {:.2} MiB", built.docs, parts.len(), mib(built.blob.len()));
}
