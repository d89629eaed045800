//! Search natively over real SQLite: the index loads what D1 holds, and a
//! scale probe (ignored by default) reports build time, memory and query
//! time at 10,000 and 100,000 items.

#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use futures_executor::block_on;
use item_search::index::Index;
use item_search::query::{self, Params};
use shared::admin::{Principal, Role};
use shared::catalogue::import;
use shared::store::{Db, MemoryKv, SqliteDb, Stmt};
use shared::testing::{hall, item};
use shared::types::BeijingTime;
use std::time::Instant;

const PAY: &str = "91440300708461136T4000172009012";
const FUND: &str = "91440300708461136T4000172009050";

fn seeded() -> SqliteDb {
    let db = SqliteDb::migrated().unwrap();
    let mut pay = item(PAY, "水费缴费", &["H1"], &[]);
    pay["tags"] = serde_json::json!(["水费", "缴费"]);
    let fund = item(FUND, "住房公积金提取", &["H1"], &[]);
    let body =
        serde_json::from_value(serde_json::json!({"items": [pay, fund], "halls": [hall("H1", 29.3, 120.07)]})).unwrap();
    let who = Principal { token_id: "t".into(), name: "n".into(), roles: vec![Role::CatalogueEditor] };
    let now = BeijingTime::parse("2026-11-23T10:00:00+08:00").unwrap();
    block_on(import::apply(&db, &MemoryKv::default(), body, &who, now, "r")).unwrap();
    db
}

fn top(index: &Index, q: &str) -> (Option<String>, Option<String>) {
    let a = query::search(index, &Params { q: q.into(), page: 1, size: 3, ..Default::default() }).unwrap();
    (a.items.first().map(|h| h.name.clone()), a.corrected)
}

#[test]
fn the_index_answers_chinese_pinyin_initials_typos_and_thesaurus() {
    let index = block_on(Index::load(&seeded())).unwrap();
    assert_eq!(index.version, 1);
    assert_eq!(top(&index, "水费").0.as_deref(), Some("水费缴费"));
    assert_eq!(top(&index, "shuifei").0.as_deref(), Some("水费缴费"));
    assert_eq!(top(&index, "sfjf").0.as_deref(), Some("水费缴费"));
    assert_eq!(top(&index, "shui费").0.as_deref(), Some("水费缴费"));
    assert_eq!(top(&index, "公基金"), (Some("住房公积金提取".into()), Some("公积金".into())));
    assert_eq!(top(&index, "交水费").0.as_deref(), Some("水费缴费"));
    assert_eq!(top(&index, "水费怎么交").0.as_deref(), Some("水费缴费"));
    assert!(top(&index, "完全无关").0.is_none());
    let banned = query::search(&index, &Params { q: "办假证".into(), page: 1, size: 3, ..Default::default() });
    assert_eq!(banned.unwrap_err().code, shared::ErrorCode::QueryBanned);
}

/// `cargo test --release -p item-search --test search -- --ignored --nocapture`
#[test]
#[ignore = "scale probe: run by hand, reports figures"]
fn scale_probe() {
    for n in [10_000usize, 100_000] {
        let db = SqliteDb::migrated().unwrap();
        let names =
            ["营业执照", "居住证", "社会保障卡", "不动产权证书", "机动车行驶证", "公积金账户", "水表", "燃气户"];
        let acts = ["申请", "变更", "注销", "补领", "换领", "查询"];
        let mut stmts = Vec::new();
        for k in 0..n {
            let name = format!("{}{}（{k:06}）", names[k % names.len()], acts[(k / 8) % acts.len()]);
            stmts.push(Stmt::new(
                "INSERT INTO items (code, basic_code, name, category, tags, department, service_object, online, appointment, guide, version, updated_at)
                 VALUES (?1, '000000000000', ?2, '社保', '[\"社保\"]', '人社局', '[]', ?3, 1, '{\"scope\":\"办理相关事项的自然人\"}', 1, 'x')",
                vec![format!("{k:031}").into(), name.into(), ((k % 2) as i64).into()],
            ));
        }
        block_on(db.batch(&stmts)).unwrap();
        let t = Instant::now();
        let index = block_on(Index::load(&db)).unwrap();
        let build = t.elapsed();
        let mut times = Vec::new();
        for q in ["社保", "shuibiao", "居住证换领", "sbk", "证"] {
            let mut per = Vec::new();
            for _ in 0..40 {
                let t = Instant::now();
                let _ =
                    query::search(&index, &Params { q: q.into(), page: 1, size: 10, ..Default::default() }).unwrap();
                per.push(t.elapsed().as_secs_f64() * 1000.0);
            }
            per.sort_by(f64::total_cmp);
            println!("scale: {n} items, {q}: p50 {:.3} ms", per[per.len() / 2]);
            times.extend(per);
        }
        times.sort_by(f64::total_cmp);
        println!(
            "scale: {n} items: index build {:.0} ms, ~{:.1} MiB, query p50 {:.3} ms, p99 {:.3} ms (native, release)",
            build.as_secs_f64() * 1000.0,
            index.approx_bytes() as f64 / 1048576.0,
            times[times.len() / 2],
            times[times.len() * 99 / 100]
        );
    }
}

/// The bench's own queries over the bench's own catalogue, natively: the
/// stand-in for in-worker time (workerd's clock does not advance without I/O).
///   scripts/gen-catalog 10000 > /tmp/c.json
///   BIANMIN_PROBE_CATALOG=/tmp/c.json cargo test --release -p item-search --test search -- --ignored bench_queries --nocapture
#[test]
#[ignore = "probe: run by hand with BIANMIN_PROBE_CATALOG, reports figures"]
fn bench_queries() {
    let Ok(path) = std::env::var("BIANMIN_PROBE_CATALOG") else { return };
    let all: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let db = SqliteDb::migrated().unwrap();
    let who = Principal { token_id: "t".into(), name: "n".into(), roles: vec![Role::CatalogueReviewer] };
    let now = BeijingTime::parse("2026-11-23T10:00:00+08:00").unwrap();
    let halls = serde_json::json!({ "halls": all["halls"] });
    block_on(import::apply(&db, &MemoryKv::default(), serde_json::from_value(halls).unwrap(), &who, now, "r")).unwrap();
    for chunk in all["items"].as_array().unwrap().chunks(2_000) {
        let body = serde_json::from_value(serde_json::json!({ "items": chunk })).unwrap();
        block_on(import::apply(&db, &MemoryKv::default(), body, &who, now, "r")).unwrap();
    }
    let t = Instant::now();
    let index = block_on(Index::load(&db)).unwrap();
    println!("probe: {} items, build {:.0} ms", index.docs.len(), t.elapsed().as_secs_f64() * 1000.0);
    let filtered = Params {
        q: "证".into(),
        online: Some(true),
        category: Some("户政（治安）".into()),
        page: 1,
        size: 10,
        ..Default::default()
    };
    let cases = [
        ("社保", Params { q: "社保".into(), page: 1, size: 10, ..Default::default() }),
        ("shuifei", Params { q: "shuifei".into(), page: 1, size: 10, ..Default::default() }),
        ("证", Params { q: "证".into(), page: 1, size: 10, ..Default::default() }),
        ("证+online+category", filtered),
    ];
    for (name, p) in cases {
        let mut per = Vec::new();
        for _ in 0..200 {
            let t = Instant::now();
            let a = query::search(&index, &p).unwrap();
            per.push(t.elapsed().as_secs_f64() * 1000.0);
            assert!(a.total > 0, "{name}");
        }
        per.sort_by(f64::total_cmp);
        println!("probe: {name}: p50 {:.3} ms, p99 {:.3} ms", per[per.len() / 2], per[per.len() * 99 / 100]);
    }
    let mut per = Vec::new();
    for _ in 0..200 {
        let t = Instant::now();
        let s = query::suggest(&index, "gjj").unwrap();
        per.push(t.elapsed().as_secs_f64() * 1000.0);
        assert!(!s.is_empty());
    }
    per.sort_by(f64::total_cmp);
    println!("probe: suggest gjj: p50 {:.3} ms, p99 {:.3} ms", per[per.len() / 2], per[per.len() * 99 / 100]);
}

#[test]
fn answer_cache_keys_differ_for_every_parameter_and_cannot_be_forged_from_the_text() {
    use shared::types::Region;
    let base = Params { q: "证".into(), page: 1, size: 10, ..Default::default() };
    let region = |r: &str| Some(Region::parse(r).unwrap());
    let variants = [
        base.clone(),
        Params { q: "证 ".into(), ..base.clone() },
        Params { category: Some("户政".into()), ..base.clone() },
        Params { tag: Some("户政".into()), ..base.clone() },
        Params { department: Some("户政".into()), ..base.clone() },
        Params { category: Some(String::new()), ..base.clone() },
        // A query carrying what another request's fields would write.
        Params { q: "证|5:户政".into(), ..base.clone() },
        Params { q: "证|6:户政|-|-|-|--|".into(), ..base.clone() },
        Params { q: "证".into(), category: Some("户政|-".into()), ..base.clone() },
        Params { q: "证".into(), category: Some("户政".into()), tag: Some("-".into()), ..base.clone() },
        Params { online: Some(true), ..base.clone() },
        Params { online: Some(false), ..base.clone() },
        Params { appointment: Some(true), ..base.clone() },
        Params { near: Some((29.3, 120.07)), ..base.clone() },
        Params { near: Some((29.31, 120.07)), ..base.clone() },
        Params { page: 2, ..base.clone() },
        Params { size: 20, ..base.clone() },
        Params { page: 1, size: 1, ..base.clone() },
        Params { region: region("330782"), ..base.clone() },
        Params { region: region("330700"), ..base.clone() },
    ];
    let keys: Vec<String> = variants.iter().map(|p| p.cache_key(7)).collect();
    for (i, k) in keys.iter().enumerate() {
        for (j, other) in keys.iter().enumerate().skip(i + 1) {
            assert_ne!(k, other, "{:?} and {:?} share a key", variants[i], variants[j]);
        }
    }
    assert_eq!(base.cache_key(7), base.clone().cache_key(7));
    assert_ne!(base.cache_key(7), base.cache_key(8), "a publish changes every key");
}
