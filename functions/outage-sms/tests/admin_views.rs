//! The staff's views natively on SQLite with the production migrations: the
//! preview stores nothing and matches what publishing sends, the list is
//! newest first with its delivery, the area tree, and who may read them.

#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use futures_executor::block_on;
use outage_sms::areas::{self, AreasBody};
use outage_sms::listing::{self, ListQuery};
use outage_sms::publish::{self, OutageBody};
use outage_sms::rules::QuietHours;
use outage_sms::states::OutageStatus;
use serde_json::json;
use shared::ErrorCode;
use shared::admin::{Act, Principal, Role};
use shared::http::Query;
use shared::runtime::OsRandom;
use shared::store::{Db, SqliteDb};

use shared::testing::at as t;

fn who(role: Role) -> Principal {
    Principal { token_id: "p".into(), name: "调度".into(), roles: vec![role] }
}

fn body(v: serde_json::Value) -> OutageBody {
    let mut base = json!({"utility": "water", "kind": "emergency", "areas": ["bw"],
        "start": "2026-11-23T11:00:00+08:00", "end": "2026-11-23T18:00:00+08:00", "reason": "爆管抢修",
        "issuer": "义乌市供水有限公司", "contact_phone": "0579-85510011"});
    for (k, val) in v.as_object().unwrap() {
        base[k] = val.clone();
    }
    serde_json::from_value(base).unwrap()
}

fn migrated() -> SqliteDb {
    let db = SqliteDb::migrated().unwrap();
    let p = who(Role::OutagePublisher);
    let act = Act { who: &p, now: t("2026-11-20T10:00:00+08:00"), request_id: "load" };
    let areas: AreasBody = serde_json::from_value(json!({"areas": [
        {"code": "yw", "name": "义乌市", "level": "district"},
        {"code": "cc", "name": "稠城街道", "level": "street", "parent": "yw"},
        {"code": "bw", "name": "宾王小区", "level": "community", "parent": "cc"},
        {"code": "bw-1", "name": "1幢", "level": "building", "parent": "bw"},
        {"code": "xh", "name": "绣湖小区", "level": "community", "parent": "cc"}
    ]}))
    .unwrap();
    block_on(areas::load_areas(&db, &act, &areas)).unwrap();
    db
}

fn count(db: &SqliteDb, table: &str) -> i64 {
    let rows: Vec<serde_json::Value> =
        block_on(db.query_as(&format!("SELECT COUNT(*) AS n FROM {table}"), &[])).unwrap();
    rows[0]["n"].as_i64().unwrap()
}

#[test]
fn a_preview_writes_nothing_and_shows_the_message_publishing_then_sends() {
    let db = migrated();
    let p = who(Role::OutagePublisher);
    let act = Act { who: &p, now: t("2026-11-23T10:00:00+08:00"), request_id: "r" };
    let seen = block_on(publish::preview(&db, &act, &body(json!({})), "义乌便民", QuietHours::default())).unwrap();
    assert_eq!((count(&db, "outages"), count(&db, "outage_versions")), (0, 0));
    assert!(seen.publishable && seen.areas == ["稠城街道宾王小区"], "{seen:?}");
    let (o, _) =
        block_on(publish::publish(&db, &OsRandom, &act, &body(json!({})), None, "义乌便民", QuietHours::default()))
            .unwrap();
    assert_eq!((o.message, o.chars, o.parts, o.send_at), (seen.message, seen.chars, seen.parts, seen.send_at));
    // An unknown area or a bad field is refused as when publishing; the auditor cannot preview.
    let err = block_on(publish::preview(&db, &act, &body(json!({"areas": ["nowhere"]})), "s", QuietHours::default()))
        .unwrap_err();
    assert_eq!(err.fields[0].field, "areas[0]");
    let a = who(Role::Auditor);
    let act = Act { who: &a, now: t("2026-11-23T10:00:00+08:00"), request_id: "r" };
    let err = block_on(publish::preview(&db, &act, &body(json!({})), "s", QuietHours::default())).unwrap_err();
    assert_eq!(err.code, ErrorCode::Forbidden);
}

#[test]
fn the_list_is_newest_first_filtered_paged_and_refused_to_other_roles() {
    let db = migrated();
    let p = who(Role::OutagePublisher);
    for (i, area) in ["bw", "xh", "bw-1"].iter().enumerate() {
        let act = Act { who: &p, now: t(&format!("2026-11-23T10:0{i}:00+08:00")), request_id: "r" };
        block_on(publish::publish(
            &db,
            &OsRandom,
            &act,
            &body(json!({"areas": [area]})),
            None,
            "s",
            QuietHours::default(),
        ))
        .unwrap();
    }
    let q = |s: &str| ListQuery::parse(&Query::parse(s).unwrap()).unwrap();
    let page = block_on(listing::list(&db, &who(Role::Auditor), &q("per_page=2"))).unwrap();
    assert_eq!(page.total, 3);
    let areas: Vec<&str> = page.outages.iter().map(|o| o.areas[0].as_str()).collect();
    assert_eq!(areas, ["稠城街道宾王小区1幢", "稠城街道绣湖小区"]);
    let first = &page.outages[0];
    assert_eq!(
        (first.status, first.delivery.planned_versions, first.delivery.progress),
        (OutageStatus::Published, 1, None)
    );
    let rest = block_on(listing::list(&db, &p, &q("per_page=2&page=2"))).unwrap();
    assert_eq!(rest.outages.len(), 1);
    assert_eq!(block_on(listing::list(&db, &p, &q("status=cancelled"))).unwrap().total, 0);
    // Sending: only those with rows still on their way.
    assert_eq!(block_on(listing::list(&db, &p, &q("sending=true"))).unwrap().total, 0);
    block_on(db.batch(&[shared::store::Stmt::new(
        "INSERT INTO outage_outbox (outage_id, version, citizen_id, phone_hash, status, next_at)
         VALUES (?1, 1, 'c1', 'h1', 'queued', '2026-11-23T10:00:00+08:00')",
        vec![first.id.as_str().into()],
    )]))
    .unwrap();
    let sending = block_on(listing::list(&db, &p, &q("sending=true"))).unwrap();
    assert_eq!(sending.outages.iter().map(|o| o.id.as_str()).collect::<Vec<_>>(), [first.id.as_str()]);
    assert!(sending.outages[0].delivery.sending_now);
    let one = block_on(listing::record(&db, &p, &first.id)).unwrap();
    assert_eq!(one.reason, "爆管抢修");
    assert_eq!(block_on(listing::record(&db, &p, "OUTX")).unwrap_err().code, ErrorCode::NotFound);
    let billing = who(Role::BillingOperator);
    assert_eq!(block_on(listing::list(&db, &billing, &q(""))).unwrap_err().code, ErrorCode::Forbidden);
    assert_eq!(block_on(listing::area_tree(&db, &billing)).unwrap_err().code, ErrorCode::Forbidden);
}

#[test]
fn the_area_tree_goes_district_street_community_building() {
    let db = migrated();
    let tree = block_on(listing::area_tree(&db, &who(Role::OutagePublisher))).unwrap();
    assert_eq!(tree.count, 5);
    let yw = &tree.areas[0];
    let cc = &yw.children[0];
    let names: Vec<&str> = cc.children.iter().map(|n| n.name.as_str()).collect();
    assert_eq!((yw.name.as_str(), cc.name.as_str(), names), ("义乌市", "稠城街道", vec!["宾王小区", "绣湖小区"]));
    assert_eq!(cc.children[0].children[0].full_name, "稠城街道宾王小区1幢");
}
