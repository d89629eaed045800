//! Payment orders: `POST /v1/bills/{id}/pay` opens one order for one or
//! several unpaid bills (统一补缴) with our `out_trade_no` and the exact sum
//! in fen; a repeat for the same bills and provider while the order is open
//! returns the same order. The insert itself is guarded by "no open order
//! for these bills, provider and sum", so concurrent taps cannot open two:
//! the losers re-read the winner's order.

use crate::states::{BillStatus, OrderStatus};
use serde::{Deserialize, Serialize};
use shared::error::{ApiError, ApiResult, ErrorCode};
use shared::runtime::IdSource;
use shared::store::{Db, Stmt, Value};
use shared::text_enum;
use shared::types::{BeijingTime, Fen};

/// How long an order can be paid (sent to the provider as its expiry).
pub const ORDER_TTL_MINUTES: i64 = 30;
/// Most bills in one order.
pub const MAX_BILLS: usize = 24;

text_enum! {
    /// A payment provider.
    pub enum Provider {
        Wechatpay => "wechatpay",
        Alipay => "alipay",
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
    pub status: OrderStatus,
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
    status: BillStatus,
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

/// What an order for some bills will be, decided from the bills as read.
#[derive(Debug, PartialEq)]
struct Quote {
    total: i64,
    /// The bill ids, sorted: joined with commas, the order's `bill_key`.
    keyed: Vec<String>,
    /// Each bill's amount, in `keyed` order (what the order settles).
    amounts: Vec<i64>,
    periods: Vec<String>,
    account: String,
}

/// Every bill still unpaid and the sum above zero.
fn quote(bills: &[BillRow]) -> ApiResult<Quote> {
    if bills.iter().any(|b| b.status != BillStatus::Unpaid) {
        return Err(ErrorCode::BillAlreadyPaid.into());
    }
    let total: i64 = bills.iter().map(|b| b.amount_fen).sum();
    if total <= 0 {
        return Err(ApiError::with_message(ErrorCode::BillAlreadyPaid, "账单金额为零，无需缴费"));
    }
    let mut lines: Vec<(String, i64)> = bills.iter().map(|b| (b.id.clone(), b.amount_fen)).collect();
    lines.sort_unstable();
    let (keyed, amounts) = lines.into_iter().unzip();
    Ok(Quote {
        total,
        keyed,
        amounts,
        periods: bills.iter().map(|b| b.period.clone()).collect(),
        account: bills.first().map(|b| b.account_no.clone()).unwrap_or_default(),
    })
}

/// An open order as found for some bills, with its owner.
#[derive(Deserialize)]
struct LiveOrder {
    #[serde(flatten)]
    order: Order,
    owner: String,
}

/// The open order for these bills, provider and sum that is still payable
/// for a while (anyone's: there is one at most).
async fn live(db: &impl Db, key: &str, provider: Provider, total: i64, soon: &str) -> ApiResult<Option<LiveOrder>> {
    db.first_as(
        &format!(
            "SELECT {ORDER_COLUMNS}, citizen_id AS owner FROM payment_orders
             WHERE bill_key = ?1 AND provider = ?2 AND amount_fen = ?3 AND status = 'pending' AND expires_at > ?4
             ORDER BY created_at DESC LIMIT 1"
        ),
        &[key.into(), provider.as_str().into(), total.into(), soon.into()],
    )
    .await
}

/// The citizen's own open order is reused; someone else's (another citizen
/// bound to the same account) is not handed over: 409 until it expires.
fn reuse(found: LiveOrder, citizen: &str, q: Quote) -> ApiResult<(Order, Vec<String>)> {
    if found.owner != citizen {
        return Err(ApiError::with_message(ErrorCode::Conflict, "该账单已有他人发起的待支付订单，请30分钟后再试"));
    }
    Ok((finish(found.order, q.keyed, q.account), q.periods))
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
    let q = quote(&visible(db, citizen, bill_ids).await?)?;
    let key = q.keyed.join(",");
    let soon = now.plus_minutes(5).ok_or_else(|| ApiError::internal("clock overflow"))?.to_rfc3339();
    if let Some(found) = live(db, &key, provider, q.total, &soon).await? {
        return reuse(found, citizen, q);
    }
    let expires = now.plus_minutes(ORDER_TTL_MINUTES).ok_or_else(|| ApiError::internal("clock overflow"))?;
    let prefix = if provider == Provider::Wechatpay { "W" } else { "A" };
    let order = Order {
        out_trade_no: format!("{prefix}{}{}", now.format("%Y%m%d%H%M%S"), ids.hex(6)?),
        provider: provider.as_str().into(),
        amount_fen: q.total,
        amount: String::new(),
        status: OrderStatus::Pending,
        bills: Vec::new(),
        prepay_id: None,
        account_no: String::new(),
        created_at: now.to_rfc3339(),
        expires_at: expires.to_rfc3339(),
        paid_at: None,
    };
    match db.batch(&insert_stmts(&order, citizen, &q, &soon)).await {
        Ok(_) => Ok((finish(order, q.keyed, q.account), q.periods)),
        // Lost to a concurrent tap (its order is reused) or a payment.
        Err(e) if e.code == ErrorCode::Conflict => match live(db, &key, provider, q.total, &soon).await? {
            Some(found) => reuse(found, citizen, q),
            None => Err(ErrorCode::BillAlreadyPaid.into()),
        },
        Err(e) => Err(e),
    }
}

/// The new order and its bills, guarded by every bill still unpaid and no
/// open order for the same bills, provider and sum (the one open order is
/// enforced inside the database's transaction, not by the read before it).
fn insert_stmts(o: &Order, citizen: &str, q: &Quote, soon: &str) -> Vec<Stmt> {
    let otn = o.out_trade_no.as_str();
    let marks = (1..=q.keyed.len()).map(|i| format!("?{i}")).collect::<Vec<_>>().join(",");
    let mut stmts = vec![
        Stmt::precondition(
            &format!("NOT EXISTS (SELECT 1 FROM bills WHERE status <> 'unpaid' AND id IN ({marks}))"),
            q.keyed.iter().map(|b| Value::from(b.as_str())).collect(),
        ),
        Stmt::precondition(
            "NOT EXISTS (SELECT 1 FROM payment_orders WHERE bill_key = ?1 AND provider = ?2 AND amount_fen = ?3
                         AND status = 'pending' AND expires_at > ?4)",
            vec![q.keyed.join(",").into(), o.provider.as_str().into(), o.amount_fen.into(), soon.into()],
        ),
        Stmt::new(
            "INSERT INTO payment_orders (out_trade_no, citizen_id, provider, amount_fen, bill_key, created_at, expires_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            vec![
                otn.into(),
                citizen.into(),
                o.provider.as_str().into(),
                o.amount_fen.into(),
                q.keyed.join(",").into(),
                o.created_at.as_str().into(),
                o.expires_at.as_str().into(),
            ],
        ),
    ];
    for (b, amount) in q.keyed.iter().zip(&q.amounts) {
        stmts.push(Stmt::new(
            "INSERT INTO payment_order_bills (out_trade_no, bill_id, amount_fen) VALUES (?1, ?2, ?3)",
            vec![otn.into(), b.as_str().into(), (*amount).into()],
        ));
    }
    stmts
}

fn finish(mut o: Order, bills: Vec<String>, account: String) -> Order {
    o.amount = Fen::new(o.amount_fen).map(Fen::to_yuan).unwrap_or_default();
    o.bills = bills;
    o.account_no = account;
    o
}

/// The bills, each visible to the citizen through a binding (or 404).
async fn visible(db: &impl Db, citizen: &str, bill_ids: &[String]) -> ApiResult<Vec<BillRow>> {
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
    Ok(finish(o, bills.into_iter().map(|b| b.id).collect(), String::new()))
}

#[derive(Deserialize)]
struct IdRow {
    id: String,
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn bill(id: &str, period: &str, amount_fen: i64, status: BillStatus) -> BillRow {
        BillRow { id: id.into(), account_no: "10012345".into(), period: period.into(), amount_fen, status }
    }

    #[test]
    fn a_quote_sums_unpaid_bills_and_keys_them_in_id_order() {
        let q =
            quote(&[bill("B2", "2026-09", 3840, BillStatus::Unpaid), bill("B1", "2026-10", 3200, BillStatus::Unpaid)])
                .unwrap();
        assert_eq!((q.total, q.keyed.join(","), q.account.as_str()), (7040, "B1,B2".to_owned(), "10012345"));
        assert_eq!(q.periods, ["2026-09", "2026-10"], "periods keep the bills' order");
    }

    #[test]
    fn a_paid_bill_or_a_zero_sum_opens_no_order() {
        let paid = quote(&[bill("B1", "2026-09", 3840, BillStatus::Paid)]).unwrap_err();
        assert_eq!(paid.code, ErrorCode::BillAlreadyPaid);
        let zero = quote(&[bill("B1", "2026-09", 0, BillStatus::Unpaid)]).unwrap_err();
        assert_eq!((zero.code, zero.message.as_deref()), (ErrorCode::BillAlreadyPaid, Some("账单金额为零，无需缴费")));
    }
}
