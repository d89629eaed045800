//! Workers glue for payments: opening orders, the owner's order view, and
//! the two notification endpoints.

use crate::checkout::{self, Payer};
use crate::notify;
use crate::orders::{self, Provider};
use crate::payment::wechatpay::SignatureHeaders;
use crate::providers::{Alipay, Wechat};
use crate::settlement::{self, Outcome, Raw};
use shared::edge::{self as e, Ctx};
use shared::limits::MAX_BODY_BYTES;
use shared::runtime::OsRandom;
use shared::{ApiError, ApiResult};
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
    let payer = Payer { citizen: &who.id, bills: &bills, now: ctx.now() };
    // Configuration first: an unconfigured provider opens no order.
    let body = match provider {
        Provider::Wechatpay => {
            let api = Wechat::from_env(env)?.api()?;
            let (order, params) = checkout::wechatpay(&db, &OsRandom, &api, &payer).await?;
            serde_json::json!({ "order": order, "wechatpay": params })
        }
        Provider::Alipay => {
            let api = Alipay::from_env(env)?.api()?;
            let (order, order_string) = checkout::alipay(&db, &OsRandom, &api, &payer).await?;
            serde_json::json!({ "order": order, "alipay": { "order_string": order_string } })
        }
    };
    e::ok_json(&body, "private, no-store")
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
            log(ctx, Provider::Wechatpay, "unconfigured", err.internal.as_deref());
            return wechat_answer(503, "商户配置错误");
        }
    };
    let report = match notify::wechat(&wx.check(), headers, &body, now.to_utc().timestamp()) {
        Ok(r) => r,
        Err(refusal) => {
            if record_rejected(req, env, ctx, Provider::Wechatpay, raw, refusal).await.is_err() {
                return wechat_answer(500, "系统繁忙");
            }
            let status = if matches!(refusal.0, "malformed" | "missing_headers") { 400 } else { 401 };
            return wechat_answer(status, refusal.message());
        }
    };
    match settlement::apply(&db, &OsRandom, &report, raw, now).await {
        Ok(outcome) => {
            log(ctx, Provider::Wechatpay, outcome.label(), None);
            if outcome.acknowledge() { wechat_answer(204, "") } else { wechat_answer(400, review_message(outcome)) }
        }
        Err(err) => {
            log(ctx, Provider::Wechatpay, "storage", err.internal.as_deref());
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
            log(ctx, Provider::Alipay, "unconfigured", err.internal.as_deref());
            return e::text_response(503, "fail".into(), "text/plain; charset=utf-8").map_err(e::runtime_err);
        }
    };
    let parsed = shared::http::parse_form(&body).ok_or(notify::Refusal("malformed"));
    let report = match parsed.and_then(|params| notify::alipay(&ali.check(), &params)) {
        Ok(r) => r,
        Err(refusal) => {
            let _ = record_rejected(req, env, ctx, Provider::Alipay, raw, refusal).await;
            return alipay_answer(false);
        }
    };
    match settlement::apply(&db, &OsRandom, &report, raw, now).await {
        Ok(outcome) => {
            log(ctx, Provider::Alipay, outcome.label(), None);
            alipay_answer(outcome.acknowledge())
        }
        Err(err) => {
            log(ctx, Provider::Alipay, "storage", err.internal.as_deref());
            alipay_answer(false)
        }
    }
}

/// Records a refused callback, unless its client (by the HMAC of its IP,
/// `NOTIFY_LIMITER`: 10 a minute) or the provider's hourly share of rejected
/// rows ([`settlement::REJECTED_EVENTS_PER_HOUR`]) is used up: then it is
/// only logged here. The answer to the sender is the same either way. Only
/// refused callbacks are counted, so genuine notifications are never slowed.
async fn record_rejected(
    req: &Request,
    env: &Env,
    ctx: &Ctx,
    provider: Provider,
    raw: Raw<'_>,
    refusal: notify::Refusal,
) -> ApiResult<()> {
    if !client_may_store(req, env).await {
        log(ctx, provider, refusal.0, Some("not stored: client over NOTIFY_LIMITER"));
        return Ok(());
    }
    let stored = settlement::log_rejected(&e::db(env)?, provider, raw, refusal.0, ctx.now()).await?;
    log(ctx, provider, refusal.0, (!stored).then_some("not stored: hourly share of rejected callbacks used up"));
    Ok(())
}

/// Whether this client's refused callbacks may still be stored. A missing
/// limiter or pepper lets it through: the hourly share still bounds storage.
async fn client_may_store(req: &Request, env: &Env) -> bool {
    let ip = e::header(req, "cf-connecting-ip").unwrap_or_else(|| "unknown".into());
    let (Ok(limiter), Ok(pepper)) = (env.rate_limiter("NOTIFY_LIMITER"), e::pepper(env)) else {
        return true;
    };
    limiter.limit(pepper.ip_hash(&ip)).await.map_or(true, |o| o.success)
}

fn log(ctx: &Ctx, provider: Provider, outcome: &str, detail: Option<&str>) {
    let line = serde_json::json!({ "level": "info", "event": "payment.notify", "request_id": ctx.request_id,
        "provider": provider.as_str(), "outcome": outcome, "detail": detail });
    worker::console_log!("{line}");
}
