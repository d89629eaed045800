//! Attacks on staff accounts found by an attacker's review, each written as
//! the attack and asserting that it fails (natively, real migrations).

#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use console::accounts::{self, NewStaff};
use console::enrol::{self, Completion};
use console::login::{self, Attempt};
use console::staff::Grant;
use console::totp;
use futures_executor::block_on;
use shared::ErrorCode;
use shared::admin::{Act, Principal, Role};
use shared::runtime::OsRandom;
use shared::store::{Db, SqliteDb};
use shared::testing::at;
use shared::types::BeijingTime;

const PASSWORD: &str = "Shui-Dian-2026!ok";

fn t(minutes: i64) -> BeijingTime {
    at("2026-12-01T09:00:00+08:00").plus_minutes(minutes).unwrap()
}

fn admin() -> Principal {
    Principal { token_id: "stf_admin".into(), name: "系统管理员".into(), roles: vec![Role::StaffAdmin] }
}

/// An enrolled account with `roles`; its id and secret.
fn enrolled(db: &SqliteDb, username: &str, roles: &[&str]) -> (String, totp::Secret) {
    let who = admin();
    let act = Act { who: &who, now: t(0), request_id: "r" };
    let n: NewStaff =
        serde_json::from_value(serde_json::json!({ "username": username, "display_name": "某人", "roles": roles }))
            .unwrap();
    let made = block_on(accounts::create(db, &OsRandom, &act, &n)).unwrap();
    let page = block_on(enrol::show(db, &made.enrol_token, t(0))).unwrap();
    let secret = totp::Secret::from_base32(&page.secret).unwrap();
    let done = Completion { password: PASSWORD.into(), code: totp::code_at(&secret, login::unix(t(0))) };
    block_on(enrol::complete(db, &OsRandom, &made.enrol_token, &done, t(0))).unwrap();
    (made.staff.id, secret)
}

fn try_login(
    db: &SqliteDb,
    user: &str,
    password: &str,
    code: &str,
    at: BeijingTime,
) -> shared::ApiResult<login::SignedIn> {
    let a = Attempt { username: user.into(), password: password.into(), code: code.into() };
    block_on(login::login(db, &OsRandom, &a, "198.51.100.1", at))
}

fn code(r: shared::ApiResult<impl std::fmt::Debug>) -> ErrorCode {
    r.unwrap_err().code
}

#[test]
fn a_staff_administrator_cannot_take_an_account_over_through_its_second_factor_reset_link() {
    let db = SqliteDb::migrated().unwrap();
    let (id, _) = enrolled(&db, "zhangsan", &["complaint_dispatcher"]);
    let who = admin();
    let act = Act { who: &who, now: t(5), request_id: "r" };
    let reset = block_on(accounts::reset_second_factor(&db, &OsRandom, &act, &id)).unwrap();
    // The administrator follows the link themself, with a password of their choosing.
    let page = block_on(enrol::show(&db, &reset.enrol_token, t(6))).unwrap();
    assert!(page.keeps_password, "a reset keeps the holder's password");
    let mine = totp::Secret::from_base32(&page.secret).unwrap();
    let takeover = Completion { password: "Admin-Chosen-2026!".into(), code: totp::code_at(&mine, login::unix(t(6))) };
    let e = block_on(enrol::complete(&db, &OsRandom, &reset.enrol_token, &takeover, t(6))).unwrap_err();
    assert_eq!(e.code, ErrorCode::ValidationFailed);
    assert_eq!(e.fields[0].field, "password");
    // The holder, who knows their password, completes it.
    let holder = Completion { password: PASSWORD.into(), code: totp::code_at(&mine, login::unix(t(7))) };
    block_on(enrol::complete(&db, &OsRandom, &reset.enrol_token, &holder, t(7))).unwrap();
    try_login(&db, "zhangsan", PASSWORD, &totp::code_at(&mine, login::unix(t(9))), t(9)).unwrap();
}

#[test]
fn a_staff_administrator_can_neither_make_nor_reset_disable_or_regrant_an_administrator_or_an_auditor() {
    let db = SqliteDb::migrated().unwrap();
    let who = admin();
    let act = Act { who: &who, now: t(0), request_id: "r" };
    for role in ["auditor", "staff_admin"] {
        let n: NewStaff = serde_json::from_value(
            serde_json::json!({ "username": format!("x{role}"), "display_name": "某", "roles": [role] }),
        )
        .unwrap();
        assert_eq!(code(block_on(accounts::create(&db, &OsRandom, &act, &n))), ErrorCode::ValidationFailed, "{role}");
    }
    // An auditor made by scripts/staff (deployment access).
    block_on(db.batch(&[
        shared::store::Stmt::new(
            "INSERT INTO staff (id, username, display_name, state, created_at, updated_at) VALUES ('stf_aud', 'shenji', '审计', 'enrolling', 'x', 'x')",
            vec![],
        ),
        shared::store::Stmt::new("INSERT INTO staff_roles (staff_id, role) VALUES ('stf_aud', 'auditor')", vec![]),
    ]))
    .unwrap();
    assert_eq!(code(block_on(accounts::reset_second_factor(&db, &OsRandom, &act, "stf_aud"))), ErrorCode::Forbidden);
    assert_eq!(code(block_on(accounts::disable(&db, &act, "stf_aud"))), ErrorCode::Forbidden);
    let g = Grant { roles: vec![Role::BillingOperator], ..Grant::default() };
    assert_eq!(code(block_on(accounts::set_grant(&db, &act, "stf_aud", &g))), ErrorCode::Forbidden);
}

#[test]
fn locking_out_a_user_name_answers_alike_whether_it_exists_or_not() {
    let db = SqliteDb::migrated().unwrap();
    enrolled(&db, "zhangsan", &["catalogue_editor"]);
    let answers = |user: &str| -> Vec<ErrorCode> {
        (0..6).map(|i| code(try_login(&db, user, "Wrong-Guess-2026!", "123456", t(1 + i)))).collect()
    };
    let real = answers("zhangsan");
    assert_eq!(real, answers("nobody"));
    assert_eq!(real.iter().filter(|c| **c == ErrorCode::AccountLocked).count(), 2, "{real:?}");
}

#[test]
fn a_stolen_session_cannot_guess_the_account_s_password_freely() {
    let db = SqliteDb::migrated().unwrap();
    let (id, secret) = enrolled(&db, "zhangsan", &["catalogue_editor"]);
    let s = try_login(&db, "zhangsan", PASSWORD, &totp::code_at(&secret, login::unix(t(1))), t(1)).unwrap();
    let who = Principal { token_id: id, name: "某人".into(), roles: vec![Role::CatalogueEditor] };
    let guesses: Vec<ErrorCode> = (0..6)
        .map(|i| {
            code(block_on(login::change_password(
                &db,
                &OsRandom,
                &who,
                &s.session.token,
                &format!("Guess-{i}-Pass!x"),
                "New-Password-2026!",
                t(2),
            )))
        })
        .collect();
    assert_eq!(&guesses[..4], [ErrorCode::ValidationFailed; 4]);
    assert_eq!(&guesses[4..], [ErrorCode::AccountLocked; 2]);
}

#[test]
fn a_password_typed_into_the_user_name_field_is_not_recorded() {
    let db = SqliteDb::migrated().unwrap();
    code(try_login(&db, "Shui-Dian 2026!ok", PASSWORD, "123456", t(1)));
    let rows = block_on(db.query("SELECT username FROM staff_logins", &[])).unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["username"], "");
}
