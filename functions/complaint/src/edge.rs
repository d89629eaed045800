//! Workers glue for complaints.

use shared::admin::{Act, Role};
use shared::complaint::handling::{self, Step};
use shared::complaint::{self, Submission};
use shared::edge::{self as e, Ctx};
use shared::limits::MAX_BODY_BYTES;
use shared::runtime::OsRandom;
use shared::{ApiError, ApiResult, ErrorCode};
use worker::{Env, Method, Request, Response};

shared::edge_entry!(dispatch);

async fn dispatch(req: &mut Request, env: &Env, ctx: &Ctx) -> ApiResult<Response> {
    let segs = ctx.segments();
    match (&ctx.method, segs.as_slice()) {
        (Method::Post, ["v1", "complaints"]) => submit(req, env, ctx).await,
        (Method::Get, ["v1", "complaints", number]) => lookup(req, env, ctx, number).await,
        (Method::Post, ["v1", "complaints", number, "rating"]) => rate(req, env, ctx, number).await,
        (Method::Get, ["v1", "admin", "complaints"]) => staff_list(req, env, ctx).await,
        (Method::Get, ["v1", "admin", "complaints", "stats"]) => stats(req, env, ctx).await,
        (Method::Get, ["v1", "admin", "complaints", number]) if *number != "stats" => {
            staff_case(req, env, ctx, number).await
        }
        (Method::Post, ["v1", "admin", "complaints", number, "steps"]) => step(req, env, ctx, number).await,
        (_, ["v1", "complaints"] | ["v1", "complaints", _] | ["v1", "complaints", _, "rating"]) => {
            Err(ErrorCode::MethodNotAllowed.into())
        }
        _ => e::planned_routes(ctx, crate::ROUTES),
    }
}

async fn submit(req: &mut Request, env: &Env, ctx: &Ctx) -> ApiResult<Response> {
    let db = e::db(env)?;
    let who = e::citizen(req, &db, ctx).await?;
    let key = e::idempotency_key(req)?;
    let body: Submission = e::json_body(req, MAX_BODY_BYTES).await?;
    let days = |kind: &str| {
        e::config(env, &format!("COMPLAINT_DAYS_{}", kind.to_ascii_uppercase())).and_then(|v| v.parse().ok())
    };
    let (r, replayed) = complaint::submit(&db, &OsRandom, &who.id, &body, key.as_deref(), days, ctx.now()).await?;
    let resp = e::ok_json(&r, "private, no-store")?;
    Ok(if replayed { resp } else { resp.with_status(201) })
}

/// The author (with a valid session) gets the full record and the timeline;
/// everyone else the public view.
async fn lookup(req: &Request, env: &Env, ctx: &Ctx, number: &str) -> ApiResult<Response> {
    let db = e::db(env)?;
    let ip = e::header(req, "cf-connecting-ip").unwrap_or_else(|| "unknown".into());
    complaint::count_lookup(&db, &e::pepper(env)?.ip_hash(&ip), ctx.now()).await?;
    let public = complaint::public_view(&db, number).await?;
    if e::header(req, "authorization").is_some()
        && let Ok(who) = e::citizen(req, &db, ctx).await
        && let Ok(mine) = complaint::mine(&db, &who.id, number).await
    {
        let body = serde_json::json!({ "record": mine, "timeline": public.timeline });
        return e::ok_json(&body, "private, no-store");
    }
    e::ok_json(&public, "no-store")
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Rating {
    score: i64,
    #[serde(default)]
    comment: String,
}

async fn rate(req: &mut Request, env: &Env, ctx: &Ctx, number: &str) -> ApiResult<Response> {
    let db = e::db(env)?;
    let who = e::citizen(req, &db, ctx).await?;
    let body: Rating = e::json_body(req, MAX_BODY_BYTES).await?;
    handling::rate(&db, &who.id, number, body.score, &body.comment, ctx.now()).await?;
    e::no_content()
}

async fn staff_list(req: &Request, env: &Env, ctx: &Ctx) -> ApiResult<Response> {
    e::staff(req, &e::db(env)?, ctx).await?.require_any(&[Role::ComplaintHandler, Role::Auditor])?;
    let q = shared::http::Query::parse(&ctx.query)?;
    let status = match q.get("status") {
        None => None,
        Some(s @ ("received" | "assigned" | "replied" | "referred" | "closed")) => Some(s),
        Some(_) => {
            return Err(ApiError::bad_field("status", "status 应为 received、assigned、replied、referred 或 closed"));
        }
    };
    let overdue = matches!(q.get("overdue"), Some("true" | "1"));
    let rows = handling::list(&e::db(env)?, status, overdue, ctx.now()).await?;
    e::ok_json(&serde_json::json!({ "complaints": rows }), "no-store")
}

async fn staff_case(req: &Request, env: &Env, ctx: &Ctx, number: &str) -> ApiResult<Response> {
    let who = e::staff(req, &e::db(env)?, ctx).await?;
    let act = Act { who: &who, now: ctx.now(), request_id: &ctx.request_id };
    e::ok_json(&handling::case(&e::db(env)?, &act, number).await?, "no-store")
}

async fn step(req: &mut Request, env: &Env, ctx: &Ctx, number: &str) -> ApiResult<Response> {
    let who = e::staff(req, &e::db(env)?, ctx).await?;
    let body: Step = e::json_body(req, MAX_BODY_BYTES).await?;
    let act = Act { who: &who, now: ctx.now(), request_id: &ctx.request_id };
    e::ok_json(&handling::act_on(&e::db(env)?, &OsRandom, &act, number, &body).await?, "no-store")
}

fn date(q: &shared::http::Query, key: &str) -> ApiResult<chrono::NaiveDate> {
    let raw = q.get(key).ok_or_else(|| ApiError::bad_field(key, format!("请提供 {key}（YYYY-MM-DD）")))?;
    chrono::NaiveDate::parse_from_str(raw, "%Y-%m-%d").map_err(|_| ApiError::bad_field(key, "日期格式应为 YYYY-MM-DD"))
}

async fn stats(req: &Request, env: &Env, ctx: &Ctx) -> ApiResult<Response> {
    e::staff(req, &e::db(env)?, ctx).await?.require_any(&[Role::ComplaintHandler, Role::Auditor])?;
    let q = shared::http::Query::parse(&ctx.query)?;
    let (from, to) = (date(&q, "from")?, date(&q, "to")?);
    if from > to || (to - from).num_days() > 366 {
        return Err(ApiError::bad_field("from,to", "日期范围应在一年以内，且 from 不晚于 to"));
    }
    e::ok_json(&handling::stats(&e::db(env)?, from, to, ctx.now()).await?, "no-store")
}

/// The hourly deadline sweep: overdue marks and due-soon warnings, logged.
#[worker::event(scheduled)]
async fn scheduled(event: worker::ScheduledEvent, env: Env, _ctx: worker::ScheduleContext) {
    use shared::runtime::Clock;
    let now = shared::types::BeijingTime::from_utc(shared::edge::EdgeClock.now());
    let line = match e::db(&env) {
        Ok(db) => match handling::sweep(&db, now).await {
            Ok(s) => serde_json::json!({ "level": "info", "event": "complaint.sweep", "cron": event.cron(),
                "overdue": s.overdue, "warned": s.warned }),
            Err(err) => {
                serde_json::json!({ "level": "error", "event": "complaint.sweep", "code": err.code.as_str(), "detail": err.internal })
            }
        },
        Err(err) => serde_json::json!({ "level": "error", "event": "complaint.sweep", "code": err.code.as_str() }),
    };
    worker::console_log!("{line}");
}
