//! Holders' phones sealed by the billing import and re-sealed after a key
//! rotation, natively on SQLite with the production migrations.

#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use bill_payment::bill_import as import;
use bill_payment::phone_keys::{self, Rekeyed};
use futures_executor::block_on;
use serde_json::{Value as Json, json};
use shared::ErrorCode;
use shared::admin::{Act, Principal, Role};
use shared::identity::Pepper;
use shared::runtime::OsRandom;
use shared::store::{Db, SqliteDb};
use shared::testing::now;
use shared::vault::{PhoneVault, kid_of};

fn vault(kids: &[&str]) -> PhoneVault {
    let entries: Vec<String> = kids.iter().map(|k| format!("{k}:{}", STANDARD.encode([k.as_bytes()[1]; 32]))).collect();
    PhoneVault::parse(&entries.join(",")).unwrap()
}

fn operator() -> Principal {
    Principal { token_id: "op".into(), name: "收费员".into(), roles: vec![Role::BillingOperator] }
}

fn phone(i: usize) -> String {
    format!("1390000{i:04}")
}

fn account(i: usize) -> String {
    format!("8800{i:04}")
}

/// `n` accounts imported with the vault `kids`; returns what the import answered.
fn import_accounts(db: &impl Db, kids: &[&str], n: usize) -> String {
    let accounts: Vec<Json> = (0..n)
        .map(|i| {
            json!({"account_no": account(i), "holder_name": "张三丰", "holder_phone": phone(i),
            "address": "义乌市稠城街道宾王路1号", "category": "居民"})
        })
        .collect();
    let body: import::ImportBody = serde_json::from_value(json!({ "accounts": accounts })).unwrap();
    let who = operator();
    let act = Act { who: &who, now: now(), request_id: "r" };
    let (pepper, vault) = (Pepper::new("p"), vault(kids));
    let phones = import::Phones { pepper: &pepper, vault: &vault, ids: &OsRandom };
    serde_json::to_string(&block_on(import::apply(db, &phones, &act, &body)).unwrap()).unwrap()
}

fn rekey(db: &impl Db, kids: &[&str], limit: u32) -> Rekeyed {
    let who = operator();
    let act = Act { who: &who, now: now(), request_id: "r" };
    block_on(phone_keys::rekey(db, &vault(kids), &OsRandom, &act, limit)).unwrap()
}

fn sealed(db: &SqliteDb) -> Vec<(String, String, String)> {
    let rows = block_on(
        db.query("SELECT account_no, holder_phone_enc, holder_phone_kid FROM water_accounts ORDER BY account_no", &[]),
    )
    .unwrap();
    rows.iter()
        .map(|r| {
            let s = |k: &str| r[k].as_str().unwrap_or_default().to_owned();
            (s("account_no"), s("holder_phone_enc"), s("holder_phone_kid"))
        })
        .collect()
}

#[test]
fn after_an_import_no_table_holds_the_phone_in_the_clear_and_the_sealed_value_opens_to_it() {
    let db = SqliteDb::migrated().unwrap();
    let answer = import_accounts(&db, &["k1"], 3);
    for i in 0..3 {
        assert!(!answer.contains(&phone(i)), "the answer: {answer}");
    }
    for table in ["water_accounts", "audit_log"] {
        let rows = block_on(db.query(&format!("SELECT * FROM {table}"), &[])).unwrap();
        assert!(!rows.is_empty(), "{table} has rows");
        for row in rows {
            for (column, value) in row {
                let text = value.to_string();
                for i in 0..3 {
                    assert!(!text.contains(&phone(i)), "{table}.{column} holds {}", phone(i));
                    assert!(!text.contains(&phone(i)[3..]), "{table}.{column} holds part of {}", phone(i));
                }
            }
        }
    }
    let v = vault(&["k1"]);
    for (i, (acct, enc, kid)) in sealed(&db).into_iter().enumerate() {
        assert_eq!(kid, "k1");
        assert_eq!(v.open(&enc, &acct).unwrap().expose(), phone(i));
        assert!(v.open(&enc, &account(i + 1)).is_err(), "bound to its account");
    }
}

#[test]
fn a_rotation_reseals_in_rounds_of_the_limit_until_every_phone_opens_under_the_new_key_alone() {
    let db = SqliteDb::migrated().unwrap();
    import_accounts(&db, &["k1"], 5);
    let rounds: Vec<(u64, u64)> = (0..3)
        .map(|_| {
            let r = rekey(&db, &["k2", "k1"], 2);
            assert_eq!((r.current_kid.as_str(), r.unreadable, r.without_phone), ("k2", 0, 0));
            (r.rekeyed, r.remaining)
        })
        .collect();
    assert_eq!(rounds, [(2, 3), (2, 1), (1, 0)]);
    let only_new = vault(&["k2"]);
    for (i, (acct, enc, kid)) in sealed(&db).into_iter().enumerate() {
        assert_eq!((kid.as_str(), kid_of(&enc)), ("k2", Some("k2")));
        assert_eq!(only_new.open(&enc, &acct).unwrap().expose(), phone(i));
    }
    let done = rekey(&db, &["k2", "k1"], 2);
    assert_eq!((done.rekeyed, done.remaining), (0, 0), "nothing left to do");
    let audit = block_on(db.query("SELECT detail FROM audit_log WHERE action = 'billing.phones.rekey'", &[])).unwrap();
    let details: Vec<&str> = audit.iter().map(|r| r["detail"].as_str().unwrap_or_default()).collect();
    assert_eq!(details.len(), 3, "one audit row per round that wrote: {details:?}");
    let first: Json = serde_json::from_str(details[0]).unwrap();
    assert_eq!(first, json!({"attempted": 2, "unreadable": 0}), "counts only");
}

#[test]
fn an_account_reimported_between_the_read_and_the_write_is_not_overwritten() {
    let db = SqliteDb::migrated().unwrap();
    import_accounts(&db, &["k1"], 3);
    // An import re-seals one account between our read and our write.
    let fresh = vault(&["k2", "k1"])
        .seal(&OsRandom, &shared::types::MobileNumber::parse("13700009999").unwrap(), &account(1))
        .unwrap();
    let racing = shared::testing::Interleaved::new(
        db,
        "UPDATE water_accounts SET holder_phone_enc = ?1, holder_phone_kid = 'k2' WHERE account_no = ?2",
        vec![fresh.into(), account(1).into()],
    );
    let r = rekey(&racing, &["k2", "k1"], 500);
    assert_eq!((r.rekeyed, r.remaining), (2, 0), "the raced row was skipped, and it is current");
    let v = vault(&["k2"]);
    let rows = sealed(&racing.inner);
    assert_eq!(v.open(&rows[1].1, &rows[1].0).unwrap().expose(), "13700009999", "the import's phone stays");
    assert_eq!(v.open(&rows[0].1, &rows[0].0).unwrap().expose(), phone(0));
}

#[test]
fn a_tampered_value_counts_as_unreadable_and_accounts_without_a_sealed_phone_are_counted() {
    let db = SqliteDb::migrated().unwrap();
    import_accounts(&db, &["k1"], 4);
    let rows = sealed(&db);
    let (acct, enc, _) = &rows[2];
    let tampered = format!("{}{}", &enc[..enc.len() - 6], if enc.ends_with("AAAA==") { "BBBB==" } else { "AAAA==" });
    block_on(db.execute(
        "UPDATE water_accounts SET holder_phone_enc = ?1 WHERE account_no = ?2",
        &[tampered.into(), acct.as_str().into()],
    ))
    .unwrap();
    block_on(db.execute(
        "UPDATE water_accounts SET holder_phone_enc = NULL, holder_phone_kid = NULL WHERE account_no = ?1",
        &[account(3).into()],
    ))
    .unwrap();
    let r = rekey(&db, &["k2", "k1"], 500);
    assert_eq!(r, Rekeyed { current_kid: "k2".into(), rekeyed: 2, remaining: 1, unreadable: 1, without_phone: 1 });
    let again = rekey(&db, &["k2", "k1"], 500);
    assert_eq!((again.rekeyed, again.remaining, again.unreadable), (0, 1, 1), "it stays, and is said");
}

#[test]
fn only_a_billing_operator_reseals() {
    let db = SqliteDb::migrated().unwrap();
    import_accounts(&db, &["k1"], 1);
    let clerk = Principal { token_id: "c".into(), name: "c".into(), roles: vec![Role::HallStaff] };
    let act = Act { who: &clerk, now: now(), request_id: "r" };
    let e = block_on(phone_keys::rekey(&db, &vault(&["k2", "k1"]), &OsRandom, &act, 10)).unwrap_err();
    assert_eq!(e.code, ErrorCode::Forbidden);
    assert_eq!(sealed(&db)[0].2, "k1");
}
