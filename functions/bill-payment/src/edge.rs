//! Workers glue for water accounts and bills.

use crate::bill_import as import;
use crate::bills;
use crate::phone_keys;
use shared::admin::{self, Act};
use shared::edge::{self as e, Ctx, EdgeClock};
use shared::http::{Query, path_segment};
use shared::limits::{MAX_BODY_BYTES, MAX_IMPORT_BYTES};
use shared::runtime::{Clock, OsRandom};
use shared::types::MobileNumber;
use shared::{ApiError, ApiResult, ErrorCode};
use worker::{Env, Method, Request, Response};

use crate::{invoice, pay, reconcile_routes};

shared::edge_entry!(dispatch);

async fn dispatch(req: &mut Request, env: &Env, ctx: &Ctx) -> ApiResult<Response> {
    let segs = ctx.segments();
    match (&ctx.method, segs.as_slice()) {
        (Method::Get, ["v1", "me", "water-accounts"]) => accounts(req, env, ctx).await,
        (Method::Post, ["v1", "me", "water-accounts"]) => bind(req, env, ctx).await,
        (Method::Delete, ["v1", "me", "water-accounts", acct]) => unbind(req, env, ctx, acct).await,
        (Method::Get, ["v1", "bills"]) => list(req, env, ctx, false).await,
        (Method::Get, ["v1", "bills", "statement"]) => list(req, env, ctx, true).await,
        (Method::Get, ["v1", "bills", id]) => one(req, env, ctx, id).await,
        (Method::Post, ["v1", "bills", id, "pay"]) => pay::pay(req, env, ctx, id).await,
        (Method::Post, ["v1", "payments", "wechatpay", "notify"]) => pay::wechat_notify(req, env, ctx).await,
        (Method::Post, ["v1", "payments", "alipay", "notify"]) => pay::alipay_notify(req, env, ctx).await,
        (Method::Get, ["v1", "payments", otn]) => pay::order(req, env, ctx, otn).await,
        (Method::Post, ["v1", "invoices", "uploads"]) => invoice::upload(req, env, ctx).await,
        (Method::Post, ["v1", "invoices"]) => invoice::apply(req, env, ctx).await,
        (Method::Get, ["v1", "invoices"]) => invoice::mine(req, env, ctx, None).await,
        (Method::Get, ["v1", "invoices", id]) => invoice::mine(req, env, ctx, Some(id)).await,
        (Method::Get, ["v1", "admin", "invoices"]) => invoice::queue(req, env, ctx).await,
        (Method::Get, ["v1", "admin", "invoices", id, "documents", which]) => {
            invoice::document(req, env, ctx, id, which).await
        }
        (Method::Post, ["v1", "admin", "invoices", id, "steps"]) => invoice::step(req, env, ctx, id).await,
        (Method::Get, ["v1", "admin", "invoice-ledger"]) => invoice::ledger(req, env, ctx).await,
        (Method::Post, ["v1", "admin", "invoice-ledger"]) => invoice::record(req, env, ctx).await,
        (Method::Post, ["v1", "admin", "invoice-ledger", id, "void"]) => invoice::void(req, env, ctx, id).await,
        (Method::Post, ["v1", "admin", "bills:import"]) => import_bills(req, env, ctx).await,
        (Method::Post, ["v1", "admin", "billing", "phone-keys:rekey"]) => rekey_phones(req, env, ctx).await,
        (Method::Post, ["v1", "admin", "payments:reconcile"]) => reconcile_routes::reconcile_now(req, env, ctx).await,
        (Method::Get, ["v1", "admin", "payments", "reconciliation"]) => {
            reconcile_routes::day_report(req, env, ctx).await
        }
        (Method::Get, ["v1", "admin", "payments", "reviews"]) => reconcile_routes::reviews(req, env, ctx).await,
        (Method::Post, ["v1", "admin", "payments", "reviews", id, "resolve"]) => {
            reconcile_routes::resolve(req, env, ctx, id).await
        }
        (_, ["v1", "me", "water-accounts", ..] | ["v1", "admin", "bills:import"] | ["v1", "bills", ..])
        | (_, ["v1", "admin", "billing", "phone-keys:rekey"])
        | (_, ["v1", "payments", ..] | ["v1", "admin", "payments" | "payments:reconcile", ..])
        | (_, ["v1", "invoices", ..] | ["v1", "admin", "invoices" | "invoice-ledger", ..]) => {
            Err(ErrorCode::MethodNotAllowed.into())
        }
        _ => Err(ErrorCode::NotFound.into()),
    }
}

async fn accounts(req: &Request, env: &Env, ctx: &Ctx) -> ApiResult<Response> {
    let db = e::db(env)?;
    let who = e::citizen(req, &db, ctx).await?;
    e::ok_json(&serde_json::json!({ "accounts": bills::accounts(&db, &who.id).await? }), "private, no-store")
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct BindBody {
    account: String,
    phone: MobileNumber,
}

async fn bind(req: &mut Request, env: &Env, ctx: &Ctx) -> ApiResult<Response> {
    let db = e::db(env)?;
    let who = e::citizen(req, &db, ctx).await?;
    let body: BindBody = e::json_body(req, MAX_BODY_BYTES).await?;
    let list = bills::bind(&db, &e::pepper(env)?, &who.id, &body.account, &body.phone, ctx.now()).await?;
    e::ok_json(&serde_json::json!({ "accounts": list }), "private, no-store")
}

async fn unbind(req: &Request, env: &Env, ctx: &Ctx, acct: &str) -> ApiResult<Response> {
    let db = e::db(env)?;
    let who = e::citizen(req, &db, ctx).await?;
    bills::unbind(&db, &who.id, &path_segment(acct)?).await?;
    e::no_content()
}

fn month(q: &Query, key: &str) -> ApiResult<Option<String>> {
    q.get(key)
        .map(|m| crate::account::period(m).ok_or_else(|| ApiError::bad_field(key, format!("{key} 的格式应为 YYYY-MM"))))
        .transpose()
}

async fn list(req: &Request, env: &Env, ctx: &Ctx, statement: bool) -> ApiResult<Response> {
    let db = e::db(env)?;
    let who = e::citizen(req, &db, ctx).await?;
    let q = Query::parse(&ctx.query)?;
    let acct = q.get("account").ok_or_else(|| ApiError::bad_field("account", "请提供表卡编号 account"))?;
    let range = bills::Range { from: month(&q, "from")?, to: month(&q, "to")? };
    if statement {
        return e::ok_json(&bills::statement(&db, &who.id, acct, &range, ctx.now()).await?, "private, no-store");
    }
    // The citizen's id is part of the key: a list is never served to anyone else.
    let key = format!("{}|{acct}|{:?}|{:?}", who.id, range.from, range.to);
    let now_ms = EdgeClock.now().timestamp_millis();
    let body = match bill_cache().get(&key, now_ms) {
        Some(body) => body.as_str().to_owned(),
        None => {
            let list = bills::list(&db, &who.id, acct, &range, ctx.now()).await?;
            let body = serde_json::json!({ "bills": list }).to_string();
            bill_cache().put(&key, std::rc::Rc::new(body.clone()), now_ms);
            body
        }
    };
    let resp = e::text_response(200, body, "application/json; charset=utf-8").map_err(e::runtime_err)?;
    let _ = resp.headers().set("cache-control", "private, no-store");
    Ok(resp)
}

shared::isolate_cache! {
    /// Bill lists kept for 2 s per isolate and citizen: a burst of reloads
    /// costs one D1 query. A payment shows in the list within 2 s; the order
    /// view (`GET /v1/payments/{no}`) and a single bill are never cached.
    fn bill_cache() -> String = (500, 2_000);
}

async fn one(req: &Request, env: &Env, ctx: &Ctx, id: &str) -> ApiResult<Response> {
    let db = e::db(env)?;
    let who = e::citizen(req, &db, ctx).await?;
    e::ok_json(&bills::get(&db, &who.id, id, ctx.now()).await?, "private, no-store")
}

async fn import_bills(req: &mut Request, env: &Env, ctx: &Ctx) -> ApiResult<Response> {
    let db = e::db(env)?;
    let who = e::staff(req, &db, ctx).await?;
    who.require(admin::Role::BillingOperator)?;
    let body: import::ImportBody = e::json_body(req, MAX_IMPORT_BYTES).await?;
    let act = Act { who: &who, now: ctx.now(), request_id: &ctx.request_id };
    let (pepper, vault) = (e::pepper(env)?, e::phone_vault(env)?);
    let phones = import::Phones { pepper: &pepper, vault: &vault, ids: &OsRandom };
    e::ok_json(&import::apply(&db, &phones, &act, &body).await?, "no-store")
}

async fn rekey_phones(req: &mut Request, env: &Env, ctx: &Ctx) -> ApiResult<Response> {
    let db = e::db(env)?;
    let who = e::staff(req, &db, ctx).await?;
    who.require(admin::Role::BillingOperator)?;
    let limit = phone_keys::parse_limit(&e::capped_bytes(req, MAX_BODY_BYTES).await?)?;
    let act = Act { who: &who, now: ctx.now(), request_id: &ctx.request_id };
    e::ok_json(&phone_keys::rekey(&db, &e::phone_vault(env)?, &OsRandom, &act, limit).await?, "no-store")
}

/// Cron `*/10 * * * *`: reconciliation (pending orders queried from their
/// provider), then the bill reminders (`reminder_cron`).
#[worker::event(scheduled)]
async fn scheduled(event: worker::ScheduledEvent, env: Env, _ctx: worker::ScheduleContext) {
    use shared::runtime::IdSource;
    let now = shared::types::BeijingTime::from_utc(shared::edge::EdgeClock.now());
    let request_id = format!("cron-{}", OsRandom.hex(8).unwrap_or_default());
    let line = match reconcile_routes::reconcile_run(&env, now, &request_id).await {
        Ok(found) => serde_json::json!({ "level": "info", "event": "payment.reconcile", "cron": event.cron(),
            "queried": found.len(), "orders": found }),
        Err(err) => serde_json::json!({ "level": "error", "event": "payment.reconcile", "code": err.code.as_str(),
            "detail": err.internal }),
    };
    worker::console_log!("{line}");
    let reminders = crate::reminder_cron::run(&env, now, &request_id).await;
    worker::console_log!("{reminders}");
}
