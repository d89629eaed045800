//! Publishing outages natively on SQLite with the production migrations.

#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use futures_executor::block_on;
use outage_sms::areas::{self, AreasBody};
use outage_sms::notices;
use outage_sms::publish::{self, OutageBody};
use outage_sms::rules::QuietHours;
use serde_json::json;
use shared::ErrorCode;
use shared::admin::{Act, Principal, Role};
use shared::runtime::OsRandom;
use shared::store::{Db, SqliteDb};
use shared::types::BeijingTime;

use shared::testing::at as t;

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

/// A migrated database with the area hierarchy: 义乌市 / 稠城街道 / 宾王小区 (楼栋 1幢, 2幢),
/// 绣湖小区, and one long name.
fn migrated() -> SqliteDb {
    let db = SqliteDb::migrated().unwrap();
    let who = publisher();
    let act = Act { who: &who, now: t("2026-11-20T10:00:00+08:00"), request_id: "load" };
    let areas: AreasBody = serde_json::from_value(json!({"areas": [
        {"code": "bw-1", "name": "1幢", "level": "building", "parent": "bw"},
        {"code": "bw-2", "name": "2幢", "level": "building", "parent": "bw"},
        {"code": "yw", "name": "义乌市", "level": "district"},
        {"code": "cc", "name": "稠城街道", "level": "street", "parent": "yw"},
        {"code": "bw", "name": "宾王小区", "level": "community", "parent": "cc"},
        {"code": "xh", "name": "绣湖小区", "level": "community", "parent": "cc"},
        {"code": "xh-1", "name": "1幢", "level": "building", "parent": "xh"},
        {"code": "long", "name": "很长的小区名称用来凑够五百个字的限制测试", "level": "community", "parent": "cc"}
    ]}))
    .unwrap();
    assert_eq!(block_on(areas::load_areas(&db, &act, &areas)).unwrap().loaded, 8);
    db
}

#[test]
fn area_loads_refuse_duplicates_moves_and_orphans_and_list_every_problem() {
    let db = migrated();
    let who = publisher();
    let act = Act { who: &who, now: t("2026-11-20T10:00:00+08:00"), request_id: "load" };
    let load = |v: serde_json::Value| block_on(areas::load_areas(&db, &act, &serde_json::from_value(v).unwrap()));
    let err = load(json!({"areas": [
        {"code": "n1", "name": "新社区", "level": "community", "parent": "cc"},
        {"code": "n1", "name": "新社区", "level": "community", "parent": "cc"},
        {"code": "bad code", "name": "", "level": "village"}
    ]}))
    .unwrap_err();
    let fields: Vec<&str> = err.fields.iter().map(|f| f.field.as_str()).collect();
    assert!(
        fields.contains(&"areas[1].code") && fields.contains(&"areas[2].code") && fields.contains(&"areas[2].level"),
        "{fields:?}"
    );
    // Once the shapes are right, the placements: a level change, an orphan, a skipped level.
    let err = load(json!({"areas": [
        {"code": "bw", "name": "宾王小区", "level": "street", "parent": "yw"},
        {"code": "n2", "name": "孤楼", "level": "building", "parent": "nowhere"},
        {"code": "n3", "name": "跳级", "level": "building", "parent": "cc"}
    ]}))
    .unwrap_err();
    assert_eq!(err.fields.len(), 3, "{:?}", err.fields);
    let accounts: AccountsBody = serde_json::from_value(json!({"accounts": [
        {"utility": "water", "account_no": "W1", "area": "bw-1"}, {"utility": "water", "account_no": "W1", "area": "bw-2"}]})).unwrap();
    assert_eq!(
        block_on(areas::load_accounts(&db, &act, &accounts)).unwrap_err().fields[0].field,
        "accounts[1].account_no"
    );
}

/// The first column of a query's rows, as text.
fn texts(db: &SqliteDb, sql: &str) -> Vec<String> {
    block_on(db.query(sql, &[]))
        .unwrap()
        .iter()
        .map(|r| r.values().next().and_then(|v| v.as_str()).unwrap().to_owned())
        .collect()
}

fn outage_actions(db: &SqliteDb) -> Vec<String> {
    texts(db, "SELECT action FROM audit_log WHERE action LIKE 'outage.publish%' ORDER BY id")
}

#[test]
fn a_planned_outage_is_published_once_and_shown_publicly_at_once() {
    let db = migrated();
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
    assert_eq!(preview.status, outage_sms::states::OutageStatus::Preview);
    assert!(block_on(notices::public_list(&db, None, None, now)).unwrap().is_empty(), "a preview stores nothing");
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
    let listed = block_on(notices::public_list(&db, Some("稠城街道绣湖小区"), Some("water"), now)).unwrap();
    assert_eq!(listed.len(), 1);
    assert!(block_on(notices::public_list(&db, Some("别的小区"), None, now)).unwrap().is_empty());
    assert_eq!(outage_actions(&db).len(), 1);
    // A building inside an affected community finds it; an unknown area is refused at publishing.
    assert_eq!(block_on(notices::public_list(&db, Some("bw-2"), None, now)).unwrap().len(), 1);
    let err = block_on(publish::publish(
        &db,
        &OsRandom,
        &act,
        &body(json!({"areas": ["别的小区"]})),
        None,
        "s",
        QuietHours::default(),
    ))
    .unwrap_err();
    assert!(err.fields[0].message.contains("未知区域"), "{:?}", err.fields);
    let err = block_on(publish::publish(
        &db,
        &OsRandom,
        &act,
        &body(json!({"areas": ["1幢"]})),
        None,
        "s",
        QuietHours::default(),
    ))
    .unwrap_err();
    assert!(err.fields[0].message.contains("不唯一"), "{:?}", err.fields);
}

#[test]
fn short_notice_is_refused_for_planned_stops_and_allowed_for_emergencies() {
    let db = migrated();
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
    assert_eq!(outage_actions(&db), ["outage.publish.emergency"]);
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

// ---- subscriptions and the outbox fan-out ----

use outage_sms::areas::AccountsBody;
use outage_sms::changes::{self, AmendBody, CancelBody};
use outage_sms::delivery_report;
use outage_sms::outbox::{self, Chunk};
use outage_sms::receipts;
use outage_sms::retry::RetryPolicy;
use outage_sms::send::{self, Disposition, Sender, Templates};
use outage_sms::subscriptions::{self, SubscribeBody, Uplink};
use shared::identity::Pepper;
use shared::sms::{FailureClass, SmsMessage, SmsOutcome, SmsProvider};
use std::cell::RefCell;
use std::collections::VecDeque;

/// A provider that records each call's numbers, answers scripted outcomes
/// first, and refuses any call holding a number in `bad` (as Aliyun does).
#[derive(Default)]
struct FakeSms {
    calls: RefCell<Vec<Vec<String>>>,
    templates: RefCell<Vec<String>>,
    script: RefCell<VecDeque<SmsOutcome>>,
    bad: RefCell<Vec<String>>,
}

impl FakeSms {
    fn then(&self, code: &str, message: &str, class: FailureClass) -> &Self {
        self.script.borrow_mut().push_back(SmsOutcome::Failed { code: code.into(), message: message.into(), class });
        self
    }
    fn numbers(&self) -> Vec<String> {
        self.calls.borrow().iter().flatten().cloned().collect()
    }
}

impl SmsProvider for FakeSms {
    fn name(&self) -> &'static str {
        "fake"
    }
    async fn send(&self, msg: &SmsMessage, _now: BeijingTime, _nonce: &str) -> SmsOutcome {
        let phones: Vec<String> = msg.phones.iter().map(|p| p.expose().to_owned()).collect();
        self.calls.borrow_mut().push(phones.clone());
        self.templates.borrow_mut().push(msg.template_code.clone());
        if let Some(o) = self.script.borrow_mut().pop_front() {
            return o;
        }
        if phones.iter().any(|p| self.bad.borrow().contains(p)) {
            return SmsOutcome::Failed {
                code: "isv.MOBILE_NUMBER_ILLEGAL".into(),
                message: "非法手机号".into(),
                class: FailureClass::Permanent,
            };
        }
        SmsOutcome::Sent { biz_id: format!("B{}", self.calls.borrow().len()) }
    }
}

fn templates() -> Templates {
    Templates {
        notice: "SMS_1".into(),
        correction: "SMS_2".into(),
        cancellation: "SMS_3".into(),
        reminder: "SMS_4".into(),
        pressure_notice: "SMS_5".into(),
    }
}

fn pepper() -> Pepper {
    Pepper::new("test-pepper")
}

/// Citizens c1..c5 (c5 without a phone), accounts, and subscriptions:
/// c1 water account W1 (bound to c1, in 宾王1幢) and the address 宾王小区 (overlapping);
/// c2 宾王2幢; c3 gas by address 宾王1幢 (gas account G1 is there; nobody can bind a gas
/// account); c4 water account W4 (bound to c4, 绣湖1幢); c6 the street (not inside an
/// outage on a community). W9 (宾王2幢) is in the billing data, bound to nobody.
fn town() -> SqliteDb {
    let db = migrated();
    let p = pepper();
    for (id, phone) in [
        ("c1", Some("13800000001")),
        ("c2", Some("13800000002")),
        ("c3", Some("13800000003")),
        ("c4", Some("13800000004")),
        ("c5", None),
        ("c6", Some("13800000006")),
    ] {
        let hash = phone.map(|ph| p.phone_hash(&shared::types::MobileNumber::parse(ph).unwrap()));
        block_on(db.execute(
            "INSERT INTO citizens (id, phone, phone_hash, created_at, updated_at) VALUES (?1, ?2, ?3, 'x', 'x')",
            &[id.into(), phone.map(str::to_owned).into(), hash.into()],
        ))
        .unwrap();
    }
    let who = publisher();
    let act = Act { who: &who, now: t("2026-11-20T10:00:00+08:00"), request_id: "load" };
    let accounts: AccountsBody = serde_json::from_value(json!({"accounts": [
        {"utility": "water", "account_no": "W1", "area": "bw-1"},
        {"utility": "gas", "account_no": "G1", "area": "bw-1"},
        {"utility": "water", "account_no": "W4", "area": "xh-1"},
        {"utility": "water", "account_no": "W9", "area": "bw-2"}
    ]}))
    .unwrap();
    block_on(areas::load_accounts(&db, &act, &accounts)).unwrap();
    for (citizen, account) in [("c1", "W1"), ("c4", "W4")] {
        block_on(db.batch(&[
            shared::store::Stmt::new(
                "INSERT OR IGNORE INTO water_accounts (account_no, holder_masked, holder_phone_hash, address, category, updated_at)
                 VALUES (?1, '王*', 'h', '义乌市稠城街道', '居民', 'x')",
                vec![account.into()],
            ),
            shared::store::Stmt::new(
                "INSERT INTO citizen_water_accounts (citizen_id, account_no, bound_at) VALUES (?1, ?2, 'x')",
                vec![citizen.into(), account.into()],
            ),
        ]))
        .unwrap();
    }
    let sub = |c: &str, v: serde_json::Value| {
        let b: SubscribeBody = serde_json::from_value(v).unwrap();
        block_on(subscriptions::subscribe(&db, &OsRandom, c, &b, t("2026-11-20T10:00:00+08:00")))
    };
    assert!(sub("c1", json!({"utility": "water", "account_no": "W1"})).unwrap().1);
    assert!(sub("c1", json!({"utility": "water", "area": "宾王小区"})).unwrap().1);
    assert!(!sub("c1", json!({"utility": "water", "area": "bw"})).unwrap().1, "the same area again adds nothing");
    sub("c2", json!({"utility": "water", "area": "bw-2"})).unwrap();
    sub("c3", json!({"utility": "gas", "area": "bw-1"})).unwrap();
    sub("c4", json!({"utility": "water", "account_no": "W4"})).unwrap();
    sub("c6", json!({"utility": "water", "area": "稠城街道"})).unwrap();
    assert_eq!(sub("c5", json!({"utility": "water", "area": "bw"})).unwrap_err().code, ErrorCode::PhoneRequired);
    assert_eq!(sub("c2", json!({"utility": "water", "account_no": "NOPE"})).unwrap_err().code, ErrorCode::NotFound);
    assert_eq!(
        sub("c2", json!({"utility": "water", "account_no": "W1", "area": "bw"})).unwrap_err().code,
        ErrorCode::ValidationFailed
    );
    db
}

const NOW: &str = "2026-11-23T10:00:00+08:00";

fn emergency(db: &SqliteDb, areas: serde_json::Value) -> String {
    let who = publisher();
    let act = Act { who: &who, now: t(NOW), request_id: "r" };
    let b = body(
        json!({"kind": "emergency", "areas": areas, "start": "2026-11-23T11:00:00+08:00", "end": "2026-11-23T18:00:00+08:00"}),
    );
    block_on(publish::publish(db, &OsRandom, &act, &b, None, "义乌便民", QuietHours::default())).unwrap().0.id
}

/// The phone vault of the tests (one key, "t1").
fn vault() -> shared::vault::PhoneVault {
    shared::vault::PhoneVault::parse("t1:BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc=").unwrap()
}

fn send_all(db: &SqliteDb, sms: &FakeSms, chunks: &[Chunk], now: &str) -> Vec<Disposition> {
    let (tpl, vault) = (templates(), vault());
    let tx = Sender {
        sms,
        templates: &tpl,
        policy: RetryPolicy::default(),
        quiet: QuietHours::default(),
        vault: Some(&vault),
    };
    chunks.iter().map(|c| block_on(send::deliver(db, &OsRandom, &tx, c, t(now))).unwrap().0).collect()
}

/// The counts the triggers keep equal a count of the outbox itself.
fn counts_match(db: &SqliteDb) {
    let kept = block_on(db.query(
        "SELECT outage_id, version, status, code, source, n FROM outage_version_counts WHERE n > 0
          ORDER BY outage_id, version, status, code, source",
        &[],
    ))
    .unwrap();
    let counted = block_on(db.query(
        "SELECT outage_id, version, status, COALESCE(error_code, '') AS code, source, COUNT(*) AS n FROM outage_outbox
          GROUP BY outage_id, version, status, code, source ORDER BY outage_id, version, status, code, source",
        &[],
    ))
    .unwrap();
    assert!(!counted.is_empty());
    assert_eq!(kept, counted);
}

fn statuses(db: &SqliteDb, id: &str) -> Vec<(i64, String, String)> {
    block_on(db.query(
        "SELECT b.version, c.id AS citizen, b.status FROM outage_outbox b JOIN citizens c ON c.id = b.citizen_id
          WHERE b.outage_id = ?1 ORDER BY b.version, c.id",
        &[id.into()],
    ))
    .unwrap()
    .into_iter()
    .map(|r| {
        (r["version"].as_i64().unwrap(), r["citizen"].as_str().unwrap().into(), r["status"].as_str().unwrap().into())
    })
    .collect()
}

#[test]
fn one_message_per_subscriber_across_overlapping_areas_and_a_republish_adds_nothing() {
    let db = town();
    // 宾王小区 and its 1幢 overlap: c1 is in both (twice over), c2 in the first.
    let id = emergency(&db, json!(["宾王小区", "bw-1"]));
    assert_eq!(block_on(notices::due_versions(&db, &id, t(NOW))).unwrap(), [1]);
    let f = block_on(outbox::fan_out(&db, &id, 1, t(NOW), "b1")).unwrap();
    assert_eq!((f.recipients, f.added, f.chunks.len()), (2, 2, 1));
    let again = block_on(outbox::fan_out(&db, &id, 1, t(NOW), "b2")).unwrap();
    assert_eq!((again.recipients, again.added, again.chunks.len()), (2, 0, 0), "a republish adds nothing");
    let sms = FakeSms::default();
    assert_eq!(send_all(&db, &sms, &f.chunks, NOW), [Disposition::Ack]);
    // The queue delivers the same message twice: nothing left to claim, nothing sent.
    assert_eq!(send_all(&db, &sms, &f.chunks, NOW), [Disposition::Ack]);
    assert_eq!(*sms.calls.borrow(), [vec!["13800000001".to_owned(), "13800000002".to_owned()]]);
    assert_eq!(statuses(&db, &id), [(1, "c1".into(), "sent".into()), (1, "c2".into(), "sent".into())]);
    // A new subscriber in the area is reached by a republish; nobody else again.
    let b: SubscribeBody =
        serde_json::from_value(json!({"utility": "water", "area": "1幢", "account_no": null})).unwrap();
    assert_eq!(
        block_on(subscriptions::subscribe(&db, &OsRandom, "c4", &b, t(NOW))).unwrap_err().code,
        ErrorCode::ValidationFailed
    );
    let b: SubscribeBody = serde_json::from_value(json!({"utility": "water", "area": "bw-1"})).unwrap();
    block_on(subscriptions::subscribe(&db, &OsRandom, "c6", &b, t(NOW))).unwrap();
    let more = block_on(outbox::fan_out(&db, &id, 1, t(NOW), "b3")).unwrap();
    assert_eq!((more.recipients, more.added), (3, 1));
    send_all(&db, &sms, &more.chunks, NOW);
    assert_eq!(sms.numbers(), ["13800000001", "13800000002", "13800000006"]);
}

#[test]
fn failures_are_handled_by_class() {
    let db = town();
    let id = emergency(&db, json!(["宾王小区", "绣湖小区"]));
    let f = block_on(outbox::fan_out(&db, &id, 1, t(NOW), "b1")).unwrap();
    assert_eq!(f.recipients, 3);
    let sms = FakeSms::default();
    // Transient: back to queued, the queue redelivers after the backoff.
    sms.then("isp.SYSTEM_ERROR", "系统错误", FailureClass::Retryable);
    assert_eq!(send_all(&db, &sms, &f.chunks, NOW), [Disposition::Retry(30)]);
    assert!(statuses(&db, &id).iter().all(|s| s.2 == "queued"));
    // Rate limited: deferred past the window; the sweep leaves it until then.
    sms.then("isv.BUSINESS_LIMIT_CONTROL", "触发分钟级流控Permits:1", FailureClass::RateLimited);
    assert_eq!(send_all(&db, &sms, &f.chunks, "2026-11-23T10:00:30+08:00"), [Disposition::Ack]);
    assert!(statuses(&db, &id).iter().all(|s| s.2 == "deferred"));
    let early = block_on(outbox::sweep(&db, &OsRandom, t("2026-11-23T10:01:00+08:00"))).unwrap();
    assert_eq!((early.requeued, early.chunks().len()), (0, 0));
    let later = block_on(outbox::sweep(&db, &OsRandom, t("2026-11-23T10:01:31+08:00"))).unwrap();
    assert_eq!((later.requeued, later.chunks().len()), (3, 1));
    // A bad number in the batch: the batch is split until it is alone; it is flagged, the others sent.
    sms.bad.borrow_mut().push("13800000004".into());
    assert_eq!(send_all(&db, &sms, &later.chunks(), "2026-11-23T10:01:31+08:00"), [Disposition::Ack]);
    let st = statuses(&db, &id);
    assert_eq!(st.iter().map(|s| s.2.as_str()).collect::<Vec<_>>(), ["sent", "sent", "failed"], "{st:?}");
    // Two failed calls before; now the batch of 3 (refused), c1 alone (sent), c2 and c4 (refused), each alone.
    assert_eq!(sms.calls.borrow().len(), 2 + 5);
    let flagged = block_on(db.query("SELECT code FROM sms_flags", &[])).unwrap();
    assert_eq!(flagged.len(), 1);
    // The flagged number gets no later message; what kept failing goes to the dead-letter queue.
    let id2 = emergency(&db, json!(["绣湖小区"]));
    let f2 = block_on(outbox::fan_out(&db, &id2, 1, t(NOW), "b9")).unwrap();
    assert_eq!(f2.recipients, 0);
    let id3 = emergency(&db, json!(["宾王小区"]));
    let f3 = block_on(outbox::fan_out(&db, &id3, 1, t(NOW), "b10")).unwrap();
    assert_eq!(block_on(outbox::dead_letter(&db, &f3.chunks[0])).unwrap(), 2);
    let d = block_on(delivery_report::delivery(&db, &id3)).unwrap();
    assert_eq!((d.versions[0].failed, d.versions[0].failed_by_reason["dead_letter"]), (2, 2));
    counts_match(&db);
}

#[test]
fn amendments_reach_the_notified_and_the_newly_affected_and_cancellations_the_notified() {
    let db = town();
    let who = publisher();
    let act = Act { who: &who, now: t(NOW), request_id: "r" };
    let b =
        body(json!({"areas": ["宾王小区"], "start": "2026-11-25T08:00:00+08:00", "end": "2026-11-25T18:00:00+08:00",
        "remind_before_hours": 2}));
    let (o, _) = block_on(publish::publish(&db, &OsRandom, &act, &b, None, "义乌便民", QuietHours::default())).unwrap();
    assert_eq!(o.version, 2, "the notice and the reminder");
    let f = block_on(outbox::fan_out(&db, &o.id, 1, t(NOW), "b1")).unwrap();
    let sms = FakeSms::default();
    send_all(&db, &sms, &f.chunks, NOW);
    // Moved to 绣湖小区: c1 and c2 (notified) get the correction, and c4 (newly affected).
    let amend: AmendBody = serde_json::from_value(json!({"areas": ["绣湖小区"]})).unwrap();
    let a = block_on(changes::amend(&db, &act, &o.id, &amend, "义乌便民", QuietHours::default())).unwrap();
    assert!(a.message.starts_with("【义乌便民】更正：绣湖小区停水调整为"), "{}", a.message);
    assert_eq!(a.version, 4, "the correction (3) and the reminder planned again (4)");
    assert_eq!(block_on(notices::due_versions(&db, &o.id, t(NOW))).unwrap(), [3]);
    let f = block_on(outbox::fan_out(&db, &o.id, 3, t(NOW), "b2")).unwrap();
    assert_eq!(f.recipients, 3);
    send_all(&db, &sms, &f.chunks, NOW);
    let states = block_on(db.query(
        "SELECT version, kind, state FROM outage_versions WHERE outage_id = ?1 ORDER BY version",
        &[o.id.as_str().into()],
    ))
    .unwrap();
    let states: Vec<String> =
        states.iter().map(|r| format!("{}{}", r["kind"].as_str().unwrap(), r["state"].as_str().unwrap())).collect();
    assert_eq!(states, ["noticefanned_out", "remindersuperseded", "correctionfanned_out", "reminderplanned"]);
    // Cancelled: the three notified get it; nobody new.
    let c = block_on(changes::cancel(
        &db,
        &act,
        &o.id,
        &CancelBody { reason: "施工计划调整".into() },
        "义乌便民",
        QuietHours::default(),
    ))
    .unwrap();
    assert_eq!((c.status.as_str(), c.version), ("cancelled", 5));
    let f = block_on(outbox::fan_out(&db, &o.id, 5, t(NOW), "b3")).unwrap();
    assert_eq!(f.recipients, 3);
    send_all(&db, &sms, &f.chunks, NOW);
    let d = block_on(delivery_report::delivery(&db, &o.id)).unwrap();
    let sent: Vec<(i64, i64)> = d.versions.iter().map(|v| (v.version, v.sent)).collect();
    assert_eq!(sent, [(1, 2), (2, 0), (3, 3), (4, 0), (5, 3)]);
    assert_eq!(
        block_on(changes::amend(&db, &act, &o.id, &AmendBody::default(), "s", QuietHours::default())).unwrap_err().code,
        ErrorCode::OutageStateInvalid
    );
    assert!(block_on(notices::public_list(&db, None, None, t(NOW))).unwrap().is_empty());
    assert_eq!(block_on(notices::get(&db, &o.id)).unwrap().status, outage_sms::states::OutageStatus::Cancelled);
    counts_match(&db);
}

#[test]
fn an_amendment_before_anyone_was_told_is_a_fresh_notice() {
    let db = town();
    let who = publisher();
    let night = t("2026-11-23T23:00:00+08:00");
    let act = Act { who: &who, now: night, request_id: "r" };
    let (o, _) = block_on(publish::publish(
        &db,
        &OsRandom,
        &act,
        &body(json!({"areas": ["宾王小区"]})),
        None,
        "义乌便民",
        QuietHours::default(),
    ))
    .unwrap();
    assert_eq!(o.send_at, "2026-11-24T07:00:00+08:00");
    let amend: AmendBody = serde_json::from_value(json!({"end": "2026-11-25T20:00:00+08:00"})).unwrap();
    let a = block_on(changes::amend(&db, &act, &o.id, &amend, "义乌便民", QuietHours::default())).unwrap();
    assert!(a.message.contains("尊敬的用户") && a.message.contains("08:00 至 20:00"), "{}", a.message);
    let due = block_on(outbox::sweep(&db, &OsRandom, t("2026-11-24T07:00:00+08:00"))).unwrap();
    assert_eq!(due.fanned_out, [format!("{}/2", o.id)], "only the new notice; version 1 was superseded");
    counts_match(&db);
}

#[test]
fn receipts_update_each_message_and_flag_blacklisted_numbers() {
    let db = town();
    let id = emergency(&db, json!(["宾王小区"]));
    let f = block_on(outbox::fan_out(&db, &id, 1, t(NOW), "b1")).unwrap();
    let sms = FakeSms::default();
    send_all(&db, &sms, &f.chunks, NOW);
    let receipts: Vec<receipts::Receipt> = serde_json::from_value(json!([
        {"phone_number": "13800000001", "send_time": "2026-11-23 10:00:00", "report_time": "2026-11-23 10:00:05",
         "success": true, "err_code": "DELIVERED", "err_msg": "用户接收成功", "sms_size": "2", "biz_id": "B1", "out_id": ""},
        {"phone_number": "13800000002", "success": false, "err_code": "MOBILE_IN_BLACK", "err_msg": "黑名单", "biz_id": "B1"},
        {"phone_number": "13800000002", "success": true, "err_code": "DELIVERED", "biz_id": "B1"},
        {"phone_number": "13800000003", "success": true, "err_code": "DELIVERED", "biz_id": "OTHER"}
    ]))
    .unwrap();
    assert_eq!(
        block_on(receipts::apply_receipts(&db, &pepper(), &receipts, t(NOW))).unwrap(),
        2,
        "a row takes its first receipt only"
    );
    let d = block_on(delivery_report::delivery(&db, &id)).unwrap();
    let v = &d.versions[0];
    assert_eq!((v.recipients, v.delivered, v.failed, v.progress), (2, 1, 1, 1.0));
    assert_eq!(v.failed_by_reason["MOBILE_IN_BLACK"], 1);
    assert_eq!(block_on(db.query("SELECT code FROM sms_flags", &[])).unwrap()[0]["code"], "MOBILE_IN_BLACK");
    counts_match(&db);
}

#[test]
fn replying_td_unsubscribes_and_opts_the_number_out_and_other_replies_do_nothing() {
    let db = town();
    let ups: Vec<Uplink> = serde_json::from_value(json!([
        {"phone_number": "13800000001", "content": "td", "send_time": "2026-11-23 10:00:00", "dest_code": "1234", "sequence_id": 1},
        {"phone_number": "13800000002", "content": "谢谢提醒", "sequence_id": 2},
        {"phone_number": "13899999999", "content": "TD", "sequence_id": 3}
    ]))
    .unwrap();
    // Both TD numbers are opted out (the second is a billing holder, no citizen); the thank-you is ignored.
    assert_eq!(block_on(subscriptions::apply_uplinks(&db, &pepper(), &OsRandom, &ups, t(NOW))).unwrap(), 2);
    let out = block_on(db.query("SELECT COUNT(*) AS n FROM sms_optouts", &[])).unwrap();
    assert_eq!(out[0]["n"], 2);
    assert!(block_on(subscriptions::list(&db, "c1")).unwrap().is_empty());
    assert_eq!(block_on(subscriptions::list(&db, "c2")).unwrap().len(), 1);
    let inbox = block_on(db.query("SELECT title FROM messages WHERE citizen_id = 'c1'", &[])).unwrap();
    assert_eq!(inbox.len(), 1);
    assert!(subscriptions::is_unsubscribe(" 退订。") && !subscriptions::is_unsubscribe("TDX"));
}

// ---- attacks (issue 15) ----

/// The refusal as the client sees it: status, code and message.
fn refusal(e: &shared::ApiError) -> (u16, ErrorCode, String, usize) {
    (e.code.status(), e.code, e.message.clone().unwrap_or_else(|| e.code.message().into()), e.fields.len())
}

#[test]
fn subscribing_an_account_one_does_not_hold_is_refused_like_an_unknown_one_and_reveals_no_area() {
    let db = town();
    let sub = |c: &str, v: serde_json::Value| {
        let b: SubscribeBody = serde_json::from_value(v).unwrap();
        block_on(subscriptions::subscribe(&db, &OsRandom, c, &b, t(NOW)))
    };
    // c2 holds no account: c1's W1, W9 (bound to nobody), an unknown number, a gas account.
    let tries = [
        json!({"utility": "water", "account_no": "W1"}),
        json!({"utility": "water", "account_no": "W9"}),
        json!({"utility": "water", "account_no": "NOPE"}),
        json!({"utility": "gas", "account_no": "G1"}),
    ];
    let answers: Vec<_> = tries.iter().map(|b| sub("c2", b.clone()).map(|(s, _)| s)).collect();
    let refusals: Vec<_> = answers.iter().map(|a| a.as_ref().map_err(refusal)).collect();
    assert!(answers.iter().all(Result::is_err), "c2 subscribed an account it does not hold: {refusals:?}");
    let first = refusal(answers[0].as_ref().unwrap_err());
    assert!(answers.iter().all(|a| refusal(a.as_ref().unwrap_err()) == first), "refusals differ: {refusals:?}");
    assert!(!first.2.contains("1幢") && !first.2.contains("宾王"), "{first:?}");
    // The holder subscribes their own account and sees where it is.
    let own = sub("c1", json!({"utility": "water", "account_no": "W1"})).unwrap().0;
    assert_eq!(own.area_name.as_deref(), Some("稠城街道宾王小区1幢"));
    // A subscription left from before (or an account unbound since) shows no area and gets no notice.
    block_on(db.execute(
        "INSERT INTO outage_subscriptions (id, citizen_id, utility, account_no, created_at) VALUES ('SUBOLD', 'c2', 'water', 'W9', 'x')",
        &[],
    ))
    .unwrap();
    let listed = block_on(subscriptions::list(&db, "c2")).unwrap();
    let old = listed.iter().find(|s| s.id == "SUBOLD").unwrap();
    assert_eq!((old.area_code.as_deref(), old.area_name.as_deref()), (None, None), "{old:?}");
    block_on(db.execute("DELETE FROM outage_subscriptions WHERE citizen_id = 'c2' AND id != 'SUBOLD'", &[])).unwrap();
    let id = emergency(&db, json!(["bw-2"]));
    assert_eq!(block_on(outbox::fan_out(&db, &id, 1, t(NOW), "b1")).unwrap().recipients, 0);
}

fn receipt(phone: &str, success: bool, code: &str, biz_id: &str, send_time: &str) -> receipts::Receipt {
    serde_json::from_value(json!({"phone_number": phone, "success": success, "err_code": code, "biz_id": biz_id,
        "send_time": send_time}))
    .unwrap()
}

fn flags(db: &SqliteDb) -> Vec<String> {
    texts(db, "SELECT code FROM sms_flags ORDER BY code")
}

#[test]
fn an_out_of_service_receipt_does_not_silence_a_number_and_a_later_delivery_lifts_a_flag() {
    let db = town();
    let sms = FakeSms::default();
    let id = emergency(&db, json!(["宾王小区"]));
    let f = block_on(outbox::fan_out(&db, &id, 1, t(NOW), "b1")).unwrap();
    send_all(&db, &sms, &f.chunks, NOW);
    // c1 is out of service for a day, c2 unreachable (switched off): neither is a reason to stop for good.
    let temporary = [
        receipt("13800000001", false, "MOBILE_NOT_ON_SERVICE", "B1", "2026-11-23 10:00:00"),
        receipt("13800000002", false, "MOBILE_TERMINAL_ERROR", "B1", "2026-11-23 10:00:00"),
    ];
    block_on(receipts::apply_receipts(&db, &pepper(), &temporary, t(NOW))).unwrap();
    assert_eq!(flags(&db), Vec::<String>::new(), "a temporary failure flagged the number");
    let next = emergency(&db, json!(["宾王小区"]));
    assert_eq!(block_on(outbox::fan_out(&db, &next, 1, t(NOW), "b2")).unwrap().recipients, 2);
    // Blacklisted: flagged, and the report says how many of the outage's recipients are.
    let black = [receipt("13800000002", false, "MOBILE_IN_BLACK", "B1", "2026-11-23 10:00:00")];
    block_on(db.execute("UPDATE outage_outbox SET status = 'sent' WHERE outage_id = ?1", &[id.as_str().into()]))
        .unwrap();
    block_on(receipts::apply_receipts(&db, &pepper(), &black, t(NOW))).unwrap();
    assert_eq!(flags(&db), ["MOBILE_IN_BLACK"]);
    let flagged = |id: &str| serde_json::to_value(block_on(delivery_report::delivery(&db, id)).unwrap()).unwrap();
    assert_eq!(flagged(&id)["flagged_recipients"], 1);
    // A stale success (a message sent before the flag) lifts nothing; a later delivery does, whatever sent it.
    let stale = [receipt("13800000002", true, "DELIVERED", "LOGIN1", "2026-11-23 09:59:00")];
    block_on(receipts::apply_receipts(&db, &pepper(), &stale, t("2026-11-23T10:05:00+08:00"))).unwrap();
    assert_eq!(flags(&db), ["MOBILE_IN_BLACK"]);
    let later = [receipt("13800000002", true, "DELIVERED", "LOGIN2", "2026-11-23 10:30:00")];
    block_on(receipts::apply_receipts(&db, &pepper(), &later, t("2026-11-23T10:30:05+08:00"))).unwrap();
    assert_eq!(flags(&db), Vec::<String>::new(), "a delivered message did not lift the flag");
    assert_eq!(flagged(&id)["flagged_recipients"], 0);
    let third = emergency(&db, json!(["宾王小区"]));
    assert_eq!(block_on(outbox::fan_out(&db, &third, 1, t(NOW), "b3")).unwrap().recipients, 2);
    counts_match(&db);
}

#[test]
fn a_reply_of_t_n_or_quxiao_meant_for_a_booking_does_not_drop_outage_notices() {
    let db = town();
    let reply = |phone: &str, content: &str| {
        let ups: Vec<Uplink> = serde_json::from_value(json!([{"phone_number": phone, "content": content}])).unwrap();
        block_on(subscriptions::apply_uplinks(&db, &pepper(), &OsRandom, &ups, t(NOW))).unwrap()
    };
    for content in ["T", "n", "取消", "取消订阅", " 取消。"] {
        assert_eq!(reply("13800000001", content), 0, "{content:?} unsubscribed");
    }
    assert_eq!(block_on(subscriptions::list(&db, "c1")).unwrap().len(), 2);
    assert!(block_on(db.query("SELECT 1 FROM messages WHERE citizen_id = 'c1'", &[])).unwrap().is_empty());
    // The carriers' words, in any case or width, do; and the inbox says so.
    assert_eq!(reply("13800000001", " ｔｄ "), 1);
    assert_eq!(reply("13800000002", "退订"), 1);
    assert!(block_on(subscriptions::list(&db, "c1")).unwrap().is_empty());
    let inbox = block_on(db.query("SELECT title FROM messages WHERE citizen_id = 'c1'", &[])).unwrap();
    assert_eq!(inbox[0]["title"], "已退订停水停气短信提醒");
}

#[test]
fn the_hardening_migration_drops_subscriptions_to_accounts_not_held_and_temporary_flags() {
    let db = town();
    block_on(db.batch(&[
        shared::store::Stmt::new(
            "INSERT INTO outage_subscriptions (id, citizen_id, utility, account_no, created_at)
             VALUES ('S1', 'c2', 'water', 'W9', 'x'), ('S2', 'c2', 'gas', 'G1', 'x'), ('S3', 'c6', 'water', 'W1', 'x')",
            vec![],
        ),
        shared::store::Stmt::new(
            "INSERT INTO sms_flags (phone_hash, code, at) VALUES ('h1', 'MOBILE_NOT_ON_SERVICE', 'x'),
             ('h2', 'MOBILE_IN_BLACK', 'x'), ('h3', 'USER_UNSUBSCRIBED', 'x')",
            vec![],
        ),
    ]))
    .unwrap();
    let sql = include_str!("../../../schemas/migrations/0019_outage_hardening.sql");
    let stmts: Vec<shared::store::Stmt> = sql
        .split(";\n")
        .map(|s| s.lines().filter(|l| !l.trim_start().starts_with("--")).collect::<Vec<_>>().join("\n"))
        .filter(|s| !s.trim().is_empty())
        .map(|s| shared::store::Stmt::new(s, vec![]))
        .collect();
    block_on(db.batch(&stmts)).unwrap();
    let left = block_on(db.query("SELECT id FROM outage_subscriptions WHERE id IN ('S1', 'S2', 'S3')", &[])).unwrap();
    assert!(left.is_empty(), "{left:?}");
    assert_eq!(block_on(subscriptions::list(&db, "c1")).unwrap().len(), 2, "c1's own account stays");
    let told = block_on(db.query("SELECT citizen_id FROM messages ORDER BY seq", &[])).unwrap();
    let told: Vec<&str> = told.iter().map(|r| r["citizen_id"].as_str().unwrap()).collect();
    assert_eq!(told, ["c2", "c6"]);
    assert_eq!(flags(&db), ["MOBILE_IN_BLACK"]);
}

#[test]
fn a_republish_is_audited_in_the_batch_that_fills_the_outbox() {
    let db = town();
    let id = emergency(&db, json!(["宾王小区"]));
    block_on(outbox::fan_out(&db, &id, 1, t(NOW), "b1")).unwrap();
    let who = publisher();
    let act = Act { who: &who, now: t(NOW), request_id: "r-re" };
    let again = block_on(outbox::republish(&db, &act, &id, 1, "b2")).unwrap();
    assert_eq!(again.added, 0, "nobody new: the count still comes from the outbox insert");
    let rows = block_on(db.query(
        "SELECT actor_id, target, detail FROM audit_log WHERE action = 'outage.republish' AND request_id = 'r-re'",
        &[],
    ))
    .unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["target"], id.as_str());
}

// ---- the delivery counts the staff's list reads ----

type Counted = Vec<(String, String, i64)>;

/// The counts kept by the outbox's triggers (rows of 0 left out) and a fresh
/// count of the outbox, per outage and status.
async fn kept_and_recounted(db: &SqliteDb) -> (Counted, Counted) {
    async fn rows(db: &SqliteDb, sql: &str) -> Counted {
        db.query(sql, &[])
            .await
            .unwrap()
            .into_iter()
            .map(|r| {
                (
                    r["outage_id"].as_str().unwrap().into(),
                    r["status"].as_str().unwrap().into(),
                    r["n"].as_i64().unwrap(),
                )
            })
            .collect()
    }
    (
        rows(db, "SELECT outage_id, status, n FROM outage_delivery_counts WHERE n != 0 ORDER BY outage_id, status")
            .await,
        rows(
            db,
            "SELECT outage_id, status, COUNT(*) AS n FROM outage_outbox GROUP BY outage_id, status ORDER BY outage_id, status",
        )
        .await,
    )
}

/// The kept counts equal a recount, and the staff's list (its delivery
/// summaries and its `sending` filter) says what the recount says.
async fn agree(db: &SqliteDb, step: &str) -> Counted {
    let (kept, recount) = kept_and_recounted(db).await;
    assert_eq!(kept, recount, "after {step}");
    let staff = Principal { token_id: "a".into(), name: "审计".into(), roles: vec![Role::Auditor] };
    let q = |s: &str| outage_sms::listing::ListQuery::parse(&shared::http::Query::parse(s).unwrap()).unwrap();
    let page = outage_sms::listing::list(db, &staff, &q("per_page=100")).await.unwrap();
    for o in &page.outages {
        let n = |status: &str| recount.iter().filter(|c| c.0 == o.id && c.1 == status).map(|c| c.2).sum::<i64>();
        let d = &o.delivery;
        let listed = [d.queued, d.sending, d.deferred, d.sent, d.delivered, d.failed, d.superseded];
        let want = ["queued", "sending", "deferred", "sent", "delivered", "failed", "superseded"].map(n);
        assert_eq!(listed, want, "the list's summary of {} after {step}", o.id);
    }
    let mut sending: Vec<String> = outage_sms::listing::list(db, &staff, &q("sending=true&per_page=100"))
        .await
        .unwrap()
        .outages
        .into_iter()
        .map(|o| o.id)
        .collect();
    sending.sort();
    let mut want: Vec<String> = recount
        .iter()
        .filter(|c| ["queued", "sending", "deferred"].contains(&c.1.as_str()))
        .map(|c| c.0.clone())
        .collect();
    want.dedup();
    assert_eq!(sending, want, "outages sending after {step}");
    recount
}

fn counts_agree(db: &SqliteDb, step: &str) -> Counted {
    block_on(agree(db, step))
}

/// A provider that, while the rows of its call are claimed, checks the counts
/// (rows in `sending` exist only then), and answers as `sms` does.
struct Peek<'a> {
    sms: &'a FakeSms,
    db: &'a SqliteDb,
    claimed: RefCell<i64>,
}

impl SmsProvider for Peek<'_> {
    fn name(&self) -> &'static str {
        "peek"
    }
    async fn send(&self, msg: &SmsMessage, now: BeijingTime, nonce: &str) -> SmsOutcome {
        let seen = agree(self.db, "a claim").await;
        *self.claimed.borrow_mut() += seen.iter().filter(|c| c.1 == "sending").map(|c| c.2).sum::<i64>();
        self.sms.send(msg, now, nonce).await
    }
}

fn send_peeking(db: &SqliteDb, peek: &Peek<'_>, chunks: &[Chunk], now: &str) -> Vec<Disposition> {
    let tpl = templates();
    let tx = Sender {
        sms: peek,
        templates: &tpl,
        policy: RetryPolicy::default(),
        quiet: QuietHours::default(),
        vault: None,
    };
    chunks.iter().map(|c| block_on(send::deliver(db, &OsRandom, &tx, c, t(now))).unwrap().0).collect()
}

#[test]
fn the_kept_delivery_counts_equal_a_recount_of_the_outbox_at_every_step() {
    let db = town();
    let sms = FakeSms::default();
    let peek = Peek { sms: &sms, db: &db, claimed: RefCell::new(0) };
    let mut seen = std::collections::BTreeSet::new();
    let mut step = |name: &str| {
        seen.extend(counts_agree(&db, name).into_iter().map(|c| c.1));
    };
    step("nothing yet");
    // Fan-out, a transient failure (claimed, back to queued), a rate limit (deferred), the sweep.
    let a = emergency(&db, json!(["宾王小区", "绣湖小区"]));
    let f = block_on(outbox::fan_out(&db, &a, 1, t(NOW), "b1")).unwrap();
    assert_eq!(f.recipients, 3);
    step("the fan-out");
    assert_eq!(block_on(outbox::fan_out(&db, &a, 1, t(NOW), "b1x")).unwrap().added, 0);
    step("a republish that adds nothing");
    sms.then("isp.SYSTEM_ERROR", "系统错误", FailureClass::Retryable);
    assert_eq!(send_peeking(&db, &peek, &f.chunks, NOW), [Disposition::Retry(30)]);
    step("a transient failure");
    sms.then("isv.BUSINESS_LIMIT_CONTROL", "触发分钟级流控Permits:1", FailureClass::RateLimited);
    send_peeking(&db, &peek, &f.chunks, "2026-11-23T10:00:30+08:00");
    step("a rate limit");
    let later = block_on(outbox::sweep(&db, &OsRandom, t("2026-11-23T10:01:31+08:00"))).unwrap();
    assert_eq!(later.requeued, 3);
    step("the sweep");
    // A bad number: split until alone, failed and flagged; the others sent.
    sms.bad.borrow_mut().push("13800000004".into());
    send_peeking(&db, &peek, &later.chunks(), "2026-11-23T10:01:31+08:00");
    step("sends and a failure");
    // A planned notice deferred, then corrected (superseded), then cancelled.
    let who = publisher();
    let act = Act { who: &who, now: t(NOW), request_id: "r" };
    let b = body(json!({"areas": ["宾王小区"], "start": "2026-11-25T08:00:00+08:00",
        "end": "2026-11-25T18:00:00+08:00", "remind_before_hours": 2}));
    let (o, _) = block_on(publish::publish(&db, &OsRandom, &act, &b, None, "义乌便民", QuietHours::default())).unwrap();
    let f = block_on(outbox::fan_out(&db, &o.id, 1, t(NOW), "b2")).unwrap();
    assert_eq!(f.recipients, 2);
    sms.then("isv.BUSINESS_LIMIT_CONTROL", "触发分钟级流控Permits:1", FailureClass::RateLimited);
    send_peeking(&db, &peek, &f.chunks, NOW);
    step("a planned notice deferred");
    let amend: AmendBody = serde_json::from_value(json!({"areas": ["宾王小区", "bw-1"]})).unwrap();
    let v = block_on(changes::amend(&db, &act, &o.id, &amend, "义乌便民", QuietHours::default())).unwrap().version;
    let f = block_on(outbox::fan_out(&db, &o.id, v - 1, t(NOW), "b3")).unwrap();
    step("a correction superseding it");
    send_peeking(&db, &peek, &f.chunks, NOW);
    step("the correction sent");
    let c = block_on(changes::cancel(
        &db,
        &act,
        &o.id,
        &CancelBody { reason: "施工计划调整".into() },
        "义乌便民",
        QuietHours::default(),
    ))
    .unwrap();
    let f = block_on(outbox::fan_out(&db, &o.id, c.version, t(NOW), "b4")).unwrap();
    step("a cancellation");
    send_peeking(&db, &peek, &f.chunks, NOW);
    step("the cancellation sent");
    // Receipts: delivered, and failed (blacklisted).
    let biz = |citizen: &str| -> String {
        block_on(db.query(
            "SELECT biz_id FROM outage_outbox WHERE outage_id = ?1 AND citizen_id = ?2",
            &[a.as_str().into(), citizen.into()],
        ))
        .unwrap()[0]["biz_id"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let rs = [
        receipt("13800000001", true, "DELIVERED", &biz("c1"), "2026-11-23 10:02:00"),
        receipt("13800000002", false, "MOBILE_IN_BLACK", &biz("c2"), "2026-11-23 10:02:00"),
    ];
    assert_eq!(block_on(receipts::apply_receipts(&db, &pepper(), &rs, t(NOW))).unwrap(), 2);
    step("receipts");
    // The dead-letter queue.
    let d = emergency(&db, json!(["宾王小区"]));
    let f = block_on(outbox::fan_out(&db, &d, 1, t(NOW), "b5")).unwrap();
    assert_eq!(block_on(outbox::dead_letter(&db, &f.chunks[0])).unwrap(), 1);
    step("a dead letter");
    // An account deletion drops the citizen's unsent rows.
    let e = emergency(&db, json!(["稠城街道"]));
    let f = block_on(outbox::fan_out(&db, &e, 1, t(NOW), "b6")).unwrap();
    assert_eq!(f.recipients, 2, "c1 and c6");
    step("a fan-out to be erased");
    block_on(db.batch(&shared::identity::erasure::stmts("c6", None, t(NOW)))).unwrap();
    let (kept, _) = block_on(kept_and_recounted(&db));
    assert!(kept.contains(&(e.clone(), "queued".into(), 1)), "{kept:?}");
    step("an account deletion");
    assert!(*peek.claimed.borrow() > 0, "the counts were checked while rows were claimed");
    seen.insert("sending".into());
    let all = ["deferred", "delivered", "failed", "queued", "sending", "sent", "superseded"];
    assert_eq!(seen.iter().map(String::as_str).collect::<Vec<_>>(), all, "the flow went through every status");
    // The migration's backfill counts what is there.
    let sql = include_str!("../../../schemas/migrations/0024_outage_delivery_counts.sql");
    let backfill = sql.split(";\n").find(|s| s.trim_start().starts_with("INSERT INTO outage_delivery_counts")).unwrap();
    block_on(db.execute("DELETE FROM outage_delivery_counts", &[])).unwrap();
    block_on(db.execute(backfill, &[])).unwrap();
    counts_agree(&db, "the backfill");
    let none: Vec<_> = block_on(db.query("SELECT * FROM outage_delivery_counts WHERE n < 0", &[])).unwrap();
    assert!(none.is_empty(), "{none:?}");
    counts_match(&db);
}

// ---- billing holders (issue 18) ----

/// Billing holders as an import leaves them: the phone's HMAC and the phone sealed for its account.
fn holders(db: &SqliteDb, rows: &[(&str, &str, &str)]) {
    let (p, v) = (pepper(), vault());
    let who = publisher();
    let act = Act { who: &who, now: t("2026-11-20T10:00:00+08:00"), request_id: "load" };
    let supply: Vec<serde_json::Value> =
        rows.iter().map(|(acc, _, area)| json!({"utility": "water", "account_no": acc, "area": area})).collect();
    let body: AccountsBody = serde_json::from_value(json!({ "accounts": supply })).unwrap();
    block_on(areas::load_accounts(db, &act, &body)).unwrap();
    for (acc, phone, _) in rows {
        let m = shared::types::MobileNumber::parse(phone).unwrap();
        block_on(db.execute(
            "INSERT INTO water_accounts (account_no, holder_masked, holder_phone_hash, holder_phone_enc, holder_phone_kid,
                                         address, category, updated_at)
             VALUES (?1, '李*', ?2, ?3, 't1', '义乌市', '居民', 'x')
             ON CONFLICT (account_no) DO UPDATE SET holder_phone_hash = excluded.holder_phone_hash,
               holder_phone_enc = excluded.holder_phone_enc, holder_phone_kid = 't1'",
            &[(*acc).into(), p.phone_hash(&m).into(), v.seal(&OsRandom, &m, acc).unwrap().into()],
        ))
        .unwrap();
    }
}

#[test]
fn every_affected_holder_is_reached_once_per_phone_the_bound_citizens_inbox_too_and_td_stops_it() {
    let db = town();
    // W1 (bw-1) is c1's own account; c2 (subscribed to bw-2) holds three accounts there;
    // 13900000009 never used the mini-program; 13900000010 lives outside the outage.
    holders(
        &db,
        &[
            ("W1", "13800000001", "bw-1"),
            ("W9", "13800000002", "bw-2"),
            ("W10", "13800000002", "bw-2"),
            ("W11", "13800000002", "bw-2"),
            ("W12", "13900000009", "bw-1"),
            ("W13", "13900000010", "xh-1"),
        ],
    );
    let plain = block_on(db.query("SELECT * FROM water_accounts", &[])).unwrap();
    assert!(!serde_json::to_string(&plain).unwrap().contains("1390000000"), "no phone in the clear");
    let id = emergency(&db, json!(["宾王小区"]));
    let f = block_on(outbox::fan_out(&db, &id, 1, t(NOW), "b1")).unwrap();
    assert_eq!((f.recipients, f.added), (3, 3), "c1, c2 and the holder: one row per phone");
    let sms = FakeSms::default();
    send_all(&db, &sms, &f.chunks, NOW);
    let mut numbers = sms.numbers();
    numbers.sort();
    assert_eq!(numbers, ["13800000001", "13800000002", "13900000009"]);
    let d = block_on(delivery_report::delivery(&db, &id)).unwrap();
    let v = &d.versions[0];
    assert_eq!((v.sent, v.reached["subscription"], v.reached["holder"]), (3, 2, 1));
    // c1 bound W1 in the area: the inbox has the notice once; c4 (绣湖) nothing.
    assert_eq!((v.channels["sms"], v.channels["inbox"]), (3, 1));
    let inbox =
        |c: &str| texts(&db, &format!("SELECT title FROM messages WHERE citizen_id = '{c}' AND kind = 'outage'"));
    assert_eq!(inbox("c1"), ["停水停气通知"]);
    assert!(inbox("c4").is_empty());
    let again = block_on(outbox::fan_out(&db, &id, 1, t(NOW), "b2")).unwrap();
    assert_eq!((again.added, inbox("c1").len()), (0, 1), "a republish adds no row and no second inbox notice");

    // The holder replies TD: the next outage leaves them out; a subscriber is not affected.
    let td: Vec<Uplink> =
        serde_json::from_value(json!([{"phone_number": "13900000009", "content": "TD", "sequence_id": 9}])).unwrap();
    assert_eq!(block_on(subscriptions::apply_uplinks(&db, &pepper(), &OsRandom, &td, t(NOW))).unwrap(), 1);
    let next = emergency(&db, json!(["宾王小区"]));
    let f = block_on(outbox::fan_out(&db, &next, 1, t(NOW), "b3")).unwrap();
    let sms = FakeSms::default();
    send_all(&db, &sms, &f.chunks, NOW);
    let mut numbers = sms.numbers();
    numbers.sort();
    assert_eq!(numbers, ["13800000001", "13800000002"]);
    counts_match(&db);
}

#[test]
fn a_cancellation_reaches_the_holders_the_notice_reached_and_nobody_new() {
    let db = town();
    holders(&db, &[("W12", "13900000009", "bw-1")]);
    let id = emergency(&db, json!(["bw-1"]));
    let f = block_on(outbox::fan_out(&db, &id, 1, t(NOW), "b1")).unwrap();
    send_all(&db, &FakeSms::default(), &f.chunks, NOW);
    // A new holder arrives after the notice went out, then the outage is cancelled.
    holders(&db, &[("W14", "13900000014", "bw-1")]);
    let who = publisher();
    let act = Act { who: &who, now: t(NOW), request_id: "c" };
    let cancel: CancelBody = serde_json::from_value(json!({"reason": "管道抢修提前完成"})).unwrap();
    block_on(changes::cancel(&db, &act, &id, &cancel, "义乌便民", QuietHours::default())).unwrap();
    let versions = block_on(notices::due_versions(&db, &id, t(NOW))).unwrap();
    let sms = FakeSms::default();
    for v in versions {
        let f = block_on(outbox::fan_out(&db, &id, v, t(NOW), &format!("c{v}"))).unwrap();
        send_all(&db, &sms, &f.chunks, NOW);
    }
    let numbers = sms.numbers();
    assert!(numbers.contains(&"13900000009".to_owned()), "{numbers:?}");
    assert!(!numbers.contains(&"13900000014".to_owned()), "never told of the outage, not told of its cancellation");
    counts_match(&db);
}

#[test]
fn a_cancellation_reaches_every_notified_holder_at_once_and_queues_no_slices() {
    let db = town();
    holders(&db, &[("W30", "13900000031", "bw-1"), ("W31", "13900000032", "bw-1"), ("W32", "13900000033", "bw-1")]);
    let id = emergency(&db, json!(["bw-1"]));
    let first = block_on(outbox::fan_out_sliced(&db, &id, 1, t(NOW), "b1", 1)).unwrap();
    let (mut chunks, _) = continue_all(&db, &id, &first, 1);
    send_all(&db, &FakeSms::default(), &chunks, NOW);
    let who = publisher();
    let act = Act { who: &who, now: t(NOW), request_id: "c" };
    let cancel: CancelBody = serde_json::from_value(json!({"reason": "管道抢修提前完成"})).unwrap();
    block_on(changes::cancel(&db, &act, &id, &cancel, "义乌便民", QuietHours::default())).unwrap();
    let sms = FakeSms::default();
    for v in block_on(notices::due_versions(&db, &id, t(NOW))).unwrap() {
        let f = block_on(outbox::fan_out_sliced(&db, &id, v, t(NOW), &format!("c{v}"), 1)).unwrap();
        assert!(f.more.is_none(), "a cancellation has no later slices: {:?}", f.more);
        chunks = f.chunks;
        send_all(&db, &sms, &chunks, NOW);
    }
    let numbers = sms.numbers();
    for phone in ["13900000031", "13900000032", "13900000033"] {
        assert!(numbers.contains(&phone.to_owned()), "{phone} was told of the outage: {numbers:?}");
    }
    counts_match(&db);
}

// ---- 降压供水 (issue 18) ----

#[test]
fn a_reduced_pressure_notice_is_water_only_and_goes_out_with_its_own_template() {
    let db = town();
    let who = publisher();
    let act = Act { who: &who, now: t(NOW), request_id: "r" };
    let gas = body(json!({"utility": "gas", "effect": "reduced_pressure"}));
    let e =
        block_on(publish::publish(&db, &OsRandom, &act, &gas, None, "义乌便民", QuietHours::default())).unwrap_err();
    assert_eq!(e.fields.iter().map(|f| f.field.as_str()).collect::<Vec<_>>(), ["effect"]);
    let odd = body(json!({"effect": "low"}));
    let e =
        block_on(publish::publish(&db, &OsRandom, &act, &odd, None, "义乌便民", QuietHours::default())).unwrap_err();
    assert_eq!(e.code, ErrorCode::ValidationFailed);
    let b = body(json!({"kind": "emergency", "effect": "reduced_pressure", "areas": ["bw-1"],
        "start": "2026-11-23T11:00:00+08:00", "end": "2026-11-23T18:00:00+08:00", "reason": "管网冲洗"}));
    let (o, _) = block_on(publish::publish(&db, &OsRandom, &act, &b, None, "义乌便民", QuietHours::default())).unwrap();
    assert_eq!(o.effect.as_str(), "reduced_pressure");
    assert!(o.message.contains("紧急降压供水，届时水压偏低"), "{}", o.message);
    let f = block_on(outbox::fan_out(&db, &o.id, 1, t(NOW), "p1")).unwrap();
    let sms = FakeSms::default();
    send_all(&db, &sms, &f.chunks, NOW);
    assert_eq!(sms.templates.borrow().as_slice(), ["SMS_5"], "the 降压供水 template, not the stop's");
}

// ---- holders written in slices (issue 18) ----

/// Writes every continuation of a version, each delivered twice (a queue may
/// redeliver); returns the chunks queued and how many slices wrote rows.
fn continue_all(db: &SqliteDb, id: &str, first: &outbox::FanOut, slice: i64) -> (Vec<Chunk>, usize) {
    let mut chunks = first.chunks.clone();
    let (mut more, mut slices) = (first.more.clone(), 0);
    while let Some(outbox::Job::Holders { outage_id, version, holders_after }) = more {
        assert_eq!(outage_id, id);
        let f = block_on(outbox::fan_out_more(db, id, version, &holders_after, t(NOW), &format!("s{slices}"), slice))
            .unwrap();
        let again =
            block_on(outbox::fan_out_more(db, id, version, &holders_after, t(NOW), &format!("r{slices}"), slice))
                .unwrap();
        assert_eq!((again.added, again.chunks.len(), again.more.is_none()), (0, 0, true), "a redelivery adds nothing");
        chunks.extend(f.chunks);
        slices += 1;
        more = f.more;
    }
    (chunks, slices)
}

#[test]
fn a_large_version_writes_its_holders_in_slices_each_phone_once_and_reports_it_until_done() {
    let db = town();
    // Seven accounts in bw-1 besides W1; 13900000021 holds one in the first and one in the third slice.
    holders(
        &db,
        &[
            ("W20", "13900000021", "bw-1"),
            ("W21", "13900000022", "bw-1"),
            ("W22", "13900000023", "bw-1"),
            ("W23", "13900000021", "bw-1"),
            ("W24", "13900000024", "bw-1"),
            ("W25", "13900000025", "bw-1"),
            ("W26", "13900000022", "bw-1"),
        ],
    );
    let id = emergency(&db, json!(["bw-1"]));
    let first = block_on(outbox::fan_out_sliced(&db, &id, 1, t(NOW), "b1", 2)).unwrap();
    assert!(
        matches!(&first.more, Some(outbox::Job::Holders { holders_after, .. }) if holders_after == "W20"),
        "{:?}",
        first.more
    );
    let report = block_on(delivery_report::delivery(&db, &id)).unwrap();
    assert!(report.versions[0].fanning_out, "the report says the recipients are not all written");
    assert!(report.versions[0].progress < 1.0);
    let (chunks, slices) = continue_all(&db, &id, &first, 2);
    assert_eq!(slices, 4, "W21-22, W23-24, W25-26, then an empty last look");
    let report = block_on(delivery_report::delivery(&db, &id)).unwrap();
    let v = &report.versions[0];
    assert!(!v.fanning_out);
    assert_eq!(v.reached["holder"], 5, "five distinct holder phones, however many accounts and slices");
    let sms = FakeSms::default();
    send_all(&db, &sms, &chunks, NOW);
    let mut numbers = sms.numbers();
    numbers.sort();
    let mut once = numbers.clone();
    once.dedup();
    assert_eq!(numbers, once, "no phone messaged twice");
    for holder in ["13900000021", "13900000022", "13900000023", "13900000024", "13900000025"] {
        assert!(numbers.contains(&holder.to_owned()), "{holder} reached");
    }
    let v = &block_on(delivery_report::delivery(&db, &id)).unwrap().versions[0];
    assert_eq!((v.sent, v.recipients, v.progress), (numbers.len() as i64, numbers.len() as i64, 1.0));
    counts_match(&db);
}

#[test]
fn a_continuation_whose_message_was_lost_is_resumed_by_the_cron() {
    let db = town();
    holders(&db, &[("W20", "13900000021", "bw-1"), ("W21", "13900000022", "bw-1"), ("W22", "13900000023", "bw-1")]);
    let id = emergency(&db, json!(["bw-1"]));
    let first = block_on(outbox::fan_out_sliced(&db, &id, 1, t(NOW), "b1", 2)).unwrap();
    assert!(first.more.is_some());
    // The queue message is lost. Half an hour later the sweep writes the next slice itself.
    let soon = block_on(outbox::sweep(&db, &OsRandom, t("2026-11-23T10:10:00+08:00"))).unwrap();
    assert_eq!(soon.resumed, 0, "not before it is stale");
    let later = block_on(outbox::sweep(&db, &OsRandom, t("2026-11-23T10:31:00+08:00"))).unwrap();
    assert_eq!(later.resumed, 1);
    let holders_rows = |db: &SqliteDb| {
        texts(db, &format!("SELECT account_no FROM outage_outbox WHERE outage_id = '{id}' AND source = 'holder'"))
    };
    assert_eq!(holders_rows(&db).len(), 3);
    assert!(!block_on(delivery_report::delivery(&db, &id)).unwrap().versions[0].fanning_out);
    // The lost message arrives after all: it finds the cursor moved and adds nothing.
    let late = block_on(outbox::fan_out_more(&db, &id, 1, "W20", t(NOW), "late", 2)).unwrap();
    assert_eq!((late.added, late.more.is_none()), (0, true));
}

// ---- 订阅消息 of an outage (issue 18) ----

#[test]
fn bound_citizens_who_accepted_get_one_wechat_notice_per_version_and_nobody_else() {
    use outage_sms::wechat_notices;
    use shared::outbound::ScriptedHttp;
    use shared::store::MemoryKv;
    use shared::wechat_notify::{Templates, WeChatApp};
    let db = town();
    // c1 (bound to W1 in bw-1) and c4 (bound to W4, outside) both accepted the template once.
    for c in ["c1", "c4"] {
        block_on(db.execute("UPDATE citizens SET openid = 'o-' || id WHERE id = ?1", &[c.into()])).unwrap();
        block_on(db.execute(
            "INSERT INTO wechat_acceptances (citizen_id, template_id, remaining, updated_at) VALUES (?1, 'TMPL_outage', 1, 'x')",
            &[c.into()],
        ))
        .unwrap();
    }
    let templates = Templates::parse("outage_notice:TMPL_outage").unwrap();
    let (http, kv) = (ScriptedHttp::default(), MemoryKv::default());
    http.answer(200, r#"{"access_token":"tok","expires_in":7200}"#).answer(200, r#"{"errcode":0,"msgid":1}"#);
    let app = WeChatApp::new(&http, &kv, "http://wx.test", "wx1", "s");
    let id = emergency(&db, json!(["bw-1"]));
    let f = block_on(outbox::fan_out(&db, &id, 1, t(NOW), "b1")).unwrap();
    assert!(matches!(&f.wechat, Some(outbox::Job::WeChat { wechat_after, .. }) if wechat_after.is_empty()));
    let offer =
        || block_on(wechat_notices::offer_page(&db, &app, &OsRandom, &templates, (&id, 1), "", t(NOW))).unwrap();
    let page = offer();
    assert_eq!((page.offered, page.sent, page.next), (1, 1, None));
    let sends: Vec<serde_json::Value> = http
        .sent
        .borrow()
        .iter()
        .filter(|r| r.url.contains("subscribe/send"))
        .map(|r| serde_json::from_str(r.body.as_deref().unwrap()).unwrap())
        .collect();
    assert_eq!(sends.len(), 1);
    assert_eq!(sends[0]["touser"], "o-c1", "only the bound citizen of the affected area");
    assert_eq!(sends[0]["data"]["time2"]["value"], "2026-11-23 11:00");
    assert_eq!(sends[0]["page"], format!("pages/outage/detail?id={id}"));
    // The page again (a redelivered message), and again after a new acceptance: nothing more.
    assert_eq!(offer().offered, 0, "the acceptance is spent");
    block_on(db.execute("UPDATE wechat_acceptances SET remaining = 1 WHERE citizen_id = 'c1'", &[])).unwrap();
    assert_eq!((offer().offered, offer().sent), (1, 0), "the same version is never sent twice");
    assert_eq!(http.sent.borrow().len(), 2, "one token and one send in all");
}
