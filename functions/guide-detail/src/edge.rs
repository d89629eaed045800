//! Workers glue: parse, call the domain, map to a response.

use crate::caches::hot;
use crate::followed;
use crate::service::{self, Caches, GUIDE_CACHE_CONTROL, Rendered};
use shared::admin::{self, Role};
use shared::catalogue::{geo, hot, import, repo};
use shared::edge::{self as e, Ctx, EdgeClock};
use shared::http::{Query, if_none_match};
use shared::limits::{MAX_IMPORT_BYTES, MAX_NEARBY, MAX_PAGE_SIZE};
use shared::runtime::Clock;
use shared::types::ItemCode;
use shared::{ApiError, ApiResult, ErrorCode};
use worker::{Env, Method, Request, Response};

const HALLS_CACHE_CONTROL: &str = "public, max-age=300";

shared::isolate_cache! {
    /// Slot listings kept for 2 s: a listing may show a place that was taken
    /// a moment ago (the booking itself is always exact), and a burst of
    /// citizens opening the same day costs one D1 round per isolate.
    fn slot_cache() -> String = (SLOT_CACHE_ENTRIES, SLOT_CACHE_MS);
}

/// How long and how many slot listings an isolate keeps.
const SLOT_CACHE_MS: i64 = 2_000;
const SLOT_CACHE_ENTRIES: usize = 200;

thread_local! {
    /// This isolate's buffered guide-view counts (热门排行).
    static VIEWS: &'static hot::Counter = Box::leak(Box::new(hot::Counter::default()));
}

shared::edge_entry!(dispatch);

async fn dispatch(req: &mut Request, env: &Env, ctx: &Ctx) -> ApiResult<Response> {
    let segs = ctx.segments();
    match (&ctx.method, segs.as_slice()) {
        (Method::Get, ["v1", "health"]) => e::ok_json(&serde_json::json!({"status": "ok"}), "no-store"),
        (Method::Get, ["v1", "guides", code]) => guide(req, env, ctx, code, false).await,
        (Method::Get, ["v1", "guides", code, "materials"]) => guide(req, env, ctx, code, true).await,
        (Method::Get, ["v1", "halls"]) => e::ok_json(&repo::list_halls(&e::db(env)?).await?, HALLS_CACHE_CONTROL),
        (Method::Get, ["v1", "halls", "nearby"]) => nearby(env, ctx).await,
        (Method::Get, ["v1", "halls", id]) => {
            e::ok_json(&repo::hall_detail(&e::db(env)?, id).await?, HALLS_CACHE_CONTROL)
        }
        (Method::Get, ["v1", "halls", id, "slots"]) => slots(env, ctx, id).await,
        (Method::Post, ["v1", "admin", "items:import"]) => import_items(req, env, ctx).await,
        (Method::Get, ["v1", "admin", "audit-log"]) => audit_log(req, env, ctx).await,
        (_, ["v1", "health" | "halls" | "guides", ..] | ["v1", "admin", "items:import" | "audit-log"]) => {
            Err(ErrorCode::MethodNotAllowed.into())
        }
        (_, ["v1", "admin", rest @ ..]) => {
            crate::manage::route(req, env, ctx, rest).await.unwrap_or_else(|| Err(ErrorCode::NotFound.into()))
        }
        _ => Err(ErrorCode::NotFound.into()),
    }
}

/// The cron trigger: sync the catalogue from the external item library.
/// The outcome is one log line; a failed run is also recorded in D1.
#[worker::event(scheduled)]
async fn scheduled(event: worker::ScheduledEvent, env: Env, _ctx: worker::ScheduleContext) {
    let utc = EdgeClock.now();
    let now = shared::types::BeijingTime::from_utc(utc);
    let request_id = format!("cron-{}", utc.timestamp_millis());
    let line = match crate::manage::scheduled_sync(&env, now, &request_id).await {
        Ok(r) => serde_json::json!({ "level": "info", "event": "catalog.sync", "cron": event.cron(),
            "created": r.created.len(), "updated": r.updated.len(), "unchanged": r.unchanged,
            "rejected": r.rejected_count, "request_id": request_id }),
        Err(err) => serde_json::json!({ "level": "error", "event": "catalog.sync", "cron": event.cron(),
            "code": err.code.as_str(), "detail": err.internal, "request_id": request_id }),
    };
    worker::console_log!("{line}");
}

async fn guide(req: &Request, env: &Env, ctx: &Ctx, raw_code: &str, materials_only: bool) -> ApiResult<Response> {
    let code = ItemCode::parse(raw_code).map_err(|e| ApiError::bad_field("item_code", e.0))?;
    let (db, kv) = (e::db(env)?, e::kv(env)?);
    let caches = Caches { kv: &kv, hot: hot(), now_ms: EdgeClock.now().timestamp_millis() };
    let r = if materials_only {
        service::materials(&db, &caches, code.as_str()).await?
    } else {
        let r = service::guide(&db, &caches, code.as_str()).await?;
        let views = VIEWS.with(|v| *v);
        views.view(code.as_str());
        // Counting must never fail a guide; a failed write keeps the counts buffered.
        let _ = views.flush(&db, ctx.now()).await;
        // Opened from a search (搜索分析): that search is followed. An
        // unreadable, foreign or old sid is ignored, and neither a missing
        // pepper nor a failed write ever fails a guide.
        let q = Query::parse(&ctx.query).unwrap_or_default();
        let followed = e::pepper(env).ok().and_then(|p| followed::search_id(&p, q.get("sid"), ctx.now()));
        if let Some(id) = followed {
            let _ = followed::mark(&db, &id, ctx.now()).await;
        }
        r
    };
    conditional(req, &r)
}

/// 304 when the client already holds this representation, else 200 with it.
fn conditional(req: &Request, r: &Rendered) -> ApiResult<Response> {
    let not_modified = if_none_match(e::header(req, "if-none-match").as_deref(), &r.etag);
    let resp = if not_modified {
        Response::empty().map_err(e::runtime_err)?.with_status(304)
    } else {
        e::text_response(200, r.body.clone(), "application/json; charset=utf-8").map_err(e::runtime_err)?
    };
    let _ = resp.headers().set("etag", &r.etag);
    let _ = resp.headers().set("cache-control", GUIDE_CACHE_CONTROL);
    Ok(resp)
}

/// 网上预约: the hall's bookable slots on a date (default: tomorrow, Beijing).
async fn slots(env: &Env, ctx: &Ctx, hall: &str) -> ApiResult<Response> {
    let q = Query::parse(&ctx.query)?;
    let item = q.get("item").map(ItemCode::parse).transpose().map_err(|e| ApiError::bad_field("item", e.0))?;
    let now = ctx.now();
    let date = match q.get("date") {
        Some(d) => chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d")
            .map_err(|_| ApiError::bad_field("date", "日期格式应为 YYYY-MM-DD"))?,
        None => now.date() + chrono::Duration::days(1),
    };
    let key = format!("{hall}|{}|{date}", item.as_ref().map_or("", ItemCode::as_str));
    let now_ms = EdgeClock.now().timestamp_millis();
    if let Some(body) = slot_cache().get(&key, now_ms) {
        return slots_response(body.as_str().to_owned());
    }
    let db = e::db(env)?;
    if !repo::hall_exists(&db, hall).await? {
        return Err(ErrorCode::HallNotFound.into());
    }
    let list = shared::slots::hall::hall_slots(&db, hall, item.as_ref().map(ItemCode::as_str), date, now).await?;
    let body = serde_json::json!({ "hall_id": hall, "date": date.to_string(), "resources": list }).to_string();
    slot_cache().put(&key, std::rc::Rc::new(body.clone()), now_ms);
    slots_response(body)
}

fn slots_response(body: String) -> ApiResult<Response> {
    let resp = e::text_response(200, body, "application/json; charset=utf-8").map_err(e::runtime_err)?;
    let _ = resp.headers().set("cache-control", "no-store");
    Ok(resp)
}

async fn nearby(env: &Env, ctx: &Ctx) -> ApiResult<Response> {
    let q = Query::parse(&ctx.query)?;
    let (lat, lng) = match (q.get("lat"), q.get("lng")) {
        (Some(lat), Some(lng)) => geo::parse_point(lat, lng).map_err(|m| ApiError::bad_field("lat,lng", m))?,
        _ => return Err(ApiError::bad_field("lat,lng", "请提供 lat 和 lng 两个参数")),
    };
    let item = q.get("item").map(ItemCode::parse).transpose().map_err(|e| ApiError::bad_field("item", e.0))?;
    let limit = q.u32_in("limit", 1, MAX_NEARBY)?.unwrap_or(10);
    let halls = repo::nearby_halls(&e::db(env)?, lat, lng, item.as_ref().map(ItemCode::as_str), limit).await?;
    e::ok_json(&serde_json::json!({ "halls": halls }), "private, max-age=60")
}

async fn import_items(req: &mut Request, env: &Env, ctx: &Ctx) -> ApiResult<Response> {
    let db = e::db(env)?;
    let who = e::staff(req, &db, ctx).await?;
    // A bulk import publishes at once, so it is a reviewer's act.
    who.require(Role::CatalogueReviewer)?;
    let body: import::ImportBody = e::json_body(req, MAX_IMPORT_BYTES).await?;
    let outcome = import::apply(&db, &e::kv(env)?, body, &who, ctx.now(), &ctx.request_id).await?;
    for code in &outcome.stale {
        service::forget(hot(), code);
    }
    e::ok_json(&outcome, "no-store")
}

/// `kind=change|access`, `actor=`, `action=` (a prefix), `from=`/`to=` (dates).
fn audit_filter(q: &Query) -> ApiResult<admin::AuditFilter> {
    let kind = match q.get("kind") {
        None | Some("") => None,
        Some("change") => Some(admin::AuditKind::Change),
        Some("access") => Some(admin::AuditKind::Access),
        Some(_) => return Err(ApiError::bad_field("kind", "kind 应为 change（变更）或 access（个人信息查看）")),
    };
    let text = |k: &str| -> ApiResult<Option<String>> {
        match q.get(k).map(str::trim).filter(|v| !v.is_empty()) {
            Some(v) if v.chars().count() > 64 || v.chars().any(char::is_control) => {
                Err(ApiError::bad_field(k, format!("{k} 应为1-64个字符")))
            }
            v => Ok(v.map(str::to_owned)),
        }
    };
    let date = |k: &str| -> ApiResult<Option<chrono::NaiveDate>> {
        q.get(k)
            .filter(|v| !v.is_empty())
            .map(|v| chrono::NaiveDate::parse_from_str(v, "%Y-%m-%d"))
            .transpose()
            .map_err(|_| ApiError::bad_field(k, "日期格式应为 YYYY-MM-DD"))
    };
    Ok(admin::AuditFilter {
        kind,
        actor: text("actor")?,
        action: text("action")?,
        from: date("from")?,
        to: date("to")?,
    })
}

async fn audit_log(req: &Request, env: &Env, ctx: &Ctx) -> ApiResult<Response> {
    let db = e::db(env)?;
    let who = e::staff(req, &db, ctx).await?;
    who.require(Role::Auditor)?;
    let q = Query::parse(&ctx.query)?;
    let before = q
        .get("before")
        .map(str::parse::<i64>)
        .transpose()
        .map_err(|_| ApiError::bad_field("before", "before 应为整数"))?;
    let page = admin::audit_page(&db, before, q.u32_in("size", 1, MAX_PAGE_SIZE)?, &audit_filter(&q)?).await?;
    e::ok_json(&page, "no-store")
}
