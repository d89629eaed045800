//! Publishing outages natively on SQLite with the production migrations.

#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use futures_executor::block_on;
use serde_json::json;
use shared::ErrorCode;
use shared::admin::{Act, Principal, Role};
use shared::outage::publish::{self, OutageBody};
use shared::outage::rules::QuietHours;
use shared::runtime::OsRandom;
use shared::store::{Db, SqliteDb};
use shared::types::BeijingTime;

fn t(s: &str) -> BeijingTime {
    BeijingTime::parse(s).unwrap()
}

fn body(v: serde_json::Value) -> OutageBody {
    let mut base = json!({"utility": "water", "kind": "planned", "areas": ["稠城街道宾王小区", "稠城街道绣湖小区"],
        "start": "2026-11-25T08:00:00+08:00", "end": "2026-11-25T18:00:00+08:00", "reason": "管网改造",
        "issuer": "义乌市供水有限公司", "contact_phone": "0579-85510011", "temporary_supply": "小区北门"});
    for (k, val) in v.as_object().unwrap() {
        base[k] = val.clone();
    }
    serde_json::from_value(base).unwrap()
}

fn publisher() -> Principal {
    Principal { token_id: "p".into(), name: "调度".into(), roles: vec![Role::OutagePublisher] }
}

#[test]
fn a_planned_outage_is_published_once_and_shown_publicly_at_once() {
    let db = SqliteDb::migrated().unwrap();
    let who = publisher();
    let now = t("2026-11-23T23:30:00+08:00");
    let act = Act { who: &who, now, request_id: "r" };
    let preview = block_on(publish::publish(
        &db,
        &OsRandom,
        &act,
        &body(json!({"preview": true})),
        None,
        "义乌便民",
        QuietHours::default(),
    ))
    .unwrap()
    .0;
    assert_eq!(preview.status, "preview");
    assert!(block_on(publish::public_list(&db, None, None, now)).unwrap().is_empty(), "a preview stores nothing");
    let (o, replay) = block_on(publish::publish(
        &db,
        &OsRandom,
        &act,
        &body(json!({})),
        Some("k1"),
        "义乌便民",
        QuietHours::default(),
    ))
    .unwrap();
    assert!(!replay);
    assert_eq!((o.send_at.as_str(), o.send_reason.as_str()), ("2026-11-24T07:00:00+08:00", "避开夜间，次日早晨发送"));
    assert!(o.message.contains("2026年11月25日 08:00 至 18:00停水") && o.parts >= 2, "{}", o.message);
    let (again, replay) = block_on(publish::publish(
        &db,
        &OsRandom,
        &act,
        &body(json!({})),
        Some("k1"),
        "义乌便民",
        QuietHours::default(),
    ))
    .unwrap();
    assert!(replay);
    assert_eq!(again.id, o.id);
    let listed = block_on(publish::public_list(&db, Some("稠城街道绣湖小区"), Some("water"), now)).unwrap();
    assert_eq!(listed.len(), 1);
    assert!(block_on(publish::public_list(&db, Some("别的小区"), None, now)).unwrap().is_empty());
    let audit = block_on(db.query("SELECT action FROM audit_log", &[])).unwrap();
    assert_eq!(audit.len(), 1);
}

#[test]
fn short_notice_is_refused_for_planned_stops_and_allowed_for_emergencies() {
    let db = SqliteDb::migrated().unwrap();
    let who = publisher();
    let act = Act { who: &who, now: t("2026-11-24T10:00:00+08:00"), request_id: "r" };
    let gas = body(json!({"utility": "gas"}));
    let err =
        block_on(publish::publish(&db, &OsRandom, &act, &gas, None, "义乌便民", QuietHours::default())).unwrap_err();
    assert_eq!(err.code, ErrorCode::ValidationFailed);
    assert!(err.fields[0].message.contains("48"));
    let emergency = body(json!({"utility": "gas", "kind": "emergency", "start": "2026-11-24T10:30:00+08:00"}));
    let (o, _) =
        block_on(publish::publish(&db, &OsRandom, &act, &emergency, None, "义乌便民", QuietHours::default())).unwrap();
    assert!(o.message.contains("紧急停气"));
    assert_eq!(o.send_at, "2026-11-24T10:00:00+08:00");
    let audit = block_on(db.query("SELECT action FROM audit_log", &[])).unwrap();
    assert_eq!(audit[0]["action"], "outage.publish.emergency");
    let other = Principal { token_id: "x".into(), name: "x".into(), roles: vec![Role::HallStaff] };
    let act = Act { who: &other, now: t("2026-11-23T10:00:00+08:00"), request_id: "r" };
    assert_eq!(
        block_on(publish::publish(&db, &OsRandom, &act, &body(json!({})), None, "s", QuietHours::default()))
            .unwrap_err()
            .code,
        ErrorCode::Forbidden
    );
    let long = body(json!({"areas": vec!["很长的小区名称用来凑够五百个字的限制测试"; 40]}));
    let act = Act { who: &who, now: t("2026-11-23T10:00:00+08:00"), request_id: "r" };
    let err =
        block_on(publish::publish(&db, &OsRandom, &act, &long, None, "义乌便民", QuietHours::default())).unwrap_err();
    assert!(err.fields[0].message.contains("超过500字"), "{:?}", err.fields);
}
