//! What a citizen sees of water: binding an account with the holder's phone
//! (as the Yiwu flow does), the bound accounts, their bills (unpaid first,
//! 欠费 flagged), one bill, the history by month range, and the 水费清单.
//! Nobody sees an account they have not bound: every read joins the binding.

use crate::account::account_no;
use crate::states::BillStatus;
use chrono::Duration;
use serde::{Deserialize, Serialize};
use shared::error::{ApiError, ApiResult, ErrorCode};
use shared::identity::Pepper;
use shared::store::{Db, Stmt};
use shared::types::{BeijingTime, Fen, MobileNumber};

/// Failed bindings a citizen may make in an hour (guessing a holder's phone).
pub const MAX_BIND_FAILURES_PER_HOUR: i64 = 5;
/// Accounts one citizen may bind.
pub const MAX_ACCOUNTS: i64 = 10;

/// A bound account as its citizen sees it.
#[derive(Debug, Serialize, Deserialize, PartialEq)]
pub struct Account {
    pub account_no: String,
    pub holder: String,
    pub address: String,
    pub category: String,
    pub unpaid_fen: i64,
    pub unpaid_bills: i64,
}

/// Masks all but the first 6 characters of an address (小区 and building stay readable).
fn mask_address(a: &str) -> String {
    let keep: String = a.chars().take(6).collect();
    if a.chars().count() > 6 { format!("{keep}****") } else { keep }
}

/// The citizen's bound accounts with what they owe.
pub async fn accounts(db: &impl Db, citizen: &str) -> ApiResult<Vec<Account>> {
    let mut rows: Vec<Account> = db
        .query_as(
            "SELECT w.account_no, w.holder_masked AS holder, w.address, w.category,
                    coalesce((SELECT sum(amount_fen) FROM bills b WHERE b.account_no = w.account_no AND b.status = 'unpaid'), 0) AS unpaid_fen,
                    (SELECT count(*) FROM bills b WHERE b.account_no = w.account_no AND b.status = 'unpaid') AS unpaid_bills
             FROM citizen_water_accounts c JOIN water_accounts w ON w.account_no = c.account_no
             WHERE c.citizen_id = ?1 ORDER BY c.bound_at",
            &[citizen.into()],
        )
        .await?;
    for r in &mut rows {
        r.address = mask_address(&r.address);
    }
    Ok(rows)
}

/// Binds an account when the phone is the holder's. A wrong number or a
/// wrong phone get the same answer (no telling which), and five failures an
/// hour stop further tries.
///
/// Every attempt first claims a failure slot with one statement that counts
/// the last hour's failures and inserts only below the limit, so parallel
/// guesses cannot all pass a count read before any of them is written: at
/// most [`MAX_BIND_FAILURES_PER_HOUR`] are checked, the rest (and then the
/// right phone too) are refused until the hour passes. A right phone gives
/// its slot back in the batch that binds.
pub async fn bind(
    db: &impl Db,
    pepper: &Pepper,
    citizen: &str,
    raw_account: &str,
    phone: &MobileNumber,
    now: BeijingTime,
) -> ApiResult<Vec<Account>> {
    let acct = account_no(raw_account)?;
    let at = now.to_rfc3339();
    let since = BeijingTime::from_utc(now.to_utc() - Duration::hours(1)).to_rfc3339();
    let claimed = db
        .execute(
            "INSERT INTO water_bind_failures (citizen_id, at)
             SELECT ?1, ?2 WHERE (SELECT count(*) FROM water_bind_failures WHERE citizen_id = ?1 AND at > ?3) < ?4",
            &[citizen.into(), at.as_str().into(), since.into(), MAX_BIND_FAILURES_PER_HOUR.into()],
        )
        .await?;
    if claimed == 0 {
        return Err(ApiError::with_message(ErrorCode::RateLimited, "绑定失败次数过多，请1小时后再试"));
    }
    let matches = !db
        .query(
            "SELECT 1 FROM water_accounts WHERE account_no = ?1 AND holder_phone_hash = ?2",
            &[acct.as_str().into(), pepper.phone_hash(phone).into()],
        )
        .await?
        .is_empty();
    if !matches {
        return Err(ApiError::with_message(ErrorCode::ValidationFailed, "表卡编号或户主手机号不正确"));
    }
    let release = Stmt::new(
        "DELETE FROM water_bind_failures
         WHERE rowid = (SELECT rowid FROM water_bind_failures WHERE citizen_id = ?1 AND at = ?2 LIMIT 1)",
        vec![citizen.into(), at.as_str().into()],
    );
    let bound = accounts(db, citizen).await?;
    if !bound.iter().any(|a| a.account_no == acct) && bound.len() as i64 >= MAX_ACCOUNTS {
        db.batch(&[release]).await?;
        return Err(ApiError::bad_field("account", format!("最多绑定 {MAX_ACCOUNTS} 个户号")));
    }
    db.batch(&[
        release,
        Stmt::new(
            "INSERT OR IGNORE INTO citizen_water_accounts (citizen_id, account_no, bound_at) VALUES (?1, ?2, ?3)",
            vec![citizen.into(), acct.as_str().into(), at.as_str().into()],
        ),
    ])
    .await?;
    accounts(db, citizen).await
}

/// Unbinds an account (404 when it was not bound).
pub async fn unbind(db: &impl Db, citizen: &str, raw_account: &str) -> ApiResult<()> {
    let acct = account_no(raw_account)?;
    let n = db
        .execute(
            "DELETE FROM citizen_water_accounts WHERE citizen_id = ?1 AND account_no = ?2",
            &[citizen.into(), acct.into()],
        )
        .await?;
    if n == 0 {
        return Err(ApiError::with_message(ErrorCode::NotFound, "未绑定该户号"));
    }
    Ok(())
}

/// One bill as its citizen sees it.
#[derive(Debug, Serialize, PartialEq)]
pub struct Bill {
    pub id: String,
    pub account_no: String,
    pub period: String,
    pub usage_m3: i64,
    pub amount_fen: i64,
    /// The amount in yuan, `12.34`.
    pub amount: String,
    pub due_date: String,
    pub status: BillStatus,
    /// 欠费: unpaid after its due date.
    pub overdue: bool,
    pub paid_at: Option<String>,
    pub items: serde_json::Value,
}

#[derive(Deserialize)]
struct BillRow {
    id: String,
    account_no: String,
    period: String,
    usage_m3: i64,
    amount_fen: i64,
    due_date: String,
    status: BillStatus,
    paid_at: Option<String>,
    items: String,
}

fn view(r: BillRow, today: &str) -> Bill {
    Bill {
        overdue: r.status == BillStatus::Unpaid && r.due_date.as_str() < today,
        amount: Fen::new(r.amount_fen).map(Fen::to_yuan).unwrap_or_default(),
        items: serde_json::from_str(&r.items).unwrap_or(serde_json::Value::Null),
        id: r.id,
        account_no: r.account_no,
        period: r.period,
        usage_m3: r.usage_m3,
        amount_fen: r.amount_fen,
        due_date: r.due_date,
        status: r.status,
        paid_at: r.paid_at,
    }
}

const BILL_COLUMNS: &str =
    "b.id, b.account_no, b.period, b.usage_m3, b.amount_fen, b.due_date, b.status, b.paid_at, b.items";

/// Month range filter (inclusive), both `YYYY-MM`.
#[derive(Debug, Default, Clone)]
pub struct Range {
    pub from: Option<String>,
    pub to: Option<String>,
}

/// The bills of a bound account: unpaid first (oldest first), then paid
/// (newest first). 404 for an account the citizen has not bound. One query:
/// the binding LEFT JOIN its bills (no row: not bound; a row without a bill:
/// bound, no bills in the range).
pub async fn list(db: &impl Db, citizen: &str, raw_account: &str, r: &Range, now: BeijingTime) -> ApiResult<Vec<Bill>> {
    let acct = account_no(raw_account)?;
    let rows = db
        .query(
            &format!(
                "SELECT {BILL_COLUMNS} FROM citizen_water_accounts c
                 LEFT JOIN bills b ON b.account_no = c.account_no AND b.period >= ?3 AND b.period <= ?4
                 WHERE c.citizen_id = ?1 AND c.account_no = ?2
                 ORDER BY b.status = 'paid', CASE WHEN b.status = 'unpaid' THEN b.period END ASC, b.period DESC
                 LIMIT 120"
            ),
            &[
                citizen.into(),
                acct.into(),
                r.from.clone().unwrap_or_else(|| "0000-00".into()).into(),
                r.to.clone().unwrap_or_else(|| "9999-99".into()).into(),
            ],
        )
        .await?;
    if rows.is_empty() {
        return Err(ApiError::with_message(ErrorCode::NotFound, "未绑定该户号"));
    }
    let today = now.date().to_string();
    rows.into_iter()
        .filter(|row| row.get("id").is_some_and(|id| !id.is_null()))
        .map(|row| shared::store::decode_row::<BillRow>(row).map(|b| view(b, &today)))
        .collect()
}

/// One bill, only through a binding (anyone else gets the same 404).
pub async fn get(db: &impl Db, citizen: &str, id: &str, now: BeijingTime) -> ApiResult<Bill> {
    let row: BillRow = db
        .first_as(
            &format!(
                "SELECT {BILL_COLUMNS} FROM bills b
                 JOIN citizen_water_accounts c ON c.account_no = b.account_no AND c.citizen_id = ?2
                 WHERE b.id = ?1"
            ),
            &[id.into(), citizen.into()],
        )
        .await?
        .ok_or_else(|| ApiError::with_message(ErrorCode::NotFound, "未找到该账单"))?;
    Ok(view(row, &now.date().to_string()))
}

/// 水费清单: the bills of a range with totals, as the mini-program prints it.
#[derive(Debug, Serialize, PartialEq)]
pub struct Statement {
    pub account_no: String,
    pub from: Option<String>,
    pub to: Option<String>,
    pub bills: Vec<Bill>,
    pub total_usage_m3: i64,
    pub total_fen: i64,
    pub paid_fen: i64,
    pub unpaid_fen: i64,
}

/// The statement of a bound account over a month range.
pub async fn statement(
    db: &impl Db,
    citizen: &str,
    raw_account: &str,
    r: &Range,
    now: BeijingTime,
) -> ApiResult<Statement> {
    let mut bills = list(db, citizen, raw_account, r, now).await?;
    bills.sort_by(|a, b| a.period.cmp(&b.period));
    let sum = |f: &dyn Fn(&Bill) -> bool| bills.iter().filter(|b| f(b)).map(|b| b.amount_fen).sum::<i64>();
    Ok(Statement {
        account_no: account_no(raw_account)?,
        from: r.from.clone(),
        to: r.to.clone(),
        total_usage_m3: bills.iter().map(|b| b.usage_m3).sum(),
        total_fen: sum(&|_| true),
        paid_fen: sum(&|b| b.status == BillStatus::Paid),
        unpaid_fen: sum(&|b| b.status == BillStatus::Unpaid),
        bills,
    })
}
