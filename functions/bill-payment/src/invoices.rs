//! 增值税发票办理 (000 §7.3): a company citizen applies with the fields 000
//! lists and two documents (营业执照, 税务事项通知书); a billing operator
//! issues (开票) and mails (邮寄) it, or refuses it with a reason; every
//! step is told in the inbox and audited. 票据管理 (§7.3.3) records each
//! invoice or payment receipt handed out and each one voided.

use serde::{Deserialize, Serialize};
use shared::admin::{Act, audit_stmt};
use shared::error::{ApiError, ApiResult, ErrorCode, FieldError};
use shared::identity::inbox;
use shared::runtime::IdSource;
use shared::store::{Db, Kv, Stmt};
use shared::types::{BeijingTime, SocialCreditCode};

/// An application as submitted.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Application {
    pub account_no: String,
    pub company_name: String,
    pub company_address: String,
    pub contact_phone: String,
    pub tax_id: String,
    pub bank_name: String,
    pub bank_account: String,
    pub applicant: String,
    pub license_upload: String,
    pub tax_notice_upload: String,
}

/// An application with its progress.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Invoice {
    pub id: String,
    /// Whose it is: used to notify them, never shown.
    #[serde(skip_serializing, default)]
    pub citizen_id: String,
    pub account_no: String,
    pub company_name: String,
    pub company_address: String,
    pub contact_phone: String,
    pub tax_id: String,
    pub bank_name: String,
    pub bank_account: String,
    pub applicant: String,
    pub license_upload: String,
    pub tax_notice_upload: String,
    pub status: String,
    pub reject_reason: Option<String>,
    pub invoice_no: Option<String>,
    pub issued_at: Option<String>,
    pub carrier: Option<String>,
    pub tracking_no: Option<String>,
    pub mailed_at: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

const COLUMNS: &str =
    "id, citizen_id, account_no, company_name, company_address, contact_phone, tax_id, bank_name, bank_account,
    applicant, license_upload, tax_notice_upload, status, reject_reason, invoice_no, issued_at, carrier, tracking_no,
    mailed_at, created_at, updated_at";

fn text(errors: &mut Vec<FieldError>, field: &str, v: &str, max: usize, label: &str) -> String {
    let t = v.trim();
    if t.is_empty() || t.chars().count() > max {
        errors.push(FieldError::new(field, format!("请填写{label}（最多{max}个字）")));
    }
    t.to_owned()
}

fn phone_ok(p: &str) -> bool {
    let digits: String = p.chars().filter(|c| *c != '-' && *c != ' ').collect();
    let all = digits.bytes().all(|b| b.is_ascii_digit());
    all && ((digits.len() == 11 && digits.starts_with('1'))
        || ((10..=12).contains(&digits.len()) && digits.starts_with('0')))
}

fn validate(a: &Application) -> Result<Application, Vec<FieldError>> {
    let mut e = Vec::new();
    let account_no = match crate::account::account_no(&a.account_no) {
        Ok(n) => n,
        Err(_) => {
            e.push(FieldError::new("account_no", "表卡编号应为6-20位数字"));
            String::new()
        }
    };
    let tax_id = match SocialCreditCode::parse(&a.tax_id) {
        Ok(c) => c.as_str().to_owned(),
        Err(msg) => {
            e.push(FieldError::new("tax_id", format!("纳税人识别号：{}", msg.0)));
            String::new()
        }
    };
    if !phone_ok(a.contact_phone.trim()) {
        e.push(FieldError::new("contact_phone", "联系电话应为手机号或带区号的固定电话"));
    }
    let bank_account: String = a.bank_account.chars().filter(|c| !c.is_whitespace()).collect();
    if !(8..=32).contains(&bank_account.len()) || !bank_account.bytes().all(|b| b.is_ascii_digit()) {
        e.push(FieldError::new("bank_account", "银行账号应为8-32位数字"));
    }
    let out = Application {
        account_no,
        company_name: text(&mut e, "company_name", &a.company_name, 100, "单位名称"),
        company_address: text(&mut e, "company_address", &a.company_address, 200, "单位地址"),
        contact_phone: a.contact_phone.trim().to_owned(),
        tax_id,
        bank_name: text(&mut e, "bank_name", &a.bank_name, 100, "开户银行"),
        bank_account,
        applicant: text(&mut e, "applicant", &a.applicant, 50, "申请人"),
        license_upload: a.license_upload.trim().to_owned(),
        tax_notice_upload: a.tax_notice_upload.trim().to_owned(),
    };
    if e.is_empty() { Ok(out) } else { Err(e) }
}

/// Files an application (status 受理 `accepted`): the account must be the
/// citizen's (a binding), both documents theirs and not used before.
pub async fn apply(
    db: &impl Db,
    ids: &impl IdSource,
    citizen: &str,
    raw: &Application,
    now: BeijingTime,
) -> ApiResult<Invoice> {
    let a = validate(raw).map_err(ApiError::validation)?;
    let bound = db
        .query(
            "SELECT 1 FROM citizen_water_accounts WHERE citizen_id = ?1 AND account_no = ?2",
            &[citizen.into(), a.account_no.as_str().into()],
        )
        .await?;
    if bound.is_empty() {
        return Err(ApiError::validation(vec![FieldError::new("account_no", "请先绑定该表卡编号")]));
    }
    let mut missing = Vec::new();
    for (field, id) in [("license_upload", &a.license_upload), ("tax_notice_upload", &a.tax_notice_upload)] {
        let ok = db
            .query(
                "SELECT 1 FROM uploads WHERE id = ?1 AND citizen_id = ?2 AND used_by IS NULL",
                &[id.as_str().into(), citizen.into()],
            )
            .await?;
        if ok.is_empty() {
            missing.push(FieldError::new(field, "请重新上传该文件"));
        }
    }
    if a.license_upload == a.tax_notice_upload {
        missing.push(FieldError::new("tax_notice_upload", "营业执照与税务事项通知书应为两份文件"));
    }
    if !missing.is_empty() {
        return Err(ApiError::validation(missing));
    }
    let id = format!("FP{}{}", now.format("%Y%m%d"), ids.hex(4)?.to_ascii_uppercase());
    let stamp = now.to_rfc3339();
    let mut stmts = vec![
        Stmt::new(
            "INSERT INTO invoice_requests (id, citizen_id, account_no, company_name, company_address, contact_phone, tax_id,
                    bank_name, bank_account, applicant, license_upload, tax_notice_upload, created_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?13)",
            vec![
                id.as_str().into(), citizen.into(), a.account_no.as_str().into(), a.company_name.as_str().into(),
                a.company_address.as_str().into(), a.contact_phone.as_str().into(), a.tax_id.as_str().into(),
                a.bank_name.as_str().into(), a.bank_account.as_str().into(), a.applicant.as_str().into(),
                a.license_upload.as_str().into(), a.tax_notice_upload.as_str().into(), stamp.as_str().into(),
            ],
        ),
        inbox::post_stmt(ids, citizen, "bill", "增值税发票申请已受理", &format!("您的增值税发票申请（{id}）已受理，开票后将邮寄给您。"), None, now)?,
    ];
    stmts.extend(shared::uploads::claim_stmts(&id, &[a.license_upload.clone(), a.tax_notice_upload.clone()]));
    db.batch(&stmts).await?;
    get(db, Some(citizen), &id).await
}

/// One application; with `citizen`, only theirs (anyone else: the same 404).
pub async fn get(db: &impl Db, citizen: Option<&str>, id: &str) -> ApiResult<Invoice> {
    db.first_as(
        &format!("SELECT {COLUMNS} FROM invoice_requests WHERE id = ?1 AND (?2 IS NULL OR citizen_id = ?2)"),
        &[id.into(), citizen.map(str::to_owned).into()],
    )
    .await?
    .ok_or_else(|| ApiError::with_message(ErrorCode::NotFound, "未找到该发票申请"))
}

/// The citizen's applications, newest first.
pub async fn mine(db: &impl Db, citizen: &str) -> ApiResult<Vec<Invoice>> {
    db.query_as(
        &format!("SELECT {COLUMNS} FROM invoice_requests WHERE citizen_id = ?1 ORDER BY created_at DESC LIMIT 100"),
        &[citizen.into()],
    )
    .await
}

/// The operator's queue: by status (default: open ones), oldest first.
pub async fn queue(db: &impl Db, status: Option<&str>) -> ApiResult<Vec<Invoice>> {
    if let Some(s) = status.filter(|s| !["accepted", "issued", "mailed", "rejected"].contains(s)) {
        return Err(ApiError::bad_field("status", format!("未知的状态 {s}")));
    }
    db.query_as(
        &format!(
            "SELECT {COLUMNS} FROM invoice_requests
             WHERE (?1 IS NULL AND status IN ('accepted', 'issued')) OR status = ?1 ORDER BY created_at LIMIT 200"
        ),
        &[status.map(str::to_owned).into()],
    )
    .await
}

/// A handling step.
#[derive(Debug, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case", deny_unknown_fields)]
pub enum Step {
    /// 开票: the invoice number, recorded in 票据管理.
    Issue { invoice_no: String },
    /// 邮寄: carrier and tracking number.
    Mail { carrier: String, tracking_no: String },
    /// Refused, with the reason the citizen reads.
    Reject { reason: String },
}

fn short(field: &str, v: &str, max: usize) -> ApiResult<String> {
    let t = v.trim();
    if t.is_empty() || t.chars().count() > max {
        return Err(ApiError::bad_field(field, format!("{field} 应为1-{max}个字符")));
    }
    Ok(t.to_owned())
}

/// Applies a step: accepted -> issued -> mailed, or accepted -> rejected;
/// one batch with the inbox notice and the audit entry, guarded by the state.
pub async fn step(db: &impl Db, ids: &impl IdSource, act: &Act<'_>, id: &str, s: &Step) -> ApiResult<Invoice> {
    let inv = get(db, None, id).await?;
    let now = act.now.to_rfc3339();
    let (from, update, title, body, ledger) = match s {
        Step::Issue { invoice_no } => {
            let no = short("invoice_no", invoice_no, 20)?;
            let ledger = Stmt::new(
                "INSERT INTO invoice_ledger (kind, number, issued_on, recipient, account_no, request_id, recorded_by, recorded_at)
                 VALUES ('invoice', ?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                vec![no.as_str().into(), act.now.date().to_string().into(), inv.applicant.as_str().into(), inv.account_no.as_str().into(),
                     id.into(), act.who.name.as_str().into(), now.as_str().into()],
            );
            (
                "accepted",
                Stmt::new(
                    "UPDATE invoice_requests SET status = 'issued', invoice_no = ?2, issued_at = ?3, updated_at = ?3 WHERE id = ?1",
                    vec![id.into(), no.as_str().into(), now.as_str().into()],
                ),
                "增值税发票已开具",
                format!("您的增值税发票（申请 {id}）已开具，发票号码 {no}，即将邮寄。"),
                Some(ledger),
            )
        }
        Step::Mail { carrier, tracking_no } => {
            let (c, t) = (short("carrier", carrier, 20)?, short("tracking_no", tracking_no, 40)?);
            (
                "issued",
                Stmt::new(
                    "UPDATE invoice_requests SET status = 'mailed', carrier = ?2, tracking_no = ?3, mailed_at = ?4, updated_at = ?4 WHERE id = ?1",
                    vec![id.into(), c.as_str().into(), t.as_str().into(), now.as_str().into()],
                ),
                "增值税发票已邮寄",
                format!("您的增值税发票（申请 {id}）已由{c}寄出，运单号 {t}。"),
                None,
            )
        }
        Step::Reject { reason } => {
            let r = short("reason", reason, 200)?;
            (
                "accepted",
                Stmt::new(
                    "UPDATE invoice_requests SET status = 'rejected', reject_reason = ?2, updated_at = ?3 WHERE id = ?1",
                    vec![id.into(), r.as_str().into(), now.as_str().into()],
                ),
                "增值税发票申请未通过",
                format!("您的增值税发票申请（{id}）未通过：{r}。请修改后重新申请。"),
                None,
            )
        }
    };
    if inv.status != from {
        return Err(ErrorCode::InvoiceStateInvalid.into());
    }
    let action = match s {
        Step::Issue { .. } => "invoice.issue",
        Step::Mail { .. } => "invoice.mail",
        Step::Reject { .. } => "invoice.reject",
    };
    let mut stmts = vec![
        Stmt::precondition(
            "EXISTS (SELECT 1 FROM invoice_requests WHERE id = ?1 AND status = ?2)",
            vec![id.into(), from.into()],
        ),
        update,
        inbox::post_stmt(ids, &inv.citizen_id, "bill", title, &body, None, act.now)?,
        audit_stmt(act.who, action, id, act.request_id, act.now, &serde_json::json!({ "from": from })),
    ];
    stmts.extend(ledger);
    db.batch(&stmts)
        .await
        .map_err(|e| if e.code == ErrorCode::Conflict { ErrorCode::InvoiceStateInvalid.into() } else { e })?;
    get(db, None, id).await
}

/// A document of an application, for the billing operator only.
pub async fn document(db: &impl Db, kv: &impl Kv, id: &str, which: &str) -> ApiResult<(String, Vec<u8>)> {
    let inv = get(db, None, id).await?;
    let upload = match which {
        "license" => inv.license_upload,
        "tax-notice" => inv.tax_notice_upload,
        _ => return Err(ApiError::with_message(ErrorCode::NotFound, "文件应为 license 或 tax-notice")),
    };
    shared::uploads::read(db, kv, &upload).await
}

/// One 票据管理 entry.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct LedgerEntry {
    pub id: i64,
    pub kind: String,
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
    if e.kind != "invoice" && e.kind != "receipt" {
        return Err(ApiError::bad_field("kind", "kind 应为 invoice（发票）或 receipt（收费凭证）"));
    }
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
                e.kind.as_str().into(),
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
            &serde_json::json!({ "kind": e.kind }),
        ),
    ])
    .await?;
    entry(db, "kind = ?1 AND number = ?2", &[e.kind.as_str().into(), number.into()]).await
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
