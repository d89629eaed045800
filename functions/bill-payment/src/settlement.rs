//! Applying what a provider reports about an order, exactly once whatever
//! the providers do (duplicates, concurrent duplicates, late or reordered
//! states, the same bills paid through both providers), and the append-only
//! event log every callback and query lands in.
//!
//! The whole decision is one D1 batch guarded by a precondition (the order
//! still open, every bill still unpaid and still amounting to what the order
//! was opened for), so of any number of concurrent deliveries exactly one
//! applies; the others re-read and are recorded as duplicates or, when the
//! bills were paid by another order, as a double payment for a billing
//! operator; when a re-import changed a bill meanwhile, the money goes to
//! review (`amount_mismatch`) and the bills stay unpaid.

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

/// The first KiB of a rejected callback's body is kept (with the whole
/// body's SHA-256 and length): enough to recognise what was sent, too little
/// for unauthenticated posts of 64 KiB to fill the database.
pub const REJECTED_BODY_KEEP_BYTES: usize = 1024;
/// Each signature header of a rejected callback is clipped to this many
/// bytes (a genuine RSA-2048 signature is 344 base64 characters, so the
/// header is kept whole in the verified events that need it).
pub const REJECTED_HEADER_KEEP_BYTES: usize = 256;
/// Rejected callbacks stored per provider and hour, counted by the
/// inserting statement: junk can add at most about 2.3 KiB a row, so
/// 100 rows an hour per provider bound it to about 460 KiB an hour, while
/// a genuine misconfiguration (a rotated key) still leaves plenty to see.
pub const REJECTED_EVENTS_PER_HOUR: i64 = 100;

const EVENT_COLUMNS: &str = "received_at, provider, channel, out_trade_no, provider_trade_no, state, amount_fen,
     outcome, reason, headers, raw_body, request_id, body_sha256, body_bytes";

/// The event-log statement's values (`?1`..`?14`, in [`EVENT_COLUMNS`] order).
#[allow(clippy::too_many_arguments)]
fn event_values(
    r: Option<&Report>,
    provider: Provider,
    channel: Channel,
    raw: Raw<'_>,
    kept: (String, Option<String>),
    outcome: &str,
    reason: Option<&str>,
    now: BeijingTime,
) -> Vec<Value> {
    let (body, headers) = kept;
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
        headers.into(),
        body.into(),
        raw.request_id.into(),
        shared::crypto::sha256_hex(raw.body.as_bytes()).into(),
        i64::try_from(raw.body.len()).unwrap_or(i64::MAX).into(),
    ]
}

/// The event-log statement of a verified callback or query: the whole body.
fn event(r: &Report, raw: Raw<'_>, outcome: &str, reason: Option<&str>, now: BeijingTime) -> Stmt {
    let kept = (raw.body.to_owned(), raw.headers.map(str::to_owned));
    let values = event_values(Some(r), r.provider, r.channel, raw, kept, outcome, reason, now);
    Stmt::new(
        format!(
            "INSERT INTO payment_events ({EVENT_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)"
        ),
        values,
    )
}

/// At most `max` bytes of `s`, cut at a character boundary.
pub fn clip(s: &str, max: usize) -> &str {
    let mut end = s.len().min(max);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s.get(..end).unwrap_or_default()
}

/// The signature headers (a JSON object of strings) with every value
/// clipped; anything else clipped as text.
fn clip_headers(headers: &str) -> String {
    match serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(headers) {
        Ok(map) => {
            let clipped: serde_json::Map<String, serde_json::Value> = map
                .into_iter()
                .map(|(k, v)| {
                    let v = match v {
                        serde_json::Value::String(t) => clip(&t, REJECTED_HEADER_KEEP_BYTES).into(),
                        other => clip(&other.to_string(), REJECTED_HEADER_KEEP_BYTES).into(),
                    };
                    (clip(&k, REJECTED_HEADER_KEEP_BYTES).to_owned(), v)
                })
                .collect();
            serde_json::Value::Object(clipped).to_string()
        }
        Err(_) => clip(headers, REJECTED_BODY_KEEP_BYTES).to_owned(),
    }
}

/// Records a callback refused before it could be read (bad signature,
/// stale, probe, undecryptable, malformed, missing headers): its reason, the
/// body's SHA-256 and length, its first KiB and its clipped headers, and
/// nothing else changes. The insert counts the provider's rejected rows of
/// the last hour itself, so concurrent junk cannot pass
/// [`REJECTED_EVENTS_PER_HOUR`]. Returns whether the row was stored.
pub async fn log_rejected(
    db: &impl Db,
    provider: Provider,
    raw: Raw<'_>,
    reason: &str,
    now: BeijingTime,
) -> ApiResult<bool> {
    let since = BeijingTime::from_utc(now.to_utc() - chrono::Duration::hours(1)).to_rfc3339();
    let kept = (clip(raw.body, REJECTED_BODY_KEEP_BYTES).to_owned(), raw.headers.map(clip_headers));
    let mut params = event_values(None, provider, Channel::Notify, raw, kept, "rejected", Some(reason), now);
    params.push(since.into());
    params.push(REJECTED_EVENTS_PER_HOUR.into());
    let stmt = Stmt::new(
        format!(
            "INSERT INTO payment_events ({EVENT_COLUMNS})
             SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14
             WHERE (SELECT COUNT(*) FROM payment_events
                    WHERE provider = ?2 AND outcome = 'rejected' AND received_at > ?15) < ?16"
        ),
        params,
    );
    Ok(db.batch(&[stmt]).await?.first().copied().unwrap_or(0) > 0)
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
        // Lost the race (settle against the order as the winner left it),
        // or the order's bills no longer amount to what it was opened for.
        Err(e) if e.code == ErrorCode::Conflict => match order_row(db, &r.out_trade_no).await? {
            Some(o) if !o.status.settled() && !bills_taken(db, &r.out_trade_no).await? => {
                review(db, ids, r, raw, ReviewReason::AmountMismatch, Some(&o), now).await
            }
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

/// Whether any of the order's bills was paid by something else.
async fn bills_taken(db: &impl Db, out_trade_no: &str) -> ApiResult<bool> {
    let rows = db
        .query(
            "SELECT 1 FROM payment_order_bills x JOIN bills b ON b.id = x.bill_id
             WHERE x.out_trade_no = ?1 AND b.status <> 'unpaid' LIMIT 1",
            &[out_trade_no.into()],
        )
        .await?;
    Ok(!rows.is_empty())
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
        db.batch(&[event(r, raw, "duplicate", None, now)]).await?;
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
    let mut stmts = vec![event(r, raw, "ignored", Some("not_paid"), now)];
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
        event(r, raw, "review", Some(reason.as_str()), now),
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
    // With the order given (a double payment, or bills changed since it was
    // opened), the order is settled for review and its citizen told.
    if let Some(o) = order {
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
        let otn = &r.out_trade_no;
        let (title, body) = if reason == ReviewReason::DoublePayment {
            (
                "水费重复缴纳待处理",
                format!("订单 {otn} 的 {yuan} 元付款所缴账单已由其他订单缴清，工作人员将在核实后为您办理退款。"),
            )
        } else {
            (
                "水费账单金额已调整",
                format!(
                    "订单 {otn} 的 {yuan} 元付款与调整后的账单金额不符，账单未缴清；工作人员将在核实后为您办理退款，请按新金额缴费。"
                ),
            )
        };
        stmts.push(inbox::post_stmt(ids, &o.citizen_id, "bill", title, &body, None, now)?);
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
        // Still open, every bill still unpaid and still amounting to what the
        // order was opened for (a re-import may have changed it meanwhile).
        Stmt::precondition(
            "(SELECT status FROM payment_orders WHERE out_trade_no = ?1) IN ('pending', 'closed')
             AND NOT EXISTS (SELECT 1 FROM payment_order_bills x JOIN bills b ON b.id = x.bill_id
                             WHERE x.out_trade_no = ?1
                               AND (b.status <> 'unpaid' OR b.amount_fen <> coalesce(x.amount_fen, b.amount_fen)))
             AND (SELECT sum(b.amount_fen) FROM payment_order_bills x JOIN bills b ON b.id = x.bill_id
                  WHERE x.out_trade_no = ?1) = ?2",
            vec![otn.clone(), o.amount_fen.into()],
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
        event(r, raw, "applied", None, now),
        inbox::post_stmt(ids, &o.citizen_id, "bill", "水费缴纳成功", &body, Some("/pages/bills/index"), now)?,
    ])
}
