//! Identity domain natively: SMS codes, sessions, accounts and the inbox on
//! real SQLite, with a recording SMS provider and a frozen clock.

#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use futures_executor::block_on;
use shared::ErrorCode;
use shared::crypto::Pepper;
use shared::identity::{account, inbox, session, sms_code};
use shared::runtime::OsRandom;
use shared::sms::{FailureClass, SmsMessage, SmsOutcome, SmsProvider};
use shared::store::{Db, HotCache, SqliteDb};
use shared::types::{BeijingTime, MobileNumber};
use std::cell::RefCell;

#[derive(Default)]
struct Recorder {
    sent: RefCell<Vec<SmsMessage>>,
    fail_with: RefCell<Option<(String, FailureClass)>>,
}

impl SmsProvider for Recorder {
    fn name(&self) -> &'static str {
        "recorder"
    }
    async fn send(&self, msg: &SmsMessage, _now: BeijingTime, _nonce: &str) -> SmsOutcome {
        if let Some((code, class)) = self.fail_with.borrow_mut().take() {
            return SmsOutcome::Failed { code, message: String::new(), class };
        }
        self.sent.borrow_mut().push(msg.clone());
        SmsOutcome::Sent { biz_id: "biz-1".into() }
    }
}

impl Recorder {
    fn last_code(&self) -> String {
        self.sent.borrow().last().unwrap().params[0].1.clone()
    }
}

fn at(minute: u32) -> BeijingTime {
    BeijingTime::parse(&format!("2026-11-23T10:{minute:02}:00+08:00")).unwrap()
}

fn phone() -> MobileNumber {
    MobileNumber::parse("13812345678").unwrap()
}

fn send(db: &SqliteDb, sms: &Recorder, now: BeijingTime) -> Result<(), ErrorCode> {
    let pepper = Pepper::new("p");
    block_on(sms_code::send(db, sms, &OsRandom, &pepper, "SMS_1", &phone(), Some("1.2.3.4"), now, "r"))
        .map(|_| ())
        .map_err(|e| e.code)
}

#[test]
fn a_code_is_stored_only_as_an_hmac_and_verifies_once() {
    let (db, sms, pepper) = (SqliteDb::migrated().unwrap(), Recorder::default(), Pepper::new("p"));
    send(&db, &sms, at(0)).unwrap();
    let code = sms.last_code();
    let rows = block_on(db.query("SELECT code_hash, phone_hash FROM sms_codes", &[])).unwrap();
    assert_ne!(rows[0]["code_hash"], code.as_str());
    assert!(!rows[0]["phone_hash"].as_str().unwrap().contains("1381234"));
    let log = block_on(db.query("SELECT phone_masked, biz_id FROM sms_log", &[])).unwrap();
    assert_eq!(log[0]["phone_masked"], "138****5678");
    assert_eq!(log[0]["biz_id"], "biz-1");
    block_on(sms_code::verify(&db, &pepper, &phone(), &code, at(1))).unwrap();
    let again = block_on(sms_code::verify(&db, &pepper, &phone(), &code, at(1))).unwrap_err();
    assert_eq!(again.code, ErrorCode::SmsCodeInvalid);
}

#[test]
fn codes_expire_after_five_minutes() {
    let (db, sms, pepper) = (SqliteDb::migrated().unwrap(), Recorder::default(), Pepper::new("p"));
    send(&db, &sms, at(0)).unwrap();
    let err = block_on(sms_code::verify(&db, &pepper, &phone(), &sms.last_code(), at(5))).unwrap_err();
    assert_eq!(err.code, ErrorCode::SmsCodeExpired);
}

#[test]
fn sending_respects_the_per_minute_and_per_hour_limits() {
    let (db, sms) = (SqliteDb::migrated().unwrap(), Recorder::default());
    send(&db, &sms, at(0)).unwrap();
    assert_eq!(send(&db, &sms, at(0)), Err(ErrorCode::SmsSendLimited));
    for m in [2, 4, 6, 8] {
        send(&db, &sms, at(m)).unwrap();
    }
    assert_eq!(send(&db, &sms, at(10)), Err(ErrorCode::SmsSendLimited));
    assert_eq!(sms.sent.borrow().len(), 5);
}

#[test]
fn a_refused_send_stores_no_code_and_is_classified() {
    let (db, sms, pepper) = (SqliteDb::migrated().unwrap(), Recorder::default(), Pepper::new("p"));
    *sms.fail_with.borrow_mut() = Some(("isp.SYSTEM_ERROR".into(), FailureClass::Retryable));
    assert_eq!(send(&db, &sms, at(0)), Err(ErrorCode::SmsUnavailable));
    assert!(block_on(db.query("SELECT 1 FROM sms_codes", &[])).unwrap().is_empty());
    let err = block_on(sms_code::verify(&db, &pepper, &phone(), "123456", at(0))).unwrap_err();
    assert_eq!(err.code, ErrorCode::SmsCodeInvalid);
    // A failed send does not count against the citizen's limit.
    send(&db, &sms, at(0)).unwrap();
}

#[test]
fn sessions_expire_and_revoke() {
    let db = SqliteDb::migrated().unwrap();
    let (id, stmts) = block_on(account::by_openid(&db, &OsRandom, "o1", at(0))).unwrap();
    block_on(db.batch(&stmts)).unwrap();
    let (new, stmt) = session::issue(&OsRandom, &id, "wechat", at(0), 600).unwrap();
    block_on(db.batch(&[stmt])).unwrap();
    let header = format!("Bearer {}", new.token);
    let hot = HotCache::new(10, 1);
    let who = block_on(session::authenticate(&db, &hot, Some(&header), at(9))).unwrap();
    assert_eq!(who.id, id);
    let expired = block_on(session::authenticate(&db, &hot, Some(&header), at(10))).unwrap_err();
    assert_eq!(expired.code, ErrorCode::SessionExpired);
    block_on(session::revoke(&db, &hot, Some(&header), &who, at(1))).unwrap();
    let revoked = block_on(session::authenticate(&db, &hot, Some(&header), at(2))).unwrap_err();
    assert_eq!(revoked.code, ErrorCode::SessionRevoked);
    let stored = block_on(db.query("SELECT token_hash FROM sessions", &[])).unwrap();
    assert_ne!(stored[0]["token_hash"], new.token.as_str());
}

#[test]
fn the_inbox_is_private_to_its_owner() {
    let db = SqliteDb::migrated().unwrap();
    let mut ids = Vec::new();
    for openid in ["a", "b"] {
        let (id, stmts) = block_on(account::by_openid(&db, &OsRandom, openid, at(0))).unwrap();
        block_on(db.batch(&stmts)).unwrap();
        ids.push(id);
    }
    let post =
        inbox::post_stmt(&OsRandom, &ids[0], "bill", "水费账单", "本月水费 25.30 元", Some("/bills/1"), at(0)).unwrap();
    block_on(db.batch(&[post])).unwrap();
    assert!(inbox::post_stmt(&OsRandom, &ids[0], "spam", "t", "b", None, at(0)).is_err());
    let mine = block_on(inbox::list(&db, &ids[0], false, None, None)).unwrap();
    assert_eq!((mine.messages.len(), mine.unread), (1, 1));
    let theirs = block_on(inbox::list(&db, &ids[1], false, None, None)).unwrap();
    assert!(theirs.messages.is_empty());
    let id = mine.messages[0].id.clone();
    assert_eq!(block_on(inbox::mark_read(&db, &ids[1], &id, at(1))).unwrap_err().code, ErrorCode::MessageNotFound);
    block_on(inbox::mark_read(&db, &ids[0], &id, at(1))).unwrap();
    assert_eq!(block_on(inbox::list(&db, &ids[0], true, None, None)).unwrap().unread, 0);
}

// ---- issue 15, item 14: a session replacing the bound phone ----

fn other_phone() -> MobileNumber {
    MobileNumber::parse("13987654321").unwrap()
}

#[test]
fn binding_a_phone_does_not_silently_replace_the_bound_one() {
    let (db, pepper) = (SqliteDb::migrated().unwrap(), Pepper::new("p"));
    let (id, stmts) = block_on(account::by_phone(&db, &OsRandom, &pepper, &phone(), at(0))).unwrap();
    block_on(db.batch(&stmts)).unwrap();
    block_on(account::bind_phone(&db, &pepper, &id, &phone(), at(1))).unwrap();
    let err = block_on(account::bind_phone(&db, &pepper, &id, &other_phone(), at(1))).unwrap_err();
    assert_eq!(err.code, ErrorCode::Conflict);
    assert_eq!(block_on(account::phone(&db, &id)).unwrap(), Some(phone()));
    // With the old phone named (after its proof), the change goes through.
    let old = block_on(account::phone_hash(&db, &id)).unwrap();
    let stmts = block_on(account::bind_phone_stmts(&db, &pepper, &id, old.as_deref(), &other_phone(), at(2))).unwrap();
    block_on(db.batch(&stmts)).unwrap();
    assert_eq!(block_on(account::phone(&db, &id)).unwrap(), Some(other_phone()));
}

#[test]
fn a_login_by_phone_proves_that_phone_for_ten_minutes_only() {
    let (db, pepper) = (SqliteDb::migrated().unwrap(), Pepper::new("p"));
    let (id, stmts) = block_on(account::by_phone(&db, &OsRandom, &pepper, &phone(), at(0))).unwrap();
    block_on(db.batch(&stmts)).unwrap();
    let hash = pepper.phone_hash(&phone());
    let (by_phone, s1) = session::issue_by_phone(&OsRandom, &id, &hash, at(0), 3600).unwrap();
    let (by_wechat, s2) = session::issue(&OsRandom, &id, "wechat", at(0), 3600).unwrap();
    block_on(db.batch(&[s1, s2])).unwrap();
    let who = |s: &session::NewSession| shared::identity::Citizen { id: id.clone(), session_id: s.session_id.clone() };
    assert!(block_on(session::proves_phone(&db, &who(&by_phone), &hash, at(9))).unwrap());
    assert!(!block_on(session::proves_phone(&db, &who(&by_phone), &hash, at(10))).unwrap());
    assert!(!block_on(session::proves_phone(&db, &who(&by_phone), &pepper.phone_hash(&other_phone()), at(1))).unwrap());
    assert!(!block_on(session::proves_phone(&db, &who(&by_wechat), &hash, at(1))).unwrap());
    // Revoking the others leaves the current session alone.
    block_on(db.batch(&[session::revoke_others_stmt(&who(&by_wechat), at(1))])).unwrap();
    let hot = HotCache::new(10, 1);
    let header = |s: &session::NewSession| format!("Bearer {}", s.token);
    let revoked = block_on(session::authenticate(&db, &hot, Some(&header(&by_phone)), at(2))).unwrap_err();
    assert_eq!(revoked.code, ErrorCode::SessionRevoked);
    block_on(session::authenticate(&db, &hot, Some(&header(&by_wechat)), at(2))).unwrap();
}
