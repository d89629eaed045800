//! Applications as citizens file them (受理) and read them, the operator's
//! queue, and the two documents behind each.

use crate::states::InvoiceStatus;
use serde::{Deserialize, Serialize};
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
    pub status: InvoiceStatus,
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
    let status = match status {
        Some(s) => {
            Some(InvoiceStatus::parse(s).ok_or_else(|| ApiError::bad_field("status", format!("未知的状态 {s}")))?)
        }
        None => None,
    };
    db.query_as(
        &format!(
            "SELECT {COLUMNS} FROM invoice_requests
             WHERE (?1 IS NULL AND status IN ('accepted', 'issued')) OR status = ?1 ORDER BY created_at LIMIT 200"
        ),
        &[status.map(InvoiceStatus::as_str).into()],
    )
    .await
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
