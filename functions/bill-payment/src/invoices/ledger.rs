//! 票据管理 (000 §7.3.3): each invoice or payment receipt handed out, and
//! each one voided, audited.

use serde::{Deserialize, Serialize};
use shared::admin::{Act, audit_stmt};
use shared::error::{ApiError, ApiResult, ErrorCode};
use shared::store::{Db, Stmt};
use shared::text_enum;

text_enum! {
    /// What was handed out (`invoice_ledger.kind`).
    pub enum LedgerKind {
        /// 发票
        Invoice => "invoice",
        /// 收费凭证
        Receipt => "receipt",
    }
}

/// A trimmed text field of 1 to `max` characters.
pub(super) fn short(field: &str, v: &str, max: usize) -> ApiResult<String> {
    let t = v.trim();
    if t.is_empty() || t.chars().count() > max {
        return Err(ApiError::bad_field(field, format!("{field} 应为1-{max}个字符")));
    }
    Ok(t.to_owned())
}

/// One 票据管理 entry.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct LedgerEntry {
    pub id: i64,
    pub kind: LedgerKind,
    pub number: String,
    pub issued_on: String,
    pub recipient: String,
    pub account_no: String,
    pub request_id: Option<String>,
    pub voided_at: Option<String>,
    pub void_reason: Option<String>,
    pub recorded_by: String,
    pub recorded_at: String,
}

/// A receipt or invoice handed out outside the online flow (at the counter).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LedgerInput {
    pub kind: String,
    pub number: String,
    pub issued_on: String,
    pub recipient: String,
    pub account_no: String,
}

const LEDGER_COLUMNS: &str =
    "id, kind, number, issued_on, recipient, account_no, request_id, voided_at, void_reason, recorded_by, recorded_at";

/// Entries issued in a date range (inclusive), newest first.
pub async fn ledger(db: &impl Db, from: &str, to: &str) -> ApiResult<Vec<LedgerEntry>> {
    db.query_as(
        &format!("SELECT {LEDGER_COLUMNS} FROM invoice_ledger WHERE issued_on >= ?1 AND issued_on <= ?2 ORDER BY issued_on DESC, id DESC LIMIT 500"),
        &[from.into(), to.into()],
    )
    .await
}

/// Records an entry (audited); a number already recorded is 409.
pub async fn record(db: &impl Db, act: &Act<'_>, e: &LedgerInput) -> ApiResult<LedgerEntry> {
    let kind = LedgerKind::parse(&e.kind)
        .ok_or_else(|| ApiError::bad_field("kind", "kind 应为 invoice（发票）或 receipt（收费凭证）"))?;
    let number = short("number", &e.number, 20)?;
    let day = chrono::NaiveDate::parse_from_str(e.issued_on.trim(), "%Y-%m-%d")
        .map_err(|_| ApiError::bad_field("issued_on", "发放日期的格式应为 YYYY-MM-DD"))?;
    let recipient = short("recipient", &e.recipient, 50)?;
    let account = crate::account::account_no(&e.account_no)?;
    db.batch(&[
        Stmt::new(
            "INSERT INTO invoice_ledger (kind, number, issued_on, recipient, account_no, recorded_by, recorded_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            vec![
                kind.as_str().into(),
                number.as_str().into(),
                day.to_string().into(),
                recipient.into(),
                account.into(),
                act.who.name.as_str().into(),
                act.now.to_rfc3339().into(),
            ],
        ),
        audit_stmt(
            act.who,
            "invoice_ledger.record",
            &number,
            act.request_id,
            act.now,
            &serde_json::json!({ "kind": kind }),
        ),
    ])
    .await?;
    entry(db, "kind = ?1 AND number = ?2", &[kind.as_str().into(), number.into()]).await
}

async fn entry(db: &impl Db, cond: &str, params: &[shared::store::Value]) -> ApiResult<LedgerEntry> {
    db.first_as(&format!("SELECT {LEDGER_COLUMNS} FROM invoice_ledger WHERE {cond}"), params)
        .await?
        .ok_or_else(|| ApiError::with_message(ErrorCode::NotFound, "未找到该票据记录"))
}

/// Voids an entry once (作废), with a reason; audited.
pub async fn void(db: &impl Db, act: &Act<'_>, id: i64, reason: &str) -> ApiResult<LedgerEntry> {
    let r = short("reason", reason, 200)?;
    entry(db, "id = ?1", &[id.into()]).await?;
    db.batch(&[
        Stmt::precondition(
            "EXISTS (SELECT 1 FROM invoice_ledger WHERE id = ?1 AND voided_at IS NULL)",
            vec![id.into()],
        ),
        Stmt::new(
            "UPDATE invoice_ledger SET voided_at = ?2, void_reason = ?3 WHERE id = ?1",
            vec![id.into(), act.now.to_rfc3339().into(), r.as_str().into()],
        ),
        audit_stmt(
            act.who,
            "invoice_ledger.void",
            &id.to_string(),
            act.request_id,
            act.now,
            &serde_json::json!({ "reason": r }),
        ),
    ])
    .await?;
    entry(db, "id = ?1", &[id.into()]).await
}
