//! Workers glue for outage notices.

use shared::admin::Act;
use shared::edge::{self as e, Ctx};
use shared::http::{Query, path_segment};
use shared::limits::MAX_BODY_BYTES;
use shared::outage::publish::{self, OutageBody};
use shared::outage::rules::QuietHours;
use shared::runtime::OsRandom;
use shared::{ApiError, ApiResult, ErrorCode};
use worker::{Env, Method, Request, Response};

shared::edge_entry!(dispatch);

async fn dispatch(req: &mut Request, env: &Env, ctx: &Ctx) -> ApiResult<Response> {
    let segs = ctx.segments();
    match (&ctx.method, segs.as_slice()) {
        (Method::Post, ["v1", "admin", "outages"]) => create(req, env, ctx).await,
        (Method::Get, ["v1", "outages"]) => list(env, ctx).await,
        (Method::Get, ["v1", "outages", id]) => one(env, id).await,
        (_, ["v1", "outages", ..] | ["v1", "admin", "outages"]) => Err(ErrorCode::MethodNotAllowed.into()),
        _ => e::planned_routes(ctx, crate::ROUTES),
    }
}

async fn create(req: &mut Request, env: &Env, ctx: &Ctx) -> ApiResult<Response> {
    let db = e::db(env)?;
    let who = e::staff(req, &db, ctx).await?;
    let key = e::idempotency_key(req)?;
    let body: OutageBody = e::json_body(req, MAX_BODY_BYTES).await?;
    let sign = e::config(env, "SMS_SIGN_NAME").unwrap_or_else(|| "义乌便民".into());
    let act = Act { who: &who, now: ctx.now(), request_id: &ctx.request_id };
    let (o, replayed) =
        publish::publish(&db, &OsRandom, &act, &body, key.as_deref(), &sign, QuietHours::default()).await?;
    let resp = e::ok_json(&o, "no-store")?;
    Ok(if replayed || o.status == "preview" { resp } else { resp.with_status(201) })
}

async fn list(env: &Env, ctx: &Ctx) -> ApiResult<Response> {
    let q = Query::parse(&ctx.query)?;
    let utility = match q.get("utility") {
        None => None,
        Some(u @ ("water" | "gas")) => Some(u),
        Some(_) => return Err(ApiError::bad_field("utility", "utility 应为 water 或 gas")),
    };
    let list = publish::public_list(&e::db(env)?, q.get("area"), utility, ctx.now()).await?;
    e::ok_json(&serde_json::json!({ "outages": list }), "public, max-age=30")
}

async fn one(env: &Env, id: &str) -> ApiResult<Response> {
    e::ok_json(&publish::get(&e::db(env)?, &path_segment(id)?).await?, "public, max-age=30")
}
