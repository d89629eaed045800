//! VAT invoice applications and 票据管理 natively on SQLite with the
//! production migrations and the in-memory KV.

#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use bill_payment::invoices::{self, Application, LedgerInput, Step};
use futures_executor::block_on;
use shared::ErrorCode;
use shared::admin::{Act, Principal, Role};
use shared::runtime::OsRandom;
use shared::store::{Db, MemoryKv, SqliteDb};
use shared::testing::now;
use shared::uploads;

const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR....";
const PDF: &[u8] = b"%PDF-1.7\n....";

fn seeded() -> SqliteDb {
    let db = shared::testing::db_with_citizens(&["a", "b"]);
    for sql in [
        "INSERT INTO water_accounts (account_no, holder_masked, holder_phone_hash, address, category, updated_at)
         VALUES ('40261001', '义*', 'h', '义乌市', '非居民', 'x')",
        "INSERT INTO citizen_water_accounts (citizen_id, account_no, bound_at) VALUES ('a', '40261001', 'x')",
    ] {
        block_on(db.execute(sql, &[])).unwrap();
    }
    db
}

fn form(lic: &str, notice: &str) -> Application {
    serde_json::from_value(serde_json::json!({
        "account_no": "40261001", "company_name": "义乌市某某贸易有限公司", "company_address": "义乌市稠城街道工人北路1号",
        "contact_phone": "0579-85551234", "tax_id": "91330782ma2e5w1k38", "bank_name": "中国工商银行义乌分行",
        "bank_account": "1208 0200 0920 0123 456", "applicant": "陈会计", "license_upload": lic, "tax_notice_upload": notice
    }))
    .unwrap()
}

#[test]
fn documents_must_be_what_they_claim_and_small_enough() {
    let (db, kv) = (seeded(), MemoryKv::default());
    assert_eq!(uploads::sniff(PNG), Some("image/png"));
    assert_eq!(uploads::sniff(b"\xFF\xD8\xFF\xE0"), Some("image/jpeg"));
    assert_eq!(uploads::sniff(b"<html>"), None);
    let store = |ctype: &str, bytes: &[u8]| {
        block_on(uploads::store(&db, &kv, &OsRandom, "a", ctype, bytes, uploads::DOCUMENTS, now()))
    };
    assert_eq!(store("image/png", PDF).unwrap_err().code, ErrorCode::UploadInvalid);
    assert_eq!(store("text/html", b"<html>").unwrap_err().code, ErrorCode::UploadInvalid);
    let big = [PNG, &vec![0u8; uploads::MAX_UPLOAD_BYTES]].concat();
    assert_eq!(store("image/png", &big).unwrap_err().code, ErrorCode::UploadInvalid);
    let up = store("application/pdf; charset=binary", PDF).unwrap();
    assert_eq!((up.content_type.as_str(), up.size), ("application/pdf", PDF.len() as i64));
    assert_eq!(kv.len(), 1);
}

#[test]
fn an_application_is_validated_then_issued_mailed_and_recorded_once() {
    let (db, kv) = (seeded(), MemoryKv::default());
    let up = |bytes: &[u8], t: &str, who: &str| {
        block_on(uploads::store(&db, &kv, &OsRandom, who, t, bytes, uploads::DOCUMENTS, now())).unwrap().id
    };
    let (lic, notice) = (up(PNG, "image/png", "a"), up(PDF, "application/pdf", "a"));
    let mut bad = form(&lic, &notice);
    bad.tax_id = "91330782MA2E5W1K39".into();
    bad.contact_phone = "123".into();
    let err = block_on(invoices::apply(&db, &OsRandom, "a", &bad, now())).unwrap_err();
    let fields: Vec<&str> = err.fields.iter().map(|f| f.field.as_str()).collect();
    assert_eq!(fields, ["tax_id", "contact_phone"]);
    let not_bound = block_on(invoices::apply(&db, &OsRandom, "b", &form(&lic, &notice), now())).unwrap_err();
    assert_eq!(not_bound.code, ErrorCode::ValidationFailed);
    let inv = block_on(invoices::apply(&db, &OsRandom, "a", &form(&lic, &notice), now())).unwrap();
    assert_eq!(
        (inv.status.as_str(), inv.tax_id.as_str(), inv.bank_account.as_str()),
        ("accepted", "91330782MA2E5W1K38", "1208020009200123456")
    );
    assert!(inv.id.starts_with("FP20261123"));
    let again = block_on(invoices::apply(&db, &OsRandom, "a", &form(&lic, &notice), now())).unwrap_err();
    assert_eq!(again.code, ErrorCode::ValidationFailed, "documents serve one application");
    assert_eq!(block_on(invoices::get(&db, Some("b"), &inv.id)).unwrap_err().code, ErrorCode::NotFound);
    let who = Principal { token_id: "op".into(), name: "开票员".into(), roles: vec![Role::BillingOperator] };
    let act = Act { who: &who, now: now(), request_id: "r" };
    let step = |s: Step| block_on(invoices::step(&db, &OsRandom, &act, &inv.id, &s));
    let mail = || Step::Mail { carrier: "邮政EMS".into(), tracking_no: "1190000000001".into() };
    assert_eq!(step(mail()).unwrap_err().code, ErrorCode::InvoiceStateInvalid);
    assert_eq!(
        step(Step::Issue { invoice_no: "33002612345678".into() }).unwrap().status,
        bill_payment::states::InvoiceStatus::Issued
    );
    assert_eq!(
        step(Step::Issue { invoice_no: "33002612345679".into() }).unwrap_err().code,
        ErrorCode::InvoiceStateInvalid
    );
    assert_eq!(step(mail()).unwrap().tracking_no.as_deref(), Some("1190000000001"));
    let (ctype, bytes) = block_on(invoices::document(&db, &kv, &inv.id, "license")).unwrap();
    assert_eq!((ctype.as_str(), bytes.as_slice()), ("image/png", PNG));
    let entries = block_on(invoices::ledger(&db, "2026-11-01", "2026-11-30")).unwrap();
    assert_eq!(entries.len(), 1);
    assert_eq!((entries[0].number.as_str(), entries[0].recipient.as_str()), ("33002612345678", "陈会计"));
    let input = LedgerInput {
        kind: "receipt".into(),
        number: "SF001".into(),
        issued_on: "2026-11-23".into(),
        recipient: "王小明".into(),
        account_no: "40261001".into(),
    };
    let rec = block_on(invoices::record(&db, &act, &input)).unwrap();
    assert_eq!(block_on(invoices::record(&db, &act, &input)).unwrap_err().code, ErrorCode::Conflict);
    assert!(block_on(invoices::void(&db, &act, rec.id, "作废重开")).unwrap().voided_at.is_some());
    assert_eq!(block_on(invoices::void(&db, &act, rec.id, "again")).unwrap_err().code, ErrorCode::Conflict);
    #[derive(serde::Deserialize)]
    struct N {
        n: i64,
    }
    let notices = block_on(db.first_as::<N>("SELECT COUNT(*) AS n FROM messages WHERE citizen_id = 'a'", &[])).unwrap();
    assert_eq!(notices.unwrap().n, 3, "受理, 开票, 邮寄");
}
