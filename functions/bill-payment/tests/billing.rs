//! Water accounts and bills natively on SQLite with the production migrations.

#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use bill_payment::bill_import as import;
use bill_payment::bills;
use futures_executor::block_on;
use serde_json::json;
use shared::ErrorCode;
use shared::admin::{Act, Principal, Role};
use shared::identity::Pepper;
use shared::store::{Db, SqliteDb};
use shared::testing::now;
use shared::types::MobileNumber;

/// An import with a test phone vault.
fn import_with_vault(db: &SqliteDb, act: &Act<'_>, b: &import::ImportBody) -> shared::ApiResult<import::Outcome> {
    use base64::Engine;
    let vault = shared::vault::PhoneVault::parse(&format!(
        "t1:{}",
        base64::engine::general_purpose::STANDARD.encode([7u8; 32])
    ))
    .map_err(shared::ApiError::internal)?;
    let pepper = pepper();
    let phones = import::Phones { pepper: &pepper, vault: &vault, ids: &shared::runtime::OsRandom };
    block_on(import::apply(db, &phones, act, b))
}

fn pepper() -> Pepper {
    Pepper::new("test-pepper")
}

fn operator() -> Principal {
    Principal { token_id: "op".into(), name: "收费员".into(), roles: vec![Role::BillingOperator] }
}

fn body(v: serde_json::Value) -> import::ImportBody {
    serde_json::from_value(v).unwrap()
}

fn seeded() -> SqliteDb {
    let db = shared::testing::db_with_citizens(&["a", "b"]);
    let who = operator();
    let act = Act { who: &who, now: now(), request_id: "r" };
    let b = body(json!({
        "accounts": [{"account_no": "10012345", "holder_name": "张三丰", "holder_phone": "13800001111", "address": "义乌市稠城街道宾王路1号3幢201室", "category": "居民"}],
        "bills": [
            {"account_no": "10012345", "period": "2026-09", "usage_m3": 12, "amount_fen": 3840, "due_date": "2026-10-20",
             "items": [{"name": "水费", "amount_fen": 2640}, {"name": "污水处理费", "amount_fen": 1200}]},
            {"account_no": "10012345", "period": "2026-10", "usage_m3": 10, "amount_fen": 3200, "due_date": "2026-11-30"},
        ]
    }));
    assert_eq!(import_with_vault(&db, &act, &b).unwrap(), import::Outcome { accounts: 1, bills: 2 });
    db
}

#[test]
fn an_import_with_any_bad_row_writes_nothing_and_lists_every_error() {
    let db = SqliteDb::migrated().unwrap();
    let who = operator();
    let act = Act { who: &who, now: now(), request_id: "r" };
    let b = body(json!({
        "accounts": [{"account_no": "12", "holder_name": "", "holder_phone": "123", "address": "x", "category": "工业"}],
        "bills": [{"account_no": "99999999", "period": "2026-13", "usage_m3": -1, "amount_fen": 100, "due_date": "soon",
                   "items": [{"name": "水费", "amount_fen": 99}]}]
    }));
    let err = import_with_vault(&db, &act, &b).unwrap_err();
    assert_eq!(err.code, ErrorCode::ValidationFailed);
    let fields: Vec<&str> = err.fields.iter().map(|f| f.field.as_str()).collect();
    for f in [
        "accounts[0].account_no",
        "accounts[0].holder_name",
        "accounts[0].holder_phone",
        "accounts[0].category",
        "bills[0].account_no",
        "bills[0].period",
        "bills[0].usage_m3",
        "bills[0].items",
        "bills[0].due_date",
    ] {
        assert!(fields.contains(&f), "{f} in {fields:?}");
    }
    assert!(block_on(db.query("SELECT 1 FROM water_accounts", &[])).unwrap().is_empty());
    let clerk = Principal { token_id: "c".into(), name: "c".into(), roles: vec![Role::HallStaff] };
    let act = Act { who: &clerk, now: now(), request_id: "r" };
    assert_eq!(import_with_vault(&db, &act, &b).unwrap_err().code, ErrorCode::Forbidden);
}

#[test]
fn only_the_holders_phone_binds_and_guessing_is_stopped() {
    let db = seeded();
    let right = MobileNumber::parse("13800001111").unwrap();
    let wrong = MobileNumber::parse("13800002222").unwrap();
    let e = block_on(bills::bind(&db, &pepper(), "a", "10012345", &wrong, now())).unwrap_err();
    assert_eq!(e.code, ErrorCode::ValidationFailed);
    let unknown = block_on(bills::bind(&db, &pepper(), "a", "10099999", &right, now())).unwrap_err();
    assert_eq!(unknown.message, e.message, "an unknown account and a wrong phone look the same");
    let list = block_on(bills::bind(&db, &pepper(), "a", "10012345", &right, now())).unwrap();
    assert_eq!(list[0].holder, "张**");
    assert_eq!(list[0].address, "义乌市稠城街****");
    assert_eq!((list[0].unpaid_fen, list[0].unpaid_bills), (7040, 2));
    for _ in 0..5 {
        let _ = block_on(bills::bind(&db, &pepper(), "b", "10012345", &wrong, now()));
    }
    let stopped = block_on(bills::bind(&db, &pepper(), "b", "10012345", &right, now())).unwrap_err();
    assert_eq!(stopped.code, ErrorCode::RateLimited);
}

#[test]
fn bills_list_unpaid_first_flag_arrears_and_stay_private() {
    let db = seeded();
    let phone = MobileNumber::parse("13800001111").unwrap();
    block_on(bills::bind(&db, &pepper(), "a", "10012345", &phone, now())).unwrap();
    let list = block_on(bills::list(&db, "a", "10012345", &bills::Range::default(), now())).unwrap();
    assert_eq!(
        list.iter().map(|b| (b.period.as_str(), b.overdue)).collect::<Vec<_>>(),
        [("2026-09", true), ("2026-10", false)]
    );
    assert_eq!(list[0].amount, "38.40");
    let range = bills::Range { from: Some("2026-10".into()), to: Some("2026-12".into()) };
    assert_eq!(block_on(bills::list(&db, "a", "10012345", &range, now())).unwrap().len(), 1);
    assert_eq!(block_on(bills::list(&db, "b", "10012345", &range, now())).unwrap_err().code, ErrorCode::NotFound);
    assert_eq!(block_on(bills::get(&db, "b", &list[0].id, now())).unwrap_err().code, ErrorCode::NotFound);
    assert_eq!(block_on(bills::get(&db, "a", &list[0].id, now())).unwrap().usage_m3, 12);
    let st = block_on(bills::statement(&db, "a", "10012345", &bills::Range::default(), now())).unwrap();
    assert_eq!((st.total_usage_m3, st.total_fen, st.unpaid_fen), (22, 7040, 7040));
    block_on(bills::unbind(&db, "a", "10012345")).unwrap();
    assert_eq!(block_on(bills::get(&db, "a", &list[0].id, now())).unwrap_err().code, ErrorCode::NotFound);
}

#[test]
fn a_paid_bill_is_never_overwritten_by_a_later_import() {
    let db = seeded();
    block_on(db.execute("UPDATE bills SET status = 'paid', paid_at = 'x' WHERE period = '2026-09'", &[])).unwrap();
    let who = operator();
    let act = Act { who: &who, now: now(), request_id: "r" };
    let again = body(json!({"bills": [
        {"account_no": "10012345", "period": "2026-09", "usage_m3": 99, "amount_fen": 9900, "due_date": "2026-10-20"},
        {"account_no": "10012345", "period": "2026-10", "usage_m3": 11, "amount_fen": 3520, "due_date": "2026-11-30"}]}));
    import_with_vault(&db, &act, &again).unwrap();
    let rows = block_on(db.query("SELECT period, amount_fen FROM bills ORDER BY period", &[])).unwrap();
    assert_eq!((rows[0]["amount_fen"].as_i64(), rows[1]["amount_fen"].as_i64()), (Some(3840), Some(3520)));
}

#[test]
fn a_due_date_without_leading_zeros_is_stored_zero_padded() {
    let db = seeded();
    let who = operator();
    let act = Act { who: &who, now: now(), request_id: "r" };
    let b = body(
        json!({"bills": [{"account_no": "10012345", "period": "2026-11", "usage_m3": 9, "amount_fen": 2880, "due_date": "2026-1-5"}]}),
    );
    import_with_vault(&db, &act, &b).unwrap();
    let rows = block_on(db.query("SELECT due_date FROM bills WHERE period = '2026-11'", &[])).unwrap();
    assert_eq!(rows[0]["due_date"], "2026-01-05");
}
