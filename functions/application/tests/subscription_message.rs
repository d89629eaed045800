//! 订阅消息 of an application's progress natively on SQLite with the
//! production migrations and a scripted WeChat: one message per step the
//! applicant hears of in the inbox, never twice, only while acceptances
//! last, and nothing in it beyond the case number, item and status.

#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::expect_used, clippy::panic)]

use application::decide::{Correction, Delivery, Step};
use application::handling::{self, Scope};
use application::rating::{self, Rating};
use application::record::{self, Application, Draft};
use application::situation::{GuideMaterial, GuideOption, GuideQuestion, Tree};
use application::subscription_message::{RATING_ACTIONS, RECTIFIED_ACTIONS, SUBMISSION_ACTIONS, offer_step};
use application::{filing, status::Status};
use futures_executor::block_on;
use serde_json::{Value as Json, json};
use shared::admin::{Act, Principal, Role};
use shared::calendar::{self, Calendar};
use shared::outbound::ScriptedHttp;
use shared::runtime::OsRandom;
use shared::store::{Db, Kv, MemoryKv, SqliteDb};
use shared::types::BeijingTime;
use shared::wechat_notify::{Outcome, TOKEN_KEY, Templates, WeChatApp};

const TEMPLATE: &str = "TMPL_application_progress";
const OPENID: &str = "oAlice_openid_0000000000001";
const SENT: &str = r#"{"errcode":0,"errmsg":"ok","msgid":294402298110051942}"#;
const REFUSED: &str = r#"{"errcode":43101,"errmsg":"user refuse to accept the msg"}"#;

fn now() -> BeijingTime {
    shared::testing::at("2026-09-30T10:00:00+08:00")
}

/// Alice with an openid and `accepted` acceptances of the progress template
/// (`None`: she never answered it); Bob without WeChat.
fn db(accepted: Option<i64>) -> SqliteDb {
    let db = shared::testing::db_with_citizens(&["alice", "bob"]);
    block_on(db.execute("UPDATE citizens SET openid = ?1 WHERE id = 'alice'", &[OPENID.into()])).unwrap();
    if let Some(n) = accepted {
        block_on(db.execute(
            "INSERT INTO wechat_acceptances (citizen_id, template_id, remaining, updated_at) VALUES ('alice', ?1, ?2, 'x')",
            &[TEMPLATE.into(), n.into()],
        ))
        .unwrap();
    }
    db
}

/// A KV holding a valid shared access token, so every send is one request.
fn kv() -> MemoryKv {
    let kv = MemoryKv::default();
    let at = now().to_utc().timestamp() + 3600;
    block_on(kv.put(TOKEN_KEY, &format!(r#"{{"access_token":"tok","expires_at":{at}}}"#), None)).unwrap();
    kv
}

fn templates() -> Templates {
    Templates::parse(&format!("application_progress:{TEMPLATE},booking_reminder:TMPL_other")).unwrap()
}

/// Offers the latest step of `number` among `actions`, WeChat answering `answers`.
fn offer(db: &SqliteDb, kv: &MemoryKv, number: &str, actions: &[&str], answers: &[&str]) -> (Outcome, Vec<Json>) {
    let http = ScriptedHttp::default();
    for a in answers {
        http.answer(200, a);
    }
    let app = WeChatApp::new(&http, kv, "http://wx.test", "wx123", "sec");
    let outcome = block_on(offer_step(db, &app, &OsRandom, &templates(), number, actions, now())).unwrap();
    let sent = http.sent.borrow().iter().map(|r| serde_json::from_str(r.body.as_deref().unwrap()).unwrap()).collect();
    (outcome, sent)
}

fn transfer(item_name: &str) -> Tree {
    let mat = |name: &str| GuideMaterial { name: name.into(), required: true, note: None };
    Tree {
        item_code: "ITEM3".into(),
        item_name: item_name.into(),
        department: "义乌市供水有限公司".into(),
        online: true,
        promised_days: 3,
        materials: vec![mat("居民身份证"), mat("不动产权证书")],
        questions: vec![GuideQuestion {
            id: "who".into(),
            text: "谁来办理？".into(),
            options: vec![GuideOption {
                label: "本人".into(),
                next: None,
                item_code: Some("ITEM3".into()),
                materials: vec!["居民身份证".into(), "不动产权证书".into()],
            }],
        }],
    }
}

fn upload(db: &SqliteDb, kv: &MemoryKv) -> String {
    let pdf = b"%PDF-1.4 test document";
    block_on(shared::uploads::store(
        db,
        kv,
        &OsRandom,
        "alice",
        "application/pdf",
        pdf,
        shared::uploads::DOCUMENTS,
        now(),
    ))
    .unwrap()
    .id
}

/// Alice's application of `item_name`, filled in and submitted.
fn submitted(db: &SqliteDb, kv: &MemoryKv, item_name: &str) -> Application {
    let (tree, answers, form) = (transfer(item_name), vec!["本人".to_owned()], json!({"联系地址": "稠城街道1号"}));
    let d = Draft { tree: &tree, answers: &answers, form: &form, bundle: None };
    let a = block_on(record::create(db, &OsRandom, "alice", &d, now())).unwrap();
    for m in ["居民身份证", "不动产权证书"] {
        block_on(filing::attach(db, "alice", &a.number, m, &upload(db, kv), now())).unwrap();
    }
    block_on(filing::submit(db, &OsRandom, "alice", &a.number, now())).unwrap()
}

fn zhang() -> Principal {
    Principal { token_id: "tok-zhang".into(), name: "张三".into(), roles: vec![Role::ApplicationHandler] }
}

fn scope() -> Scope {
    Scope::Departments(vec!["义乌市供水有限公司".into()])
}

fn cal(db: &SqliteDb) -> Calendar {
    block_on(calendar::load(db, now().date(), now().date() + chrono::Days::new(60))).unwrap()
}

fn step(db: &SqliteDb, number: &str, s: &Step) -> Application {
    let who = zhang();
    let act = Act { who: &who, now: now(), request_id: "req" };
    block_on(handling::act_on(db, &OsRandom, &act, &scope(), number, s, &cal(db))).unwrap()
}

fn inbox_titles(db: &SqliteDb) -> Vec<String> {
    let rows = block_on(
        db.query("SELECT title FROM messages WHERE citizen_id = 'alice' AND kind = 'application' ORDER BY seq", &[]),
    )
    .unwrap();
    rows.into_iter().map(|r| r["title"].as_str().unwrap().to_owned()).collect()
}

fn remaining(db: &SqliteDb) -> i64 {
    let rows = block_on(db.query("SELECT remaining FROM wechat_acceptances WHERE citizen_id = 'alice'", &[])).unwrap();
    rows[0]["remaining"].as_i64().unwrap()
}

fn sends(db: &SqliteDb) -> Vec<(String, String)> {
    let rows = block_on(db.query("SELECT ref, status FROM wechat_sends ORDER BY at, ref", &[])).unwrap();
    rows.into_iter()
        .map(|r| (r["ref"].as_str().unwrap().to_owned(), r["status"].as_str().unwrap().to_owned()))
        .collect()
}

#[test]
fn every_step_the_applicant_hears_of_is_offered_once_with_its_own_reference_and_a_replay_sends_nothing() {
    let (db, kv) = (db(Some(10)), kv());
    let a = submitted(&db, &kv, "水表过户");
    let n = a.number.clone();
    let mut bodies = Vec::new();
    let mut told = |actions: &[&str]| {
        let (outcome, sent) = offer(&db, &kv, &n, actions, &[SENT]);
        assert_eq!((outcome, sent.len()), (Outcome::Sent, 1), "{actions:?}");
        bodies.extend(sent);
    };
    told(SUBMISSION_ACTIONS);

    let notice = Step::Notify {
        version: a.version,
        items: vec![Correction {
            material: Some("不动产权证书".into()), field: None, note: "复印件不清晰".into()
        }],
    };
    step(&db, &n, &notice);
    told(&["notify"]);
    // The same step offered again (a retried request, a second run): claimed, nothing sent.
    let (again, sent) = offer(&db, &kv, &n, &["notify"], &[SENT]);
    assert_eq!((again, sent.len()), (Outcome::AlreadyClaimed, 0));
    assert!(!again.needs_fallback(), "it was offered: no fallback either");
    let (again, sent) = offer(&db, &kv, &n, SUBMISSION_ACTIONS, &[SENT]);
    assert_eq!((again, sent.len()), (Outcome::AlreadyClaimed, 0));

    block_on(filing::attach(&db, "alice", &n, "不动产权证书", &upload(&db, &kv), now())).unwrap();
    let a = block_on(filing::submit(&db, &OsRandom, "alice", &n, now())).unwrap();
    told(SUBMISSION_ACTIONS);
    let a = step(&db, &n, &Step::Accept { version: a.version });
    told(&["accept"]);
    let post = Delivery::Post { carrier: "中国邮政EMS".into(), tracking: "1100123456789".into() };
    step(&db, &n, &Step::Complete { version: a.version, delivery: post });
    told(&["complete"]);
    let low = Rating { grade: 1, reasons: "窗口态度差".into() };
    assert!(rating::opens_rectification(low.grade));
    block_on(rating::rate(&db, &OsRandom, "alice", &n, &low, 15, &cal(&db), now())).unwrap();
    told(RATING_ACTIONS);
    let who = zhang();
    let act = Act { who: &who, now: now(), request_id: "req" };
    block_on(rating::close(&db, &OsRandom, &act, &scope(), &n, "已约谈窗口人员")).unwrap();
    told(RECTIFIED_ACTIONS);

    let states: Vec<&str> = bodies.iter().map(|b| b["data"]["phrase3"]["value"].as_str().unwrap()).collect();
    assert_eq!(states, ["已提交", "待补正", "已补正", "已受理", "已办结", "转整改", "已整改"]);
    assert_eq!(inbox_titles(&db).len(), states.len(), "one inbox message for each 订阅消息");
    for b in &bodies {
        assert_eq!((b["touser"].as_str(), b["template_id"].as_str()), (Some(OPENID), Some(TEMPLATE)));
        assert_eq!(b["page"], format!("pages/application/detail?no={n}"));
        assert_eq!(b["data"]["character_string1"]["value"], n.as_str());
        assert_eq!(b["data"]["thing2"]["value"], "水表过户");
        assert_eq!(b["data"]["time4"]["value"], "2026-09-30 10:00");
        assert_eq!(b["data"].as_object().unwrap().len(), 4);
        // Only the case number, item and status: no notes, reasons, form or delivery.
        let text = b.to_string();
        for secret in ["复印件不清晰", "稠城街道", "1100123456789", "窗口态度差", "约谈", "张三"] {
            assert!(!text.contains(secret), "{secret} in {text}");
        }
    }
    let rows = sends(&db);
    assert_eq!(rows.len(), 7);
    assert!(rows.iter().all(|(r, s)| r.starts_with(&format!("{n}:")) && s == "sent"), "{rows:?}");
    let refs: std::collections::HashSet<&String> = rows.iter().map(|(r, _)| r).collect();
    assert_eq!(refs.len(), 7, "each step its own reference");
    assert_eq!(remaining(&db), 3, "one acceptance per message");
}

#[test]
fn when_the_acceptances_run_out_the_inbox_alone_tells_the_applicant() {
    let (db, kv) = (db(Some(1)), kv());
    let long = "城镇居民生活用水水表过户及户名变更登记（含代办）";
    let a = submitted(&db, &kv, long);
    let (outcome, sent) = offer(&db, &kv, &a.number, SUBMISSION_ACTIONS, &[SENT]);
    assert_eq!(outcome, Outcome::Sent);
    let thing = sent[0]["data"]["thing2"]["value"].as_str().unwrap();
    assert!(thing.chars().count() == 20 && thing.ends_with('…'), "the item name is cut for WeChat: {thing}");
    assert_eq!(remaining(&db), 0);

    let done = step(&db, &a.number, &Step::Accept { version: a.version });
    assert_eq!(done.status, Status::Accepted);
    let (outcome, sent) = offer(&db, &kv, &a.number, &["accept"], &[SENT]);
    assert_eq!((outcome, sent.len()), (Outcome::NoAcceptance, 0), "nothing left: not even tried");
    assert!(outcome.needs_fallback());
    assert_eq!(inbox_titles(&db), ["申请已提交", "申请已受理"], "the inbox has both whatever the channel");
    assert_eq!(sends(&db).len(), 1);
}

#[test]
fn a_refusal_ends_the_offers_and_an_applicant_who_never_accepted_is_not_tried() {
    let (db, kv) = (db(Some(5)), kv());
    let a = submitted(&db, &kv, "水表过户");
    let (outcome, _) = offer(&db, &kv, &a.number, SUBMISSION_ACTIONS, &[REFUSED]);
    assert_eq!(outcome, Outcome::Refused);
    assert!(outcome.needs_fallback());
    assert_eq!(remaining(&db), 0, "WeChat says she withdrew: no more tries");
    step(&db, &a.number, &Step::Reject { version: a.version, reason: "非本人申请".into() });
    let (outcome, sent) = offer(&db, &kv, &a.number, &["reject"], &[SENT]);
    assert_eq!((outcome, sent.len()), (Outcome::NoAcceptance, 0));
    assert_eq!(inbox_titles(&db), ["申请已提交", "申请不予受理"]);

    let (db, kv) = (self::db(None), self::kv());
    let a = submitted(&db, &kv, "水表过户");
    let (outcome, sent) = offer(&db, &kv, &a.number, SUBMISSION_ACTIONS, &[SENT]);
    assert_eq!((outcome, sent.len()), (Outcome::NoAcceptance, 0));
    assert!(sends(&db).is_empty());
    assert_eq!(inbox_titles(&db), ["申请已提交"]);
}

#[test]
fn a_step_that_was_never_written_is_not_told() {
    let (db, kv) = (db(Some(3)), kv());
    let a = submitted(&db, &kv, "水表过户");
    let http = ScriptedHttp::default();
    let app = WeChatApp::new(&http, &kv, "http://wx.test", "wx123", "sec");
    let e = block_on(offer_step(&db, &app, &OsRandom, &templates(), &a.number, &["complete"], now())).unwrap_err();
    assert_eq!(e.code, shared::ErrorCode::Internal);
    assert!(http.sent.borrow().is_empty());
    assert_eq!(remaining(&db), 3);
}
