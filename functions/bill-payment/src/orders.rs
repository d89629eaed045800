//! Payment orders: `POST /v1/bills/{id}/pay` opens one order for one or
//! several unpaid bills (统一补缴) with our `out_trade_no` and the exact sum
//! in fen; a repeat for the same bills and provider while the order is open
//! returns the same order, so a double tap cannot open two.

use serde::{Deserialize, Serialize};
use shared::error::{ApiError, ApiResult, ErrorCode};
use shared::runtime::IdSource;
use shared::store::{Db, Stmt, Value};
use shared::types::{BeijingTime, Fen};

/// How long an order can be paid (sent to the provider as its expiry).
pub const ORDER_TTL_MINUTES: i64 = 30;
/// Most bills in one order.
pub const MAX_BILLS: usize = 24;

/// A payment provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Provider {
    Wechatpay,
    Alipay,
}

impl Provider {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Wechatpay => "wechatpay",
            Self::Alipay => "alipay",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "wechatpay" => Some(Self::Wechatpay),
            "alipay" => Some(Self::Alipay),
            _ => None,
        }
    }
}

/// An order as its citizen sees it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Order {
    pub out_trade_no: String,
    pub provider: String,
    pub amount_fen: i64,
    #[serde(default)]
    pub amount: String,
    pub status: String,
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub bills: Vec<String>,
    #[serde(skip_serializing)]
    pub prepay_id: Option<String>,
    #[serde(skip_serializing)]
    pub account_no: String,
    pub created_at: String,
    pub expires_at: String,
    pub paid_at: Option<String>,
}

#[derive(Deserialize)]
struct BillRow {
    id: String,
    account_no: String,
    period: String,
    amount_fen: i64,
    status: String,
}

const ORDER_COLUMNS: &str = "out_trade_no, provider, amount_fen, '' AS amount, status, prepay_id, '' AS account_no, created_at, expires_at, paid_at";

/// What the payment is for, as the provider shows it to the payer.
pub fn description(order: &Order, periods: &[String]) -> String {
    let first = periods.first().map(String::as_str).unwrap_or_default();
    let mut d = format!("水费 表卡{} {first}", order.account_no);
    if periods.len() > 1 {
        d.push_str(&format!("等{}期", periods.len()));
    }
    d
}

/// Opens (or reuses) an order for `bill_ids`, every one of them visible to
/// the citizen through a binding and unpaid. Returns the order and the
/// bills' periods.
pub async fn open(
    db: &impl Db,
    ids: &impl IdSource,
    citizen: &str,
    provider: Provider,
    bill_ids: &[String],
    now: BeijingTime,
) -> ApiResult<(Order, Vec<String>)> {
    let bills = visible_unpaid(db, citizen, bill_ids).await?;
    let total: i64 = bills.iter().map(|b| b.amount_fen).sum();
    if total <= 0 {
        return Err(ApiError::with_message(ErrorCode::BillAlreadyPaid, "账单金额为零，无需缴费"));
    }
    let mut keyed: Vec<&str> = bills.iter().map(|b| b.id.as_str()).collect();
    keyed.sort_unstable();
    let key = keyed.join(",");
    let periods: Vec<String> = bills.iter().map(|b| b.period.clone()).collect();
    let account = bills.first().map(|b| b.account_no.clone()).unwrap_or_default();
    let soon = now.plus_minutes(5).ok_or_else(|| ApiError::internal("clock overflow"))?;
    let reuse: Option<Order> = db
        .first_as(
            &format!(
                "SELECT {ORDER_COLUMNS} FROM payment_orders
                 WHERE citizen_id = ?1 AND bill_key = ?2 AND provider = ?3 AND status = 'pending' AND expires_at > ?4
                 ORDER BY created_at DESC LIMIT 1"
            ),
            &[citizen.into(), key.as_str().into(), provider.as_str().into(), soon.to_rfc3339().into()],
        )
        .await?;
    if let Some(o) = reuse.filter(|o| o.amount_fen == total) {
        return Ok((finish(o, keyed, account), periods));
    }
    let expires = now.plus_minutes(ORDER_TTL_MINUTES).ok_or_else(|| ApiError::internal("clock overflow"))?;
    let prefix = if provider == Provider::Wechatpay { "W" } else { "A" };
    let otn = format!("{prefix}{}{}", now.format("%Y%m%d%H%M%S"), ids.hex(6)?);
    let mut stmts = vec![
        Stmt::precondition(
            &format!(
                "NOT EXISTS (SELECT 1 FROM bills WHERE status <> 'unpaid' AND id IN ({}))",
                (1..=keyed.len()).map(|i| format!("?{i}")).collect::<Vec<_>>().join(",")
            ),
            keyed.iter().map(|&b| Value::from(b)).collect(),
        ),
        Stmt::new(
            "INSERT INTO payment_orders (out_trade_no, citizen_id, provider, amount_fen, bill_key, created_at, expires_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            vec![
                otn.as_str().into(),
                citizen.into(),
                provider.as_str().into(),
                total.into(),
                key.as_str().into(),
                now.to_rfc3339().into(),
                expires.to_rfc3339().into(),
            ],
        ),
    ];
    for b in &keyed {
        stmts.push(Stmt::new(
            "INSERT INTO payment_order_bills (out_trade_no, bill_id) VALUES (?1, ?2)",
            vec![otn.as_str().into(), (*b).into()],
        ));
    }
    db.batch(&stmts)
        .await
        .map_err(|e| if e.code == ErrorCode::Conflict { ErrorCode::BillAlreadyPaid.into() } else { e })?;
    let order = Order {
        out_trade_no: otn,
        provider: provider.as_str().into(),
        amount_fen: total,
        amount: String::new(),
        status: "pending".into(),
        bills: Vec::new(),
        prepay_id: None,
        account_no: String::new(),
        created_at: now.to_rfc3339(),
        expires_at: expires.to_rfc3339(),
        paid_at: None,
    };
    Ok((finish(order, keyed, account), periods))
}

fn finish(mut o: Order, bills: Vec<&str>, account: String) -> Order {
    o.amount = Fen::new(o.amount_fen).map(Fen::to_yuan).unwrap_or_default();
    o.bills = bills.into_iter().map(str::to_owned).collect();
    o.account_no = account;
    o
}

async fn visible_unpaid(db: &impl Db, citizen: &str, bill_ids: &[String]) -> ApiResult<Vec<BillRow>> {
    let mut wanted: Vec<&str> = bill_ids.iter().map(String::as_str).collect();
    wanted.sort_unstable();
    wanted.dedup();
    if wanted.is_empty() || wanted.len() > MAX_BILLS {
        return Err(ApiError::bad_field("with_bills", format!("一次最多缴纳{MAX_BILLS}张账单")));
    }
    let marks = (2..wanted.len() + 2).map(|i| format!("?{i}")).collect::<Vec<_>>().join(",");
    let mut params: Vec<Value> = vec![citizen.into()];
    params.extend(wanted.iter().map(|&b| Value::from(b)));
    let rows: Vec<BillRow> = db
        .query_as(
            &format!(
                "SELECT b.id, b.account_no, b.period, b.amount_fen, b.status FROM bills b
                 JOIN citizen_water_accounts c ON c.account_no = b.account_no AND c.citizen_id = ?1
                 WHERE b.id IN ({marks}) ORDER BY b.period"
            ),
            &params,
        )
        .await?;
    if rows.len() != wanted.len() {
        return Err(ApiError::with_message(ErrorCode::NotFound, "未找到该账单"));
    }
    if rows.iter().any(|b| b.status != "unpaid") {
        return Err(ErrorCode::BillAlreadyPaid.into());
    }
    Ok(rows)
}

/// Remembers WeChat Pay's prepay id, so a repeat reuses it.
pub async fn set_prepay(db: &impl Db, out_trade_no: &str, prepay_id: &str) -> ApiResult<()> {
    db.execute(
        "UPDATE payment_orders SET prepay_id = ?2 WHERE out_trade_no = ?1 AND prepay_id IS NULL",
        &[out_trade_no.into(), prepay_id.into()],
    )
    .await
    .map(|_| ())
}

/// One order, owner only (anyone else gets the same 404).
pub async fn get(db: &impl Db, citizen: &str, out_trade_no: &str) -> ApiResult<Order> {
    let o: Order = db
        .first_as(
            &format!("SELECT {ORDER_COLUMNS} FROM payment_orders WHERE out_trade_no = ?1 AND citizen_id = ?2"),
            &[out_trade_no.into(), citizen.into()],
        )
        .await?
        .ok_or(ErrorCode::PaymentNotFound)?;
    let bills: Vec<IdRow> = db
        .query_as(
            "SELECT bill_id AS id FROM payment_order_bills WHERE out_trade_no = ?1 ORDER BY bill_id",
            &[out_trade_no.into()],
        )
        .await?;
    Ok(finish(o, bills.iter().map(|b| b.id.as_str()).collect(), String::new()))
}

#[derive(Deserialize)]
struct IdRow {
    id: String,
}
