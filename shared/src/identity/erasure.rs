//! Account deletion (个人信息删除, GB/T 35273 §8.5): what happens to every
//! table that holds a citizen's data. [`TABLES`] names each one with its
//! treatment; a native test walks the migrated schema and fails when a
//! table with a personal column is missing from it, so the next table
//! cannot be forgotten.

use crate::error::ApiResult;
use crate::store::{Db, Kv, Stmt};
use crate::types::BeijingTime;
use crate::uploads;
use serde::Deserialize;

/// How deletion treats a table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Treatment {
    /// The citizen's rows are deleted.
    Deleted,
    /// The rows stay, with what identifies the person removed.
    Anonymised(&'static str),
    /// The rows stay as they are, for the reason given.
    Kept(&'static str),
}

/// Every table with a personal column (see [`PERSONAL_COLUMNS`]), and how
/// account deletion treats it.
pub const TABLES: &[(&str, Treatment)] = &[
    (
        "citizens",
        Treatment::Anonymised(
            "openid, phone, its HMAC, email and mailing address cleared; the row keeps the pseudonymous id the records below point to",
        ),
    ),
    ("sessions", Treatment::Deleted),
    ("messages", Treatment::Deleted),
    ("search_history", Treatment::Deleted),
    ("citizen_plates", Treatment::Deleted),
    ("citizen_water_accounts", Treatment::Deleted),
    ("bill_notices", Treatment::Deleted),
    ("water_bind_failures", Treatment::Deleted),
    ("outage_subscriptions", Treatment::Deleted),
    ("wechat_acceptances", Treatment::Deleted),
    ("wechat_sends", Treatment::Deleted),
    (
        "uploads",
        Treatment::Anonymised(
            "every upload's bytes deleted; the rows go too, except those an invoice request still names (their type, size and hash stay)",
        ),
    ),
    ("sms_codes", Treatment::Deleted),
    ("sms_flags", Treatment::Deleted),
    (
        "appointments",
        Treatment::Anonymised(
            "active bookings and holds cancelled (their places freed); plates cleared; past visits stay for the hall's statistics",
        ),
    ),
    (
        "outage_outbox",
        Treatment::Anonymised(
            "messages not yet sent deleted; the phone HMAC of sent ones cleared (delivery counts stay)",
        ),
    ),
    ("sms_log", Treatment::Anonymised("phone HMAC and masked number cleared (the send counts stay)")),
    (
        "invoice_requests",
        Treatment::Anonymised(
            "contact phone, applicant and bank details cleared; the company, its tax id and the invoice number stay: issued invoices are tax records (发票管理办法 §29, kept 5 years), as is the invoice ledger",
        ),
    ),
    (
        "complaints",
        Treatment::Anonymised(
            "marked anonymous; the record stays: a handled complaint is a public-service record (信访工作条例 archives) and its statistics",
        ),
    ),
    (
        "applications",
        Treatment::Anonymised(
            "drafts deleted with their materials; filed applications keep their number, item, status and timeline (a 政务服务 record and its statistics) with the form cleared and every material file deleted",
        ),
    ),
    (
        "application_rectifications",
        Treatment::Anonymised(
            "the citizen's own reasons for a low grade cleared; the grade, the department's task and its outcome stay",
        ),
    ),
    (
        "payment_orders",
        Treatment::Kept(
            "payments are accounting records kept 30 years (会计档案管理办法 §14); the row names only the pseudonymous account id",
        ),
    ),
    (
        "water_accounts",
        Treatment::Kept(
            "the water company's customer register (its holder's phone HMAC and sealed phone), loaded by billing imports, not data of the app account",
        ),
    ),
    (
        "sms_optouts",
        Treatment::Kept(
            "a number's TD refusal of outage SMS (its HMAC only): kept, or a phone that still holds a billing account would be messaged again",
        ),
    ),
    ("halls", Treatment::Kept("a hall's public phone, not a citizen's")),
    ("outages", Treatment::Kept("the issuer's public contact phone, not a citizen's")),
];

/// Column names that hold personal data, or point to a person.
pub const PERSONAL_COLUMNS: &[&str] = &[
    "citizen_id",
    "openid",
    "phone",
    "phone_hash",
    "phone_masked",
    "holder_phone_hash",
    "holder_phone_enc",
    "contact_phone",
    "email",
    "mailing_address",
    "plate",
    "applicant",
    "bank_account",
];

/// The statements of one deletion: one batch, all or nothing.
pub fn stmts(citizen_id: &str, phone_hash: Option<&str>, now: BeijingTime) -> Vec<Stmt> {
    let who = || vec![citizen_id.into()];
    let mut s = vec![
        Stmt::new("DELETE FROM sessions WHERE citizen_id = ?1", who()),
        Stmt::new("DELETE FROM messages WHERE citizen_id = ?1", who()),
        Stmt::new("DELETE FROM search_history WHERE citizen_id = ?1", who()),
        Stmt::new("DELETE FROM citizen_plates WHERE citizen_id = ?1", who()),
        Stmt::new("DELETE FROM citizen_water_accounts WHERE citizen_id = ?1", who()),
        Stmt::new("DELETE FROM bill_notices WHERE citizen_id = ?1", who()),
        Stmt::new("DELETE FROM water_bind_failures WHERE citizen_id = ?1", who()),
        Stmt::new("DELETE FROM outage_subscriptions WHERE citizen_id = ?1", who()),
        Stmt::new("DELETE FROM wechat_acceptances WHERE citizen_id = ?1", who()),
        Stmt::new("DELETE FROM wechat_sends WHERE citizen_id = ?1", who()),
        Stmt::new(
            "UPDATE appointments SET status = 'cancelled', updated_at = ?2
             WHERE citizen_id = ?1 AND status IN ('held', 'booked')",
            vec![citizen_id.into(), now.to_rfc3339().into()],
        ),
        Stmt::new("UPDATE appointments SET plate = NULL WHERE citizen_id = ?1 AND plate IS NOT NULL", who()),
        Stmt::new("DELETE FROM outage_outbox WHERE citizen_id = ?1 AND status IN ('queued', 'deferred')", who()),
        Stmt::new("UPDATE outage_outbox SET phone_hash = '' WHERE citizen_id = ?1", who()),
        Stmt::new(
            "UPDATE invoice_requests SET contact_phone = '', applicant = '', bank_name = '', bank_account = ''
             WHERE citizen_id = ?1",
            who(),
        ),
        Stmt::new("UPDATE complaints SET anonymous = 1, idem_code_hash = NULL WHERE citizen_id = ?1", who()),
        Stmt::new(
            "DELETE FROM complaint_photos WHERE upload_id IN (SELECT id FROM uploads WHERE citizen_id = ?1)",
            who(),
        ),
        Stmt::new(
            "DELETE FROM application_materials WHERE number IN
               (SELECT number FROM applications WHERE citizen_id = ?1 AND status = 'draft')",
            who(),
        ),
        Stmt::new(
            "DELETE FROM application_events WHERE number IN
               (SELECT number FROM applications WHERE citizen_id = ?1 AND status = 'draft')",
            who(),
        ),
        Stmt::new("DELETE FROM applications WHERE citizen_id = ?1 AND status = 'draft'", who()),
        Stmt::new(
            "UPDATE application_materials SET upload_id = NULL WHERE number IN
               (SELECT number FROM applications WHERE citizen_id = ?1)",
            who(),
        ),
        Stmt::new(
            "UPDATE applications SET form = '{}', field_fixes = '[]', result_upload = NULL WHERE citizen_id = ?1",
            who(),
        ),
        Stmt::new(
            "UPDATE application_rectifications SET reasons = '' WHERE number IN
               (SELECT number FROM applications WHERE citizen_id = ?1)",
            who(),
        ),
        Stmt::new(
            "DELETE FROM uploads WHERE citizen_id = ?1 AND id NOT IN
               (SELECT license_upload FROM invoice_requests UNION SELECT tax_notice_upload FROM invoice_requests)",
            who(),
        ),
        Stmt::new(
            "UPDATE citizens SET openid = NULL, phone = NULL, phone_hash = NULL, email = NULL, mailing_address = NULL,
               real_name_level = 0, deleted_at = ?1, updated_at = ?1 WHERE id = ?2",
            vec![now.to_rfc3339().into(), citizen_id.into()],
        ),
    ];
    if let Some(h) = phone_hash {
        s.push(Stmt::new("DELETE FROM sms_codes WHERE phone_hash = ?1", vec![h.into()]));
        s.push(Stmt::new("DELETE FROM sms_flags WHERE phone_hash = ?1", vec![h.into()]));
        s.push(Stmt::new(
            "UPDATE sms_log SET phone_hash = NULL, phone_masked = '' WHERE phone_hash = ?1",
            vec![h.into()],
        ));
    }
    s
}

/// Deletes the account: the uploads' bytes first (a failure leaves the
/// account as it was, to be deleted again), then every row in one batch.
pub async fn delete(db: &impl Db, kv: &impl Kv, citizen_id: &str, now: BeijingTime) -> ApiResult<()> {
    #[derive(Deserialize)]
    struct Hash {
        phone_hash: Option<String>,
    }
    #[derive(Deserialize)]
    struct Upload {
        id: String,
    }
    let hash = db
        .first_as::<Hash>("SELECT phone_hash FROM citizens WHERE id = ?1", &[citizen_id.into()])
        .await?
        .and_then(|h| h.phone_hash);
    let ups: Vec<Upload> = db.query_as("SELECT id FROM uploads WHERE citizen_id = ?1", &[citizen_id.into()]).await?;
    uploads::forget_blobs(kv, &ups.into_iter().map(|u| u.id).collect::<Vec<_>>()).await?;
    db.batch(&stmts(citizen_id, hash.as_deref(), now)).await?;
    Ok(())
}
