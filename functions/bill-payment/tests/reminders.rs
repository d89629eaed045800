//! Bill reminders natively on SQLite with the production migrations: each
//! notice once per bill, kind and bound citizen, on the right days, never
//! for a paid bill, nothing in the quiet hours, the overdue SMS once.

#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use bill_payment::bill_import as import;
use bill_payment::reminders::{self, SweepRun, Swept};
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
use shared::types::QuietHours;
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
    let run = SweepRun { id, quiet: QuietHours::default(), with_sms };
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
            let run = SweepRun { id: &id, quiet: QuietHours::default(), with_sms: true };
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

// ---- 订阅消息 (bill_issued, bill_overdue) before the overdue SMS ----

use bill_payment::reminder_delivery::{self, Channels, Delivered, SmsChannel};
use shared::outbound::{Http, HttpRequest, HttpResponse};
use shared::store::MemoryKv;
use shared::wechat_notify::Templates;

const T_ISSUED: &str = "T_bill_issued";
const T_OVERDUE: &str = "T_bill_overdue";

fn templates() -> Templates {
    Templates::parse(&format!("bill_issued:{T_ISSUED},bill_overdue:{T_OVERDUE}")).unwrap()
}

fn openid(citizen: &str) -> String {
    format!("o_openid_of_{citizen}")
}

/// `citizen` logged in by WeChat and accepted `template` `n` times.
fn accept(db: &SqliteDb, citizen: &str, template: &str, n: i64) {
    block_on(db.execute("UPDATE citizens SET openid = ?1 WHERE id = ?2", &[openid(citizen).into(), citizen.into()]))
        .unwrap();
    block_on(db.execute(
        "INSERT INTO wechat_acceptances (citizen_id, template_id, remaining, updated_at) VALUES (?1, ?2, ?3, 'x')",
        &[citizen.into(), template.into(), n.into()],
    ))
    .unwrap();
}

/// WeChat: a token for every stable_token call, every send taken (recorded)
/// unless its openid is in `refuse` (43101).
#[derive(Default)]
struct FakeWeChat {
    sent: RefCell<Vec<serde_json::Value>>,
    refuse: Vec<String>,
}

impl Http for FakeWeChat {
    async fn send(&self, req: HttpRequest) -> shared::ApiResult<HttpResponse> {
        let answer = |body: &str| Ok(HttpResponse { status: 200, body: body.to_owned(), headers: vec![] });
        if req.url.contains("/cgi-bin/stable_token") {
            return answer(r#"{"access_token":"tok","expires_in":7200}"#);
        }
        let body: serde_json::Value = serde_json::from_str(req.body.as_deref().unwrap()).unwrap();
        if self.refuse.iter().any(|o| body["touser"] == o.as_str()) {
            return answer(r#"{"errcode":43101,"errmsg":"user refuse to accept the msg"}"#);
        }
        self.sent.borrow_mut().push(body);
        answer(r#"{"errcode":0,"errmsg":"ok","msgid":1}"#)
    }
}

/// One cron run: a sweep with SMS configured, then its delivery (订阅消息
/// configured unless `wechat` is false).
async fn cycle_with(
    db: &impl Db,
    id: &str,
    when: BeijingTime,
    wx: &FakeWeChat,
    kv: &MemoryKv,
    sms: &FakeSms,
    wechat: bool,
) -> shared::ApiResult<(Swept, Delivered)> {
    let app = shared::wechat_notify::WeChatApp::new(wx, kv, "http://wx.test", "wx1", "sec");
    let templates = templates();
    let pepper = Pepper::new("test-pepper");
    let cx = SendContext { pepper: &pepper, purpose: "bill_overdue", request_id: id, ip_hash: None, now: when };
    let run = SweepRun { id, quiet: QuietHours::default(), with_sms: true };
    let swept = reminders::sweep(db, &OsRandom, &run, when).await?;
    let channels = Channels {
        wechat: wechat.then_some((&app, &templates)),
        sms: Some(SmsChannel { provider: sms, template: "SMS_T", cx: &cx }),
    };
    let done = reminder_delivery::deliver(db, &OsRandom, &channels, id, &swept, when).await?;
    Ok((swept, done))
}

/// The delivery of `swept` with 订阅消息 configured and SMS not.
fn deliver_by_wechat_only(
    db: &SqliteDb,
    id: &str,
    swept: &Swept,
    when: BeijingTime,
    wx: &FakeWeChat,
    kv: &MemoryKv,
) -> Delivered {
    let app = shared::wechat_notify::WeChatApp::new(wx, kv, "http://wx.test", "wx1", "sec");
    let templates = templates();
    let channels: Channels<'_, FakeWeChat, MemoryKv, FakeSms> =
        Channels { wechat: Some((&app, &templates)), sms: None };
    block_on(reminder_delivery::deliver(db, &OsRandom, &channels, id, swept, when)).unwrap()
}

fn cycle(db: &SqliteDb, id: &str, when: &str, wx: &FakeWeChat, kv: &MemoryKv, sms: &FakeSms) -> Delivered {
    block_on(cycle_with(db, id, at(when), wx, kv, sms, true)).unwrap().1
}

fn wechat_rows(db: &SqliteDb) -> Vec<(String, String, String, String)> {
    #[derive(Deserialize)]
    struct R {
        purpose: String,
        r#ref: String,
        citizen_id: String,
        status: String,
    }
    block_on(db.query_as::<R>(
        "SELECT purpose, ref, citizen_id, status FROM wechat_sends ORDER BY purpose, ref, citizen_id",
        &[],
    ))
    .unwrap()
    .into_iter()
    .map(|r| (r.purpose, r.r#ref, r.citizen_id, r.status))
    .collect()
}

fn remaining(db: &SqliteDb, citizen: &str, template: &str) -> i64 {
    let rows = block_on(db.query(
        "SELECT remaining FROM wechat_acceptances WHERE citizen_id = ?1 AND template_id = ?2",
        &[citizen.into(), template.into()],
    ))
    .unwrap();
    rows[0]["remaining"].as_i64().unwrap()
}

fn row(purpose: &str, reference: &str, citizen: &str, status: &str) -> (String, String, String, String) {
    (purpose.to_owned(), reference.to_owned(), citizen.to_owned(), status.to_owned())
}

#[test]
fn a_citizen_who_accepted_bill_issued_gets_one_wechat_notice_however_often_the_cron_runs() {
    let db = seeded();
    accept(&db, "a", T_ISSUED, 3);
    let (wx, kv, sms) = (FakeWeChat::default(), MemoryKv::default(), FakeSms::default());
    let first = cycle(&db, "s1", "2026-11-23T10:00:00+08:00", &wx, &kv, &sms);
    assert_eq!((first.wechat_sent, first.wechat_errors), (1, 0), "a accepted; b has no openid");
    let sent = wx.sent.borrow().clone();
    assert_eq!(sent.len(), 1);
    let m = &sent[0];
    assert_eq!(m["touser"], openid("a").as_str());
    assert_eq!(m["template_id"], T_ISSUED);
    assert_eq!(m["page"], "pages/bills/index");
    assert_eq!(m["data"]["thing1"]["value"], "表卡尾号 2345");
    assert_eq!(m["data"]["character_string2"]["value"], "2026-10");
    assert_eq!(m["data"]["amount3"]["value"], "38.40元");
    assert_eq!(m["data"]["date4"]["value"], "2026-11-30");
    let text = m.to_string();
    assert!(!text.contains("10012345") && !text.contains("张") && !text.contains("1380000"), "{text}");
    assert_eq!(wechat_rows(&db), [row("bill_issued", "B10012345202610:issued", "a", "sent")]);

    import(&db);
    for (id, when) in [("s2", "2026-11-23T10:10:00+08:00"), ("s3", "2026-11-24T10:00:00+08:00")] {
        assert_eq!(cycle(&db, id, when, &wx, &kv, &sms).wechat_sent, 0);
    }
    assert_eq!(wx.sent.borrow().len(), 1, "once, whatever the re-imports and reruns");
    assert_eq!(remaining(&db, "a", T_ISSUED), 2, "one acceptance spent");
    assert_eq!(titles(&db, "a"), ["水费账单已出账"], "the inbox has it too");
    // The 即将到期 reminder stays in the inbox: it spends no acceptance.
    let soon = cycle(&db, "s4", "2026-11-27T10:00:00+08:00", &wx, &kv, &sms);
    assert_eq!(soon.wechat_sent, 0);
    assert_eq!(titles(&db, "a"), ["水费账单已出账", "水费即将到期"]);
}

#[test]
fn an_overdue_notice_that_went_by_wechat_sends_no_sms() {
    let db = seeded();
    accept(&db, "a", T_OVERDUE, 1);
    let (wx, kv, sms) = (FakeWeChat::default(), MemoryKv::default(), FakeSms::default());
    let done = cycle(&db, "s1", "2026-12-01T10:00:00+08:00", &wx, &kv, &sms);
    assert_eq!((done.wechat_sent, done.sms_replaced, done.sms_sent), (1, 1, 0));
    assert_eq!(wx.sent.borrow()[0]["template_id"], T_OVERDUE);
    assert!(wx.sent.borrow()[0]["data"]["thing5"]["value"].as_str().unwrap().contains("逾期"));
    assert!(sms.sent.borrow().is_empty(), "no SMS after the 订阅消息");
    assert!(sms_rows(&db).is_empty(), "the SMS claim is removed");
    assert_eq!(wechat_rows(&db), [row("bill_overdue", "B10012345202610:overdue", "a", "sent")]);
    // Later runs claim no SMS for it (the 订阅消息 is the record) and send nothing.
    for (id, when) in [("s2", "2026-12-01T10:10:00+08:00"), ("s3", "2026-12-05T10:00:00+08:00")] {
        let later = cycle(&db, id, when, &wx, &kv, &sms);
        assert_eq!((later.wechat_sent, later.sms_sent, later.sms_replaced), (0, 0, 0));
    }
    assert!(sms.sent.borrow().is_empty() && sms_rows(&db).is_empty());
    assert_eq!(titles(&db, "a"), ["水费已逾期"]);
}

#[test]
fn without_an_acceptance_or_when_wechat_refuses_the_overdue_sms_goes_as_today() {
    // No acceptance of the overdue template (only of bill_issued).
    let db = seeded();
    accept(&db, "a", T_ISSUED, 1);
    let (wx, kv, sms) = (FakeWeChat::default(), MemoryKv::default(), FakeSms::default());
    let done = cycle(&db, "s1", "2026-12-01T10:00:00+08:00", &wx, &kv, &sms);
    assert_eq!((done.wechat_sent, done.sms_replaced, done.sms_sent), (0, 0, 1));
    assert!(wx.sent.borrow().is_empty());
    assert_eq!(sms.sent.borrow()[0].phones[0].expose(), "13900001111");
    assert_eq!(sms_rows(&db), [("a".to_owned(), "sent".to_owned())]);
    assert!(wechat_rows(&db).is_empty());

    // An acceptance WeChat refuses (43101): the SMS goes, once.
    let db = seeded();
    accept(&db, "a", T_OVERDUE, 2);
    let wx = FakeWeChat { refuse: vec![openid("a")], ..FakeWeChat::default() };
    let sms = FakeSms::default();
    let done = cycle(&db, "s1", "2026-12-01T10:00:00+08:00", &wx, &kv, &sms);
    assert_eq!((done.wechat_sent, done.sms_sent), (0, 1));
    assert_eq!(wechat_rows(&db), [row("bill_overdue", "B10012345202610:overdue", "a", "refused")]);
    assert_eq!(remaining(&db, "a", T_OVERDUE), 0);
    assert_eq!(cycle(&db, "s2", "2026-12-01T10:10:00+08:00", &wx, &kv, &sms).sms_sent, 0);
    assert_eq!(sms.sent.borrow().len(), 1);

    // 订阅消息 not configured: the SMS goes as today, whatever was accepted.
    let db = seeded();
    accept(&db, "a", T_OVERDUE, 1);
    let (wx, sms) = (FakeWeChat::default(), FakeSms::default());
    let (_, done) = block_on(cycle_with(&db, "s1", at("2026-12-01T10:00:00+08:00"), &wx, &kv, &sms, false)).unwrap();
    assert_eq!((done.wechat_sent, done.sms_sent), (0, 1));
    assert!(wx.sent.borrow().is_empty());
    assert_eq!(remaining(&db, "a", T_OVERDUE), 1);
}

#[test]
fn nothing_goes_by_wechat_in_the_quiet_hours_or_for_a_paid_bill() {
    let db = seeded();
    accept(&db, "a", T_ISSUED, 1);
    accept(&db, "b", T_ISSUED, 1);
    let (wx, kv, sms) = (FakeWeChat::default(), MemoryKv::default(), FakeSms::default());
    assert_eq!(cycle(&db, "s1", "2026-11-23T23:00:00+08:00", &wx, &kv, &sms), Delivered::default());
    // Paid between a sweep's claim and its delivery: the inbox row is claimed, no 订阅消息 goes.
    let run = SweepRun { id: "s2", quiet: QuietHours::default(), with_sms: true };
    let swept = block_on(reminders::sweep(&db, &OsRandom, &run, at("2026-11-24T08:00:00+08:00"))).unwrap();
    assert_eq!(swept.posted, 2);
    block_on(db.execute("UPDATE bills SET status = 'paid', paid_at = 'x'", &[])).unwrap();
    let done = deliver_by_wechat_only(&db, "s2", &swept, at("2026-11-24T08:00:00+08:00"), &wx, &kv);
    assert_eq!(done.wechat_sent, 0);
    assert!(wx.sent.borrow().is_empty());
    assert_eq!(cycle(&db, "s3", "2026-12-01T10:00:00+08:00", &wx, &kv, &sms), Delivered::default());
}

/// A database on which a whole other cron run (sweep and delivery, same
/// WeChat, KV and SMS) runs just before our first batch containing `marker`.
struct RacingRun<'a> {
    inner: &'a SqliteDb,
    marker: &'static str,
    when: BeijingTime,
    wx: &'a FakeWeChat,
    kv: &'a MemoryKv,
    sms: &'a FakeSms,
    raced: Cell<bool>,
}

impl Db for RacingRun<'_> {
    async fn query(&self, sql: &str, params: &[Value]) -> shared::ApiResult<Vec<Row>> {
        self.inner.query(sql, params).await
    }
    async fn batch(&self, stmts: &[Stmt]) -> shared::ApiResult<Vec<u64>> {
        if stmts.iter().any(|s| s.sql.contains(self.marker)) && !self.raced.replace(true) {
            cycle_with(self.inner, "other", self.when, self.wx, self.kv, self.sms, true).await?;
        }
        self.inner.batch(stmts).await
    }
}

#[test]
fn interleaved_sweeps_send_each_wechat_notice_and_sms_at_most_once() {
    // Before our claim, during our 订阅消息, and between them and the SMS.
    for marker in ["INSERT OR IGNORE INTO bill_notices", "INSERT INTO wechat_sends", "DELETE FROM bill_notices"] {
        let db = seeded();
        // A second bill, issued and not yet due, beside the overdue one.
        block_on(db.execute(
            "INSERT INTO bills (id, account_no, period, usage_m3, amount_fen, due_date, status, updated_at)
             VALUES ('B10012345202611', ?1, '2026-11', 3, 960, '2026-12-20', 'unpaid', 'x')",
            &[ACCOUNT.into()],
        ))
        .unwrap();
        block_on(db.execute("UPDATE citizens SET phone = '13900002222' WHERE id = 'b'", &[])).unwrap();
        accept(&db, "a", T_ISSUED, 1);
        accept(&db, "a", T_OVERDUE, 1);
        let (wx, kv, sms) = (FakeWeChat::default(), MemoryKv::default(), FakeSms::default());
        let when = at("2026-12-01T10:00:00+08:00");
        let racing = RacingRun { inner: &db, marker, when, wx: &wx, kv: &kv, sms: &sms, raced: Cell::new(false) };
        block_on(cycle_with(&racing, "mine", when, &wx, &kv, &sms, true)).unwrap();
        assert!(racing.raced.get(), "{marker}");
        let sent: Vec<String> =
            wx.sent.borrow().iter().map(|m| m["template_id"].as_str().unwrap().to_owned()).collect();
        assert_eq!(sent, [T_OVERDUE, T_ISSUED], "{marker}: one of each to a, the oldest due date first");
        let phones: Vec<String> = sms.sent.borrow().iter().map(|m| m.phones[0].expose().to_owned()).collect();
        assert_eq!(phones, ["13900002222"], "{marker}: the SMS to b only, once");
        assert_eq!(sms_rows(&db), [("b".to_owned(), "sent".to_owned())], "{marker}");
        assert_eq!(
            wechat_rows(&db),
            [
                row("bill_issued", "B10012345202611:issued", "a", "sent"),
                row("bill_overdue", "B10012345202610:overdue", "a", "sent")
            ],
            "{marker}"
        );
        assert_eq!(titles(&db, "a"), ["水费已逾期", "水费账单已出账"], "{marker}");
        assert_eq!(titles(&db, "b"), ["水费已逾期", "水费账单已出账"], "{marker}");
    }
}

#[test]
fn once_sms_is_configured_only_the_citizens_the_wechat_notice_missed_get_the_overdue_sms() {
    let db = seeded();
    block_on(db.execute("UPDATE citizens SET phone = '13900002222' WHERE id = 'b'", &[])).unwrap();
    accept(&db, "a", T_OVERDUE, 1);
    let (wx, kv, sms) = (FakeWeChat::default(), MemoryKv::default(), FakeSms::default());
    let when = at("2026-12-01T10:00:00+08:00");
    let run = SweepRun { id: "s1", quiet: QuietHours::default(), with_sms: false };
    let swept = block_on(reminders::sweep(&db, &OsRandom, &run, when)).unwrap();
    let done = deliver_by_wechat_only(&db, "s1", &swept, when, &wx, &kv);
    assert_eq!((done.wechat_sent, done.sms_sent), (1, 0));
    let later = cycle(&db, "s2", "2026-12-01T10:10:00+08:00", &wx, &kv, &sms);
    assert_eq!((later.wechat_sent, later.sms_sent, later.sms_replaced), (0, 1, 0));
    let phones: Vec<String> = sms.sent.borrow().iter().map(|m| m.phones[0].expose().to_owned()).collect();
    assert_eq!(phones, ["13900002222"], "b, whom no 订阅消息 reached; never a");
}
