//! Catalogue repository and import, natively against real SQLite with the
//! production migrations.

#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use futures_executor::block_on;
use serde_json::{Value, json};
use shared::admin::{Principal, Role, audit_page};
use shared::catalogue::{import, repo};
use shared::store::{Db, Kv, MemoryKv, SqliteDb};
use shared::testing::now;
use shared::testing::{hall, item};
use shared::{ApiError, ErrorCode};

const WATER: &str = "91440300708461136T4000172009002";
const OTHER: &str = "91440300708461136T4000172009003";

fn editor() -> Principal {
    Principal { token_id: "adm_1".into(), name: "目录编辑".into(), roles: vec![Role::CatalogueEditor] }
}

fn body(items: Vec<Value>, halls: Vec<Value>) -> import::ImportBody {
    serde_json::from_value(json!({"items": items, "halls": halls})).unwrap()
}

fn seeded() -> (SqliteDb, MemoryKv) {
    let (db, kv) = (SqliteDb::migrated().unwrap(), MemoryKv::default());
    let b = body(
        vec![item(WATER, "个人客户接水申请", &["H1", "H2"], &[]), item(OTHER, "水表过户", &["H1"], &[WATER])],
        vec![hall("H1", 29.31, 120.07), hall("H2", 29.20, 120.05)],
    );
    let out = block_on(import::apply(&db, &kv, b, &editor(), now(), "req-1")).unwrap();
    assert_eq!(out.catalog_version, 1);
    (db, kv)
}

#[test]
fn an_imported_item_renders_every_guide_field() {
    let (db, _) = seeded();
    let g = block_on(repo::render_guide(&db, WATER)).unwrap().unwrap();
    for field in [
        "scope",
        "legal_basis",
        "accepting_department",
        "deciding_department",
        "conditions",
        "prohibitions",
        "materials",
        "process",
        "time_limit",
        "fees",
        "delivery",
        "supervision",
        "halls",
        "sample_texts",
        "common_errors",
        "faq",
        "handling_unit",
        "business_office",
        "appointment_methods",
        "pickup_methods",
        "supplementary",
        "situations",
    ] {
        assert!(g["guide"].get(field).is_some(), "missing {field}");
    }
    assert_eq!(g["guide"]["fees"]["summary"], "不收费");
    assert_eq!(g["guide"]["materials"][1]["name"], "申请表");
    assert_eq!(g["guide"]["materials"][0]["form_label"], "原件");
    assert_eq!(g["guide"]["sample_texts"][0]["material"], "申请表");
    assert_eq!(g["guide"]["halls"].as_array().unwrap().len(), 2);
    assert_eq!(g["guide"]["time_limit"]["text"], "法定办结时限：15个工作日；承诺办结时限：7个工作日");
    let other = block_on(repo::render_guide(&db, OTHER)).unwrap().unwrap();
    assert_eq!(other["related"][0]["code"], WATER);
}

#[test]
fn a_guide_names_the_region_its_code_carries() {
    let (db, _) = seeded();
    let g = block_on(repo::render_guide(&db, WATER)).unwrap().unwrap();
    // 440300 has no row in the seeded regions table (浙江省 only): code and level alone.
    assert_eq!(g["item"]["region"], serde_json::json!({"code": "440300", "level": "city"}));
    let named = shared::store::Stmt::new("INSERT INTO regions (code, name) VALUES ('440300', '深圳市')", vec![]);
    block_on(shared::store::Db::batch(&db, &[named])).unwrap();
    let g = block_on(repo::render_guide(&db, WATER)).unwrap().unwrap();
    assert_eq!(g["item"]["region"], serde_json::json!({"code": "440300", "name": "深圳市", "level": "city"}));
    assert_eq!(repo::region_json("11330782MB0000000X4000000000001", Some("义乌市"))["level"], "county");
    assert_eq!(repo::region_json("11000000MB0000000X4000000000001", None), serde_json::Value::Null);
}

#[test]
fn unknown_items_render_as_none() {
    let (db, _) = seeded();
    assert!(block_on(repo::render_guide(&db, "91440300708461136T4000172009999")).unwrap().is_none());
    assert!(block_on(repo::materials(&db, "91440300708461136T4000172009999")).unwrap().is_none());
}

#[test]
fn a_rejected_import_reports_every_row_and_writes_nothing() {
    let (db, kv) = seeded();
    let mut bad_name = item("91440300708461136T4000172009004", "", &["H1"], &[]);
    bad_name["guide"]["time_limit"]["promised_days"] = json!(99);
    let bad_hall = item("91440300708461136T4000172009005", "水表暂停", &["NOPE"], &[]);
    let bad_code = item("91440300708461136U4000172009006", "水表复接", &["H1"], &[]);
    let not_an_object = json!("oops");
    let b = body(vec![bad_name, bad_hall, bad_code, not_an_object], vec![]);
    let err: ApiError = block_on(import::apply(&db, &kv, b, &editor(), now(), "req-2")).unwrap_err();
    assert_eq!(err.code, ErrorCode::ValidationFailed);
    let fields: Vec<&str> = err.fields.iter().map(|f| f.field.as_str()).collect();
    for expected in
        ["items[0].name", "items[0].guide.time_limit.promised_days", "items[1].halls[0]", "items[2].code", "items[3]"]
    {
        assert!(fields.contains(&expected), "{expected} not in {fields:?}");
    }
    assert_eq!(block_on(repo::catalog_version(&db)).unwrap(), 1);
    assert_eq!(block_on(repo::item_codes(&db)).unwrap().len(), 2);
    assert_eq!(block_on(audit_page(&db, None, None, &Default::default())).unwrap().entries.len(), 1);
}

#[test]
fn situation_trees_must_lead_somewhere_without_cycles() {
    let (db, kv) = seeded();
    let mut it = item(WATER, "个人客户接水申请", &["H1"], &[]);
    it["guide"]["situations"] = json!([
        {"id": "a", "text": "甲", "options": [{"label": "1", "next": "b"}, {"label": "2", "item_code": WATER}]},
        {"id": "b", "text": "乙", "options": [{"label": "1", "next": "a"}, {"label": "2", "item_code": WATER, "materials": ["不存在的材料"]}]}
    ]);
    let err = block_on(import::apply(&db, &kv, body(vec![it], vec![]), &editor(), now(), "r")).unwrap_err();
    let messages: Vec<&str> = err.fields.iter().map(|f| f.message.as_str()).collect();
    assert!(messages.iter().any(|m| m.contains("循环")), "{messages:?}");
    assert!(messages.iter().any(|m| m.contains("不存在的材料")), "{messages:?}");
}

#[test]
fn an_import_bumps_the_version_audits_and_invalidates_stale_guides() {
    let (db, kv) = seeded();
    kv_put(&kv, &repo::guide_cache_key(OTHER));
    kv_put(&kv, &repo::guide_cache_key(WATER));
    let renamed = item(WATER, "个人客户接水申请（新）", &["H1"], &[]);
    let out = block_on(import::apply(&db, &kv, body(vec![renamed], vec![]), &editor(), now(), "req-3")).unwrap();
    assert_eq!(out.catalog_version, 2);
    // OTHER lists WATER as related, so its rendered guide is stale too.
    assert_eq!(out.invalidated_guides, 2);
    assert!(block_on(kv.get(&repo::guide_cache_key(OTHER))).unwrap().is_none());
    let page = block_on(audit_page(&db, None, None, &Default::default())).unwrap();
    assert_eq!(page.entries[0].action, "catalog.import");
    assert_eq!(page.entries[0].request_id, "req-3");
    assert_eq!(page.entries[0].actor_name, "目录编辑");
}

fn kv_put(kv: &MemoryKv, key: &str) {
    block_on(kv.put(key, "{}", None)).unwrap();
}

#[test]
fn nearby_halls_are_sorted_by_distance_and_filtered_by_item() {
    let (db, _) = seeded();
    let all = block_on(repo::nearby_halls(&db, 29.20, 120.05, None, 10)).unwrap();
    assert_eq!(all.iter().map(|h| h.hall.id.as_str()).collect::<Vec<_>>(), ["H2", "H1"]);
    assert!(all[0].distance_m < all[1].distance_m);
    let for_other = block_on(repo::nearby_halls(&db, 29.20, 120.05, Some(OTHER), 10)).unwrap();
    assert_eq!(for_other.len(), 1);
    let limited = block_on(repo::nearby_halls(&db, 29.20, 120.05, None, 1)).unwrap();
    assert_eq!(limited.len(), 1);
}

#[test]
fn hall_detail_lists_the_items_handled_there() {
    let (db, _) = seeded();
    let d = block_on(repo::hall_detail(&db, "H1")).unwrap();
    assert_eq!(d["items"].as_array().unwrap().len(), 2);
    let missing = block_on(repo::hall_detail(&db, "H404")).unwrap_err();
    assert_eq!(missing.code, ErrorCode::HallNotFound);
}

#[test]
fn a_broken_database_is_reported_as_unavailable_not_as_missing() {
    let (db, _) = seeded();
    db.break_storage(true);
    let err = block_on(repo::render_guide(&db, WATER)).unwrap_err();
    assert_eq!(err.code, ErrorCode::StorageUnavailable);
    assert!(block_on(db.query("SELECT 1", &[])).is_err());
}
