//! Workers glue for VAT invoice applications (增值税发票办理) and 票据管理.

use crate::invoices::{self, Application, LedgerInput, Step};
use shared::admin::{Act, Role};
use shared::edge::{self as e, Ctx};
use shared::http::Query;
use shared::limits::MAX_BODY_BYTES;
use shared::runtime::OsRandom;
use shared::uploads;
use shared::{ApiError, ApiResult};
use worker::{Env, Request, Response};

fn created<T: serde::Serialize>(body: &T) -> ApiResult<Response> {
    let resp = e::json_response(201, body).map_err(e::runtime_err)?;
    let _ = resp.headers().set("cache-control", "private, no-store");
    Ok(resp)
}

/// `POST /v1/invoices/uploads`: one document, the raw bytes with their type.
pub async fn upload(req: &mut Request, env: &Env, ctx: &Ctx) -> ApiResult<Response> {
    let db = e::db(env)?;
    let who = e::citizen(req, &db, ctx).await?;
    let declared = e::header(req, "content-type").unwrap_or_default();
    let bytes = e::capped_bytes(req, uploads::MAX_UPLOAD_BYTES).await?;
    created(
        &uploads::store(&db, &e::kv(env)?, &OsRandom, &who.id, &declared, &bytes, uploads::DOCUMENTS, ctx.now())
            .await?,
    )
}

/// `POST /v1/invoices`.
pub async fn apply(req: &mut Request, env: &Env, ctx: &Ctx) -> ApiResult<Response> {
    let db = e::db(env)?;
    let who = e::citizen(req, &db, ctx).await?;
    let body: Application = e::json_body(req, MAX_BODY_BYTES).await?;
    created(&invoices::apply(&db, &OsRandom, &who.id, &body, ctx.now()).await?)
}

/// `GET /v1/invoices`, `GET /v1/invoices/{id}`: the citizen's own.
pub async fn mine(req: &Request, env: &Env, ctx: &Ctx, id: Option<&str>) -> ApiResult<Response> {
    let db = e::db(env)?;
    let who = e::citizen(req, &db, ctx).await?;
    match id {
        Some(id) => e::ok_json(&invoices::get(&db, Some(&who.id), id).await?, "private, no-store"),
        None => {
            e::ok_json(&serde_json::json!({ "invoices": invoices::mine(&db, &who.id).await? }), "private, no-store")
        }
    }
}

/// `GET /v1/admin/invoices?status=` (billing_operator, auditor).
pub async fn queue(req: &Request, env: &Env, ctx: &Ctx) -> ApiResult<Response> {
    let db = e::db(env)?;
    let who = e::staff(req, &db, ctx).await?;
    who.require_any(&[Role::BillingOperator, Role::Auditor])?;
    let q = Query::parse(&ctx.query)?;
    let list = invoices::queue(&db, q.get("status")).await?;
    // The applications carry contact phones and bank accounts.
    let act = Act { who: &who, now: ctx.now(), request_id: &ctx.request_id };
    shared::admin::log_access(&db, &act, "invoice.queue", q.get("status").unwrap_or("all")).await?;
    e::ok_json(&serde_json::json!({ "invoices": list }), "no-store")
}

/// `GET /v1/admin/invoices/{id}/documents/{license|tax-notice}` (billing_operator).
pub async fn document(req: &Request, env: &Env, ctx: &Ctx, id: &str, which: &str) -> ApiResult<Response> {
    let db = e::db(env)?;
    let who = e::staff(req, &db, ctx).await?;
    who.require(Role::BillingOperator)?;
    let act = Act { who: &who, now: ctx.now(), request_id: &ctx.request_id };
    shared::admin::log_access(&db, &act, "invoice.document", &format!("{id}/{which}")).await?;
    let (ctype, bytes) = invoices::document(&db, &e::kv(env)?, id, which).await?;
    e::private_file(&ctype, bytes)
}

/// `POST /v1/admin/invoices/{id}/steps` (billing_operator): issue, mail, reject.
pub async fn step(req: &mut Request, env: &Env, ctx: &Ctx, id: &str) -> ApiResult<Response> {
    let db = e::db(env)?;
    let who = e::staff(req, &db, ctx).await?;
    who.require(Role::BillingOperator)?;
    let body: Step = e::json_body(req, MAX_BODY_BYTES).await?;
    let act = Act { who: &who, now: ctx.now(), request_id: &ctx.request_id };
    e::ok_json(&invoices::step(&db, &OsRandom, &act, id, &body).await?, "no-store")
}

/// `GET /v1/admin/invoice-ledger?from=&to=` (billing_operator, auditor).
pub async fn ledger(req: &Request, env: &Env, ctx: &Ctx) -> ApiResult<Response> {
    let db = e::db(env)?;
    e::staff(req, &db, ctx).await?.require_any(&[Role::BillingOperator, Role::Auditor])?;
    let q = Query::parse(&ctx.query)?;
    let day = |k: &str, default: &str| -> ApiResult<String> {
        Ok(q.date(k)?.map_or_else(|| default.to_owned(), |d| d.to_string()))
    };
    let (from, to) = (day("from", "0000-01-01")?, day("to", "9999-12-31")?);
    e::ok_json(&serde_json::json!({ "entries": invoices::ledger(&db, &from, &to).await? }), "no-store")
}

/// `POST /v1/admin/invoice-ledger` (billing_operator).
pub async fn record(req: &mut Request, env: &Env, ctx: &Ctx) -> ApiResult<Response> {
    let db = e::db(env)?;
    let who = e::staff(req, &db, ctx).await?;
    who.require(Role::BillingOperator)?;
    let body: LedgerInput = e::json_body(req, MAX_BODY_BYTES).await?;
    let act = Act { who: &who, now: ctx.now(), request_id: &ctx.request_id };
    created(&invoices::record(&db, &act, &body).await?)
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct VoidBody {
    reason: String,
}

/// `POST /v1/admin/invoice-ledger/{id}/void` (billing_operator).
pub async fn void(req: &mut Request, env: &Env, ctx: &Ctx, id: &str) -> ApiResult<Response> {
    let db = e::db(env)?;
    let who = e::staff(req, &db, ctx).await?;
    who.require(Role::BillingOperator)?;
    let id: i64 = id.parse().map_err(|_| ApiError::bad_field("id", "票据记录编号应为整数"))?;
    let body: VoidBody = e::json_body(req, MAX_BODY_BYTES).await?;
    let act = Act { who: &who, now: ctx.now(), request_id: &ctx.request_id };
    e::ok_json(&invoices::void(&db, &act, id, &body.reason).await?, "no-store")
}
