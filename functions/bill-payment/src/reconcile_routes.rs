//! Workers glue for reconciliation: the cron's run (and its manual trigger),
//! the day report, and the review queue.

use crate::orders::Provider;
use crate::payment::gateway::{AlipayApi, WechatPayApi};
use crate::providers::{Alipay, Wechat};
use crate::settlement::{self, Raw};
use crate::{notify, reconcile};
use shared::ApiResult;
use shared::admin::{self, Act, Role};
use shared::edge::{self as e, Ctx, D1Db, FetchHttp};
use shared::http::Query;
use shared::limits::MAX_BODY_BYTES;
use shared::runtime::{IdSource, OsRandom};
use shared::types::BeijingTime;
use worker::{Env, Request, Response};

/// Queries each due order from its provider and settles it; one order's
/// failure (provider down) is logged and the others still run. Each
/// provider's configuration (and private key) is read once per run.
pub async fn reconcile_run(env: &Env, now: BeijingTime, request_id: &str) -> ApiResult<Vec<reconcile::Found>> {
    let db = e::db(env)?;
    let due = reconcile::due(&db, now).await?;
    let wanted = |p: Provider| due.iter().any(|d| d.provider == p);
    let wechat = wanted(Provider::Wechatpay).then(|| Wechat::from_env(env).and_then(|w| Ok((w.api()?, w))));
    let alipay = wanted(Provider::Alipay).then(|| Alipay::from_env(env).and_then(|a| a.api()));
    let mut found = Vec::with_capacity(due.len());
    for d in &due {
        let result = match d.provider {
            Provider::Wechatpay => match &wechat {
                Some(Ok((api, w))) => query_wechat(&db, api, w, d, now, request_id).await,
                Some(Err(err)) => Err(err.clone()),
                None => continue,
            },
            Provider::Alipay => match &alipay {
                Some(Ok(api)) => query_alipay(&db, api, d, now, request_id).await,
                Some(Err(err)) => Err(err.clone()),
                None => continue,
            },
        };
        found.push(result.unwrap_or_else(|err| {
            let line = serde_json::json!({ "level": "error", "event": "payment.reconcile", "out_trade_no": d.out_trade_no,
                "code": err.code.as_str(), "detail": err.internal });
            worker::console_log!("{line}");
            reconcile::Found { out_trade_no: d.out_trade_no.clone(), outcome: "error" }
        }));
    }
    Ok(found)
}

async fn query_wechat(
    db: &D1Db,
    api: &WechatPayApi<'static, FetchHttp>,
    w: &Wechat,
    d: &reconcile::Due,
    now: BeijingTime,
    request_id: &str,
) -> ApiResult<reconcile::Found> {
    let answer = api.query(&d.out_trade_no, now.to_utc().timestamp(), &OsRandom.hex(16)?).await?;
    let report = answer.as_ref().map(|(t, _)| notify::wechat_report(&w.check(), t, settlement::Channel::Query));
    let body = answer.as_ref().map_or("ORDER_NOT_EXIST", |(_, b)| b.as_str());
    reconcile::settle(db, &OsRandom, d, report.as_ref(), Raw { body, headers: None, request_id }, now).await
}

async fn query_alipay(
    db: &D1Db,
    api: &AlipayApi<'static, FetchHttp>,
    d: &reconcile::Due,
    now: BeijingTime,
    request_id: &str,
) -> ApiResult<reconcile::Found> {
    let answer = api.query(&d.out_trade_no, &now.format("%Y-%m-%d %H:%M:%S")).await?;
    let report = answer.as_ref().map(|(t, _)| notify::alipay_query_report(t));
    let body = answer.as_ref().map_or("ACQ.TRADE_NOT_EXIST", |(_, b)| b.as_str());
    reconcile::settle(db, &OsRandom, d, report.as_ref(), Raw { body, headers: None, request_id }, now).await
}

/// `POST /v1/admin/payments:reconcile` (billing_operator): the cron's run, now.
pub async fn reconcile_now(req: &Request, env: &Env, ctx: &Ctx) -> ApiResult<Response> {
    let db = e::db(env)?;
    e::staff(req, &db, ctx).await?.require(Role::BillingOperator)?;
    let found = reconcile_run(env, ctx.now(), &ctx.request_id).await?;
    e::ok_json(&serde_json::json!({ "queried": found.len(), "orders": found }), "no-store")
}

/// `GET /v1/admin/payments/reconciliation?date=YYYY-MM-DD` (billing_operator, auditor).
pub async fn day_report(req: &Request, env: &Env, ctx: &Ctx) -> ApiResult<Response> {
    let db = e::db(env)?;
    e::staff(req, &db, ctx).await?.require_any(&[Role::BillingOperator, Role::Auditor])?;
    let q = Query::parse(&ctx.query)?;
    let date = q.date("date")?.unwrap_or_else(|| ctx.now().date());
    let mut out = Vec::new();
    for p in [Provider::Wechatpay, Provider::Alipay] {
        out.push(reconcile::day_report(&db, p, date).await?);
    }
    e::ok_json(&serde_json::json!({ "date": date.to_string(), "providers": out }), "no-store")
}

/// `GET /v1/admin/payments/reviews?open=1` (billing_operator, auditor).
pub async fn reviews(req: &Request, env: &Env, ctx: &Ctx) -> ApiResult<Response> {
    let db = e::db(env)?;
    e::staff(req, &db, ctx).await?.require_any(&[Role::BillingOperator, Role::Auditor])?;
    let open = Query::parse(&ctx.query)?.get("open") != Some("0");
    e::ok_json(&serde_json::json!({ "reviews": reconcile::reviews(&db, open).await? }), "no-store")
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct ResolveBody {
    resolution: String,
}

/// `POST /v1/admin/payments/reviews/{id}/resolve` (billing_operator), audited.
pub async fn resolve(req: &mut Request, env: &Env, ctx: &Ctx, id: &str) -> ApiResult<Response> {
    let db = e::db(env)?;
    let who = e::staff(req, &db, ctx).await?;
    who.require(admin::Role::BillingOperator)?;
    let body: ResolveBody = e::json_body(req, MAX_BODY_BYTES).await?;
    let act = Act { who: &who, now: ctx.now(), request_id: &ctx.request_id };
    e::ok_json(&reconcile::resolve(&db, &act, id, &body.resolution).await?, "no-store")
}
