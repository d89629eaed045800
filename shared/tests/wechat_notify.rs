//! 订阅消息 natively: the shared access token, its refresh, the acceptances
//! spent inside the write, and what each WeChat answer leaves behind, on real
//! SQLite and an in-memory KV with a scripted WeChat.

#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use futures_executor::block_on;
use shared::ApiResult;
use shared::outbound::ScriptedHttp;
use shared::runtime::SeqIds;
use shared::store::{Db, Kv, MemoryKv, Row, SqliteDb, Stmt, Value};
use shared::testing::{db_with_citizens, now};
use shared::wechat_notify::{Notice, Outcome, Purpose, TOKEN_KEY, Templates, WeChatApp, notify};
use std::future::Future;
use std::pin::{Pin, pin};
use std::task::{Context, Poll};

const OPENID: &str = "o6_bmjrPTlm6_2sgVt7hMZOPfL2M";
const TEMPLATE: &str = "tmpl-reminder";
const TOKEN_OK: &str = r#"{"access_token":"tok-new","expires_in":7200}"#;
const SENT: &str = r#"{"errcode":0,"errmsg":"ok","msgid":294402298110051942}"#;

fn templates() -> Templates {
    Templates::parse(&format!("booking_reminder:{TEMPLATE}")).unwrap()
}

/// A citizen with an openid and `remaining` acceptances of the reminder template.
fn setup(remaining: i64) -> SqliteDb {
    let db = db_with_citizens(&["cit_a"]);
    block_on(db.execute("UPDATE citizens SET openid = ?1 WHERE id = 'cit_a'", &[OPENID.into()])).unwrap();
    block_on(db.execute(
        "INSERT INTO wechat_acceptances (citizen_id, template_id, remaining, updated_at) VALUES ('cit_a', ?1, ?2, 'x')",
        &[TEMPLATE.into(), remaining.into()],
    ))
    .unwrap();
    db
}

fn remaining(db: &impl Db) -> i64 {
    let rows = block_on(db.query("SELECT remaining FROM wechat_acceptances WHERE citizen_id = 'cit_a'", &[])).unwrap();
    rows[0]["remaining"].as_i64().unwrap()
}

fn status(db: &impl Db, reference: &str) -> (String, Option<i64>) {
    let rows =
        block_on(db.query("SELECT status, errcode FROM wechat_sends WHERE ref = ?1", &[reference.into()])).unwrap();
    (rows[0]["status"].as_str().unwrap().to_owned(), rows[0]["errcode"].as_i64())
}

/// A token in KV that expires `secs` from [`now`].
fn seed_token(kv: &MemoryKv, token: &str, secs: i64) {
    let at = now().to_utc().timestamp() + secs;
    block_on(kv.put(TOKEN_KEY, &format!(r#"{{"access_token":"{token}","expires_at":{at}}}"#), None)).unwrap();
}

fn app<'a>(http: &'a ScriptedHttp, kv: &'a MemoryKv) -> WeChatApp<'a, ScriptedHttp, MemoryKv> {
    WeChatApp::new(http, kv, "http://wx.test/", "wx123", "sec")
}

fn offer(db: &impl Db, app: &WeChatApp<'_, ScriptedHttp, MemoryKv>, reference: &str) -> Outcome {
    let data = [("thing1", "市民中心".to_owned()), ("time2", "2026-11-24 09:00".to_owned())];
    let notice =
        Notice { citizen_id: "cit_a", purpose: Purpose::BookingReminder, reference, data: &data, page: "pages/x" };
    block_on(notify(db, app, &fresh_ids(), &templates(), &notice, now())).unwrap()
}

/// IDs no earlier call of this test binary used (claims must differ).
fn fresh_ids() -> SeqIds {
    static NEXT: std::sync::atomic::AtomicU8 = std::sync::atomic::AtomicU8::new(0);
    SeqIds(std::cell::Cell::new(NEXT.fetch_add(16, std::sync::atomic::Ordering::Relaxed)))
}

fn urls(http: &ScriptedHttp) -> Vec<String> {
    http.sent.borrow().iter().map(|r| r.url.clone()).collect()
}

#[test]
fn the_token_is_fetched_once_kept_in_kv_and_shared_by_every_worker() {
    let db = setup(3);
    let kv = MemoryKv::default();
    let http = ScriptedHttp::default();
    http.answer(200, TOKEN_OK).answer(200, SENT).answer(200, SENT);
    let wx = app(&http, &kv);
    assert_eq!(offer(&db, &wx, "YY1"), Outcome::Sent);
    assert_eq!(offer(&db, &wx, "YY2"), Outcome::Sent);
    let sent = http.sent.borrow();
    assert_eq!(sent.len(), 3, "one token fetch for two messages");
    assert_eq!(sent[0].url, "http://wx.test/cgi-bin/stable_token");
    let asked: serde_json::Value = serde_json::from_str(sent[0].body.as_deref().unwrap()).unwrap();
    assert_eq!(asked["grant_type"], "client_credential");
    assert_eq!(asked["appid"], "wx123");
    assert_eq!(asked["force_refresh"], false);
    assert_eq!(sent[1].url, "http://wx.test/cgi-bin/message/subscribe/send?access_token=tok-new");
    let body: serde_json::Value = serde_json::from_str(sent[1].body.as_deref().unwrap()).unwrap();
    assert_eq!(body["touser"], OPENID);
    assert_eq!(body["template_id"], TEMPLATE);
    assert_eq!(body["data"]["thing1"]["value"], "市民中心");
    assert_eq!(body["page"], "pages/x");
    assert_eq!(remaining(&db), 1);
    assert_eq!(status(&db, "YY1"), ("sent".to_owned(), None));
    // Another worker (another client, same KV) uses the stored token.
    let other = ScriptedHttp::default();
    other.answer(200, SENT);
    assert_eq!(offer(&db, &app(&other, &kv), "YY3"), Outcome::Sent);
    assert_eq!(urls(&other), ["http://wx.test/cgi-bin/message/subscribe/send?access_token=tok-new"]);
    assert_eq!(remaining(&db), 0);
}

#[test]
fn a_token_with_less_than_five_minutes_left_is_fetched_again_one_with_more_is_not() {
    let db = setup(2);
    let kv = MemoryKv::default();
    seed_token(&kv, "tok-old", 200);
    let http = ScriptedHttp::default();
    http.answer(200, TOKEN_OK).answer(200, SENT);
    assert_eq!(offer(&db, &app(&http, &kv), "YY1"), Outcome::Sent);
    assert_eq!(urls(&http)[0], "http://wx.test/cgi-bin/stable_token");
    assert!(urls(&http)[1].ends_with("access_token=tok-new"));
    seed_token(&kv, "tok-fresh", 400);
    let http = ScriptedHttp::default();
    http.answer(200, SENT);
    assert_eq!(offer(&db, &app(&http, &kv), "YY2"), Outcome::Sent);
    assert_eq!(urls(&http), ["http://wx.test/cgi-bin/message/subscribe/send?access_token=tok-fresh"]);
}

#[test]
fn an_invalid_token_is_refreshed_by_force_once_and_the_send_retried_once() {
    let db = setup(2);
    let kv = MemoryKv::default();
    seed_token(&kv, "tok-old", 3600);
    let http = ScriptedHttp::default();
    http.answer(200, r#"{"errcode":40001,"errmsg":"invalid credential"}"#).answer(200, TOKEN_OK).answer(200, SENT);
    assert_eq!(offer(&db, &app(&http, &kv), "YY1"), Outcome::Sent);
    let sent = http.sent.borrow().clone();
    assert_eq!(sent.len(), 3);
    assert!(sent[0].url.ends_with("access_token=tok-old"));
    assert!(sent[1].body.as_deref().unwrap().contains(r#""force_refresh":true"#));
    assert!(sent[2].url.ends_with("access_token=tok-new"));
    assert!(block_on(kv.get(TOKEN_KEY)).unwrap().unwrap().contains("tok-new"), "the new token is shared");
    // Expired again right after the refresh: no second refresh, the notice fails
    // and its acceptance, unused, is given back.
    let http = ScriptedHttp::default();
    http.answer(200, r#"{"errcode":42001,"errmsg":"access_token expired"}"#)
        .answer(200, TOKEN_OK)
        .answer(200, r#"{"errcode":42001,"errmsg":"access_token expired"}"#);
    assert_eq!(offer(&db, &app(&http, &kv), "YY2"), Outcome::Failed);
    assert_eq!(http.sent.borrow().len(), 3);
    assert_eq!(status(&db, "YY2"), ("failed".to_owned(), Some(42001)));
    assert_eq!(remaining(&db), 1);
}

#[test]
fn a_refusal_sets_the_acceptances_to_zero_and_asks_for_the_fallback() {
    let db = setup(3);
    let kv = MemoryKv::default();
    seed_token(&kv, "tok", 3600);
    let http = ScriptedHttp::default();
    http.answer(200, r#"{"errcode":43101,"errmsg":"user refuse to accept the msg"}"#);
    let outcome = offer(&db, &app(&http, &kv), "YY1");
    assert_eq!(outcome, Outcome::Refused);
    assert!(outcome.needs_fallback());
    assert_eq!(remaining(&db), 0);
    assert_eq!(status(&db, "YY1"), ("refused".to_owned(), Some(43101)));
    // Nothing left: the next notice is not even tried.
    let http = ScriptedHttp::default();
    assert_eq!(offer(&db, &app(&http, &kv), "YY2"), Outcome::NoAcceptance);
    assert!(http.sent.borrow().is_empty());
}

#[test]
fn a_notice_is_offered_once_and_a_lost_answer_keeps_the_acceptance_spent() {
    let db = setup(3);
    let kv = MemoryKv::default();
    seed_token(&kv, "tok", 3600);
    let http = ScriptedHttp::default();
    http.fail();
    assert_eq!(offer(&db, &app(&http, &kv), "YY1"), Outcome::Failed);
    assert_eq!(status(&db, "YY1"), ("failed".to_owned(), None));
    assert_eq!(remaining(&db), 2, "the message may have gone out");
    let http = ScriptedHttp::default();
    assert_eq!(offer(&db, &app(&http, &kv), "YY1"), Outcome::AlreadyClaimed);
    assert!(!Outcome::AlreadyClaimed.needs_fallback());
    assert!(http.sent.borrow().is_empty());
    assert_eq!(remaining(&db), 2);
}

#[test]
fn without_an_openid_or_a_configured_template_nothing_is_tried() {
    let db = setup(3);
    block_on(db.execute("UPDATE citizens SET openid = NULL", &[])).unwrap();
    let kv = MemoryKv::default();
    let http = ScriptedHttp::default();
    assert_eq!(offer(&db, &app(&http, &kv), "YY1"), Outcome::NoAcceptance);
    assert_eq!(remaining(&db), 3);
    let notice = Notice { citizen_id: "cit_a", purpose: Purpose::BillIssued, reference: "B1", data: &[], page: "" };
    let outcome = block_on(notify(&db, &app(&http, &kv), &SeqIds::default(), &templates(), &notice, now())).unwrap();
    assert_eq!(outcome, Outcome::NoAcceptance);
    assert!(http.sent.borrow().is_empty());
}

/// A database whose every call first lets other tasks run, so two notices
/// interleave as two Workers do.
struct Yielding(SqliteDb);

struct YieldOnce(bool);

impl Future for YieldOnce {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.0 {
            Poll::Ready(())
        } else {
            self.0 = true;
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    }
}

impl Db for Yielding {
    async fn query(&self, sql: &str, params: &[Value]) -> ApiResult<Vec<Row>> {
        YieldOnce(false).await;
        self.0.query(sql, params).await
    }
    async fn batch(&self, stmts: &[Stmt]) -> ApiResult<Vec<u64>> {
        YieldOnce(false).await;
        self.0.batch(stmts).await
    }
}

/// Runs two futures together on this thread.
fn join<A: Future, B: Future>(a: A, b: B) -> (A::Output, B::Output) {
    block_on(async {
        let (mut a, mut b) = (pin!(a), pin!(b));
        let (mut ra, mut rb) = (None, None);
        std::future::poll_fn(|cx| {
            if ra.is_none()
                && let Poll::Ready(v) = a.as_mut().poll(cx)
            {
                ra = Some(v);
            }
            if rb.is_none()
                && let Poll::Ready(v) = b.as_mut().poll(cx)
            {
                rb = Some(v);
            }
            if ra.is_some() && rb.is_some() { Poll::Ready(()) } else { Poll::Pending }
        })
        .await;
        (ra.unwrap(), rb.unwrap())
    })
}

#[test]
fn two_notices_at_once_with_one_acceptance_send_one_and_the_other_falls_back() {
    let db = Yielding(setup(1));
    let kv = MemoryKv::default();
    seed_token(&kv, "tok", 3600);
    let http = ScriptedHttp::default();
    http.answer(200, SENT);
    let wx = app(&http, &kv);
    let data = [("thing1", "市民中心".to_owned())];
    let first =
        Notice { citizen_id: "cit_a", purpose: Purpose::BookingReminder, reference: "YY1", data: &data, page: "" };
    let second = Notice { reference: "YY2", ..first };
    let (ids_a, ids_b) = (SeqIds::default(), SeqIds(std::cell::Cell::new(100)));
    let t = templates();
    let (a, b) = join(notify(&db, &wx, &ids_a, &t, &first, now()), notify(&db, &wx, &ids_b, &t, &second, now()));
    let mut outcomes = [a.unwrap(), b.unwrap()];
    outcomes.sort_by_key(|o| o.as_str());
    assert_eq!(outcomes, [Outcome::NoAcceptance, Outcome::Sent]);
    assert!(outcomes[0].needs_fallback());
    assert_eq!(http.sent.borrow().len(), 1, "one message went out");
    assert_eq!(remaining(&db.0), 0);
    let rows = block_on(db.0.query("SELECT count(*) AS n FROM wechat_sends", &[])).unwrap();
    assert_eq!(rows[0]["n"].as_i64(), Some(1));
}

#[test]
fn the_advance_check_says_whether_an_acceptance_is_left_for_the_purpose() {
    use shared::wechat_notify::may_notify;
    let db = setup(1);
    let ask = |p: Purpose| block_on(may_notify(&db, &templates(), "cit_a", p)).unwrap();
    assert!(ask(Purpose::BookingReminder), "one acceptance left");
    assert!(!ask(Purpose::BookingConfirmed), "no template configured for the purpose");
    assert!(!block_on(may_notify(&db, &templates(), "cit_b", Purpose::BookingReminder)).unwrap(), "another citizen");
    block_on(db.execute("UPDATE wechat_acceptances SET remaining = 0", &[])).unwrap();
    assert!(!ask(Purpose::BookingReminder), "used up");
}
