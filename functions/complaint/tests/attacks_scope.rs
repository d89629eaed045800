//! Attacks on complaint scopes (issue 15, item 11), natively on SQLite with
//! the production migrations: a department's handler reaching for another
//! department's cases, or the 12345 centre's assigning, must fail.

#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use complaint::handling;
use complaint::record;
use complaint::scope::{self, Need, Scope};
use complaint::step::Step;
use complaint::submission::Submission;
use futures_executor::block_on;
use shared::ErrorCode;
use shared::admin::{Act, Principal, Role};
use shared::runtime::OsRandom;
use shared::store::{Db, Row, SqliteDb, Stmt, Value};
use shared::types::BeijingTime;

fn now() -> BeijingTime {
    shared::testing::at("2026-09-25T10:00:00+08:00")
}

fn staff(token: &str, role: Role) -> Principal {
    Principal { token_id: token.into(), name: token.into(), roles: vec![role] }
}

/// Three cases: one with 供水公司, one with 城管局, one not yet handed on;
/// a 供水公司 handler (token `w`), a handler with no department (`n`).
fn city() -> (SqliteDb, [String; 3]) {
    let db = shared::testing::db_with_citizens(&["a"]);
    block_on(db.batch(&scope::grant_stmts("w", &["供水公司"]))).unwrap();
    let sub: Submission = serde_json::from_value(serde_json::json!({
        "kind": "complaint", "category": "供水", "subject": "某营业厅", "content": "水压太低，三楼以上白天没有水。",
    }))
    .unwrap();
    let mut numbers = Vec::new();
    for _ in 0..3 {
        numbers.push(block_on(record::submit(&db, &OsRandom, "a", &sub, None, |_| None, now())).unwrap().0.number);
    }
    let hotline = staff("d", Role::ComplaintDispatcher);
    let act = Act { who: &hotline, now: now(), request_id: "r" };
    for (n, d) in numbers.iter().zip(["供水公司", "城管局"]) {
        block_on(handling::act_on(&db, &OsRandom, &act, n, &Step::Assign { department: d.into() })).unwrap();
    }
    (db, numbers.try_into().unwrap())
}

fn code<T: std::fmt::Debug>(r: shared::ApiResult<T>) -> ErrorCode {
    r.unwrap_err().code
}

#[test]
fn a_department_s_handler_cannot_list_read_or_act_on_another_department_s_cases() {
    let (db, [water, city_mgmt, unassigned]) = city();
    let w = staff("w", Role::ComplaintHandler);
    let act = Act { who: &w, now: now(), request_id: "r" };
    let scope = block_on(scope::of(&db, &w, Need::List)).unwrap();
    let listed: Vec<String> = block_on(handling::list(&db, &act, &scope, &Default::default()))
        .unwrap()
        .into_iter()
        .map(|r| r.number)
        .collect();
    assert_eq!(listed, std::slice::from_ref(&water), "the list holds its own department's case only");
    for other in [&city_mgmt, &unassigned] {
        assert_eq!(code(block_on(handling::case(&db, &act, other))), ErrorCode::Forbidden);
        let reply = Step::Reply { text: "已处理".into() };
        assert_eq!(code(block_on(handling::act_on(&db, &OsRandom, &act, other, &reply))), ErrorCode::Forbidden);
        assert_eq!(code(block_on(handling::open_photo(&db, &act, other, "up_x"))), ErrorCode::Forbidden);
    }
    block_on(handling::act_on(&db, &OsRandom, &act, &water, &Step::Reply { text: "已安排抢修".into() })).unwrap();
    let rows =
        block_on(db.query("SELECT count(*) AS n FROM audit_log WHERE actor_id = 'w' AND action LIKE 'access.%'", &[]))
            .unwrap();
    assert_eq!(rows[0]["n"], 2, "the list and the one case read (after its step) are logged; refusals read nothing");
}

#[test]
fn a_handler_cannot_pull_a_case_into_its_department_or_push_one_out() {
    let (db, [water, city_mgmt, unassigned]) = city();
    let w = staff("w", Role::ComplaintHandler);
    let act = Act { who: &w, now: now(), request_id: "r" };
    for n in [&water, &city_mgmt, &unassigned] {
        for d in ["供水公司", "城管局"] {
            let assign = Step::Assign { department: d.into() };
            assert_eq!(code(block_on(handling::act_on(&db, &OsRandom, &act, n, &assign))), ErrorCode::Forbidden);
        }
    }
    let none = staff("n", Role::ComplaintHandler);
    let scope = block_on(scope::of(&db, &none, Need::List)).unwrap();
    assert_eq!(scope, Scope::Departments(vec![]));
    assert!(
        block_on(handling::list(&db, &Act { who: &none, now: now(), request_id: "r" }, &scope, &Default::default()))
            .unwrap()
            .is_empty(),
        "no department, no cases"
    );
    let clerk = staff("c", Role::HallStaff);
    assert_eq!(code(block_on(scope::of(&db, &clerk, Need::List))), ErrorCode::Forbidden);
    let auditor = staff("x", Role::Auditor);
    assert_eq!(block_on(scope::of(&db, &auditor, Need::List)).unwrap(), Scope::City);
    assert_eq!(
        code(block_on(scope::of(&db, &auditor, Need::Work))),
        ErrorCode::Forbidden,
        "auditors read the list only"
    );
}

#[test]
fn a_handler_referring_a_case_away_gets_it_back_as_left_and_then_loses_it() {
    // Reproduced before the fix: the referral was written, then the answer was a 403.
    let (db, [water, ..]) = city();
    let w = staff("w", Role::ComplaintHandler);
    let act = Act { who: &w, now: now(), request_id: "r" };
    let refer = Step::Refer { unit: "城管局".into(), reason: "属城管局职责".into() };
    let case = block_on(handling::act_on(&db, &OsRandom, &act, &water, &refer)).unwrap();
    assert_eq!(case.department.as_deref(), Some("城管局"));
    assert_eq!(case.timeline.last().map(|s| s.note.as_str()), Some("已转城管局处理：属城管局职责"));
    assert_eq!(code(block_on(handling::case(&db, &act, &water))), ErrorCode::Forbidden, "no longer its case");
    let reply = Step::Reply { text: "已处理".into() };
    assert_eq!(code(block_on(handling::act_on(&db, &OsRandom, &act, &water, &reply))), ErrorCode::Forbidden);
}

/// A database on which the 12345 centre hands the case to 城管局 just
/// before the first batch is written: the handler decided on a case that is
/// no longer its department's.
struct HandedOnMeanwhile {
    db: SqliteDb,
    number: String,
    done: std::cell::Cell<bool>,
}

impl Db for HandedOnMeanwhile {
    async fn query(&self, sql: &str, params: &[Value]) -> shared::ApiResult<Vec<Row>> {
        self.db.query(sql, params).await
    }
    async fn batch(&self, stmts: &[Stmt]) -> shared::ApiResult<Vec<u64>> {
        if !self.done.replace(true) {
            let hotline = staff("d", Role::ComplaintDispatcher);
            let act = Act { who: &hotline, now: now(), request_id: "r" };
            let assign = Step::Assign { department: "城管局".into() };
            handling::act_on(&self.db, &OsRandom, &act, &self.number, &assign).await?;
        }
        self.db.batch(stmts).await
    }
}

#[test]
fn a_step_decided_on_a_case_handed_elsewhere_meanwhile_is_not_written() {
    let (db, [water, _, _]) = city();
    let raced = HandedOnMeanwhile { db, number: water.clone(), done: false.into() };
    let w = staff("w", Role::ComplaintHandler);
    let act = Act { who: &w, now: now(), request_id: "r" };
    let close = Step::Close { result: "已办结".into() };
    let lost = block_on(handling::act_on(&raced, &OsRandom, &act, &water, &close));
    assert_eq!(code(lost), ErrorCode::Conflict);
    let rows = block_on(
        raced.db.query("SELECT status, department FROM complaints WHERE number = ?1", &[water.as_str().into()]),
    )
    .unwrap();
    assert_eq!((rows[0]["status"].as_str(), rows[0]["department"].as_str()), (Some("assigned"), Some("城管局")));
}
