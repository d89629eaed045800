//! Workers glue for payments: opening orders, the two notification
//! endpoints, the owner's order view, reconciliation and its reports.

use crate::orders::{self, Provider};
use crate::payment::gateway::{AlipayApi, PrepayOrder, WechatPayApi};
use crate::payment::wechatpay::SignatureHeaders;
use crate::providers::{Alipay, Wechat};
use crate::settlement::{self, Outcome, Raw};
use crate::{notify, reconcile};
use shared::admin::{self, Act, Role};
use shared::edge::{self as e, Ctx, D1Db, FetchHttp};
use shared::http::Query;
use shared::limits::MAX_BODY_BYTES;
use shared::runtime::{IdSource, OsRandom};
use shared::types::BeijingTime;
use shared::{ApiError, ApiResult, ErrorCode};
use worker::{Env, Request, Response};

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct PayBody {
    provider: String,
    /// Other bills paid in the same order (统一补缴).
    #[serde(default)]
    with_bills: Vec<String>,
}

/// `POST /v1/bills/{id}/pay`.
pub async fn pay(req: &mut Request, env: &Env, ctx: &Ctx, bill: &str) -> ApiResult<Response> {
    let db = e::db(env)?;
    let who = e::citizen(req, &db, ctx).await?;
    let body: PayBody = e::json_body(req, MAX_BODY_BYTES).await?;
    let provider = Provider::parse(&body.provider)
        .ok_or_else(|| ApiError::bad_field("provider", "支付方式应为 wechatpay 或 alipay"))?;
    let mut bills = vec![bill.to_owned()];
    bills.extend(body.with_bills);
    let now = ctx.now();
    // Configuration first: an unconfigured provider opens no order.
    let body = match provider {
        Provider::Wechatpay => {
            let api = Wechat::from_env(env)?.api()?;
            let openid = openid(&db, &who.id).await?;
            let (order, periods) = orders::open(&db, &OsRandom, &who.id, provider, &bills, now).await?;
            let (unix, nonce) = (now.to_utc().timestamp(), OsRandom.hex(16)?);
            let prepay_id = match &order.prepay_id {
                Some(id) => id.clone(),
                None => {
                    let p = PrepayOrder {
                        out_trade_no: &order.out_trade_no,
                        description: &orders::description(&order, &periods),
                        amount_fen: order.amount_fen,
                        openid: &openid,
                        time_expire: &order.expires_at,
                    };
                    let id = api.prepay(&p, unix, &nonce).await?;
                    orders::set_prepay(&db, &order.out_trade_no, &id).await?;
                    id
                }
            };
            let params = api.merchant.jsapi_params(&prepay_id, unix, &nonce).map_err(|err| err.to_api())?;
            serde_json::json!({ "order": order, "wechatpay": params })
        }
        Provider::Alipay => {
            let api = Alipay::from_env(env)?.api()?;
            let (order, periods) = orders::open(&db, &OsRandom, &who.id, provider, &bills, now).await?;
            let expire =
                BeijingTime::parse(&order.expires_at).map(|t| t.format("%Y-%m-%d %H:%M:%S")).unwrap_or_default();
            let order_string = api.order_string(
                &order.out_trade_no,
                &order.amount,
                &orders::description(&order, &periods),
                &expire,
                &now.format("%Y-%m-%d %H:%M:%S"),
            )?;
            serde_json::json!({ "order": order, "alipay": { "order_string": order_string } })
        }
    };
    e::ok_json(&body, "private, no-store")
}

async fn openid(db: &impl shared::store::Db, citizen: &str) -> ApiResult<String> {
    #[derive(serde::Deserialize)]
    struct Row {
        openid: Option<String>,
    }
    let row: Option<Row> = db.first_as("SELECT openid FROM citizens WHERE id = ?1", &[citizen.into()]).await?;
    row.and_then(|r| r.openid).ok_or_else(|| {
        ApiError::with_message(
            ErrorCode::ValidationFailed,
            "微信支付需要先在微信小程序中登录，请改用支付宝或在微信中登录",
        )
    })
}

/// `GET /v1/payments/{out_trade_no}`: the owner's view of an order.
pub async fn order(req: &Request, env: &Env, ctx: &Ctx, otn: &str) -> ApiResult<Response> {
    let db = e::db(env)?;
    let who = e::citizen(req, &db, ctx).await?;
    e::ok_json(&orders::get(&db, &who.id, otn).await?, "private, no-store")
}

fn wechat_answer(status: u16, message: &str) -> ApiResult<Response> {
    if status == 204 {
        return e::no_content();
    }
    e::json_response(status, &serde_json::json!({ "code": "FAIL", "message": message })).map_err(e::runtime_err)
}

/// `POST /v1/payments/wechatpay/notify`: verify on the raw body, then apply.
/// Success is 204 with no body; a refusal 401 (signature, time, probe) or
/// 400 (format), a storage failure 500, each `{"code":"FAIL","message":...}`,
/// so WeChat Pay retries what we could not record.
pub async fn wechat_notify(req: &mut Request, env: &Env, ctx: &Ctx) -> ApiResult<Response> {
    let db = e::db(env)?;
    let bytes = e::capped_bytes(req, MAX_BODY_BYTES).await?;
    let body = String::from_utf8_lossy(&bytes).into_owned();
    let h = |n: &str| e::header(req, n);
    let headers =
        match (h("wechatpay-timestamp"), h("wechatpay-nonce"), h("wechatpay-signature"), h("wechatpay-serial")) {
            (Some(timestamp), Some(nonce), Some(signature), Some(serial)) => {
                Some(SignatureHeaders { timestamp, nonce, signature, serial })
            }
            _ => None,
        };
    let logged = headers.as_ref().map(|h| {
        serde_json::json!({ "Wechatpay-Timestamp": h.timestamp, "Wechatpay-Nonce": h.nonce,
            "Wechatpay-Serial": h.serial, "Wechatpay-Signature": h.signature })
        .to_string()
    });
    let raw = Raw { body: &body, headers: logged.as_deref(), request_id: &ctx.request_id };
    let now = ctx.now();
    let wx = match Wechat::from_env(env) {
        Ok(wx) => wx,
        Err(err) => {
            log(ctx, "wechatpay", "unconfigured", err.internal.as_deref());
            return wechat_answer(500, "商户配置错误");
        }
    };
    let report = match notify::wechat(&wx.check(), headers, &body, now.to_utc().timestamp()) {
        Ok(r) => r,
        Err(refusal) => {
            if settlement::log_rejected(&db, Provider::Wechatpay, raw, refusal.0, now).await.is_err() {
                return wechat_answer(500, "系统繁忙");
            }
            log(ctx, "wechatpay", refusal.0, None);
            let status = if matches!(refusal.0, "malformed" | "missing_headers") { 400 } else { 401 };
            return wechat_answer(status, refusal.message());
        }
    };
    match settlement::apply(&db, &OsRandom, &report, raw, now).await {
        Ok(outcome) => {
            log(ctx, "wechatpay", outcome.label(), None);
            if outcome.acknowledge() { wechat_answer(204, "") } else { wechat_answer(400, review_message(outcome)) }
        }
        Err(err) => {
            log(ctx, "wechatpay", "storage", err.internal.as_deref());
            wechat_answer(500, "系统繁忙")
        }
    }
}

fn review_message(o: Outcome) -> &'static str {
    match o {
        Outcome::Review(settlement::ReviewReason::MerchantMismatch) => "商户号或应用不匹配",
        _ => "订单与支付方式不匹配",
    }
}

fn alipay_answer(ok: bool) -> ApiResult<Response> {
    let (status, text) = if ok { (200, "success") } else { (400, "fail") };
    e::text_response(status, text.into(), "text/plain; charset=utf-8").map_err(e::runtime_err)
}

/// `POST /v1/payments/alipay/notify`: RSA2 over the sorted parameters; the
/// literal `success` when recorded (applied, duplicate, or kept for review),
/// anything else makes Alipay retry.
pub async fn alipay_notify(req: &mut Request, env: &Env, ctx: &Ctx) -> ApiResult<Response> {
    let db = e::db(env)?;
    let bytes = e::capped_bytes(req, MAX_BODY_BYTES).await?;
    let body = String::from_utf8_lossy(&bytes).into_owned();
    let raw = Raw { body: &body, headers: None, request_id: &ctx.request_id };
    let now = ctx.now();
    let ali = match Alipay::from_env(env) {
        Ok(a) => a,
        Err(err) => {
            log(ctx, "alipay", "unconfigured", err.internal.as_deref());
            return alipay_answer(false);
        }
    };
    let parsed = shared::http::parse_form(&body).ok_or(notify::Refusal("malformed"));
    let report = match parsed.and_then(|params| notify::alipay(&ali.check(), &params)) {
        Ok(r) => r,
        Err(refusal) => {
            let _ = settlement::log_rejected(&db, Provider::Alipay, raw, refusal.0, now).await;
            log(ctx, "alipay", refusal.0, None);
            return alipay_answer(false);
        }
    };
    match settlement::apply(&db, &OsRandom, &report, raw, now).await {
        Ok(outcome) => {
            log(ctx, "alipay", outcome.label(), None);
            alipay_answer(outcome.acknowledge())
        }
        Err(err) => {
            log(ctx, "alipay", "storage", err.internal.as_deref());
            alipay_answer(false)
        }
    }
}

fn log(ctx: &Ctx, provider: &str, outcome: &str, detail: Option<&str>) {
    let line = serde_json::json!({ "level": "info", "event": "payment.notify", "request_id": ctx.request_id,
        "provider": provider, "outcome": outcome, "detail": detail });
    worker::console_log!("{line}");
}

/// Queries each due order from its provider and settles it; one order's
/// failure (provider down) is logged and the others still run. Each
/// provider's configuration (and private key) is read once per run.
pub async fn reconcile_run(env: &Env, now: BeijingTime, request_id: &str) -> ApiResult<Vec<reconcile::Found>> {
    let db = e::db(env)?;
    let due = reconcile::due(&db, now).await?;
    let wechat =
        due.iter().any(|d| d.provider == "wechatpay").then(|| Wechat::from_env(env).and_then(|w| Ok((w.api()?, w))));
    let alipay = due.iter().any(|d| d.provider != "wechatpay").then(|| Alipay::from_env(env).and_then(|a| a.api()));
    let mut found = Vec::with_capacity(due.len());
    for d in &due {
        let result = match d.provider.as_str() {
            "wechatpay" => match &wechat {
                Some(Ok((api, w))) => query_wechat(&db, api, w, d, now, request_id).await,
                Some(Err(err)) => Err(err.clone()),
                None => continue,
            },
            _ => match &alipay {
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
