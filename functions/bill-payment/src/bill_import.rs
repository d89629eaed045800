//! `POST /v1/admin/bills:import` (billing_operator): accounts and bills,
//! every row checked first and every rejection reported, then one atomic
//! batch or nothing. A paid bill is never overwritten. The holder's phone is
//! kept as an HMAC (binding) and sealed with the phone vault (outage notices);
//! neither the response, the audit entry nor a log shows it.

use crate::account::{account_no, period};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use shared::admin::{Act, Role, audit_stmt};
use shared::error::{ApiError, ApiResult, FieldError};
use shared::identity::Pepper;
use shared::pii::mask_name;
use shared::runtime::IdSource;
use shared::store::{Db, Stmt};
use shared::types::{Fen, MobileNumber};
use shared::vault::PhoneVault;
use std::collections::HashSet;

/// Most rows of each kind in one import (one D1 batch).
pub const MAX_ROWS: usize = 2_000;

/// One account row.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccountRow {
    pub account_no: String,
    pub holder_name: String,
    pub holder_phone: String,
    pub address: String,
    pub category: String,
}

/// One bill line (水费, 污水处理费, 水资源费 ...).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct BillItem {
    pub name: String,
    pub amount_fen: i64,
}

/// One bill row.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BillRow {
    pub account_no: String,
    pub period: String,
    pub usage_m3: i64,
    pub amount_fen: i64,
    pub due_date: String,
    #[serde(default)]
    pub items: Vec<BillItem>,
}

/// The import body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImportBody {
    #[serde(default)]
    pub accounts: Vec<AccountRow>,
    #[serde(default)]
    pub bills: Vec<BillRow>,
}

/// What an import did.
#[derive(Debug, Serialize, PartialEq)]
pub struct Outcome {
    pub accounts: usize,
    pub bills: usize,
}

fn check_account(i: usize, a: &AccountRow, errs: &mut Vec<FieldError>) {
    let at = |f: &str| format!("accounts[{i}].{f}");
    if account_no(&a.account_no).is_err() {
        errs.push(FieldError::new(at("account_no"), "表卡编号应为6-20位数字"));
    }
    if a.holder_name.trim().is_empty() || a.holder_name.chars().count() > 50 {
        errs.push(FieldError::new(at("holder_name"), "户名应为1-50个字"));
    }
    if MobileNumber::parse(&a.holder_phone).is_err() {
        errs.push(FieldError::new(at("holder_phone"), "户主手机号格式不正确"));
    }
    if a.address.trim().is_empty() || a.address.chars().count() > 200 {
        errs.push(FieldError::new(at("address"), "用水地址应为1-200个字"));
    }
    if !matches!(a.category.as_str(), "居民" | "非居民" | "特种") {
        errs.push(FieldError::new(at("category"), "用水类别应为 居民、非居民 或 特种"));
    }
}

fn check_bill(i: usize, b: &BillRow, accounts: &HashSet<String>, errs: &mut Vec<FieldError>) {
    let at = |f: &str| format!("bills[{i}].{f}");
    if !accounts.contains(b.account_no.trim()) {
        errs.push(FieldError::new(at("account_no"), "表卡编号不存在（请先导入该户）"));
    }
    if period(&b.period).is_none() {
        errs.push(FieldError::new(at("period"), "账期格式应为 YYYY-MM"));
    }
    if !(0..=10_000_000).contains(&b.usage_m3) {
        errs.push(FieldError::new(at("usage_m3"), "用水量应在 0 到 10000000 吨之间"));
    }
    if Fen::new(b.amount_fen).is_err() || b.amount_fen > 10_000_000_000 {
        errs.push(FieldError::new(at("amount_fen"), "金额应为不超过1亿元的非负整数（分）"));
    }
    if !b.items.is_empty() && b.items.iter().map(|x| x.amount_fen).sum::<i64>() != b.amount_fen {
        errs.push(FieldError::new(at("items"), "明细金额之和应等于账单金额"));
    }
    if NaiveDate::parse_from_str(b.due_date.trim(), "%Y-%m-%d").is_err() {
        errs.push(FieldError::new(at("due_date"), "缴费截止日期格式应为 YYYY-MM-DD"));
    }
}

/// How an import keeps holders' phones: an HMAC for binding, sealed for sending.
pub struct Phones<'a, I: IdSource> {
    pub pepper: &'a Pepper,
    pub vault: &'a PhoneVault,
    pub ids: &'a I,
}

/// Validates everything, then writes everything in one batch (role billing_operator).
pub async fn apply(
    db: &impl Db,
    phones: &Phones<'_, impl IdSource>,
    act: &Act<'_>,
    body: &ImportBody,
) -> ApiResult<Outcome> {
    act.who.require(Role::BillingOperator)?;
    #[derive(Deserialize)]
    struct Key {
        k: String,
    }
    let existing: Vec<Key> = db.query_as("SELECT account_no AS k FROM water_accounts", &[]).await?;
    check(body, existing.into_iter().map(|r| r.k).collect())?;
    db.batch(&stmts(body, phones, act)?).await?;
    Ok(Outcome { accounts: body.accounts.len(), bills: body.bills.len() })
}

/// Every rejection of an import, given the accounts already known (a bill
/// may name those or one of the import's own accounts).
fn check(body: &ImportBody, mut known: HashSet<String>) -> ApiResult<()> {
    let mut errs = Vec::new();
    if body.accounts.is_empty() && body.bills.is_empty() {
        errs.push(FieldError::new("bills", "导入内容为空"));
    }
    if body.accounts.len() > MAX_ROWS || body.bills.len() > MAX_ROWS {
        errs.push(FieldError::new("bills", format!("单次最多导入 {MAX_ROWS} 户和 {MAX_ROWS} 张账单，请分批导入")));
    }
    for (i, a) in body.accounts.iter().enumerate() {
        check_account(i, a, &mut errs);
    }
    known.extend(body.accounts.iter().map(|a| a.account_no.trim().to_owned()));
    let mut seen = HashSet::new();
    for (i, b) in body.bills.iter().enumerate() {
        check_bill(i, b, &known, &mut errs);
        if !seen.insert((b.account_no.trim(), b.period.trim())) {
            errs.push(FieldError::new(format!("bills[{i}]"), "同一户同一账期重复"));
        }
    }
    if errs.is_empty() {
        return Ok(());
    }
    let n = errs.len();
    errs.truncate(1_000);
    let mut e = ApiError::validation(errs);
    e.message = Some(format!("导入未执行：共 {n} 处错误，请全部修正后重新提交"));
    Err(e)
}

/// A checked due date stored as `YYYY-MM-DD` (the parser also takes
/// `2026-1-5`, which would compare wrongly as text in the reminder sweep).
fn due_day(raw: &str) -> String {
    NaiveDate::parse_from_str(raw.trim(), "%Y-%m-%d").map_or_else(|_| raw.trim().to_owned(), |d| d.to_string())
}

/// The upserts of a checked import and its audit entry. A paid bill is
/// never overwritten; the phone is sealed for its account.
fn stmts(body: &ImportBody, phones: &Phones<'_, impl IdSource>, act: &Act<'_>) -> ApiResult<Vec<Stmt>> {
    let now = act.now.to_rfc3339();
    let mut stmts = Vec::new();
    for a in &body.accounts {
        let phone = MobileNumber::parse(&a.holder_phone).map_err(|e| ApiError::bad_field("holder_phone", e.0))?;
        let acct = a.account_no.trim();
        stmts.push(Stmt::new(
            "INSERT INTO water_accounts (account_no, holder_masked, holder_phone_hash, holder_phone_enc,
               holder_phone_kid, address, category, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
             ON CONFLICT (account_no) DO UPDATE SET holder_masked = excluded.holder_masked,
               holder_phone_hash = excluded.holder_phone_hash, holder_phone_enc = excluded.holder_phone_enc,
               holder_phone_kid = excluded.holder_phone_kid, address = excluded.address,
               category = excluded.category, updated_at = excluded.updated_at",
            vec![
                acct.into(),
                mask_name(a.holder_name.trim()).into(),
                phones.pepper.phone_hash(&phone).into(),
                phones.vault.seal(phones.ids, &phone, acct)?.into(),
                phones.vault.current_kid().into(),
                a.address.trim().into(),
                a.category.as_str().into(),
                now.as_str().into(),
            ],
        ));
    }
    for b in &body.bills {
        let (acct, per) = (b.account_no.trim(), b.period.trim());
        stmts.push(Stmt::new(
            "INSERT INTO bills (id, account_no, period, usage_m3, amount_fen, due_date, items, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
             ON CONFLICT (account_no, period) DO UPDATE SET usage_m3 = excluded.usage_m3,
               amount_fen = excluded.amount_fen, due_date = excluded.due_date, items = excluded.items,
               updated_at = excluded.updated_at
             WHERE bills.status = 'unpaid'",
            vec![
                format!("B{acct}{}", per.replace('-', "")).into(),
                acct.into(),
                per.into(),
                b.usage_m3.into(),
                b.amount_fen.into(),
                due_day(&b.due_date).into(),
                serde_json::to_string(&b.items).unwrap_or_else(|_| "[]".into()).into(),
                now.as_str().into(),
            ],
        ));
    }
    let detail = serde_json::json!({ "accounts": body.accounts.len(), "bills": body.bills.len() });
    stmts.push(audit_stmt(act.who, "bills.import", "bills", act.request_id, act.now, &detail));
    Ok(stmts)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn body(v: serde_json::Value) -> ImportBody {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn an_empty_import_is_refused() {
        let e = check(&body(serde_json::json!({})), HashSet::new()).unwrap_err();
        assert_eq!(e.fields.first().map(|f| f.field.as_str()), Some("bills"));
    }

    #[test]
    fn a_bill_may_name_a_known_account_but_not_the_same_period_twice() {
        let bill = serde_json::json!({"account_no": "10012345", "period": "2026-09", "usage_m3": 1, "amount_fen": 100, "due_date": "2026-10-20"});
        let known = HashSet::from(["10012345".to_owned()]);
        assert!(check(&body(serde_json::json!({ "bills": [bill] })), known.clone()).is_ok());
        assert!(check(&body(serde_json::json!({ "bills": [bill] })), HashSet::new()).is_err(), "unknown account");
        let e = check(&body(serde_json::json!({ "bills": [bill, bill] })), known).unwrap_err();
        let fields: Vec<&str> = e.fields.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(fields, ["bills[1]"]);
        assert_eq!(e.message.as_deref(), Some("导入未执行：共 1 处错误，请全部修正后重新提交"));
    }
}
