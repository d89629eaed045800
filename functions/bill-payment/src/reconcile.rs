//! Reconciliation: orders still pending after a while are queried from the
//! provider (a lost or refused notification is found this way and applied
//! through the same ledger), orders the provider never saw paid are closed
//! once the providers' notification retry horizon has passed, and a daily
//! report per provider for the billing operator.

use crate::orders::Provider;
use crate::settlement::{self, Channel, Outcome, Raw, Report};
use crate::states::OrderStatus;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use shared::error::{ApiError, ApiResult};
use shared::runtime::IdSource;
use shared::store::Db;
use shared::types::BeijingTime;

/// An order pending this long is queried (WeChat Pay's first retries come
/// within 15 s, Alipay's within 4 min; a payment still unknown after
/// 15 minutes is most likely a lost notification).
pub const QUERY_AFTER_MINUTES: i64 = 15;
/// Not queried again sooner than this.
pub const REQUERY_MINUTES: i64 = 30;
/// The providers' notification retry horizon (WeChat Pay about 24 h, Alipay
/// 25 h): an order the provider still reports unpaid this long after its
/// expiry is closed.
pub const RETRY_HORIZON_HOURS: i64 = 25;
/// Most orders queried in one cron run (each is one provider call).
pub const MAX_PER_RUN: usize = 50;

/// An order due for a query.
#[derive(Debug, Clone, Deserialize)]
pub struct Due {
    pub out_trade_no: String,
    pub provider: Provider,
    pub expires_at: String,
}

fn at(now: BeijingTime, minutes: i64) -> ApiResult<String> {
    now.plus_minutes(minutes).map(BeijingTime::to_rfc3339).ok_or_else(|| ApiError::internal("clock overflow"))
}

/// The pending orders to query now, oldest first.
pub async fn due(db: &impl Db, now: BeijingTime) -> ApiResult<Vec<Due>> {
    db.query_as(
        &format!(
            "SELECT out_trade_no, provider, expires_at FROM payment_orders
             WHERE status = 'pending' AND created_at <= ?1 AND (queried_at IS NULL OR queried_at <= ?2)
             ORDER BY created_at LIMIT {MAX_PER_RUN}"
        ),
        &[at(now, -QUERY_AFTER_MINUTES)?.into(), at(now, -REQUERY_MINUTES)?.into()],
    )
    .await
}

/// What one query found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Found {
    pub out_trade_no: String,
    pub outcome: &'static str,
}

/// Records the provider's answer for one due order: a report goes through
/// the ledger (so a payment found here is applied exactly once, like a
/// notification); no report means the provider has no such trade. Past the
/// retry horizon an unpaid order is closed.
pub async fn settle(
    db: &impl Db,
    ids: &impl IdSource,
    due: &Due,
    report: Option<&Report>,
    raw: Raw<'_>,
    now: BeijingTime,
) -> ApiResult<Found> {
    let outcome = match report {
        Some(r) => settlement::apply(db, ids, r, raw, now).await?,
        None => Outcome::Ignored,
    };
    let horizon = BeijingTime::parse(&due.expires_at)
        .ok()
        .and_then(|e| e.plus_minutes(RETRY_HORIZON_HOURS * 60))
        .is_some_and(|h| h <= now);
    let close = horizon && matches!(outcome, Outcome::Ignored);
    db.execute(
        "UPDATE payment_orders SET queried_at = ?2, query_count = query_count + 1,
                status = CASE WHEN ?3 = 1 AND status = 'pending' THEN 'closed' ELSE status END
         WHERE out_trade_no = ?1",
        &[due.out_trade_no.as_str().into(), now.to_rfc3339().into(), close.into()],
    )
    .await?;
    let label = if close { "closed" } else { outcome.label() };
    Ok(Found { out_trade_no: due.out_trade_no.clone(), outcome: label })
}

/// One provider's day.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct DayReport {
    pub provider: String,
    pub date: String,
    /// Payments applied that day, and their sum in fen.
    pub paid_count: i64,
    pub paid_fen: i64,
    /// Of which found by reconciliation's order query (lost notifications).
    pub found_by_query: i64,
    /// Orders opened that day, and those still pending / closed unpaid.
    pub orders_opened: i64,
    pub orders_pending: i64,
    pub orders_closed: i64,
    /// Callbacks that day by outcome (applied, duplicate, ignored, review, rejected).
    pub events: std::collections::BTreeMap<String, i64>,
    /// Money kept for review that day, by reason, and all still unresolved.
    pub reviews: std::collections::BTreeMap<String, i64>,
    pub reviews_open_total: i64,
}

#[derive(Deserialize)]
struct Count {
    k: Option<String>,
    n: i64,
    s: Option<i64>,
}

/// The reconciliation report of one Beijing day for one provider.
pub async fn day_report(db: &impl Db, provider: Provider, date: NaiveDate) -> ApiResult<DayReport> {
    let from = format!("{date}T00:00:00+08:00");
    let to = format!("{}T00:00:00+08:00", date.succ_opt().ok_or_else(|| ApiError::internal("date overflow"))?);
    let p = provider.as_str();
    let args = [p.into(), from.as_str().into(), to.as_str().into()];
    let count = |sql: &'static str| {
        let args = args.clone();
        async move { db.query_as::<Count>(sql, &args).await }
    };
    let paid = count(
        "SELECT via AS k, COUNT(*) AS n, SUM(amount_fen) AS s FROM payments
         WHERE provider = ?1 AND applied_at >= ?2 AND applied_at < ?3 GROUP BY via",
    )
    .await?;
    let orders = count(
        "SELECT status AS k, COUNT(*) AS n, NULL AS s FROM payment_orders
         WHERE provider = ?1 AND created_at >= ?2 AND created_at < ?3 GROUP BY status",
    )
    .await?;
    let events = count(
        "SELECT outcome AS k, COUNT(*) AS n, NULL AS s FROM payment_events
         WHERE provider = ?1 AND received_at >= ?2 AND received_at < ?3 GROUP BY outcome",
    )
    .await?;
    let reviews = count(
        "SELECT reason AS k, COUNT(*) AS n, NULL AS s FROM payment_reviews
         WHERE provider = ?1 AND created_at >= ?2 AND created_at < ?3 GROUP BY reason",
    )
    .await?;
    let open: Option<Count> = db
        .first_as(
            "SELECT NULL AS k, COUNT(*) AS n, NULL AS s FROM payment_reviews WHERE provider = ?1 AND resolved_at IS NULL",
            &[p.into()],
        )
        .await?;
    let of = |rows: &[Count], k: &str| rows.iter().filter(|c| c.k.as_deref() == Some(k)).map(|c| c.n).sum::<i64>();
    let map = |rows: Vec<Count>| rows.into_iter().map(|c| (c.k.unwrap_or_default(), c.n)).collect();
    Ok(DayReport {
        provider: p.into(),
        date: date.to_string(),
        paid_count: paid.iter().map(|c| c.n).sum(),
        paid_fen: paid.iter().filter_map(|c| c.s).sum(),
        found_by_query: of(&paid, Channel::Query.as_str()),
        orders_opened: orders.iter().map(|c| c.n).sum(),
        orders_pending: of(&orders, OrderStatus::Pending.as_str()),
        orders_closed: of(&orders, OrderStatus::Closed.as_str()),
        events: map(events),
        reviews: map(reviews),
        reviews_open_total: open.map_or(0, |c| c.n),
    })
}

/// A review item as the billing operator sees it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ReviewItem {
    pub id: String,
    pub provider: String,
    pub out_trade_no: String,
    pub provider_trade_no: String,
    pub reason: String,
    pub amount_fen: Option<i64>,
    pub detail: String,
    pub created_at: String,
    pub resolved_at: Option<String>,
    pub resolved_by: Option<String>,
    pub resolution: Option<String>,
}

/// Review items, unresolved first, newest first (at most 200).
pub async fn reviews(db: &impl Db, open_only: bool) -> ApiResult<Vec<ReviewItem>> {
    db.query_as(
        "SELECT id, provider, out_trade_no, provider_trade_no, reason, amount_fen, detail, created_at,
                resolved_at, resolved_by, resolution
         FROM payment_reviews WHERE (?1 = 0 OR resolved_at IS NULL)
         ORDER BY resolved_at IS NOT NULL, created_at DESC LIMIT 200",
        &[open_only.into()],
    )
    .await
}

/// Marks a review item handled (退款已办理, 已补记 ...), once, audited.
pub async fn resolve(db: &impl Db, act: &shared::admin::Act<'_>, id: &str, resolution: &str) -> ApiResult<ReviewItem> {
    let text = resolution.trim();
    if !(2..=200).contains(&text.chars().count()) {
        return Err(ApiError::bad_field("resolution", "处理说明应为2-200个字"));
    }
    let stmts = [
        shared::store::Stmt::precondition(
            "EXISTS (SELECT 1 FROM payment_reviews WHERE id = ?1 AND resolved_at IS NULL)",
            vec![id.into()],
        ),
        shared::store::Stmt::new(
            "UPDATE payment_reviews SET resolved_at = ?2, resolved_by = ?3, resolution = ?4 WHERE id = ?1",
            vec![id.into(), act.now.to_rfc3339().into(), act.who.name.as_str().into(), text.into()],
        ),
        shared::admin::audit_stmt(
            act.who,
            "payment_review.resolve",
            id,
            act.request_id,
            act.now,
            &serde_json::json!({ "resolution": text }),
        ),
    ];
    let exists = !db.query("SELECT 1 FROM payment_reviews WHERE id = ?1", &[id.into()]).await?.is_empty();
    if !exists {
        return Err(ApiError::with_message(shared::error::ErrorCode::NotFound, "未找到该待核对记录"));
    }
    db.batch(&stmts).await?;
    db.first_as(
        "SELECT id, provider, out_trade_no, provider_trade_no, reason, amount_fen, detail, created_at,
                resolved_at, resolved_by, resolution FROM payment_reviews WHERE id = ?1",
        &[id.into()],
    )
    .await?
    .ok_or_else(|| ApiError::internal("review vanished"))
}
