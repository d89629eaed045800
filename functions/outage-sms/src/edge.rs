//! Workers glue for outage notices: routes, then the fan-out (`fanout`),
//! subscriptions (`subs`) and the provider's callbacks (`callbacks`).

use crate::areas::{self, AccountsBody, AreasBody};
use crate::changes::{self, AmendBody, CancelBody};
use crate::delivery_report;
use crate::listing;
use crate::notices;
use crate::publish::{self, OutageBody};
use crate::rules::Utility;
use crate::states::OutageStatus;
use crate::{callbacks, fanout, subs};
use shared::admin::Act;
use shared::edge::{self as e, Ctx};
use shared::http::{Query, path_segment};
use shared::limits::MAX_BODY_BYTES;
use shared::runtime::OsRandom;
use shared::{ApiError, ApiResult, ErrorCode};
use worker::{Env, Method, Request, Response};

shared::edge_entry!(dispatch);

/// Bulk loads may be large: 5,000 accounts of about 60 bytes.
const LOAD_BYTES: usize = 512 * 1024;

async fn dispatch(req: &mut Request, env: &Env, ctx: &Ctx) -> ApiResult<Response> {
    let segs = ctx.segments();
    match (&ctx.method, segs.as_slice()) {
        (Method::Post, ["v1", "admin", "outages"]) => create(req, env, ctx).await,
        (Method::Get, ["v1", "admin", "outages"]) => admin_list(req, env, ctx).await,
        (Method::Post, ["v1", "admin", "outages:preview"]) => preview(req, env, ctx).await,
        (Method::Get, ["v1", "admin", "outages", id]) => admin_one(req, env, ctx, id).await,
        (Method::Get, ["v1", "admin", "supply-areas"]) => area_tree(req, env, ctx).await,
        (Method::Post, ["v1", "admin", "outages", action]) => change(req, env, ctx, action).await,
        (Method::Get, ["v1", "admin", "outages", id, "delivery"]) => delivery(req, env, ctx, id).await,
        (Method::Put, ["v1", "admin", "supply-areas"]) => load_areas(req, env, ctx).await,
        (Method::Put, ["v1", "admin", "supply-accounts"]) => load_accounts(req, env, ctx).await,
        (Method::Get, ["v1", "outages"]) => list(env, ctx).await,
        (Method::Get, ["v1", "outages", id]) => one(env, id).await,
        (Method::Get, ["v1", "me", "outage-subscriptions"]) => subs::list(req, env, ctx).await,
        (Method::Post, ["v1", "me", "outage-subscriptions"]) => subs::create(req, env, ctx).await,
        (Method::Delete, ["v1", "me", "outage-subscriptions", id]) => subs::delete(req, env, ctx, id).await,
        (Method::Post, ["v1", "sms", "receipts"]) => callbacks::receipts(req, env, ctx).await,
        (Method::Post, ["v1", "sms", "uplink"]) => callbacks::uplink(req, env, ctx).await,
        (
            _,
            ["v1", "outages", ..]
            | ["v1", "admin", "outages" | "outages:preview" | "supply-areas" | "supply-accounts", ..],
        )
        | (_, ["v1", "me", "outage-subscriptions", ..] | ["v1", "sms", "receipts" | "uplink"]) => {
            Err(ErrorCode::MethodNotAllowed.into())
        }
        _ => Err(ErrorCode::NotFound.into()),
    }
}

fn sign(env: &Env) -> String {
    e::config(env, "SMS_SIGN_NAME").unwrap_or_else(|| "义乌便民".into())
}

async fn create(req: &mut Request, env: &Env, ctx: &Ctx) -> ApiResult<Response> {
    let db = e::db(env)?;
    let who = e::staff(req, &db, ctx).await?;
    let key = e::idempotency_key(req)?;
    let body: OutageBody = e::json_body(req, MAX_BODY_BYTES).await?;
    let act = Act { who: &who, now: ctx.now(), request_id: &ctx.request_id };
    let (o, replayed) =
        publish::publish(&db, &OsRandom, &act, &body, key.as_deref(), &sign(env), fanout::quiet(env)).await?;
    if o.status == OutageStatus::Published {
        fanout::due_now(env, &db, &o.id, ctx.now()).await?;
    }
    let resp = e::ok_json(&o, "no-store")?;
    Ok(if replayed || o.status == OutageStatus::Preview { resp } else { resp.with_status(201) })
}

async fn preview(req: &mut Request, env: &Env, ctx: &Ctx) -> ApiResult<Response> {
    let db = e::db(env)?;
    let who = e::staff(req, &db, ctx).await?;
    let body: OutageBody = e::json_body(req, MAX_BODY_BYTES).await?;
    let act = Act { who: &who, now: ctx.now(), request_id: &ctx.request_id };
    e::ok_json(&publish::preview(&db, &act, &body, &sign(env), fanout::quiet(env)).await?, "no-store")
}

async fn admin_list(req: &Request, env: &Env, ctx: &Ctx) -> ApiResult<Response> {
    let db = e::db(env)?;
    let who = e::staff(req, &db, ctx).await?;
    let q = listing::ListQuery::parse(&Query::parse(&ctx.query)?)?;
    e::ok_json(&listing::list(&db, &who, &q).await?, "no-store")
}

async fn admin_one(req: &Request, env: &Env, ctx: &Ctx, id: &str) -> ApiResult<Response> {
    let db = e::db(env)?;
    let who = e::staff(req, &db, ctx).await?;
    let id = path_segment(id)?;
    e::ok_json(&listing::record(&db, &who, &id).await?, "no-store")
}

async fn area_tree(req: &Request, env: &Env, ctx: &Ctx) -> ApiResult<Response> {
    let db = e::db(env)?;
    let who = e::staff(req, &db, ctx).await?;
    e::ok_json(&listing::area_tree(&db, &who).await?, "no-store")
}

/// `{id}:amend`, `{id}:cancel`, `{id}:republish`.
async fn change(req: &mut Request, env: &Env, ctx: &Ctx, action: &str) -> ApiResult<Response> {
    let Some((id, verb)) = action.split_once(':') else { return Err(ErrorCode::NotFound.into()) };
    if !matches!(verb, "amend" | "cancel" | "republish") {
        return Err(ErrorCode::NotFound.into());
    }
    let id = path_segment(id)?;
    let db = e::db(env)?;
    let who = e::staff(req, &db, ctx).await?;
    let act = Act { who: &who, now: ctx.now(), request_id: &ctx.request_id };
    let o = match verb {
        "amend" => {
            let body: AmendBody = e::json_body(req, MAX_BODY_BYTES).await?;
            changes::amend(&db, &act, &id, &body, &sign(env), fanout::quiet(env)).await?
        }
        "cancel" => {
            let body: CancelBody = e::json_body(req, MAX_BODY_BYTES).await?;
            changes::cancel(&db, &act, &id, &body, &sign(env), fanout::quiet(env)).await?
        }
        _ => {
            who.require(shared::admin::Role::OutagePublisher)?;
            let version = notices::republishable(&db, &id).await?;
            let added = fanout::republish(env, &db, &act, &id, version).await?;
            return e::ok_json(&added, "no-store");
        }
    };
    fanout::due_now(env, &db, &o.id, ctx.now()).await?;
    e::ok_json(&o, "no-store")
}

async fn delivery(req: &Request, env: &Env, ctx: &Ctx, id: &str) -> ApiResult<Response> {
    let db = e::db(env)?;
    let who = e::staff(req, &db, ctx).await?;
    who.require_any(&[shared::admin::Role::OutagePublisher, shared::admin::Role::Auditor])?;
    let id = path_segment(id)?;
    notices::get(&db, &id).await?;
    e::ok_json(&delivery_report::delivery(&db, &id).await?, "no-store")
}

async fn load_areas(req: &mut Request, env: &Env, ctx: &Ctx) -> ApiResult<Response> {
    let db = e::db(env)?;
    let who = e::staff(req, &db, ctx).await?;
    let body: AreasBody = e::json_body(req, LOAD_BYTES).await?;
    let act = Act { who: &who, now: ctx.now(), request_id: &ctx.request_id };
    e::ok_json(&areas::load_areas(&db, &act, &body).await?, "no-store")
}

async fn load_accounts(req: &mut Request, env: &Env, ctx: &Ctx) -> ApiResult<Response> {
    let db = e::db(env)?;
    let who = e::staff(req, &db, ctx).await?;
    let body: AccountsBody = e::json_body(req, LOAD_BYTES).await?;
    let act = Act { who: &who, now: ctx.now(), request_id: &ctx.request_id };
    e::ok_json(&areas::load_accounts(&db, &act, &body).await?, "no-store")
}

async fn list(env: &Env, ctx: &Ctx) -> ApiResult<Response> {
    let q = Query::parse(&ctx.query)?;
    let utility = q.get("utility");
    if utility.is_some_and(|u| Utility::parse(u).is_none()) {
        return Err(ApiError::bad_field("utility", "utility 应为 water 或 gas"));
    }
    let list = notices::public_list(&e::db(env)?, q.get("area"), utility, ctx.now()).await?;
    e::ok_json(&serde_json::json!({ "outages": list }), "public, max-age=30")
}

async fn one(env: &Env, id: &str) -> ApiResult<Response> {
    e::ok_json(&notices::get(&e::db(env)?, &path_segment(id)?).await?, "public, max-age=30")
}
