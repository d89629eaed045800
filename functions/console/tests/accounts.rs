//! Staff accounts natively on SQLite with the production migrations:
//! creation, enrolment, sign-in with password and TOTP, the lock, sessions,
//! 三员分立, and the attacks on each (named after them).

#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use console::accounts::{self, NewStaff};
use console::enrol::{self, Completion};
use console::login::{self, Attempt, Outcome};
use console::staff::{Grant, State};
use console::totp;
use futures_executor::block_on;
use shared::ErrorCode;
use shared::admin::{Act, Principal, Role};
use shared::runtime::OsRandom;
use shared::staff_session;
use shared::store::{Db, SqliteDb};
use shared::testing::at;
use shared::types::BeijingTime;

const PASSWORD: &str = "Shui-Dian-2026!ok";

fn now() -> BeijingTime {
    at("2026-12-01T09:00:00+08:00")
}

fn later(minutes: i64) -> BeijingTime {
    now().plus_minutes(minutes).unwrap()
}

fn admin() -> Principal {
    Principal { token_id: "stf_admin".into(), name: "系统管理员".into(), roles: vec![Role::StaffAdmin] }
}

/// An enrolled catalogue editor `zhangsan`; returns its id and TOTP secret.
fn enrolled(db: &SqliteDb) -> (String, totp::Secret) {
    let who = admin();
    let act = Act { who: &who, now: now(), request_id: "r" };
    let n: NewStaff = serde_json::from_value(serde_json::json!({
        "username": "ZhangSan", "display_name": "张三", "roles": ["catalogue_editor"], "departments": [],
    }))
    .unwrap();
    let made = block_on(accounts::create(db, &OsRandom, &act, &n)).unwrap();
    assert_eq!(made.staff.state, State::Enrolling);
    let page = block_on(enrol::show(db, &made.enrol_token, now())).unwrap();
    assert!(page.otpauth_uri.starts_with("otpauth://totp/"), "{}", page.otpauth_uri);
    let secret = totp::Secret::from_base32(&page.secret).unwrap();
    let code = totp::code_at(&secret, login::unix(now()));
    let done = Completion { password: PASSWORD.into(), code };
    block_on(enrol::complete(db, &OsRandom, &made.enrol_token, &done, now())).unwrap();
    (made.staff.id, secret)
}

fn attempt(password: &str, code: &str) -> Attempt {
    Attempt { username: "zhangsan".into(), password: password.into(), code: code.into() }
}

fn code_at(secret: &totp::Secret, t: BeijingTime) -> String {
    totp::code_at(secret, login::unix(t))
}

fn err<T: std::fmt::Debug>(r: shared::ApiResult<T>) -> ErrorCode {
    r.unwrap_err().code
}

#[test]
fn an_account_is_enrolled_by_its_link_once_with_a_policy_password_and_a_code_from_the_app() {
    let db = SqliteDb::migrated().unwrap();
    let who = admin();
    let act = Act { who: &who, now: now(), request_id: "r" };
    let n: NewStaff = serde_json::from_value(
        serde_json::json!({ "username": "lisi", "display_name": "李四", "roles": ["billing_operator"] }),
    )
    .unwrap();
    let made = block_on(accounts::create(&db, &OsRandom, &act, &n)).unwrap();
    let page = block_on(enrol::show(&db, &made.enrol_token, now())).unwrap();
    let secret = totp::Secret::from_base32(&page.secret).unwrap();
    let weak = Completion { password: "123456".into(), code: "000000".into() };
    let e = block_on(enrol::complete(&db, &OsRandom, &made.enrol_token, &weak, now())).unwrap_err();
    let fields: Vec<&str> = e.fields.iter().map(|f| f.field.as_str()).collect();
    assert!(fields.contains(&"password") && fields.contains(&"code"), "{fields:?}");
    let good = Completion { password: PASSWORD.into(), code: code_at(&secret, now()) };
    block_on(enrol::complete(&db, &OsRandom, &made.enrol_token, &good, now())).unwrap();
    assert_eq!(err(block_on(enrol::show(&db, &made.enrol_token, now()))), ErrorCode::EnrolmentInvalid, "used up");
    assert_eq!(
        err(block_on(enrol::complete(&db, &OsRandom, &made.enrol_token, &good, now()))),
        ErrorCode::EnrolmentInvalid
    );
    let forged = format!("bme_{}", "0".repeat(64));
    assert_eq!(err(block_on(enrol::show(&db, &forged, now()))), ErrorCode::EnrolmentInvalid);
}

#[test]
fn a_sign_in_needs_the_password_and_a_fresh_code_and_a_used_code_is_refused() {
    let db = SqliteDb::migrated().unwrap();
    let (id, secret) = enrolled(&db);
    let t = later(1);
    assert_eq!(
        err(block_on(login::login(&db, &OsRandom, &attempt("wrong-Password-1", &code_at(&secret, t)), "1.2.3.4", t))),
        ErrorCode::LoginFailed
    );
    assert_eq!(
        err(block_on(login::login(&db, &OsRandom, &attempt(PASSWORD, "123456"), "1.2.3.4", t))),
        ErrorCode::LoginFailed
    );
    let signed =
        block_on(login::login(&db, &OsRandom, &attempt(PASSWORD, &code_at(&secret, t)), "1.2.3.4", t)).unwrap();
    assert_eq!(signed.who.token_id, id);
    assert_eq!(signed.who.roles, [Role::CatalogueEditor]);
    assert!(!signed.password_change_due);
    let replay = block_on(login::login(&db, &OsRandom, &attempt(PASSWORD, &code_at(&secret, t)), "5.6.7.8", t));
    assert_eq!(err(replay), ErrorCode::LoginFailed, "a code serves one sign-in");
    let rows = block_on(login::history(&db, &id)).unwrap();
    let outcomes: Vec<Outcome> = rows.iter().map(|r| r.outcome).collect();
    assert_eq!(outcomes, [Outcome::BadCredentials, Outcome::Ok, Outcome::BadCredentials, Outcome::BadCredentials]);
}

#[test]
fn five_failures_lock_the_account_for_fifteen_minutes_even_against_the_right_password() {
    let db = SqliteDb::migrated().unwrap();
    let (id, secret) = enrolled(&db);
    let t = later(1);
    for i in 1..=5 {
        let e = err(block_on(login::login(&db, &OsRandom, &attempt("Guess-Number-99", "111111"), "9.9.9.9", t)));
        assert_eq!(e, if i < 5 { ErrorCode::LoginFailed } else { ErrorCode::AccountLocked }, "try {i}");
    }
    let right = attempt(PASSWORD, &code_at(&secret, t));
    assert_eq!(err(block_on(login::login(&db, &OsRandom, &right, "1.2.3.4", t))), ErrorCode::AccountLocked);
    let t2 = later(1 + 14);
    assert_eq!(
        err(block_on(login::login(&db, &OsRandom, &attempt(PASSWORD, &code_at(&secret, t2)), "1.2.3.4", t2))),
        ErrorCode::AccountLocked
    );
    let t3 = later(1 + 16);
    block_on(login::login(&db, &OsRandom, &attempt(PASSWORD, &code_at(&secret, t3)), "1.2.3.4", t3)).unwrap();
    let outcomes: Vec<Outcome> = block_on(login::history(&db, &id)).unwrap().iter().map(|r| r.outcome).collect();
    assert_eq!(outcomes.iter().filter(|o| **o == Outcome::Locked).count(), 2);
}

#[test]
fn unknown_disabled_and_enrolling_accounts_get_the_same_answer_as_a_wrong_password() {
    let db = SqliteDb::migrated().unwrap();
    let (id, secret) = enrolled(&db);
    let nobody = Attempt { username: "wangwu".into(), password: PASSWORD.into(), code: "123456".into() };
    assert_eq!(err(block_on(login::login(&db, &OsRandom, &nobody, "1.1.1.1", now()))), ErrorCode::LoginFailed);
    let who = admin();
    let act = Act { who: &who, now: later(2), request_id: "r" };
    block_on(accounts::disable(&db, &act, &id)).unwrap();
    let t = later(3);
    assert_eq!(
        err(block_on(login::login(&db, &OsRandom, &attempt(PASSWORD, &code_at(&secret, t)), "1.1.1.1", t))),
        ErrorCode::LoginFailed
    );
}

#[test]
fn a_session_ends_after_thirty_idle_minutes_or_twelve_hours_and_writes_need_its_csrf_token() {
    let db = SqliteDb::migrated().unwrap();
    let (_, secret) = enrolled(&db);
    let t = later(1);
    let s =
        block_on(login::login(&db, &OsRandom, &attempt(PASSWORD, &code_at(&secret, t)), "1.2.3.4", t)).unwrap().session;
    let auth = |csrf: Option<&str>, write: bool, at: BeijingTime| {
        block_on(staff_session::authenticate(&db, &s.token, csrf, write, at))
    };
    assert_eq!(auth(None, false, later(20)).unwrap().name, "张三");
    assert_eq!(err(auth(None, true, later(21))), ErrorCode::CsrfInvalid);
    assert_eq!(err(auth(Some("forged"), true, later(21))), ErrorCode::CsrfInvalid);
    auth(Some(&s.csrf), true, later(22)).unwrap();
    // Busy all day: a touch every 25 minutes keeps it alive until 12 hours.
    let mut m = 22;
    while m + 25 < 12 * 60 {
        m += 25;
        auth(None, false, later(m)).unwrap();
    }
    assert_eq!(err(auth(None, false, later(12 * 60 + 2))), ErrorCode::SessionExpired);
    let s2 = block_on(login::login(
        &db,
        &OsRandom,
        &attempt(PASSWORD, &code_at(&secret, later(800))),
        "1.2.3.4",
        later(800),
    ))
    .unwrap()
    .session;
    assert_eq!(
        err(block_on(staff_session::authenticate(&db, &s2.token, None, false, later(800 + 31)))),
        ErrorCode::SessionExpired
    );
}

#[test]
fn disabling_an_account_or_resetting_its_second_factor_ends_its_sessions_and_its_old_codes() {
    let db = SqliteDb::migrated().unwrap();
    let (id, secret) = enrolled(&db);
    let t = later(1);
    let s =
        block_on(login::login(&db, &OsRandom, &attempt(PASSWORD, &code_at(&secret, t)), "1.2.3.4", t)).unwrap().session;
    let who = admin();
    let act = Act { who: &who, now: later(2), request_id: "r" };
    let reset = block_on(accounts::reset_second_factor(&db, &OsRandom, &act, &id)).unwrap();
    assert_eq!(reset.staff.state, State::Enrolling);
    assert_eq!(
        err(block_on(staff_session::authenticate(&db, &s.token, None, false, later(3)))),
        ErrorCode::SessionExpired
    );
    let t4 = later(4);
    assert_eq!(
        err(block_on(login::login(&db, &OsRandom, &attempt(PASSWORD, &code_at(&secret, t4)), "1.2.3.4", t4))),
        ErrorCode::LoginFailed,
        "the lost phone's codes"
    );
    assert!(block_on(enrol::show(&db, &reset.enrol_token, later(5))).is_ok());
}

#[test]
fn a_staff_administrator_cannot_audit_grant_themself_or_be_granted_by_a_non_administrator() {
    let db = SqliteDb::migrated().unwrap();
    let (id, _) = enrolled(&db);
    let who = admin();
    let act = Act { who: &who, now: now(), request_id: "r" };
    let both = Grant { roles: vec![Role::StaffAdmin, Role::Auditor], ..Grant::default() };
    assert_eq!(err(block_on(accounts::set_grant(&db, &act, &id, &both))), ErrorCode::ValidationFailed);
    let mine = Grant { roles: vec![Role::Auditor], ..Grant::default() };
    assert_eq!(err(block_on(accounts::set_grant(&db, &act, "stf_admin", &mine))), ErrorCode::ValidationFailed);
    let editor = Principal { token_id: id.clone(), name: "张三".into(), roles: vec![Role::CatalogueEditor] };
    let act2 = Act { who: &editor, now: now(), request_id: "r" };
    let me_admin = Grant { roles: vec![Role::StaffAdmin], ..Grant::default() };
    assert_eq!(err(block_on(accounts::set_grant(&db, &act2, &id, &me_admin))), ErrorCode::Forbidden);
    let scoped = Grant { roles: vec![Role::HallStaff], halls: vec!["H001".into()], departments: vec![] };
    let v = block_on(accounts::set_grant(&db, &act, &id, &scoped)).unwrap();
    assert_eq!(
        (v.roles.as_slice(), v.halls.as_slice()),
        ([Role::HallStaff].as_slice(), ["H001".to_owned()].as_slice())
    );
    let audit =
        block_on(shared::store::Db::query(&db, "SELECT count(*) AS n FROM audit_log WHERE action LIKE 'staff.%'", &[]))
            .unwrap();
    assert_eq!(audit[0]["n"], 2, "create and grant are audited");
}

#[test]
fn reading_a_login_history_is_in_the_access_log_and_an_auditor_may_but_an_editor_may_not() {
    let db = SqliteDb::migrated().unwrap();
    let (id, _) = enrolled(&db);
    let editor = Principal { token_id: "stf_e".into(), name: "编辑".into(), roles: vec![Role::CatalogueEditor] };
    let act = Act { who: &editor, now: now(), request_id: "r1" };
    assert_eq!(err(block_on(accounts::logins(&db, &act, &id))), ErrorCode::Forbidden);
    let auditor = Principal { token_id: "stf_a".into(), name: "审计员".into(), roles: vec![Role::Auditor] };
    let act = Act { who: &auditor, now: now(), request_id: "r2" };
    block_on(accounts::logins(&db, &act, &id)).unwrap();
    let rows =
        block_on(db.query("SELECT actor_id, action, target FROM audit_log WHERE action LIKE 'access.%'", &[])).unwrap();
    assert_eq!(rows.len(), 1, "one access row, for the auditor's read only: {rows:?}");
    assert_eq!(rows[0]["actor_id"], "stf_a");
    assert_eq!(rows[0]["action"], "access.staff.logins");
    assert_eq!(rows[0]["target"], id.as_str());
}
