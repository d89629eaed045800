//! Applying what a provider reports about an order, exactly once whatever
//! the providers do (duplicates, concurrent duplicates, late or reordered
//! states, the same bills paid through both providers), and the append-only
//! event log every callback and query lands in.
//!
//! The whole decision is one D1 batch guarded by a precondition (the order
//! still open and every bill still unpaid), so of any number of concurrent
//! deliveries exactly one applies; the others re-read and are recorded as
//! duplicates or, when the bills were paid by another order, as a double
//! payment for a billing operator.

use crate::orders::Provider;
use crate::states::OrderStatus;
use serde::Deserialize;
use shared::error::{ApiResult, ErrorCode};
use shared::identity::inbox;
use shared::runtime::IdSource;
use shared::store::{Db, Stmt, Value};
use shared::types::{BeijingTime, Fen};

/// Where a report came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channel {
    Notify,
    Query,
}

impl Channel {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Notify => "notify",
            Self::Query => "query",
        }
    }
}

/// A verified report about one of our orders.
#[derive(Debug, Clone)]
pub struct Report {
    pub provider: Provider,
    pub channel: Channel,
    pub out_trade_no: String,
    pub provider_trade_no: String,
    /// The provider's own word (SUCCESS, TRADE_SUCCESS, TRADE_FINISHED, NOTPAY, CLOSED ...).
    pub state: String,
    pub paid: bool,
    pub closed: bool,
    pub amount_fen: Option<i64>,
    /// The app and merchant in the report are ours.
    pub merchant_ok: bool,
    pub paid_at: Option<String>,
}

/// What was kept of the request, for the event log.
#[derive(Debug, Clone, Copy)]
pub struct Raw<'a> {
    pub body: &'a str,
    /// The signature headers as JSON (never our secrets).
    pub headers: Option<&'a str>,
    pub request_id: &'a str,
}

/// Why money was not applied automatically.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReviewReason {
    AmountMismatch,
    MerchantMismatch,
    UnknownOrder,
    DoublePayment,
    ProviderMismatch,
}

impl ReviewReason {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::AmountMismatch => "amount_mismatch",
            Self::MerchantMismatch => "merchant_mismatch",
            Self::UnknownOrder => "unknown_order",
            Self::DoublePayment => "double_payment",
            Self::ProviderMismatch => "provider_mismatch",
        }
    }

    /// Whether the provider should be told to stop: yes when the report is
    /// genuine and ours and a retry would bring the same facts (the review
    /// queue holds them); no when it names another merchant or a provider the
    /// order was not opened with, so the provider's console keeps showing it.
    pub fn acknowledge(self) -> bool {
        !matches!(self, Self::MerchantMismatch | Self::ProviderMismatch)
    }
}

/// What happened to a report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The order and its bills are paid now.
    Applied,
    /// Already applied (a retry, a concurrent copy, TRADE_FINISHED after TRADE_SUCCESS).
    Duplicate,
    /// Not a payment (NOTPAY, WAIT_BUYER_PAY, CLOSED ...): recorded, nothing paid.
    Ignored,
    /// Kept for a billing operator.
    Review(ReviewReason),
}

impl Outcome {
    pub fn label(self) -> &'static str {
        match self {
            Self::Applied => "applied",
            Self::Duplicate => "duplicate",
            Self::Ignored => "ignored",
            Self::Review(_) => "review",
        }
    }

    /// Whether the provider is answered with success.
    pub fn acknowledge(self) -> bool {
        match self {
            Self::Review(r) => r.acknowledge(),
            _ => true,
        }
    }
}

#[derive(Debug, Deserialize)]
struct OrderRow {
    citizen_id: String,
    provider: Provider,
    amount_fen: i64,
    status: OrderStatus,
    provider_trade_no: Option<String>,
}

/// The event-log statement.
#[allow(clippy::too_many_arguments)]
fn event(
    r: Option<&Report>,
    provider: Provider,
    channel: Channel,
    raw: Raw<'_>,
    outcome: &str,
    reason: Option<&str>,
    now: BeijingTime,
) -> Stmt {
    Stmt::new(
        "INSERT INTO payment_events (received_at, provider, channel, out_trade_no, provider_trade_no, state,
                                     amount_fen, outcome, reason, headers, raw_body, request_id)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
        vec![
            now.to_rfc3339().into(),
            provider.as_str().into(),
            channel.as_str().into(),
            r.map(|r| r.out_trade_no.clone()).into(),
            r.map(|r| r.provider_trade_no.clone()).filter(|t| !t.is_empty()).into(),
            r.map(|r| r.state.clone()).into(),
            r.and_then(|r| r.amount_fen).map_or(Value::Null, Value::from),
            outcome.into(),
            reason.map(str::to_owned).into(),
            raw.headers.map(str::to_owned).into(),
            raw.body.into(),
            raw.request_id.into(),
        ],
    )
}

/// Records a callback refused before it could be read (bad signature,
/// stale, probe, undecryptable): the log keeps it, nothing else changes.
pub async fn log_rejected(
    db: &impl Db,
    provider: Provider,
    raw: Raw<'_>,
    reason: &str,
    now: BeijingTime,
) -> ApiResult<()> {
    db.batch(&[event(None, provider, Channel::Notify, raw, "rejected", Some(reason), now)]).await.map(|_| ())
}

/// Applies a verified report. See the module docs for the guarantees.
pub async fn apply(
    db: &impl Db,
    ids: &impl IdSource,
    r: &Report,
    raw: Raw<'_>,
    now: BeijingTime,
) -> ApiResult<Outcome> {
    let order = order_row(db, &r.out_trade_no).await?;
    if !r.paid {
        return ignore(db, r, raw, order.as_ref(), now).await;
    }
    let Some(order) = order else {
        return review(db, ids, r, raw, ReviewReason::UnknownOrder, None, now).await;
    };
    let mismatch = if !r.merchant_ok {
        Some(ReviewReason::MerchantMismatch)
    } else if order.provider != r.provider {
        Some(ReviewReason::ProviderMismatch)
    } else if r.amount_fen != Some(order.amount_fen) {
        Some(ReviewReason::AmountMismatch)
    } else {
        None
    };
    if let Some(reason) = mismatch {
        return review(db, ids, r, raw, reason, None, now).await;
    }
    if order.status.settled() {
        return settled(db, ids, r, raw, &order, now).await;
    }
    match db.batch(&apply_stmts(ids, r, raw, &order, now)?).await {
        Ok(_) => Ok(Outcome::Applied),
        // Lost the race: settle against the order as the winner left it.
        Err(e) if e.code == ErrorCode::Conflict => match order_row(db, &r.out_trade_no).await? {
            Some(o) => settled(db, ids, r, raw, &o, now).await,
            None => Err(e),
        },
        Err(e) => Err(e),
    }
}

async fn order_row(db: &impl Db, out_trade_no: &str) -> ApiResult<Option<OrderRow>> {
    db.first_as(
        "SELECT citizen_id, provider, amount_fen, status, provider_trade_no FROM payment_orders WHERE out_trade_no = ?1",
        &[out_trade_no.into()],
    )
    .await
}

/// The order was already settled (or lost the race): the same transaction is
/// a duplicate; otherwise the bills were paid by another order.
async fn settled(
    db: &impl Db,
    ids: &impl IdSource,
    r: &Report,
    raw: Raw<'_>,
    o: &OrderRow,
    now: BeijingTime,
) -> ApiResult<Outcome> {
    if o.provider_trade_no.as_deref() == Some(r.provider_trade_no.as_str()) && o.status != OrderStatus::Pending {
        db.batch(&[event(Some(r), r.provider, r.channel, raw, "duplicate", None, now)]).await?;
        return Ok(Outcome::Duplicate);
    }
    review(db, ids, r, raw, ReviewReason::DoublePayment, Some(o), now).await
}

async fn ignore(
    db: &impl Db,
    r: &Report,
    raw: Raw<'_>,
    order: Option<&OrderRow>,
    now: BeijingTime,
) -> ApiResult<Outcome> {
    let mut stmts = vec![event(Some(r), r.provider, r.channel, raw, "ignored", Some("not_paid"), now)];
    if r.closed && order.is_some_and(|o| o.status == OrderStatus::Pending) {
        stmts.push(Stmt::new(
            "UPDATE payment_orders SET status = 'closed' WHERE out_trade_no = ?1 AND status = 'pending'",
            vec![r.out_trade_no.as_str().into()],
        ));
    }
    db.batch(&stmts).await?;
    Ok(Outcome::Ignored)
}

async fn review(
    db: &impl Db,
    ids: &impl IdSource,
    r: &Report,
    raw: Raw<'_>,
    reason: ReviewReason,
    order: Option<&OrderRow>,
    now: BeijingTime,
) -> ApiResult<Outcome> {
    let detail = format!(
        "{} {} 状态 {}，金额 {} 分{}",
        r.provider.as_str(),
        r.channel.as_str(),
        r.state,
        r.amount_fen.map_or_else(|| "未知".to_owned(), |a| a.to_string()),
        order.map_or_else(String::new, |o| format!("（订单金额 {} 分，订单状态 {}）", o.amount_fen, o.status)),
    );
    let mut stmts = vec![
        event(Some(r), r.provider, r.channel, raw, "review", Some(reason.as_str()), now),
        Stmt::new(
            "INSERT OR IGNORE INTO payment_reviews (id, provider, out_trade_no, provider_trade_no, reason, amount_fen, detail, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            vec![
                format!("rev_{}", ids.hex(8)?).into(),
                r.provider.as_str().into(),
                r.out_trade_no.as_str().into(),
                r.provider_trade_no.as_str().into(),
                reason.as_str().into(),
                r.amount_fen.map_or(Value::Null, Value::from),
                detail.into(),
                now.to_rfc3339().into(),
            ],
        ),
    ];
    if let (ReviewReason::DoublePayment, Some(o)) = (reason, order) {
        stmts.push(Stmt::new(
            "UPDATE payment_orders SET status = 'review', provider_trade_no = ?2, paid_at = ?3, paid_via = ?4
             WHERE out_trade_no = ?1 AND status IN ('pending', 'closed')",
            vec![
                r.out_trade_no.as_str().into(),
                r.provider_trade_no.as_str().into(),
                r.paid_at.clone().unwrap_or_else(|| now.to_rfc3339()).into(),
                r.channel.as_str().into(),
            ],
        ));
        let yuan = Fen::new(o.amount_fen).map(Fen::to_yuan).unwrap_or_default();
        let body = format!(
            "订单 {} 的 {yuan} 元付款所缴账单已由其他订单缴清，工作人员将在核实后为您办理退款。",
            r.out_trade_no
        );
        stmts.push(inbox::post_stmt(ids, &o.citizen_id, "bill", "水费重复缴纳待处理", &body, None, now)?);
    }
    db.batch(&stmts).await?;
    Ok(Outcome::Review(reason))
}

fn apply_stmts(ids: &impl IdSource, r: &Report, raw: Raw<'_>, o: &OrderRow, now: BeijingTime) -> ApiResult<Vec<Stmt>> {
    let otn: Value = r.out_trade_no.as_str().into();
    let paid_at = r.paid_at.clone().unwrap_or_else(|| now.to_rfc3339());
    let yuan = Fen::new(o.amount_fen).map(Fen::to_yuan).unwrap_or_default();
    let body = format!("您的水费 {yuan} 元已缴纳成功（订单 {}）。", r.out_trade_no);
    Ok(vec![
        Stmt::precondition(
            "(SELECT status FROM payment_orders WHERE out_trade_no = ?1) IN ('pending', 'closed')
             AND NOT EXISTS (SELECT 1 FROM payment_order_bills x JOIN bills b ON b.id = x.bill_id
                             WHERE x.out_trade_no = ?1 AND b.status <> 'unpaid')",
            vec![otn.clone()],
        ),
        Stmt::new(
            "UPDATE payment_orders SET status = 'paid', paid_at = ?2, provider_trade_no = ?3, paid_via = ?4
             WHERE out_trade_no = ?1",
            vec![otn.clone(), paid_at.as_str().into(), r.provider_trade_no.as_str().into(), r.channel.as_str().into()],
        ),
        Stmt::new(
            "INSERT INTO payments (out_trade_no, provider, provider_trade_no, amount_fen, paid_at, applied_at, via)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            vec![
                otn.clone(),
                r.provider.as_str().into(),
                r.provider_trade_no.as_str().into(),
                o.amount_fen.into(),
                paid_at.as_str().into(),
                now.to_rfc3339().into(),
                r.channel.as_str().into(),
            ],
        ),
        Stmt::new(
            "UPDATE bills SET status = 'paid', paid_at = ?2, updated_at = ?3
             WHERE id IN (SELECT bill_id FROM payment_order_bills WHERE out_trade_no = ?1)",
            vec![otn, paid_at.as_str().into(), now.to_rfc3339().into()],
        ),
        event(Some(r), r.provider, r.channel, raw, "applied", None, now),
        inbox::post_stmt(ids, &o.citizen_id, "bill", "水费缴纳成功", &body, Some("/pages/bills/index"), now)?,
    ])
}
