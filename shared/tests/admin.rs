//! Admin token authentication and the audit log, against real SQLite.

#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use futures_executor::block_on;
use shared::ErrorCode;
use shared::admin::{Principal, Role, audit_page, audit_stmt, authenticate, hash_token, insert_token_stmt};
use shared::store::{Db, SqliteDb, Stmt};
use shared::types::BeijingTime;

const TOKEN: &str = "bma_0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

fn at(s: &str) -> BeijingTime {
    BeijingTime::parse(s).unwrap()
}

fn db_with_token(roles: &[Role]) -> SqliteDb {
    let db = SqliteDb::migrated().unwrap();
    block_on(db.batch(&[insert_token_stmt("adm_1", "张三", TOKEN, roles, at("2026-11-01T09:00:00+08:00"))])).unwrap();
    db
}

#[test]
fn only_the_hash_of_a_token_is_stored() {
    let db = db_with_token(&[Role::Auditor]);
    let rows = block_on(db.query("SELECT token_hash FROM admin_tokens", &[])).unwrap();
    assert_eq!(rows[0]["token_hash"], hash_token(TOKEN));
    assert_ne!(rows[0]["token_hash"], TOKEN);
}

#[test]
fn a_valid_token_resolves_to_its_roles() {
    let db = db_with_token(&[Role::CatalogueEditor, Role::Auditor]);
    let who = block_on(authenticate(&db, Some(&format!("Bearer {TOKEN}")), at("2026-11-23T09:00:00+08:00"))).unwrap();
    assert_eq!(who.name, "张三");
    assert!(who.require(Role::Auditor).is_ok());
    assert_eq!(who.require(Role::BillingOperator).unwrap_err().code, ErrorCode::Forbidden);
}

#[test]
fn missing_malformed_unknown_revoked_and_expired_tokens_are_all_401() {
    let db = db_with_token(&[Role::Auditor]);
    let now = at("2026-11-23T09:00:00+08:00");
    let other = format!("Bearer bma_{}", "f".repeat(64));
    for header in [None, Some("Basic abc"), Some("Bearer "), Some("Bearer bma_short"), Some(other.as_str())] {
        let err = block_on(authenticate(&db, header, now)).unwrap_err();
        assert_eq!(err.code, ErrorCode::Unauthorized, "{header:?}");
    }
    let bearer = format!("Bearer {TOKEN}");
    block_on(db.execute("UPDATE admin_tokens SET expires_at = '2026-11-20T00:00:00+08:00'", &[])).unwrap();
    assert_eq!(block_on(authenticate(&db, Some(&bearer), now)).unwrap_err().code, ErrorCode::Unauthorized);
    block_on(db.execute("UPDATE admin_tokens SET expires_at = NULL, revoked_at = '2026-11-22T00:00:00+08:00'", &[]))
        .unwrap();
    assert_eq!(block_on(authenticate(&db, Some(&bearer), now)).unwrap_err().code, ErrorCode::Unauthorized);
}

#[test]
fn the_audit_log_pages_newest_first_and_cannot_be_rewritten() {
    let db = SqliteDb::migrated().unwrap();
    let who = Principal { token_id: "adm_1".into(), name: "审计员".into(), roles: vec![Role::Auditor] };
    let stmts: Vec<Stmt> = (0..5)
        .map(|i| {
            audit_stmt(
                &who,
                "test.write",
                &format!("t{i}"),
                &format!("r{i}"),
                at("2026-11-23T09:00:00+08:00"),
                &serde_json::json!({}),
            )
        })
        .collect();
    block_on(db.batch(&stmts)).unwrap();
    let first = block_on(audit_page(&db, None, Some(2), &Default::default())).unwrap();
    assert_eq!(first.entries.iter().map(|e| e.target.as_str()).collect::<Vec<_>>(), ["t4", "t3"]);
    let second = block_on(audit_page(&db, first.next_before, Some(2), &Default::default())).unwrap();
    assert_eq!(second.entries.iter().map(|e| e.target.as_str()).collect::<Vec<_>>(), ["t2", "t1"]);
    let last = block_on(audit_page(&db, second.next_before, Some(2), &Default::default())).unwrap();
    assert_eq!(last.entries.len(), 1);
    assert_eq!(last.next_before, None);
    assert!(block_on(db.execute("DELETE FROM audit_log", &[])).is_err());
    assert!(block_on(db.execute("UPDATE audit_log SET target = 'x'", &[])).is_err());
}

#[test]
fn auditors_narrow_the_log_to_reads_of_personal_data_an_actor_an_action_and_dates() {
    use shared::admin::{AuditFilter, AuditKind};
    let db = SqliteDb::migrated().unwrap();
    let a = Principal { token_id: "stf_a".into(), name: "甲".into(), roles: vec![Role::ComplaintDispatcher] };
    let b = Principal { token_id: "stf_b".into(), name: "乙".into(), roles: vec![Role::BillingOperator] };
    let entry = |who: &Principal, action: &str, day: &str| {
        audit_stmt(who, action, "x", "r", at(&format!("{day}T10:00:00+08:00")), &serde_json::json!({}))
    };
    block_on(db.batch(&[
        entry(&a, "access.complaint.case", "2026-11-30"),
        entry(&a, "complaint.step", "2026-12-01"),
        entry(&b, "access.invoice.document", "2026-12-01"),
        entry(&b, "bills.import", "2026-12-02"),
    ]))
    .unwrap();
    let actions = |f: AuditFilter| -> Vec<String> {
        block_on(audit_page(&db, None, None, &f)).unwrap().entries.into_iter().map(|e| e.action).collect()
    };
    assert_eq!(
        actions(AuditFilter { kind: Some(AuditKind::Access), ..Default::default() }),
        ["access.invoice.document", "access.complaint.case"]
    );
    assert_eq!(
        actions(AuditFilter { kind: Some(AuditKind::Change), actor: Some("stf_b".into()), ..Default::default() }),
        ["bills.import"]
    );
    assert_eq!(actions(AuditFilter { action: Some("complaint.".into()), ..Default::default() }), ["complaint.step"]);
    let day = chrono::NaiveDate::from_ymd_opt(2026, 12, 1);
    assert_eq!(
        actions(AuditFilter { from: day, to: day, ..Default::default() }),
        ["access.invoice.document", "complaint.step"]
    );
    assert!(actions(AuditFilter { action: Some("%".into()), ..Default::default() }).is_empty(), "no LIKE wildcards");
}
