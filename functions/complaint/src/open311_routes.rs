//! Open311 GeoReport v2 at `/open311/v2/`: JSON only, the standard's error
//! format (`[{"code": 400, "description": "..."}]`), POST with `api_key`.

use crate::open311::{self, Filter, RequestStatus};
use crate::open311_services;
use shared::edge::{self as e, Ctx};
use shared::http::{Query, parse_form};
use shared::limits::MAX_BODY_BYTES;
use shared::runtime::OsRandom;
use shared::types::BeijingTime;
use shared::{ApiError, ApiResult, ErrorCode};
use worker::{Env, Method, Request, Response};

/// Serves an Open311 path; every error in the standard's format.
pub async fn serve(req: &mut Request, env: &Env, ctx: &Ctx, rest: &[&str]) -> ApiResult<Response> {
    let result = route(req, env, ctx, rest).await;
    match result {
        Ok(r) => Ok(r),
        Err(err) => {
            if let Some(detail) = &err.internal {
                worker::console_error!(
                    "{}",
                    serde_json::json!({ "level": "error", "request_id": ctx.request_id,
                    "detail": shared::pii::redact_text(detail) })
                );
            }
            let mut description = err.message.clone().unwrap_or_else(|| err.code.message().to_owned());
            for f in &err.fields {
                description.push_str(&format!("；{}: {}", f.field, f.message));
            }
            let body = serde_json::json!([{ "code": err.status(), "description": description }]);
            e::json_response(err.status(), &body).map_err(e::runtime_err)
        }
    }
}

async fn route(req: &mut Request, env: &Env, ctx: &Ctx, rest: &[&str]) -> ApiResult<Response> {
    match (&ctx.method, rest) {
        (Method::Get, ["discovery.json"]) => discovery(env),
        (Method::Get, ["services.json"]) => e::ok_json(&open311_services::services(), "public, max-age=3600"),
        (Method::Get, ["services", file]) => definition(file),
        (Method::Get, ["requests.json"]) => list(env, ctx).await,
        (Method::Post, ["requests.json"]) => create(req, env, ctx).await,
        (Method::Get, ["requests", file]) => one(env, ctx, file).await,
        (_, ["discovery.json" | "services.json" | "requests.json"] | ["services" | "requests", _]) => {
            Err(ErrorCode::MethodNotAllowed.into())
        }
        _ => Err(ApiError::with_message(ErrorCode::NotFound, "no such Open311 resource")),
    }
}

fn json_name(file: &str) -> ApiResult<&str> {
    file.strip_suffix(".json")
        .filter(|n| !n.is_empty() && n.len() <= 64)
        .ok_or_else(|| ApiError::with_message(ErrorCode::NotFound, "only the .json format is offered"))
}

fn discovery(env: &Env) -> ApiResult<Response> {
    let base = e::config(env, "PUBLIC_BASE_URL").unwrap_or_else(|| "https://api.bianmin.example.cn".into());
    let body = serde_json::json!({
        "changeset": "2026-11-23T00:00:00+08:00",
        "contact": "义乌市便民服务热线 12345",
        "key_service": "api_key 由市便民服务中心发放",
        "endpoints": [{ "specification": "http://wiki.open311.org/GeoReport_v2",
            "url": format!("{}/open311/v2", base.trim_end_matches('/')), "changeset": "2026-11-23T00:00:00+08:00",
            "type": "production", "formats": ["application/json"] }],
    });
    e::ok_json(&body, "public, max-age=3600")
}

fn definition(file: &str) -> ApiResult<Response> {
    let code = json_name(file)?;
    let svc = open311_services::service(code)
        .ok_or_else(|| ApiError::with_message(ErrorCode::NotFound, "service_code not found"))?;
    e::ok_json(&serde_json::json!({ "service_code": svc.code, "attributes": [] }), "public, max-age=3600")
}

fn time(q: &Query, key: &str) -> ApiResult<Option<BeijingTime>> {
    q.get(key)
        .map(|v| {
            BeijingTime::parse(v)
                .map_err(|_| ApiError::bad_field(key, format!("{key} should be a W3C datetime with offset")))
        })
        .transpose()
}

async fn list(env: &Env, ctx: &Ctx) -> ApiResult<Response> {
    let q = Query::parse(&ctx.query)?;
    let status = match q.get("status") {
        None => None,
        Some(s) => Some(
            RequestStatus::parse(s)
                .ok_or_else(|| ApiError::bad_field("status", "status should be open or closed"))?
                .as_str()
                .to_owned(),
        ),
    };
    let ids: Vec<String> =
        q.get("service_request_id").map(|v| v.split(',').take(50).map(str::to_owned).collect()).unwrap_or_default();
    let f = Filter {
        ids,
        service_code: q.get("service_code").map(str::to_owned),
        start: time(&q, "start_date")?,
        end: time(&q, "end_date")?,
        status,
    };
    e::ok_json(&open311::list(&e::db(env)?, &f, ctx.now()).await?, "public, max-age=30")
}

async fn one(env: &Env, ctx: &Ctx, file: &str) -> ApiResult<Response> {
    let id = json_name(file)?;
    e::ok_json(&[open311::one(&e::db(env)?, id, ctx.now()).await?], "public, max-age=30")
}

async fn create(req: &mut Request, env: &Env, ctx: &Ctx) -> ApiResult<Response> {
    let bytes = e::capped_bytes(req, MAX_BODY_BYTES).await?;
    let text = String::from_utf8(bytes).map_err(|_| ApiError::new(ErrorCode::BadRequest))?;
    let form = parse_form(&text)
        .ok_or_else(|| ApiError::with_message(ErrorCode::BadRequest, "the body should be form-encoded"))?;
    let key = form.iter().find(|(k, _)| k == "api_key").map(|(_, v)| v.as_str()).unwrap_or_default();
    let keys = e::config(env, "OPEN311_API_KEYS").unwrap_or_default();
    let client = open311::client(&keys, key)
        .ok_or_else(|| ApiError::with_message(ErrorCode::Forbidden, "api_key is missing or not valid"))?;
    let db = e::db(env)?;
    let days = |kind: &str| crate::config::handling_days(env, kind);
    let made = open311::create(&db, &OsRandom, &client, &form, days, ctx.now()).await?;
    e::json_response(201, &[made]).map_err(e::runtime_err)
}
