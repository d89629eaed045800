//! `/v1/me/outage-subscriptions`: the citizen's own subscriptions.

use crate::subscriptions::{self, SubscribeBody};
use shared::ApiResult;
use shared::edge::{self as e, Ctx};
use shared::http::path_segment;
use shared::limits::MAX_BODY_BYTES;
use shared::runtime::OsRandom;
use worker::{Env, Request, Response};

pub async fn list(req: &Request, env: &Env, ctx: &Ctx) -> ApiResult<Response> {
    let db = e::db(env)?;
    let me = e::citizen(req, &db, ctx).await?;
    let list = subscriptions::list(&db, &me.id).await?;
    e::ok_json(&serde_json::json!({ "subscriptions": list }), "private, no-store")
}

pub async fn create(req: &mut Request, env: &Env, ctx: &Ctx) -> ApiResult<Response> {
    let db = e::db(env)?;
    let me = e::citizen(req, &db, ctx).await?;
    let body: SubscribeBody = e::json_body(req, MAX_BODY_BYTES).await?;
    let (sub, added) = subscriptions::subscribe(&db, &OsRandom, &me.id, &body, ctx.now()).await?;
    let resp = e::ok_json(&sub, "private, no-store")?;
    Ok(if added { resp.with_status(201) } else { resp })
}

pub async fn delete(req: &Request, env: &Env, ctx: &Ctx, id: &str) -> ApiResult<Response> {
    let db = e::db(env)?;
    let me = e::citizen(req, &db, ctx).await?;
    subscriptions::delete(&db, &me.id, &path_segment(id)?).await?;
    e::no_content()
}
