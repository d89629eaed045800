//! Full text of guides in search (issue 19): materials, conditions, steps
//! and Q&A are found with a weight below names, hits say where they
//! matched, and FAQ entries come back as questions.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use futures_executor::block_on;
use item_search::enrich::{Caches, enrich};
use item_search::index::Index;
use item_search::packed::{self, Packed};
use item_search::query::{self, Answer, Params};
use shared::admin::{Principal, Role};
use shared::catalogue::import;
use shared::store::{Db, MemoryKv, SqliteDb, Stmt};
use shared::types::BeijingTime;
use std::path::PathBuf;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The demo catalogue (scripts/catalog/demo.mjs) in SQLite.
fn demo_db() -> SqliteDb {
    let db = SqliteDb::migrated().unwrap();
    let who = Principal { token_id: "t".into(), name: "n".into(), roles: vec![Role::CatalogueReviewer] };
    let at = BeijingTime::parse("2026-11-23T10:00:00+08:00").unwrap();
    // The demo is small: halls and items in one import.
    let body = serde_json::from_value(shared::testing::demo_catalogue().unwrap()).unwrap();
    block_on(import::apply(&db, &MemoryKv::default(), body, &who, at, "r")).unwrap();
    db
}

fn ask(db: &SqliteDb, index: &Index, q: &str) -> Answer {
    let mut a = query::search(index, &Params { q: q.into(), page: 1, size: 10, ..Default::default() }).unwrap();
    block_on(enrich(db, &Caches::default(), 0, &mut a)).unwrap();
    a
}

fn names(a: &Answer) -> Vec<&str> {
    a.items.iter().map(|h| h.name.as_str()).collect()
}

#[test]
fn a_material_only_query_finds_the_items_and_says_where_it_matched() {
    let db = demo_db();
    let index = block_on(Index::load(&db)).unwrap();
    let a = ask(&db, &index, "户口簿");
    assert!(a.total >= 10, "{}", a.total);
    let id = a.items.iter().find(|h| h.name == "居民身份证换领").expect("an item needing 户口簿");
    let m = id.matched.as_ref().unwrap();
    assert_eq!((m.field, m.label), ("materials", "申请材料"));
    let shown: String = m.text.chars().skip(m.highlights[0][0]).take(m.highlights[0][1] - m.highlights[0][0]).collect();
    assert_eq!(shown, "户口簿");
    assert!(m.text.chars().count() <= 60);
    // A name match says nothing more.
    let b = ask(&db, &index, "水费缴费");
    assert_eq!(b.items[0].name, "水费缴费");
    assert!(b.items[0].matched.is_none());
}

#[test]
fn materials_rank_below_names_and_keywords() {
    let db = demo_db();
    let index = block_on(Index::load(&db)).unwrap();
    // 不动产权证书 is an item's name and other items' material.
    let a = ask(&db, &index, "不动产权证书");
    assert_eq!(a.items[0].name, "不动产权证书补发");
    assert!(a.items[0].matched.is_none());
    assert!(a.items.iter().skip(1).any(|h| h.matched.as_ref().is_some_and(|m| m.field == "materials")));
}

#[test]
fn everyday_questions_about_what_to_bring_find_items_by_their_materials() {
    let db = demo_db();
    let index = block_on(Index::load(&db)).unwrap();
    let a = ask(&db, &index, "要带户口本吗");
    assert_eq!(a.searched, "户口簿");
    assert!(names(&a).contains(&"居民身份证换领"), "{:?}", names(&a));
    let b = ask(&db, &index, "办营业执照要什么材料");
    assert_eq!(b.searched, "营业执照");
    assert!(b.items.iter().all(|h| h.matched.as_ref().is_some_and(|m| m.text.contains("营业执照"))));
    let c = ask(&db, &index, "需要房产证的事项");
    assert!(c.items.iter().any(|h| h.matched.as_ref().is_some_and(|m| m.text.contains("不动产权证书"))));
}

#[test]
fn faq_entries_and_guides_answers_come_back_as_questions_on_the_first_page() {
    let db = demo_db();
    block_on(db.batch(&[Stmt::new(
        "INSERT INTO faq (id, question, answer, category, created_by, created_at)
         VALUES ('F1', '户口簿丢了还能办事吗？', '可先到户籍窗口补领居民户口簿，补领当天可出具户籍证明。', '户政', 't', '2026-11-20T10:00:00+08:00')",
        vec![],
    )]))
    .unwrap();
    let index = block_on(Index::load(&db)).unwrap();
    let a = ask(&db, &index, "户口簿");
    assert!(!a.questions.is_empty() && a.questions.len() <= 3);
    let f = a.questions.iter().find(|q| q.faq_id.as_deref() == Some("F1")).expect("the FAQ entry");
    assert_eq!(f.question_highlights, vec![[0, 3]]);
    assert!(f.item_code.is_none());
    assert!(a.questions.iter().all(|q| q.answer.chars().count() <= 120));
    // A guide's own Q&A names its item.
    let b = ask(&db, &index, "委托书");
    assert!(b.questions.iter().any(|q| q.item_code.is_some() && q.item_name.is_some()), "{:?}", b.questions);
    // Later pages and pinyin queries carry none.
    let mut p2 = query::search(&index, &Params { q: "户口簿".into(), page: 2, size: 5, ..Default::default() }).unwrap();
    block_on(enrich(&db, &Caches::default(), 0, &mut p2)).unwrap();
    assert!(p2.questions.is_empty());
    assert!(ask(&db, &index, "shuifei").questions.is_empty());
}

#[test]
fn the_packed_index_holds_the_full_text_and_answers_alike() {
    let db = demo_db();
    let index = block_on(Index::load(&db)).unwrap();
    let blob = packed::build(&index).unwrap();
    let p = Packed::load(&blob).unwrap();
    for q in ["户口簿", "营业执照", "委托书", "不动产权证书", "窗口核验", "证"] {
        let params = Params { q: q.into(), page: 1, size: 10, ..Default::default() };
        let (a, b) = (query::search(&index, &params).unwrap(), p.search(&params).unwrap());
        assert_eq!(serde_json::to_value(&a).unwrap(), serde_json::to_value(&b).unwrap(), "{q}");
    }
}

#[test]
fn a_failing_database_fails_the_enrichment_with_an_error() {
    let db = demo_db();
    let index = block_on(Index::load(&db)).unwrap();
    let mut a = query::search(&index, &Params { q: "户口簿".into(), page: 1, size: 10, ..Default::default() }).unwrap();
    block_on(db.batch(&[Stmt::new("DROP TABLE faq", vec![])])).unwrap();
    assert!(block_on(enrich(&db, &Caches::default(), 0, &mut a)).is_err());
}

#[test]
fn the_relevance_suite_keeps_its_recall_with_full_text() {
    let db = demo_db();
    let index = block_on(Index::load(&db)).unwrap();
    let cases: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(root().join("tests/relevance/queries.json")).unwrap()).unwrap();
    let cases = cases["queries"].as_array().unwrap();
    let (mut at1, mut at3, mut misses) = (0, 0, vec![]);
    for c in cases {
        let (q, expect) = (c["q"].as_str().unwrap(), c["expect"].as_str().unwrap());
        let a = query::search(&index, &Params { q: q.into(), page: 1, size: 3, ..Default::default() }).unwrap();
        let first = a.items.first().is_some_and(|h| h.name == expect);
        at1 += usize::from(first);
        if !first {
            println!("relevance: @1 miss: {q} -> {:?} (want {expect})", names(&a));
        }
        let hit = a.items.iter().any(|h| h.name == expect);
        at3 += usize::from(hit);
        if !hit {
            misses.push(format!("{q} -> {:?}", names(&a)));
        }
    }
    let n = cases.len() as f64;
    println!("relevance: {} queries, recall@1 {:.3}, recall@3 {:.3}", cases.len(), at1 as f64 / n, at3 as f64 / n);
    assert_eq!(at3, cases.len(), "{misses:?}");
    assert!(at1 as f64 >= 0.90 * n, "recall@1 {at1}/{n}");
}

#[test]
fn an_isolate_reads_the_faq_once_a_minute() {
    use item_search::enrich::FAQ_TTL_MS;
    let db = demo_db();
    let index = block_on(Index::load(&db)).unwrap();
    let caches = Caches::default();
    let run = |q: &str, now_ms: i64| {
        let mut a = query::search(&index, &Params { q: q.into(), page: 1, size: 10, ..Default::default() }).unwrap();
        block_on(enrich(&db, &caches, now_ms, &mut a)).unwrap();
        a
    };
    assert!(run("户口簿", 0).questions.iter().all(|q| q.faq_id.is_none()), "no entry yet");
    block_on(db.execute(
        "INSERT INTO faq (id, question, answer, category, created_by, created_at)
         VALUES ('F2', '户口簿丢了怎么办？', '到户籍窗口补领居民户口簿。', '户政', 't', '2026-11-20T10:00:00+08:00')",
        &[],
    ))
    .unwrap();
    let within = run("户口簿", FAQ_TTL_MS - 1);
    assert!(within.questions.iter().all(|q| q.faq_id.is_none()), "the isolate's copy is still fresh");
    let after = run("户口簿", FAQ_TTL_MS);
    assert!(after.questions.iter().any(|q| q.faq_id.as_deref() == Some("F2")), "read again after a minute");
}

/// `cargo test -p item-search --release --test fulltext -- --ignored --nocapture enrich_probe`
#[test]
#[ignore = "probe: run by hand, reports figures"]
fn enrich_probe() {
    let db = demo_db();
    let index = block_on(Index::load(&db)).unwrap();
    let caches = Caches::default();
    for q in ["社保", "证", "户口簿", "要带户口本吗"] {
        let params = Params { q: q.into(), page: 1, size: 10, ..Default::default() };
        let mut times = (Vec::new(), Vec::new());
        for _ in 0..200 {
            let t = std::time::Instant::now();
            let mut a = query::search(&index, &params).unwrap();
            let s = t.elapsed();
            block_on(enrich(&db, &caches, 1, &mut a)).unwrap();
            times.0.push(s.as_secs_f64() * 1e3);
            times.1.push((t.elapsed() - s).as_secs_f64() * 1e3);
        }
        times.0.sort_by(f64::total_cmp);
        times.1.sort_by(f64::total_cmp);
        println!("{q}: search p50 {:.3} ms, enrich (cached texts) p50 {:.3} ms", times.0[100], times.1[100]);
    }
}
