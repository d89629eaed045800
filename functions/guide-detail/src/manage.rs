//! Workers glue of catalogue management: authenticate, parse, call the
//! domain in `shared::catalogue`, drop this isolate's stale renderings.

use crate::caches::hot;
use crate::service;
use shared::admin::{Act, Principal, Role};
use shared::catalogue::{listing, review, sync, taxonomy};
use shared::edge::{self as e, Ctx, FetchHttp};
use shared::http::{Query, path_segment};
use shared::limits::{MAX_BODY_BYTES, MAX_IMPORT_BYTES};
use shared::types::ItemCode;
use shared::{ApiError, ApiResult, ErrorCode};
use worker::{Env, Method, Request, Response};

/// Roles that may read the staff views of the catalogue.
const READERS: [Role; 3] = [Role::CatalogueEditor, Role::CatalogueReviewer, Role::Auditor];

async fn staff(req: &Request, env: &Env, ctx: &Ctx) -> ApiResult<Principal> {
    e::staff(req, &e::db(env)?, ctx).await
}

fn forget(stale: &[String]) {
    for code in stale {
        service::forget(hot(), code);
    }
}

/// Routes under `/v1/admin/` owned by catalogue management; `None` when the
/// path is not one of them.
pub async fn route(req: &mut Request, env: &Env, ctx: &Ctx, segs: &[&str]) -> Option<ApiResult<Response>> {
    let m = &ctx.method;
    Some(match segs {
        ["items"] if *m == Method::Get => list(req, env, ctx).await,
        ["items"] if *m == Method::Post => create(req, env, ctx).await,
        ["items:sync"] if *m == Method::Post => run_sync(req, env, ctx).await,
        ["items:sync"] if *m == Method::Get => sync_runs(req, env, ctx).await,
        ["items", code] if *m == Method::Get => detail(req, env, ctx, code).await,
        ["items", code] if *m == Method::Put => update(req, env, ctx, code).await,
        ["items", code, "published"] if *m == Method::Get => published(req, env, ctx, code).await,
        ["items", action] if *m == Method::Post && action.contains(':') => transition(req, env, ctx, action).await,
        ["categories"] if *m == Method::Get => categories(req, env, ctx).await,
        ["categories", name] if *m == Method::Put => put_category(req, env, ctx, name).await,
        ["categories", name] if *m == Method::Delete => delete_category(req, env, ctx, name).await,
        ["tags:rename"] if *m == Method::Post => rename_tag(req, env, ctx).await,
        ["tags", tag] if *m == Method::Delete => delete_tag(req, env, ctx, tag).await,
        ["search-words", kind] if *m == Method::Get => words(req, env, ctx, kind).await,
        ["search-words", kind] if *m == Method::Put => put_words(req, env, ctx, kind).await,
        ["search-words", kind, term] if *m == Method::Delete => delete_word(req, env, ctx, kind, term).await,
        ["items" | "items:sync" | "categories" | "tags:rename" | "search-words", ..] | ["tags", _] => {
            Err(ErrorCode::MethodNotAllowed.into())
        }
        _ => return None,
    })
}

async fn list(req: &Request, env: &Env, ctx: &Ctx) -> ApiResult<Response> {
    staff(req, env, ctx).await?.require_any(&READERS)?;
    let filter = listing::Filter::parse(&Query::parse(&ctx.query)?)?;
    e::ok_json(&listing::list(&e::db(env)?, &filter).await?, "no-store")
}

fn item_code(raw: &str) -> ApiResult<String> {
    let raw = path_segment(raw)?;
    ItemCode::parse(&raw).map(|c| c.as_str().to_owned()).map_err(|err| ApiError::bad_field("code", err.0))
}

async fn detail(req: &Request, env: &Env, ctx: &Ctx, raw: &str) -> ApiResult<Response> {
    staff(req, env, ctx).await?.require_any(&READERS)?;
    e::ok_json(&listing::detail(&e::db(env)?, &item_code(raw)?).await?, "no-store")
}

/// `GET /v1/admin/items/{code}/published`: what the editor starts from and
/// the reviewer compares a draft with.
async fn published(req: &Request, env: &Env, ctx: &Ctx, raw: &str) -> ApiResult<Response> {
    staff(req, env, ctx).await?.require_any(&READERS)?;
    let item = crate::stored::stored_item(&e::db(env)?, &item_code(raw)?).await?.ok_or(ErrorCode::ItemNotFound)?;
    e::ok_json(&item, "no-store")
}

async fn create(req: &mut Request, env: &Env, ctx: &Ctx) -> ApiResult<Response> {
    let who = staff(req, env, ctx).await?;
    let body: serde_json::Value = e::json_body(req, MAX_BODY_BYTES).await?;
    let act = Act { who: &who, now: ctx.now(), request_id: &ctx.request_id };
    let draft = review::create(&e::db(env)?, &act, body).await?;
    e::ok_json(&draft, "no-store").map(|r| r.with_status(201))
}

async fn update(req: &mut Request, env: &Env, ctx: &Ctx, raw: &str) -> ApiResult<Response> {
    let who = staff(req, env, ctx).await?;
    let code = item_code(raw)?;
    let body: serde_json::Value = e::json_body(req, MAX_BODY_BYTES).await?;
    let act = Act { who: &who, now: ctx.now(), request_id: &ctx.request_id };
    e::ok_json(&review::update(&e::db(env)?, &act, &code, body).await?, "no-store")
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct RejectBody {
    reason: String,
}

/// `POST /v1/admin/items/{code}:submit|publish|reject|archive`.
async fn transition(req: &mut Request, env: &Env, ctx: &Ctx, action: &str) -> ApiResult<Response> {
    let (raw, verb) = action.rsplit_once(':').ok_or(ErrorCode::NotFound)?;
    if !matches!(verb, "submit" | "publish" | "reject" | "archive") {
        return Err(ErrorCode::NotFound.into());
    }
    let who = staff(req, env, ctx).await?;
    let code = item_code(raw)?;
    let act = Act { who: &who, now: ctx.now(), request_id: &ctx.request_id };
    let db = e::db(env)?;
    match verb {
        "submit" => e::ok_json(&review::submit(&db, &act, &code).await?, "no-store"),
        "reject" => {
            let body: RejectBody = e::json_body(req, MAX_BODY_BYTES).await?;
            e::ok_json(&review::reject(&db, &act, &code, &body.reason).await?, "no-store")
        }
        "publish" => {
            let out = review::publish(&db, &e::kv(env)?, &act, &code).await?;
            forget(&out.stale);
            e::ok_json(&out, "no-store")
        }
        _ => {
            let out = review::archive(&db, &e::kv(env)?, &act, &code).await?;
            forget(&out.stale);
            e::ok_json(&out, "no-store")
        }
    }
}

/// The feed configuration: `ITEM_FEED_URL` (var) and `ITEM_FEED_TOKEN` (secret, optional).
fn feed(env: &Env) -> ApiResult<sync::Feed> {
    let url = e::config(env, "ITEM_FEED_URL")
        .ok_or_else(|| ApiError::with_message(ErrorCode::FeedUnavailable, "尚未配置事项库同步源（ITEM_FEED_URL）"))?;
    Ok(sync::Feed { url, token: e::config(env, "ITEM_FEED_TOKEN") })
}

async fn run_sync(req: &Request, env: &Env, ctx: &Ctx) -> ApiResult<Response> {
    let who = staff(req, env, ctx).await?;
    who.require(Role::CatalogueReviewer)?;
    let act = Act { who: &who, now: ctx.now(), request_id: &ctx.request_id };
    let report = sync::run(&e::db(env)?, &e::kv(env)?, &FetchHttp, &act, &feed(env)?, "manual").await?;
    forget(&report.stale);
    e::ok_json(&report, "no-store")
}

/// The cron trigger's sync: logged, never panics; a failure is already
/// recorded as a failed run.
pub async fn scheduled_sync(env: &Env, now: shared::types::BeijingTime, request_id: &str) -> ApiResult<sync::Report> {
    let bot = sync::cron_principal();
    let act = Act { who: &bot, now, request_id };
    let report = sync::run(&e::db(env)?, &e::kv(env)?, &FetchHttp, &act, &feed(env)?, "cron").await?;
    forget(&report.stale);
    Ok(report)
}

async fn sync_runs(req: &Request, env: &Env, ctx: &Ctx) -> ApiResult<Response> {
    staff(req, env, ctx).await?.require_any(&READERS)?;
    e::ok_json(&serde_json::json!({ "runs": sync::recent_runs(&e::db(env)?).await? }), "no-store")
}

async fn categories(req: &Request, env: &Env, ctx: &Ctx) -> ApiResult<Response> {
    staff(req, env, ctx).await?.require_any(&READERS)?;
    e::ok_json(&serde_json::json!({ "categories": taxonomy::categories(&e::db(env)?).await? }), "no-store")
}

async fn put_category(req: &mut Request, env: &Env, ctx: &Ctx, raw: &str) -> ApiResult<Response> {
    let who = staff(req, env, ctx).await?;
    let name = path_segment(raw)?;
    let body: taxonomy::CategoryBody = e::json_body(req, MAX_BODY_BYTES).await?;
    let act = Act { who: &who, now: ctx.now(), request_id: &ctx.request_id };
    e::ok_json(&taxonomy::put_category(&e::db(env)?, &act, &name, &body).await?, "no-store")
}

async fn delete_category(req: &Request, env: &Env, ctx: &Ctx, raw: &str) -> ApiResult<Response> {
    let who = staff(req, env, ctx).await?;
    let act = Act { who: &who, now: ctx.now(), request_id: &ctx.request_id };
    taxonomy::delete_category(&e::db(env)?, &act, &path_segment(raw)?).await?;
    e::no_content()
}

async fn rename_tag(req: &mut Request, env: &Env, ctx: &Ctx) -> ApiResult<Response> {
    let who = staff(req, env, ctx).await?;
    let body: taxonomy::RenameBody = e::json_body(req, MAX_BODY_BYTES).await?;
    let act = Act { who: &who, now: ctx.now(), request_id: &ctx.request_id };
    let out = taxonomy::rename_tag(&e::db(env)?, &e::kv(env)?, &act, &body).await?;
    forget(&out.stale);
    e::ok_json(&out, "no-store")
}

async fn delete_tag(req: &Request, env: &Env, ctx: &Ctx, raw: &str) -> ApiResult<Response> {
    let who = staff(req, env, ctx).await?;
    let act = Act { who: &who, now: ctx.now(), request_id: &ctx.request_id };
    let out = taxonomy::delete_tag(&e::db(env)?, &e::kv(env)?, &act, &path_segment(raw)?).await?;
    forget(&out.stale);
    e::ok_json(&out, "no-store")
}

async fn words(req: &Request, env: &Env, ctx: &Ctx, kind: &str) -> ApiResult<Response> {
    staff(req, env, ctx).await?.require_any(&READERS)?;
    let kind = taxonomy::WordKind::parse(kind)?;
    e::ok_json(&serde_json::json!({ "entries": taxonomy::words(&e::db(env)?, kind).await? }), "no-store")
}

async fn put_words(req: &mut Request, env: &Env, ctx: &Ctx, kind: &str) -> ApiResult<Response> {
    let who = staff(req, env, ctx).await?;
    let kind = taxonomy::WordKind::parse(kind)?;
    let body: taxonomy::WordsBody = e::json_body(req, MAX_IMPORT_BYTES.min(MAX_BODY_BYTES * 4)).await?;
    let act = Act { who: &who, now: ctx.now(), request_id: &ctx.request_id };
    let total = taxonomy::put_words(&e::db(env)?, &act, kind, &body).await?;
    e::ok_json(&serde_json::json!({ "saved": body.entries.len(), "total": total }), "no-store")
}

async fn delete_word(req: &Request, env: &Env, ctx: &Ctx, kind: &str, raw: &str) -> ApiResult<Response> {
    let who = staff(req, env, ctx).await?;
    let kind = taxonomy::WordKind::parse(kind)?;
    let act = Act { who: &who, now: ctx.now(), request_id: &ctx.request_id };
    taxonomy::delete_word(&e::db(env)?, &act, kind, &path_segment(raw)?).await?;
    e::no_content()
}
