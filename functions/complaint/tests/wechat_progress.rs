//! 订阅消息 of a case's progress natively: each handling step is offered
//! once to a complainant who accepted the template, a second run sends
//! nothing, without an acceptance the inbox message is all, and a case
//! filed without an account of one's own gets none. SQLite with the
//! production migrations, an in-memory KV and a scripted WeChat.

#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use complaint::handling::{self, Taken};
use complaint::record;
use complaint::step::Step;
use complaint::submission::Submission;
use complaint::wechat_progress::{self, Progress};
use futures_executor::block_on;
use shared::admin::{Act, Principal, Role};
use shared::identity::Pepper;
use shared::outbound::ScriptedHttp;
use shared::runtime::OsRandom;
use shared::store::{Db, MemoryKv, SqliteDb};
use shared::types::{BeijingTime, MobileNumber};
use shared::wechat_notify::{Outcome, Templates, WeChatApp};

const OPENID: &str = "o6_bmjrPTlm6_2sgVt7hMZOPfL2M";
const TEMPLATE: &str = "TMPL_complaint_progress";
const TOKEN_OK: &str = r#"{"access_token":"tok-1","expires_in":7200}"#;
const SENT: &str = r#"{"errcode":0,"errmsg":"ok","msgid":294402298110051942}"#;
const PHONE: &str = "13600001234";

fn now() -> BeijingTime {
    shared::testing::at("2026-09-25T10:00:00+08:00")
}

fn templates() -> Templates {
    Templates::parse(&format!("booking_reminder:TMPL_booking_reminder,complaint_progress:{TEMPLATE}")).unwrap()
}

/// Citizen `a` logged in by WeChat with `accepted` acceptances of the template.
fn db(accepted: i64) -> SqliteDb {
    let db = shared::testing::db_with_citizens(&["a"]);
    block_on(db.execute("UPDATE citizens SET openid = ?1, phone = '13912345678' WHERE id = 'a'", &[OPENID.into()]))
        .unwrap();
    if accepted > 0 {
        accept(&db, "a", accepted);
    }
    db
}

fn accept(db: &SqliteDb, citizen: &str, n: i64) {
    block_on(db.execute(
        "INSERT INTO wechat_acceptances (citizen_id, template_id, remaining, updated_at) VALUES (?1, ?2, ?3, 'x')",
        &[citizen.into(), TEMPLATE.into(), n.into()],
    ))
    .unwrap();
}

fn complaint() -> Submission {
    serde_json::from_value(serde_json::json!({
        "kind": "complaint", "category": "供水", "subject": "北苑营业厅",
        "content": "柜台人员张三要求我补交与业务无关的材料。", "anonymous": true,
    }))
    .unwrap()
}

fn file(db: &SqliteDb, citizen: &str) -> String {
    block_on(record::submit(db, &OsRandom, citizen, &complaint(), None, |_| None, now())).unwrap().0.number
}

fn dispatcher() -> Principal {
    Principal { token_id: "h".into(), name: "热线".into(), roles: vec![Role::ComplaintDispatcher] }
}

fn take(db: &SqliteDb, number: &str, step: Step) -> Progress {
    let who = dispatcher();
    let act = Act { who: &who, now: now(), request_id: "r" };
    let Taken { progress, .. } = block_on(handling::take_step(db, &OsRandom, &act, number, &step)).unwrap();
    progress
}

fn offer(db: &SqliteDb, http: &ScriptedHttp, kv: &MemoryKv, p: &Progress) -> Outcome {
    let app = WeChatApp::new(http, kv, "http://wx.test", "wx123", "sec");
    block_on(wechat_progress::offer(db, &app, &OsRandom, &templates(), p, now())).unwrap()
}

fn sent_bodies(http: &ScriptedHttp) -> Vec<serde_json::Value> {
    http.sent
        .borrow()
        .iter()
        .filter(|r| r.url.contains("/subscribe/send"))
        .map(|r| serde_json::from_str(r.body.as_deref().unwrap()).unwrap())
        .collect()
}

fn sends(db: &SqliteDb) -> Vec<(String, String, String)> {
    block_on(db.query("SELECT ref, status, citizen_id FROM wechat_sends ORDER BY ref", &[]))
        .unwrap()
        .iter()
        .map(|r| {
            let s = |k: &str| r[k].as_str().unwrap().to_owned();
            (s("ref"), s("status"), s("citizen_id"))
        })
        .collect()
}

fn inbox_titles(db: &SqliteDb, citizen: &str) -> Vec<String> {
    block_on(db.query("SELECT title FROM messages WHERE citizen_id = ?1 ORDER BY seq, rowid", &[citizen.into()]))
        .unwrap()
        .iter()
        .map(|r| r["title"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn each_step_is_offered_once_with_the_case_number_and_a_second_run_sends_nothing() {
    let db = db(5);
    let (http, kv) = (ScriptedHttp::default(), MemoryKv::default());
    http.answer(200, TOKEN_OK).answer(200, SENT).answer(200, SENT);
    let n = file(&db, "a");
    let assigned = take(&db, &n, Step::Assign { department: "供水公司客服部".into() });
    assert_eq!(offer(&db, &http, &kv, &assigned), Outcome::Sent);
    assert_eq!(offer(&db, &http, &kv, &assigned), Outcome::AlreadyClaimed, "a replay of the same step");
    let replied = take(&db, &n, Step::Reply { text: "已约谈张三，整改完毕，电话13700001111。".into() });
    assert_eq!(offer(&db, &http, &kv, &replied), Outcome::Sent);
    assert_eq!(offer(&db, &http, &kv, &replied), Outcome::AlreadyClaimed);

    let bodies = sent_bodies(&http);
    assert_eq!(bodies.len(), 2, "one message per step, none for the replays");
    for b in &bodies {
        assert_eq!(b["touser"], OPENID);
        assert_eq!(b["template_id"], TEMPLATE);
        assert_eq!(b["page"], format!("pages/complaint/detail?no={n}"));
        assert_eq!(b["data"]["character_string1"]["value"], n.as_str());
        assert_eq!(b["data"]["time4"]["value"], "2026-09-25 10:00");
        let text = b.to_string();
        for private in ["供水公司", "张三", "13700001111", "137****1111", "北苑", "材料", "13912345678"] {
            assert!(!text.contains(private), "{private} in {text}");
        }
    }
    assert_eq!(bodies[0]["data"]["phrase2"]["value"], "已转交");
    assert_eq!(bodies[0]["data"]["thing3"]["value"], "已转交承办部门办理");
    assert_eq!(bodies[1]["data"]["phrase2"]["value"], "已答复");
    // 受理 is entry 1 of the timeline; the steps are 2 and 3.
    let owner = || "a".to_owned();
    assert_eq!(
        sends(&db),
        [(format!("{n}:2"), "sent".to_owned(), owner()), (format!("{n}:3"), "sent".to_owned(), owner())]
    );
    let left = block_on(db.query("SELECT remaining FROM wechat_acceptances WHERE citizen_id = 'a'", &[])).unwrap();
    assert_eq!(left[0]["remaining"], 3, "two acceptances spent, none by the replays");
    assert_eq!(inbox_titles(&db, "a"), ["已受理", "办理进度", "已答复"], "the inbox has every step too");
}

#[test]
fn a_step_with_no_acceptance_left_is_told_by_the_inbox_alone_and_the_outcome_says_so() {
    let db = db(1);
    let (http, kv) = (ScriptedHttp::default(), MemoryKv::default());
    http.answer(200, TOKEN_OK).answer(200, SENT);
    let n = file(&db, "a");
    let first = take(&db, &n, Step::Assign { department: "供水公司客服部".into() });
    assert_eq!(offer(&db, &http, &kv, &first), Outcome::Sent);
    let second = take(&db, &n, Step::Extend { days: 5, reason: "需现场核实".into() });
    let outcome = offer(&db, &http, &kv, &second);
    assert_eq!(outcome, Outcome::NoAcceptance);
    assert!(outcome.needs_fallback());
    let closed = take(&db, &n, Step::Close { result: "已整改".into() });
    assert!(offer(&db, &http, &kv, &closed).needs_fallback());
    assert_eq!(sent_bodies(&http).len(), 1, "nothing sent without an acceptance");
    assert_eq!(sends(&db).len(), 1, "and nothing claimed");
    assert_eq!(inbox_titles(&db, "a"), ["已受理", "办理进度", "办理进度", "已办结"]);
    let sms = block_on(db.query("SELECT count(*) AS n FROM sms_log", &[])).unwrap();
    assert_eq!(sms[0]["n"], 0, "no SMS for a step");
}

#[test]
fn a_citizen_who_never_accepted_the_template_gets_the_inbox_only() {
    let db = db(0);
    // The booking template accepted is not the progress one.
    block_on(db.execute(
        "INSERT INTO wechat_acceptances (citizen_id, template_id, remaining, updated_at)
         VALUES ('a', 'TMPL_booking_reminder', 3, 'x')",
        &[],
    ))
    .unwrap();
    let (http, kv) = (ScriptedHttp::default(), MemoryKv::default());
    let n = file(&db, "a");
    let p = take(&db, &n, Step::Assign { department: "客服部".into() });
    assert!(offer(&db, &http, &kv, &p).needs_fallback());
    assert!(http.sent.borrow().is_empty(), "WeChat is not asked, not even for a token");
    assert!(sends(&db).is_empty());
    assert_eq!(inbox_titles(&db, "a"), ["已受理", "办理进度"]);
}

fn pepper() -> Pepper {
    Pepper::new("wechat-progress-test-pepper")
}

/// A code sent to `PHONE` (as `POST /v1/auth/sms-code` would store it).
fn send_code(db: &SqliteDb, code: &str) {
    let phone = MobileNumber::parse(PHONE).unwrap();
    let p = pepper();
    block_on(db.execute(
        "INSERT INTO sms_codes (id, phone_hash, code_hash, created_at, expires_at) VALUES ('c1', ?1, ?2, ?3, ?4)",
        &[
            p.phone_hash(&phone).into(),
            p.code_hash(&phone, code).into(),
            now().to_rfc3339().into(),
            "2026-09-25T10:05:00+08:00".into(),
        ],
    ))
    .unwrap();
}

#[test]
fn a_complaint_filed_without_an_account_gets_no_wechat_message_whatever_the_table_says() {
    let db = db(5);
    send_code(&db, "123456");
    let s = Submission { phone: Some(PHONE.into()), sms_code: Some("123456".into()), ..complaint() };
    let (r, _) = block_on(record::submit_by_phone(&db, &OsRandom, &pepper(), &s, None, |_| None, now())).unwrap();
    let owner: String =
        block_on(db.query("SELECT citizen_id FROM complaints WHERE number = ?1", &[r.number.as_str().into()])).unwrap()
            [0]["citizen_id"]
            .as_str()
            .unwrap()
            .to_owned();
    assert_ne!(owner, "a");
    // Even an acceptance row on the phone's account (it has no WeChat openid) sends nothing.
    accept(&db, &owner, 3);
    let (http, kv) = (ScriptedHttp::default(), MemoryKv::default());
    for step in [Step::Assign { department: "客服部".into() }, Step::Close { result: "已整改".into() }] {
        let p = take(&db, &r.number, step);
        assert_eq!(p.citizen_id, owner);
        assert!(offer(&db, &http, &kv, &p).needs_fallback());
    }
    assert!(http.sent.borrow().is_empty(), "nothing goes to WeChat");
    assert!(sends(&db).is_empty(), "nothing is claimed");
    assert_eq!(inbox_titles(&db, &owner), ["已受理", "办理进度", "已办结"], "the phone's account has the inbox");
    assert!(inbox_titles(&db, "a").is_empty(), "and the WeChat citizen nothing");
}

#[test]
fn a_step_whose_timeline_entry_is_not_found_is_not_offered() {
    let db = db(5);
    let (http, kv) = (ScriptedHttp::default(), MemoryKv::default());
    let n = file(&db, "a");
    let mut p = take(&db, &n, Step::Assign { department: "客服部".into() });
    p.note = "另一个步骤".into();
    assert_eq!(offer(&db, &http, &kv, &p), Outcome::NoAcceptance);
    assert!(http.sent.borrow().is_empty());
    assert!(sends(&db).is_empty());
}
