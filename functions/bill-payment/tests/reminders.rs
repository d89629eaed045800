//! Bill reminders natively on SQLite with the production migrations: each
//! notice once per bill, kind and bound citizen, on the right days, never
//! for a paid bill, nothing in the quiet hours, the overdue SMS once.

#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use bill_payment::bill_import as import;
use bill_payment::reminders::{self, QuietWindow, SweepRun, Swept};
use futures_executor::block_on;
use serde::Deserialize;
use serde_json::json;
use shared::admin::{Act, Principal, Role};
use shared::identity::Pepper;
use shared::runtime::OsRandom;
use shared::sms::{FailureClass, SendContext, SmsMessage, SmsOutcome, SmsProvider};
use shared::store::{Db, Row, SqliteDb, Stmt, Value};
use shared::testing::{at, now};
use shared::types::BeijingTime;
use std::cell::{Cell, RefCell};

const ACCOUNT: &str = "10012345";

fn import_body() -> import::ImportBody {
    serde_json::from_value(json!({
        "accounts": [{"account_no": ACCOUNT, "holder_name": "张三丰", "holder_phone": "13800001111",
                      "address": "义乌市稠城街道宾王路1号", "category": "居民"}],
        // now() is 2026-11-23: this one is due on the 30th.
        "bills": [{"account_no": ACCOUNT, "period": "2026-10", "usage_m3": 12, "amount_fen": 3840, "due_date": "2026-11-30"}]
    }))
    .unwrap()
}

fn import(db: &SqliteDb) {
    use base64::Engine;
    let vault = shared::vault::PhoneVault::parse(&format!(
        "t1:{}",
        base64::engine::general_purpose::STANDARD.encode([7u8; 32])
    ))
    .unwrap();
    let pepper = Pepper::new("test-pepper");
    let phones = import::Phones { pepper: &pepper, vault: &vault, ids: &OsRandom };
    let who = Principal { token_id: "op".into(), name: "收费员".into(), roles: vec![Role::BillingOperator] };
    let act = Act { who: &who, now: now(), request_id: "r" };
    block_on(import::apply(db, &phones, &act, &import_body())).unwrap();
}

/// Citizens a (with a phone), b (without) and c (not bound); a and b bound to the account.
fn seeded() -> SqliteDb {
    let db = shared::testing::db_with_citizens(&["a", "b", "c"]);
    import(&db);
    block_on(db.execute("UPDATE citizens SET phone = '13900001111' WHERE id = 'a'", &[])).unwrap();
    for c in ["a", "b"] {
        block_on(db.execute(
            "INSERT INTO citizen_water_accounts (citizen_id, account_no, bound_at) VALUES (?1, ?2, 'x')",
            &[c.into(), ACCOUNT.into()],
        ))
        .unwrap();
    }
    db
}

fn sweep_as(db: &impl Db, id: &str, when: BeijingTime, with_sms: bool) -> Swept {
    let run = SweepRun { id, quiet: QuietWindow::default(), with_sms };
    block_on(reminders::sweep(db, &OsRandom, &run, when)).unwrap()
}

fn sweep(db: &impl Db, when: &str) -> Swept {
    sweep_as(db, &format!("s-{when}"), at(when), false)
}

#[derive(Deserialize, Debug)]
struct Msg {
    citizen_id: String,
    title: String,
    body: String,
    link: Option<String>,
}

fn inbox(db: &SqliteDb) -> Vec<Msg> {
    block_on(db.query_as(
        "SELECT citizen_id, title, body, link FROM messages WHERE kind = 'bill' ORDER BY citizen_id, seq",
        &[],
    ))
    .unwrap()
}

fn titles(db: &SqliteDb, citizen: &str) -> Vec<String> {
    inbox(db).into_iter().filter(|m| m.citizen_id == citizen).map(|m| m.title).collect()
}

#[test]
fn each_bound_citizen_gets_one_issued_notice_whatever_the_reimports_and_reruns() {
    let db = seeded();
    let first = sweep(&db, "2026-11-23T10:00:00+08:00");
    assert_eq!((first.claimed, first.posted), (2, 2));
    let msgs = inbox(&db);
    assert_eq!(msgs.iter().map(|m| m.citizen_id.as_str()).collect::<Vec<_>>(), ["a", "b"], "c is not bound");
    let m = &msgs[0];
    assert_eq!(m.title, "水费账单已出账");
    assert!(
        m.body.contains("账期 2026-10") && m.body.contains("38.40 元") && m.body.contains("2026-11-30"),
        "{}",
        m.body
    );
    assert!(m.body.contains("尾号 2345") && !m.body.contains("张") && !m.body.contains("1380000"), "{}", m.body);
    assert_eq!(m.link.as_deref(), Some("/v1/bills?account=10012345"));

    import(&db);
    assert_eq!(sweep(&db, "2026-11-23T10:10:00+08:00").claimed, 0, "a re-import of the same bill notices nothing more");
    assert_eq!(sweep(&db, "2026-11-23T10:20:00+08:00").claimed, 0);
    assert_eq!(inbox(&db).len(), 2);
}

/// A database on which a second sweep runs inside the first one's batch.
struct Racing<'a> {
    inner: &'a SqliteDb,
    when: BeijingTime,
    raced: Cell<bool>,
}

impl Db for Racing<'_> {
    async fn query(&self, sql: &str, params: &[Value]) -> shared::ApiResult<Vec<Row>> {
        self.inner.query(sql, params).await
    }
    async fn batch(&self, stmts: &[Stmt]) -> shared::ApiResult<Vec<u64>> {
        if !self.raced.replace(true) {
            let id = format!("other-{}", self.when.to_rfc3339());
            let run = SweepRun { id: &id, quiet: QuietWindow::default(), with_sms: true };
            let other = reminders::sweep(self.inner, &OsRandom, &run, self.when).await?;
            assert_eq!(other.posted, 2);
        }
        self.inner.batch(stmts).await
    }
}

#[test]
fn two_sweeps_at_once_notice_each_citizen_once() {
    let db = seeded();
    for when in ["2026-11-23T10:00:00+08:00", "2026-12-01T10:00:00+08:00"] {
        let racing = Racing { inner: &db, when: at(when), raced: Cell::new(false) };
        let mine = sweep_as(&racing, "mine", at(when), true);
        assert_eq!((mine.claimed, mine.posted), (0, 0), "the other sweep claimed everything first");
        assert!(mine.sms.is_empty(), "nor does it take the other's SMS");
    }
    assert_eq!(titles(&db, "a"), ["水费账单已出账", "水费已逾期"]);
    assert_eq!(titles(&db, "b"), ["水费账单已出账", "水费已逾期"]);
}

#[test]
fn arrears_reminders_come_three_days_before_and_the_day_after_the_due_date() {
    let db = seeded();
    sweep(&db, "2026-11-23T10:00:00+08:00");
    assert_eq!(sweep(&db, "2026-11-26T23:59:00+08:00").claimed, 0, "quiet");
    assert_eq!(sweep(&db, "2026-11-26T21:50:00+08:00").claimed, 0, "4 days before: nothing yet");
    assert_eq!(sweep(&db, "2026-11-27T07:00:00+08:00").posted, 2, "3 days before");
    assert_eq!(sweep(&db, "2026-11-30T12:00:00+08:00").claimed, 0, "the due date itself: nothing new");
    assert_eq!(sweep(&db, "2026-12-01T07:10:00+08:00").posted, 2, "the day after");
    assert_eq!(sweep(&db, "2026-12-09T10:00:00+08:00").claimed, 0, "once");
    assert_eq!(titles(&db, "a"), ["水费账单已出账", "水费即将到期", "水费已逾期"]);
    let overdue = inbox(&db).into_iter().find(|m| m.title == "水费已逾期").unwrap();
    assert!(overdue.body.contains("已逾期") && overdue.body.contains("2026-11-30"), "{}", overdue.body);
}

#[test]
fn a_paid_bill_gets_no_arrears_reminder() {
    let db = seeded();
    sweep(&db, "2026-11-23T10:00:00+08:00");
    block_on(db.execute("UPDATE bills SET status = 'paid', paid_at = 'x'", &[])).unwrap();
    assert_eq!(sweep(&db, "2026-11-28T10:00:00+08:00").claimed, 0);
    assert_eq!(sweep_as(&db, "late", at("2026-12-02T10:00:00+08:00"), true).claimed, 0);
    assert_eq!(titles(&db, "a"), ["水费账单已出账"]);
}

#[test]
fn nothing_goes_out_in_the_quiet_hours_and_everything_due_goes_at_the_first_run_after() {
    let db = seeded();
    let night = sweep(&db, "2026-11-23T22:10:00+08:00");
    assert!(night.quiet);
    assert_eq!(inbox(&db).len(), 0);
    // A second bill, paid during the night, was overdue: no reminder for it.
    block_on(db.batch(&[Stmt::new(
        "INSERT INTO bills (id, account_no, period, usage_m3, amount_fen, due_date, status, paid_at, updated_at)
         VALUES ('B10012345202609', ?1, '2026-09', 1, 100, '2026-10-20', 'paid', 'x', 'x')",
        vec![ACCOUNT.into()],
    )]))
    .unwrap();
    assert!(sweep(&db, "2026-11-24T06:59:00+08:00").quiet);
    let morning = sweep(&db, "2026-11-24T07:00:00+08:00");
    assert_eq!((morning.quiet, morning.posted), (false, 2));
    assert!(inbox(&db).iter().all(|m| m.title == "水费账单已出账" && m.body.contains("2026-10")));
}

/// Records the sends; fails those whose number is in `refuse`.
#[derive(Default)]
struct FakeSms {
    sent: RefCell<Vec<SmsMessage>>,
    refuse: Vec<String>,
}

impl SmsProvider for FakeSms {
    fn name(&self) -> &'static str {
        "fake"
    }
    async fn send(&self, msg: &SmsMessage, _now: BeijingTime, _nonce: &str) -> SmsOutcome {
        self.sent.borrow_mut().push(msg.clone());
        if msg.phones.iter().any(|p| self.refuse.iter().any(|r| r == p.expose())) {
            return SmsOutcome::Failed { code: "isv.X".into(), message: "x".into(), class: FailureClass::Permanent };
        }
        SmsOutcome::Sent { biz_id: "biz".into() }
    }
}

fn send(db: &SqliteDb, sms: &FakeSms, run: &str, swept: &Swept, when: BeijingTime) -> (usize, usize) {
    let pepper = Pepper::new("test-pepper");
    let cx = SendContext { pepper: &pepper, purpose: "bill_overdue", request_id: run, ip_hash: None, now: when };
    block_on(reminders::send_sms(db, sms, &OsRandom, "SMS_T", &cx, run, &swept.sms)).unwrap()
}

fn sms_rows(db: &SqliteDb) -> Vec<(String, String)> {
    #[derive(Deserialize)]
    struct R {
        citizen_id: String,
        status: String,
    }
    block_on(
        db.query_as::<R>("SELECT citizen_id, status FROM bill_notices WHERE channel = 'sms' ORDER BY citizen_id", &[]),
    )
    .unwrap()
    .into_iter()
    .map(|r| (r.citizen_id, r.status))
    .collect()
}

#[test]
fn the_overdue_sms_goes_once_to_bound_citizens_with_a_phone() {
    let db = seeded();
    let when = at("2026-12-01T10:00:00+08:00");
    let swept = sweep_as(&db, "s1", when, true);
    assert_eq!(swept.sms.len(), 1, "only a has a phone; issued and due_soon have no SMS");
    assert_eq!(sms_rows(&db), [("a".to_owned(), "claimed".to_owned())], "claimed before the send");
    let sms = FakeSms::default();
    assert_eq!(send(&db, &sms, "s1", &swept, when), (1, 0));
    let sent = sms.sent.borrow();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].phones[0].expose(), "13900001111");
    assert_eq!(sent[0].template_code, "SMS_T");
    assert_eq!(
        sent[0].params,
        [("period".into(), "2026-10".into()), ("amount".into(), "38.40".into()), ("due".into(), "2026-11-30".into())]
    );
    drop(sent);
    assert_eq!(sms_rows(&db), [("a".to_owned(), "sent".to_owned())]);
    #[derive(Deserialize)]
    struct N {
        n: i64,
    }
    let logged = block_on(db.first_as::<N>("SELECT COUNT(*) AS n FROM sms_log WHERE purpose = 'bill_overdue'", &[]));
    assert_eq!(logged.unwrap().unwrap().n, 1);
    let again = sweep_as(&db, "s2", at("2026-12-01T10:10:00+08:00"), true);
    assert_eq!((again.claimed, again.sms.len()), (0, 0));
    assert_eq!(sms.sent.borrow().len(), 1, "never twice");
}

#[test]
fn a_claimed_sms_lost_to_a_crash_is_never_sent_and_a_refused_one_is_marked_failed() {
    let db = seeded();
    let swept = sweep_as(&db, "s1", at("2026-12-01T10:00:00+08:00"), true);
    assert_eq!(swept.sms.len(), 1);
    // The run stops here; the next one sends nothing, the inbox message stays.
    assert!(sweep_as(&db, "s2", at("2026-12-01T10:10:00+08:00"), true).sms.is_empty());
    assert_eq!(titles(&db, "a"), ["水费已逾期"], "a bill first seen overdue gets no 出账通知");
    assert_eq!(sms_rows(&db), [("a".to_owned(), "claimed".to_owned())]);

    let db = seeded();
    let when = at("2026-12-01T10:00:00+08:00");
    let swept = sweep_as(&db, "s1", when, true);
    let sms = FakeSms { refuse: vec!["13900001111".into()], ..FakeSms::default() };
    assert_eq!(send(&db, &sms, "s1", &swept, when), (0, 1));
    assert_eq!(sms_rows(&db), [("a".to_owned(), "failed".to_owned())]);
}

#[test]
fn without_the_sms_configuration_no_sms_is_claimed_and_it_goes_once_configured() {
    let db = seeded();
    let off = sweep_as(&db, "s1", at("2026-12-01T10:00:00+08:00"), false);
    assert_eq!((off.posted, off.sms.len()), (2, 0), "overdue for a and b");
    assert!(sms_rows(&db).is_empty());
    let on = sweep_as(&db, "s2", at("2026-12-01T10:10:00+08:00"), true);
    assert_eq!((on.posted, on.sms.len()), (0, 1));
}
