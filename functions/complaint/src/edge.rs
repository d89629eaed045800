//! Workers glue for complaints.

use crate::handling;
use crate::record;
use crate::step::Step;
use crate::submission::Submission;
use shared::admin::{Act, Role};
use shared::edge::{self as e, Ctx};
use shared::limits::MAX_BODY_BYTES;
use shared::runtime::OsRandom;
use shared::uploads;
use shared::wechat_notify::Purpose;
use shared::{ApiError, ApiResult, ErrorCode};
use worker::{Env, Method, Request, Response};

shared::edge_entry!(dispatch);

async fn dispatch(req: &mut Request, env: &Env, ctx: &Ctx) -> ApiResult<Response> {
    let segs = ctx.segments();
    match (&ctx.method, segs.as_slice()) {
        (Method::Post, ["v1", "complaints"]) => submit(req, env, ctx).await,
        (Method::Post, ["v1", "complaints", "uploads"]) => upload(req, env, ctx).await,
        (Method::Get, ["v1", "admin", "complaints", number, "photos", id]) => photo(req, env, ctx, number, id).await,
        (Method::Get, ["v1", "complaints", number]) => lookup(req, env, ctx, number).await,
        (Method::Post, ["v1", "complaints", number, "rating"]) => rate(req, env, ctx, number).await,
        (Method::Get, ["v1", "admin", "complaints"]) => staff_list(req, env, ctx).await,
        (Method::Get, ["v1", "admin", "complaints", "stats"]) => stats(req, env, ctx).await,
        (Method::Get, ["v1", "admin", "complaints", number]) if *number != "stats" => {
            staff_case(req, env, ctx, number).await
        }
        (Method::Post, ["v1", "admin", "complaints", number, "steps"]) => step(req, env, ctx, number).await,
        (Method::Post, ["v1", "admin", "complaints", number, "faq"]) => to_faq(req, env, ctx, number).await,
        (Method::Get, ["v1", "faq"]) => faq_search(env, ctx).await,
        (_, ["v1", "faq"]) => Err(ErrorCode::MethodNotAllowed.into()),
        (_, ["open311", "v2", rest @ ..]) => crate::open311_routes::serve(req, env, ctx, rest).await,
        (_, ["v1", "complaints"] | ["v1", "complaints", _] | ["v1", "complaints", _, "rating"]) => {
            Err(ErrorCode::MethodNotAllowed.into())
        }
        _ => Err(ErrorCode::NotFound.into()),
    }
}

async fn submit(req: &mut Request, env: &Env, ctx: &Ctx) -> ApiResult<Response> {
    let db = e::db(env)?;
    // Logged in, or anonymous with a phone confirmed by its SMS code.
    let who = match e::header(req, "authorization") {
        Some(_) => Some(e::citizen(req, &db, ctx).await?),
        None => None,
    };
    let key = e::idempotency_key(req)?;
    let body: Submission = e::json_body(req, MAX_BODY_BYTES).await?;
    let days = |kind: &str| crate::config::handling_days(env, kind);
    let (r, replayed) = match who {
        Some(who) => record::submit(&db, &OsRandom, &who.id, &body, key.as_deref(), days, ctx.now()).await?,
        None => {
            let pepper = e::pepper(env)?;
            record::submit_by_phone(&db, &OsRandom, &pepper, &body, key.as_deref(), days, ctx.now()).await?
        }
    };
    let resp = e::ok_json(&r, "private, no-store")?;
    Ok(if replayed { resp } else { resp.with_status(201) })
}

shared::isolate_cache! {
    /// Public views kept 5 s per isolate: a burst of lookups of one number
    /// costs one D1 query; a new step shows within 5 s (the author's view is
    /// never cached).
    fn public_views() -> String = (2_000, 5_000);
}

/// The author (with a valid session, or with `phone_last4`) gets the full
/// record and the timeline; everyone else the public view.
async fn lookup(req: &Request, env: &Env, ctx: &Ctx, number: &str) -> ApiResult<Response> {
    e::limit_lookups(req, env).await?;
    let db = e::db(env)?;
    let q = shared::http::Query::parse(&ctx.query)?;
    let mine = match q.get("phone_last4") {
        Some(last4) => Some(record::by_last4(&db, number, last4, ctx.now()).await?),
        None if e::header(req, "authorization").is_some() => match e::citizen(req, &db, ctx).await {
            Ok(who) => record::mine(&db, &who.id, number).await.ok(),
            Err(_) => None,
        },
        None => None,
    };
    if let Some(mine) = mine {
        let public = record::public_view(&db, number).await?;
        let body = serde_json::json!({ "record": mine, "timeline": public.timeline });
        return e::ok_json(&body, "private, no-store");
    }
    let now_ms = shared::runtime::Clock::now(&e::EdgeClock).timestamp_millis();
    let key = number.trim().to_ascii_uppercase();
    let body = match public_views().get(&key, now_ms) {
        Some(body) => body.as_str().to_owned(),
        None => {
            let body = serde_json::to_string(&record::public_view(&db, number).await?).map_err(e::runtime_err)?;
            public_views().put(&key, std::rc::Rc::new(body.clone()), now_ms);
            body
        }
    };
    let resp = e::text_response(200, body, "application/json; charset=utf-8").map_err(e::runtime_err)?;
    let _ = resp.headers().set("cache-control", "no-store");
    Ok(resp)
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
    let db = e::db(env)?;
    let who = e::staff(req, &db, ctx).await?;
    let scope = crate::scope::of(&db, &who, crate::scope::Need::List).await?;
    let filter = crate::queue::Filter::parse(&shared::http::Query::parse(&ctx.query)?)?;
    let act = Act { who: &who, now: ctx.now(), request_id: &ctx.request_id };
    let rows = handling::list(&db, &act, &scope, &filter).await?;
    e::ok_json(&serde_json::json!({ "complaints": rows }), "no-store")
}

async fn staff_case(req: &Request, env: &Env, ctx: &Ctx, number: &str) -> ApiResult<Response> {
    let who = e::staff(req, &e::db(env)?, ctx).await?;
    let act = Act { who: &who, now: ctx.now(), request_id: &ctx.request_id };
    e::ok_json(&handling::case(&e::db(env)?, &act, number).await?, "no-store")
}

async fn step(req: &mut Request, env: &Env, ctx: &Ctx, number: &str) -> ApiResult<Response> {
    let db = e::db(env)?;
    let who = e::staff(req, &db, ctx).await?;
    let body: Step = e::json_body(req, MAX_BODY_BYTES).await?;
    let act = Act { who: &who, now: ctx.now(), request_id: &ctx.request_id };
    let taken = handling::take_step(&db, &OsRandom, &act, number, &body).await?;
    progress_by_wechat(env, &db, &taken.progress, ctx).await;
    e::ok_json(&taken.case, "no-store")
}

/// Offers a written step to its complainant by 订阅消息 when the
/// mini-program and the template are configured. The step and its inbox
/// message are stored: the inbox is the fallback, and nothing here fails the
/// staff member's request (errors and fallbacks are logged, without who).
async fn progress_by_wechat(env: &Env, db: &e::D1Db, p: &crate::wechat_progress::Progress, ctx: &Ctx) {
    let Ok(kv) = e::kv(env) else { return };
    let Some((app, templates)) = e::wechat(env, &kv, Purpose::ComplaintProgress) else { return };
    let line = match crate::wechat_progress::offer(db, &app, &OsRandom, &templates, p, ctx.now()).await {
        Ok(outcome) if !outcome.needs_fallback() => return,
        Ok(outcome) => serde_json::json!({ "level": "info", "event": "complaint.progress_wechat",
            "outcome": outcome.as_str(), "fallback": "inbox", "request_id": ctx.request_id }),
        Err(err) => serde_json::json!({ "level": "warn", "event": "complaint.progress_wechat",
            "code": err.code.as_str(), "detail": err.internal, "fallback": "inbox", "request_id": ctx.request_id }),
    };
    worker::console_log!("{line}");
}

/// `POST /v1/complaints/uploads`: one photo (JPEG or PNG, raw bytes), for a submission.
async fn upload(req: &mut Request, env: &Env, ctx: &Ctx) -> ApiResult<Response> {
    let db = e::db(env)?;
    let who = e::citizen(req, &db, ctx).await?;
    let declared = e::header(req, "content-type").unwrap_or_default();
    let bytes = e::capped_bytes(req, uploads::MAX_UPLOAD_BYTES).await?;
    let up =
        uploads::store(&db, &e::kv(env)?, &OsRandom, &who.id, &declared, &bytes, uploads::IMAGES, ctx.now()).await?;
    Ok(e::ok_json(&up, "private, no-store")?.with_status(201))
}

/// `GET /v1/admin/complaints/{number}/photos/{id}` (complaint_handler): a photo of that case.
async fn photo(req: &Request, env: &Env, ctx: &Ctx, number: &str, id: &str) -> ApiResult<Response> {
    let db = e::db(env)?;
    let who = e::staff(req, &db, ctx).await?;
    let act = Act { who: &who, now: ctx.now(), request_id: &ctx.request_id };
    handling::open_photo(&db, &act, number, id).await?;
    let (ctype, bytes) = uploads::read(&db, &e::kv(env)?, id).await?;
    e::private_file(&ctype, bytes)
}

async fn to_faq(req: &mut Request, env: &Env, ctx: &Ctx, number: &str) -> ApiResult<Response> {
    let db = e::db(env)?;
    let who = e::staff(req, &db, ctx).await?;
    let body: crate::faq::FaqInput = e::json_body(req, MAX_BODY_BYTES).await?;
    let act = Act { who: &who, now: ctx.now(), request_id: &ctx.request_id };
    let f = crate::faq::publish(&db, &OsRandom, &act, number, &body).await?;
    Ok(e::ok_json(&f, "no-store")?.with_status(201))
}

async fn faq_search(env: &Env, ctx: &Ctx) -> ApiResult<Response> {
    let q = shared::http::Query::parse(&ctx.query)?;
    let list = crate::faq::search(&e::db(env)?, q.get("q"), q.get("category")).await?;
    e::ok_json(&serde_json::json!({ "faq": list }), "public, max-age=60")
}

fn date(q: &shared::http::Query, key: &str) -> ApiResult<chrono::NaiveDate> {
    let raw = q.get(key).ok_or_else(|| ApiError::bad_field(key, format!("请提供 {key}（YYYY-MM-DD）")))?;
    chrono::NaiveDate::parse_from_str(raw, "%Y-%m-%d").map_err(|_| ApiError::bad_field(key, "日期格式应为 YYYY-MM-DD"))
}

async fn stats(req: &Request, env: &Env, ctx: &Ctx) -> ApiResult<Response> {
    e::staff(req, &e::db(env)?, ctx).await?.require_any(&[
        Role::ComplaintDispatcher,
        Role::ComplaintHandler,
        Role::Auditor,
    ])?;
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
